"""Diagnostic-card runs on tickets

Each run keeps the card version it started with and every answer (step, answer, engineer, time);
the answers are also internal notes on the ticket.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=128), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("current_step", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_card_run_ticket_id_ticket")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["engineer.id"], name=op.f("fk_card_run_started_by_id_engineer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_run")),
    )
    with op.batch_alter_table("card_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_run_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_run_ticket_id"))
    op.drop_table("card_run")
