"""Full-text search over tickets; saved queue views; change notification on PostgreSQL

``ticket_search`` holds one document per ticket (`storage.search`): an FTS5 table on SQLite, a
``tsvector`` with a GIN index on PostgreSQL; existing tickets are indexed here. ``saved_view``
keeps the queue filters engineers name. On PostgreSQL a statement trigger on ``ticket`` sends
``NOTIFY sdconsole_tickets`` after every change, so open consoles refresh at once (identical
notifications of one transaction arrive as one).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The document of every ticket, as `storage.search.document` builds it for one.
_PARTS = """
    t.subject,
    c.name, c.inn, s.name, s.inn, p.name,
    d.serial, d.reg_number, d.fn_serial
"""


def upgrade() -> None:
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineer.id"], name=op.f("fk_saved_view_engineer_id_engineer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_view")),
        sa.UniqueConstraint("engineer_id", "name", name=op.f("uq_saved_view_engineer_id")),
    )
    joins = """
        FROM ticket t
        LEFT JOIN client c ON c.id = t.client_id
        LEFT JOIN client s ON s.id = t.site_id
        LEFT JOIN contact p ON p.id = t.contact_id
        LEFT JOIN device d ON d.id = t.device_id
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search USING fts5("
            "document, tokenize = 'unicode61 remove_diacritics 2')"
        )
        parts = " || char(10) || ".join(
            f"coalesce({part.strip()}, '')" for part in _PARTS.split(",")
        )
        op.execute(
            "INSERT INTO ticket_search (rowid, document) SELECT t.id, replace(replace("
            f"{parts} || char(10) || coalesce((SELECT group_concat(m.body, char(10)) "
            f"FROM message m WHERE m.ticket_id = t.id), ''), 'ё', 'е'), 'Ё', 'Е') {joins}"
        )
        return
    op.execute(
        "CREATE TABLE ticket_search ("
        "ticket_id integer PRIMARY KEY REFERENCES ticket (id) ON DELETE CASCADE, "
        "document tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX ticket_search_document ON ticket_search USING gin (document)")
    op.execute(
        "INSERT INTO ticket_search (ticket_id, document) SELECT t.id, "
        f"to_tsvector('russian', translate(concat_ws(E'\\n', {_PARTS}, "
        "(SELECT string_agg(m.body, E'\\n' ORDER BY m.id) FROM message m "
        f"WHERE m.ticket_id = t.id)), 'ёЁ', 'еЕ')) {joins}"
    )
    op.execute(
        "CREATE FUNCTION sdconsole_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('sdconsole_tickets', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER ticket_changed AFTER INSERT OR UPDATE OR DELETE ON ticket "
        "FOR EACH STATEMENT EXECUTE FUNCTION sdconsole_ticket_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ticket_changed ON ticket")
        op.execute("DROP FUNCTION IF EXISTS sdconsole_ticket_changed()")
    op.execute("DROP TABLE IF EXISTS ticket_search")
    op.drop_table("saved_view")
