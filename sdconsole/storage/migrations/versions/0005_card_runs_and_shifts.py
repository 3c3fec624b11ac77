"""Diagnostic-card runs on tickets; engineers' shifts for routing

Each run keeps the card version it started with and every answer (step, answer, engineer, time);
the answers are also internal notes on the ticket. Routing gives new tickets to engineers on
shift: their working-hours calendar and their on-duty switch.

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


    with op.batch_alter_table("engineer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shift_calendar_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_engineer_shift_calendar_id_business_calendar"),
            "business_calendar",
            ["shift_calendar_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("engineer", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_engineer_shift_calendar_id_business_calendar"), type_="foreignkey"
        )
        batch_op.drop_column("on_duty")
        batch_op.drop_column("shift_calendar_id")
    with op.batch_alter_table("card_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_run_ticket_id"))
    op.drop_table("card_run")
