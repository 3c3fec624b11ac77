"""Provides the `InboundMessage` value every channel adapter produces, and thread detection."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sdconsole.domain.model import ChannelKind, Priority


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with a message; the name is untrusted until `text.safe_filename`."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, as far as the channel knows."""

    name: str = ""
    email: str = ""
    phone: str = ""
    telegram_id: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """A remark of a channel adapter for the engineer, translated when shown."""

    template: str
    """An ``N_()``-marked message with ``{name}`` fields."""
    params: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, object]:
        """The stored form (``message.notes``)."""
        return {"template": self.template, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """What a bounce (a delivery status notification) says about a letter we sent."""

    original_ids: tuple[str, ...]
    """Message-IDs of the letter that failed, as the bounce quotes them."""
    recipients: tuple[str, ...] = ()
    """The addresses it could not be delivered to."""
    reason: str = ""
    """The remote server's diagnostic, or the status code; untrusted."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One request or follow-up from any channel, normalised.

    Attributes:
        channel: where it came from.
        idempotency_key: unique per channel for the same input (Message-ID, Telegram update id,
            a form's submission id): replaying the same input is a no-op.
        received_at: when the channel received it (aware).
        sender: who wrote.
        subject: one-line summary; untrusted.
        body: plain-text body; untrusted.
        raw: the payload exactly as received; stored before anything can fail.
        body_html: original HTML, if any.
        channel_message_id: the channel's own id of this message (for threading replies).
        in_reply_to: channel ids this message answers (In-Reply-To, References, reply_to_message).
        thread_key: a channel-level conversation key (Telegram chat id, health-check key).
        ticket_id: explicit ticket this continues (a form opened from a ticket).
        client_id / site_id / device_id / contact_id: explicit identification (phone form).
        category_code, priority, impact, urgency: explicit classification (phone form).
        is_auto: an automatic reply (RFC 3834 auto-reply, out-of-office, bounce): never
            acknowledged, never starts or stops a clock, and opens no ticket of its own.
        no_ack: a machine-generated or bulk message (a list, a notification): it may open a
            ticket, but is never acknowledged (no mail loops).
        failure: for a bounce, what failed; intake marks our letter as undelivered.
        source_ref: where the channel fetched it (``imap:box:uidvalidity:uid``): a second
            idempotency key, so the same fetched item is never taken twice.
        notes: remarks of the adapter the engineer must see (an attachment over the size
            limit, a part that could not be decoded); recorded on the ticket.
        attachments: files sent with it.
    """

    channel: ChannelKind
    idempotency_key: str
    received_at: datetime
    sender: Sender
    subject: str
    body: str
    raw: bytes
    body_html: str | None = None
    channel_message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    thread_key: str | None = None
    ticket_id: int | None = None
    client_id: int | None = None
    site_id: int | None = None
    device_id: int | None = None
    contact_id: int | None = None
    category_code: str | None = None
    priority: Priority | None = None
    impact: int | None = None
    urgency: int | None = None
    is_auto: bool = False
    no_ack: bool = False
    failure: DeliveryFailure | None = None
    source_ref: str | None = None
    notes: tuple[Notice, ...] = ()
    attachments: tuple[InboundAttachment, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("InboundMessage.received_at must be timezone-aware")
        if not self.idempotency_key:
            raise ValueError("InboundMessage.idempotency_key must not be empty")


_TAG_RE = re.compile(r"\[\s*SD-(\d{1,9})\s*\]", re.IGNORECASE)


def ticket_tag(ticket_id: int) -> str:
    """The subject tag that threads replies back: ``[SD-000123]``."""
    return f"[SD-{ticket_id:06d}]"


def ticket_id_from_subject(subject: str) -> int | None:
    """Find a ``[SD-000123]`` tag in a subject; the last one wins (forwards prepend text)."""
    matches = _TAG_RE.findall(subject or "")
    if not matches:
        return None
    return int(matches[-1])
