"""SLA clock fields on tickets

The registration clock's stop and outcome, the working minutes to first response and to
resolution (what the SLA report's medians read), the alerts already recorded and when the next
one falls due.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "registration_breached", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("response_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sla_alerts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("sla_next_alert_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_ticket_sla_next_alert_at", ["sla_next_alert_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_sla_next_alert_at")
        batch_op.drop_column("sla_next_alert_at")
        batch_op.drop_column("sla_alerts")
        batch_op.drop_column("resolution_minutes")
        batch_op.drop_column("response_minutes")
        batch_op.drop_column("registration_breached")
        batch_op.drop_column("registered_at")
