"""The email channel: outbox retries, addresses, fetch references and mailbox checkpoints

- ``message.notes``: remarks for the engineer on an entry (translated when shown);
- ``message.address``: the sender of an inbound message, the recipient of an outbound one;
- ``message.attempts`` / ``next_attempt_at``: the outbox retries with backoff, and a sender's
  claim on a letter (state ``sending``) lapses at ``next_attempt_at``;
- ``ix_message_address``: a sender's messages by time (the acknowledgements' rate limit);
- ``inbound.source_ref``: where a payload was fetched (mailbox, UIDVALIDITY, UID), unique;
- ``mailbox_state``: each mailbox's UIDVALIDITY and the last UID taken.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = sa.text("delivery_state = 'queued'")
_PENDING = sa.text("delivery_state IN ('queued', 'sending')")


def upgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_message_outbox", sqlite_where=_QUEUED, postgresql_where=_QUEUED)
        batch_op.create_index(
            "ix_message_outbox",
            ["delivery_state", "id"],
            unique=False,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        )
    with op.batch_alter_table("message") as batch_op:
        batch_op.alter_column("attempts", server_default=None)
        batch_op.create_index("ix_message_address", ["address", "created_at"], unique=False)
        batch_op.alter_column("notes", server_default=None)
    with op.batch_alter_table("inbound") as batch_op:
        batch_op.add_column(sa.Column("source_ref", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_inbound_source_ref"), ["source_ref"])
    op.create_table(
        "mailbox_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mailbox_state")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_state")
    with op.batch_alter_table("inbound") as batch_op:
        batch_op.drop_constraint(op.f("uq_inbound_source_ref"), type_="unique")
        batch_op.drop_column("source_ref")
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_index("ix_message_address")
        batch_op.drop_index("ix_message_outbox", sqlite_where=_PENDING, postgresql_where=_PENDING)
        batch_op.create_index(
            "ix_message_outbox",
            ["delivery_state", "id"],
            unique=False,
            sqlite_where=_QUEUED,
            postgresql_where=_QUEUED,
        )
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("notes")
        batch_op.drop_column("address")
