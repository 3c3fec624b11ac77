"""Provides `OutboundMail`: a letter the outbox hands to the mail channel, fully composed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutboundMail:
    """One letter to send; every header the channel writes comes from here.

    Attributes:
        message_id: our Message-ID, without brackets; fixed before the first attempt, so a
            retry sends the same letter and a bounce finds its ticket.
        sender_address / sender_name: ``From``.
        to: recipients.
        subject: with the ``[SD-000123]`` tag.
        body: plain text.
        in_reply_to: the client's letter this answers, if any.
        references: the thread's Message-IDs, oldest first.
        auto: an automatic letter (an acknowledgement, a notice): marked ``Auto-Submitted``
            (``auto-replied`` when it answers a letter, else ``auto-generated``) so that other
            robots do not answer it.
        language: the body's language (``Content-Language``).
    """

    message_id: str
    sender_address: str
    sender_name: str
    to: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto: bool = False
    language: str = "ru"
