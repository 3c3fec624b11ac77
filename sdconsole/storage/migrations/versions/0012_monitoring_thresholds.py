"""Monitoring per contract: thresholds on the contract, the OFD contract's end on the register

- ``contract.monitoring``: health-check thresholds the contract sets over the config's defaults;
- ``device.ofd_contract_end``: when the register's OFD contract ends (the registry scan warns).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contract") as batch_op:
        batch_op.add_column(
            sa.Column("monitoring", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("contract") as batch_op:
        batch_op.alter_column("monitoring", server_default=None)
    with op.batch_alter_table("device") as batch_op:
        batch_op.add_column(sa.Column("ofd_contract_end", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device") as batch_op:
        batch_op.drop_column("ofd_contract_end")
    with op.batch_alter_table("contract") as batch_op:
        batch_op.drop_column("monitoring")
