"""The team lead's side: contract billing terms, engineers' cost, coverage, rating follow-ups

- ``contract``: ``carry_over_months`` (how long unused package hours last), ``rounding_minutes``
  and ``minimum_minutes`` (how each time entry is billed), ``hourly_rate`` (overage and one-off
  work), ``request_price`` (per-request contracts), ``price_list`` (one-off works by category),
  ``notify_days`` (expiry notice lead time);
- ``engineer.cost_per_hour``: what an hour of the engineer costs (billing margin);
- ``ticket.coverage``: whether the contract covers the request (``covered``, ``no_contract``,
  ``not_included``), judged at intake and on every category or client change;
- ``rating``: the team lead's follow-up of a low rating (note, when, by whom);
- ``contract_notice``: expiry notices sent, one per contract, kind and end date;
- indexes on ``time_entry.spent_at`` and ``rating.created_at`` (monthly reports).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contract") as batch_op:
        batch_op.add_column(
            sa.Column("carry_over_months", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rounding_minutes", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("minimum_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("hourly_rate", sa.Numeric(14, 2), nullable=True))
        batch_op.add_column(sa.Column("request_price", sa.Numeric(14, 2), nullable=True))
        batch_op.add_column(
            sa.Column("price_list", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column("notify_days", sa.Integer(), nullable=False, server_default="30")
        )
    with op.batch_alter_table("contract") as batch_op:
        for name in (
            "carry_over_months",
            "rounding_minutes",
            "minimum_minutes",
            "price_list",
            "notify_days",
        ):
            batch_op.alter_column(name, server_default=None)
    with op.batch_alter_table("engineer") as batch_op:
        batch_op.add_column(sa.Column("cost_per_hour", sa.Numeric(10, 2), nullable=True))
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.add_column(sa.Column("coverage", sa.String(length=16), nullable=True))
    with op.batch_alter_table("rating") as batch_op:
        batch_op.add_column(sa.Column("follow_up_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("follow_up_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_rating_follow_up_by_id_engineer", "engineer", ["follow_up_by_id"], ["id"]
        )
    op.create_index("ix_rating_created_at", "rating", ["created_at"])
    op.create_index("ix_time_entry_spent_at", "time_entry", ["spent_at"])
    op.create_table(
        "contract_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name="fk_contract_notice_contract_id_contract",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contract_notice"),
        sa.UniqueConstraint(
            "contract_id", "kind", "valid_to", name="uq_contract_notice_contract_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("contract_notice")
    op.drop_index("ix_time_entry_spent_at", table_name="time_entry")
    op.drop_index("ix_rating_created_at", table_name="rating")
    with op.batch_alter_table("rating") as batch_op:
        batch_op.drop_constraint("fk_rating_follow_up_by_id_engineer", type_="foreignkey")
        batch_op.drop_column("follow_up_by_id")
        batch_op.drop_column("follow_up_at")
        batch_op.drop_column("follow_up_note")
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_column("coverage")
    with op.batch_alter_table("engineer") as batch_op:
        batch_op.drop_column("cost_per_hour")
    with op.batch_alter_table("contract") as batch_op:
        for name in (
            "notify_days",
            "price_list",
            "request_price",
            "hourly_rate",
            "minimum_minutes",
            "rounding_minutes",
            "carry_over_months",
        ):
            batch_op.drop_column(name)
