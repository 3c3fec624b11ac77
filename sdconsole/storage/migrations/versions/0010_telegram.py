"""The Telegram channel: chats, one-time binding codes, channel data on messages

- ``telegram_chat``: a private chat with the bot, the contact it is bound to, whether it is
  blocked, its /new counter and its flood window;
- ``telegram_code``: one-time codes engineers give contacts to bind their chat;
- ``message.channel_data``: what a channel needs besides the text (the rating buttons).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sdconsole.storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_chat",
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("thread", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_count", sa.Integer(), nullable=False),
        sa.Column("rating_ticket_id", sa.Integer(), nullable=True),
        sa.Column("rating_prompt_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_telegram_chat_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["rating_ticket_id"],
            ["ticket.id"],
            name=op.f("fk_telegram_chat_rating_ticket_id_ticket"),
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chat")),
    )
    with op.batch_alter_table("telegram_chat") as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_chat_contact_id"), ["contact_id"])
    op.create_table(
        "telegram_code",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_telegram_code_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["engineer.id"], name=op.f("fk_telegram_code_issued_by_engineer")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_telegram_code")),
    )
    with op.batch_alter_table("telegram_code") as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_code_contact_id"), ["contact_id"])
    with op.batch_alter_table("message") as batch_op:
        batch_op.add_column(sa.Column("channel_data", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_column("channel_data")
    op.drop_table("telegram_code")
    op.drop_table("telegram_chat")
