"""Partial index for the unassigned queue

PostgreSQL cannot read ix_ticket_queue_assignee in (due_at, id) order after
`assignee_id IS NULL`, so the unassigned queue sorted every unassigned open ticket.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = (
    "status IN ('new', 'open', 'waiting_client', 'waiting_vendor') AND assignee_id IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_queue_unassigned",
            ["due_at", "id"],
            unique=False,
            sqlite_where=sa.text(_WHERE),
            postgresql_where=sa.text(_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_queue_unassigned")
