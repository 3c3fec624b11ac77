"""Provides `Outbox`: queued replies and acknowledgements delivered with retries and backoff.

An outbound message is the outbox entry (``delivery_state``). A sender claims one entry at a
time in its own short transaction (``queued`` → ``sending``, attempts + 1, a lease until
``next_attempt_at``), fixing the letter's Message-ID and recipient before the first attempt. It
then sends outside any transaction and records the result: ``sent``; back to ``queued`` with a
doubling delay (1 min … 1 h) after a temporary failure; ``failed`` after a permanent refusal or
`MailSettings.max_attempts` tries. A sender that dies mid-send leaves a lapsed lease, and the
entry is tried again: delivery is at least once, and a repeat carries the same Message-ID.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlmodel import Session

from sdconsole.channels.base import DeliveryError, MailSender
from sdconsole.config import MailSettings, Settings, read_secret
from sdconsole.domain.clock import Clock
from sdconsole.domain.intake import ticket_tag
from sdconsole.domain.model import ChannelKind, DeliveryState, MessageKind, ticket_number
from sdconsole.domain.outbound import OutboundMail
from sdconsole.i18n import N_, translate_to
from sdconsole.storage import Store
from sdconsole.storage.tables import Contact, Message, Ticket

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
"""How long a claimed letter is a sender's before another may try it."""

