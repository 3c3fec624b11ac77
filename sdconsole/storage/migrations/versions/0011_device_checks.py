"""Health checks: the last result of each check on each device

``device_check``: per (device, check) the last level and value, the ok streak that resolves a
ticket after two ok reports, the ticket the problem keeps open, and when it was observed (a
report not newer than that is a replay and changes nothing).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_check",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("ok_streak", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_device_check_device_id_device")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_device_check_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("device_id", "check", name=op.f("pk_device_check")),
    )


def downgrade() -> None:
    op.drop_table("device_check")
