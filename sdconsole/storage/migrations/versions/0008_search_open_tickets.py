"""PostgreSQL: search the open tickets' documents through their own index

``ticket_search`` gets an ``open`` flag (kept by the commit hook with the ticket's status) and a
partial GIN index on the open documents, so a queue search never reads closed history. SQLite's
FTS5 index needs nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "('new', 'open', 'waiting_client', 'waiting_vendor')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE ticket_search ADD COLUMN open boolean NOT NULL DEFAULT false")
    op.execute(
        "UPDATE ticket_search s SET open = true FROM ticket t "
        f"WHERE t.id = s.ticket_id AND t.status IN {OPEN}"
    )
    op.execute(
        "CREATE INDEX ticket_search_open_document ON ticket_search USING gin (document) "
        "WHERE open"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ticket_search_open_document")
    op.execute("ALTER TABLE ticket_search DROP COLUMN open")
