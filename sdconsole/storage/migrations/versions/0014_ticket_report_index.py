"""The SLA report's covering index on tickets, in place of the receipt-time index

``ix_ticket_report`` starts with ``received_at`` (so it serves every period look-up
``ix_ticket_received`` served) and holds every other column the SLA report reads: the
exclusions, the groupings and the three clocks. The report then reads the index alone, a fifth
of the table's pages, whatever the period (BENCHMARKS.md, "SLA report").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = [
    "received_at",
    "status",
    "channel",
    "client_id",
    "site_id",
    "contract_id",
    "priority",
    "line",
    "assignee_id",
    "category_id",
    "paused_at",
    "registered_at",
    "registration_breached",
    "registration_due_at",
    "response_minutes",
    "response_breached",
    "response_due_at",
    "resolution_minutes",
    "resolution_breached",
    "resolution_due_at",
]


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_report", REPORT_COLUMNS, unique=False)
        batch_op.drop_index("ix_ticket_received")


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_received", ["received_at"], unique=False)
        batch_op.drop_index("ix_ticket_report")