_PENDING = (DeliveryState.QUEUED.value, DeliveryState.SENDING.value)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 min, doubling, at most 1 h."""
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))


class Transport(Protocol):
    """One channel's side of the outbox: who gets a letter, what goes out, and sending it."""

    channel: ChannelKind

    def recipient(self, session: Session, ticket: Ticket) -> str | None:
        """Where an answer on this ticket goes when the entry names no one."""
        ...

    def message_id(self, ticket: Ticket, row: Message) -> str | None:
        """The channel id fixed before the first attempt (email), or None (given on sending)."""
        ...

    def compose(
        self, session: Session, ticket: Ticket, row: Message, address: str, channel_id: str | None
    ) -> Any:
        """What `send` sends, read inside the claim's transaction."""
        ...

    def send(self, payload: Any) -> str | None:
        """Send it; the channel's id of what was sent (if the channel gives one on sending).

        Raises:
            DeliveryError: not accepted.
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Claim:
    message_id: int
    attempts: int
    transport: Transport
    payload: Any

    @property
    def mail(self) -> Any:
        """The composed payload (an `OutboundMail` for email)."""
        return self.payload


class Outbox:
    """Delivers the outbox of every channel it has a transport for."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: MailSettings,
        sender: MailSender | None = None,
        *,
        transports: list[Transport] | None = None,
    ) -> None:
        """
        Args:
            store: where the outbox is.
            clock: the time source.
            settings: ``[mail]`` (attempts; email headers and footers).
            sender: the email sender (a shorthand for an email transport).
            transports: the channels' transports (email, Telegram).
        """
        self.store = store
        self.clock = clock
        self.settings = settings
        self.transports: dict[str, Transport] = {}
        if sender is not None:
            self.transports[ChannelKind.EMAIL.value] = MailTransport(settings, sender)
        for transport in transports or ():
            self.transports[transport.channel.value] = transport

    def deliver_due(self, limit: int = 200) -> int:
        """Send up to `limit` letters that are due; returns how many were accepted."""
        sent = 0
        for _ in range(limit):
            claim = self._claim()
            if claim is None:
                break
            try:
                channel_id = claim.transport.send(claim.payload)
            except DeliveryError as error:
                self._failed(claim, error)
                continue
            except Exception as error:  # noqa: BLE001 - one bad letter must not stop the rest
                log.exception("letter %s cannot be sent", claim.message_id)
                self._failed(
                    claim, DeliveryError(f"{type(error).__name__}: {error}", permanent=True)
                )
                continue
            self._sent(claim, channel_id)
            sent += 1
        return sent

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()

    # -- claiming --------------------------------------------------------------------------

    def _claim(self) -> _Claim | None:
        now = self.clock.now()
        while True:
            with self.store.transaction() as session:
                row = session.execute(
                    select(Message)
                    .where(
                        Message.delivery_state.in_(_PENDING),
                        Message.channel.in_(list(self.transports)),
                        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
                    )
                    .order_by(Message.id)
                    .limit(1)
                ).scalar_one_or_none()
                if row is None:
                    return None
                if row.attempts >= self.settings.max_attempts:
                    self._give_up(session, row, row.delivery_error or "no more attempts")
                    continue
                ticket = session.get(Ticket, row.ticket_id)
                assert ticket is not None
                transport = self.transports[row.channel]
                address = row.address or transport.recipient(session, ticket)
                if not address:
                    self._give_up(session, row, f"no {row.channel} address for this ticket")
                    continue
                message_id = row.channel_message_id or transport.message_id(ticket, row)
                taken = session.execute(
                    update(Message)
                    .where(
                        Message.id == row.id,
                        Message.delivery_state == row.delivery_state,
                        Message.attempts == row.attempts,
                    )
                    .values(
                        delivery_state=DeliveryState.SENDING.value,
                        attempts=row.attempts + 1,
                        next_attempt_at=now + LEASE,
                        channel_message_id=message_id,
                        address=address,
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
                if taken != 1:
                    continue  # another sender took it first
                payload = transport.compose(session, ticket, row, address, message_id)
                return _Claim(row.id, row.attempts + 1, transport, payload)

    def _give_up(self, session: Session, row: Message, reason: str) -> None:
        row.delivery_state = DeliveryState.FAILED.value
        row.delivery_error = reason
        row.next_attempt_at = None

    # -- results ---------------------------------------------------------------------------

    def _sent(self, claim: _Claim, channel_id: str | None) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {
            "delivery_state": DeliveryState.SENT.value,
            "sent_at": now,
            "next_attempt_at": None,
            "delivery_error": None,
        }
        if channel_id is not None:
            values["channel_message_id"] = channel_id
        with self.store.transaction() as session:
            session.execute(
                update(Message)
                .where(Message.id == claim.message_id, Message.attempts == claim.attempts)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def _failed(self, claim: _Claim, error: DeliveryError) -> None:
        now = self.clock.now()
        final = error.permanent or claim.attempts >= self.settings.max_attempts
        log.warning(
            "letter %s (attempt %d) not delivered%s: %s",
            claim.message_id,
            claim.attempts,
            "" if not final else ", giving up",
            error,
        )
        with self.store.transaction() as session:
            session.execute(
                update(Message)
                .where(Message.id == claim.message_id, Message.attempts == claim.attempts)
                .values(
                    delivery_state=(DeliveryState.FAILED if final else DeliveryState.QUEUED).value,
                    next_attempt_at=None
                    if final
                    else now
                    + (
                        timedelta(seconds=error.retry_after)
                        if error.retry_after is not None
                        else backoff(claim.attempts)
                    ),
                    delivery_error=str(error)[:2000],
                )
                .execution_options(synchronize_session=False)
            )


class MailTransport:
    """Email: recipients, composing (headers, subject tag, footer) and the SMTP sender."""

    channel = ChannelKind.EMAIL

    def __init__(self, settings: MailSettings, sender: MailSender) -> None:
        self.settings = settings
        self.sender = sender

    def recipient(self, session: Session, ticket: Ticket) -> str | None:
        return _recipient(session, ticket)

    def message_id(self, ticket: Ticket, row: Message) -> str | None:
        token = secrets.token_hex(6)
        return f"sd.{ticket.id}.{row.id}.{token}@{self.settings.message_id_domain}"

    def send(self, payload: Any) -> str | None:
        assert isinstance(payload, OutboundMail)
        self.sender.send(payload)
        return None

    def close(self) -> None:
        self.sender.close()

    def compose(
        self, session: Session, ticket: Ticket, row: Message, address: str, channel_id: str | None
    ) -> OutboundMail:
        assert channel_id is not None
        return self._compose(session, ticket, row, channel_id, address)

    def _compose(
        self, session: Session, ticket: Ticket, row: Message, message_id: str, address: str
    ) -> OutboundMail:
        language = self.settings.client_language
        assert ticket.id is not None
        tag = ticket_tag(ticket.id)
        thread = session.execute(
            select(Message.kind, Message.channel_message_id)
            .where(
                Message.ticket_id == ticket.id,
                Message.channel == ChannelKind.EMAIL.value,
                Message.channel_message_id.is_not(None),
                Message.id < row.id,
            )
            .order_by(Message.id)
        ).all()
        references = tuple(dict.fromkeys(mid for _kind, mid in thread if mid))[-20:]
        answered = next(
            (mid for kind, mid in reversed(thread) if kind == MessageKind.INBOUND.value), None
        )
        subject = ticket.subject if tag not in ticket.subject else ticket.subject.replace(tag, "")
        subject = subject.strip()
        # A notice the desk starts (a contract ending) opens its thread: no "Re:".
        notice = bool(row.channel_data and row.channel_data.get("notice"))
        if notice:
            pass
        elif row.is_auto:
            subject = translate_to(language, N_("Request registered: {subject}")).format(
                subject=subject
            )
        elif not subject.lower().startswith(("re:", "на:", "ответ:")):
            subject = f"Re: {subject}"
        footer = translate_to(
            language,
            N_("Request {number}. Please keep {tag} in the subject when you reply."),
        ).format(number=ticket_number(ticket.id), tag=tag)
        body = f"{row.body.rstrip()}\n\n-- \n{self.settings.display_name}\n{footer}\n"
        return OutboundMail(
            message_id=message_id,
            sender_address=self.settings.address,
            sender_name=self.settings.display_name,
            to=(address,),
            subject=f"{subject} {tag}",
            body=body,
            in_reply_to=answered,
            references=references,
            auto=row.is_auto or notice,
            language=language,
        )


def _recipient(session: Session, ticket: Ticket) -> str | None:
    """Where a reply goes: the ticket's contact, else whoever first wrote to us on it (not
    the last writer: anyone may write "Re: [SD-000123]" to a ticket they do not own)."""
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None and contact.email:
            return contact.email
    return session.execute(
        select(Message.address)
        .where(
            Message.ticket_id == ticket.id,
            Message.kind == MessageKind.INBOUND.value,
            Message.channel == ChannelKind.EMAIL.value,
            Message.address.is_not(None),
        )
        .order_by(Message.id)
        .limit(1)
    ).scalar_one_or_none()


def make_outbox(store: Store, clock: Clock, settings: Settings) -> Outbox | None:
    """The outbox over every configured channel (SMTP, Telegram); None when neither is."""
    transports: list[Transport] = []
    smtp = settings.mail.smtp
    if smtp is not None:
        from sdconsole.channels.smtp import SmtpSender

        password = read_secret(smtp.password_env, smtp.password_file, what="SMTP")
        transports.append(MailTransport(settings.mail, SmtpSender(smtp, password)))
    if settings.telegram is not None:
        from sdconsole.services.telegram_runner import TelegramTransport, bot_token

        transports.append(TelegramTransport(settings.telegram, bot_token(settings.telegram)))
    if not transports:
        return None
    return Outbox(store, clock, settings.mail, transports=transports)


def pending_count(store: Store) -> int:
    """Letters waiting for delivery (queued or being sent)."""
    from sqlalchemy import func

    with store.reader() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Message)
                .where(Message.delivery_state.in_(_PENDING))
            ).scalar_one()
        )
