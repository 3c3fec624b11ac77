"""Provides `TelegramDesk`: what the support bot does with each thing a chat sends.

Each use case is one transaction and is idempotent per Telegram message (intake's ledger key
``tg:CHAT:MESSAGE``), so that an update delivered twice after a restart changes nothing twice.
The channel adapter (`sdconsole.channels.telegram`) turns updates into `Incoming` values and
sends the `Reply` values back; the notifications and answers about tickets go through the outbox.

Rules (docs/telegram.md):

- **Binding.** ``/start`` asks for the contact's phone (the contact button) or a one-time code
  (``/start CODE``, from an engineer). A shared phone binds the chat only if it is the sender's
  own contact card. Unbound chats still get tickets, tagged ``unknown-sender``.
- **Which ticket a message continues.** A reply to a bot message of a ticket continues that
  ticket; otherwise the chat's open ticket; otherwise a new one. ``/new`` starts a new one.
- **What a chat may see.** ``/status`` lists the tickets of the chat's contact (or, unbound,
  those the chat opened); nothing takes a ticket number. Rating buttons carry an HMAC of the
  ticket, the chat and the score, and the ticket must be the chat's: a forged or foreign button
  changes nothing.
- **Floods and blocks.** More than `TelegramSettings.flood_per_minute` messages a minute, or any
  message from a blocked chat, are kept in the ledger but open nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select
from sqlmodel import Session

from sdconsole.config import TelegramSettings
from sdconsole.domain.chat import Incoming, Reply
from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import NotFound
from sdconsole.domain.intake import InboundAttachment, InboundMessage, Notice, Sender
from sdconsole.domain.model import ChannelKind, Status, ticket_number
from sdconsole.i18n import N_, translate_to
from sdconsole.services.intake import IngestResult, IntakeService
from sdconsole.services.ratings import store_rating
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    Contact,
    Inbound,
    Rating,
    TelegramChat,
    TelegramCode,
    Ticket,
)

log = logging.getLogger(__name__)

"""The tag on a ticket rated 3 or less: the team lead follows it up."""

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_RE = re.compile(r"^[A-Z2-9]{8}$")
_RATE_RE = re.compile(r"^r:(\d{1,9}):([1-5]):([0-9a-f]{12})$")


@dataclass
class Handled:
    """What handling one update did (for the log and the tests)."""

    replies: list[Reply] = field(default_factory=list)
    ingest: IngestResult | None = None


def normalise_phone(value: str) -> str:
    """A Russian phone number as +7XXXXXXXXXX (other numbers: + and the digits)."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return "+" + digits if digits else ""


class TelegramDesk:
    """The bot's use cases over the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        intake: IntakeService,
        settings: TelegramSettings,
        *,
        secret: bytes,
    ) -> None:
        """
        Args:
            store: where chats, codes and tickets are.
            clock: the time source.
            intake: the pipeline messages go through.
            settings: ``[telegram]``.
            secret: the key of the rating buttons' HMAC (derived from the bot token).
        """
        self.store = store
        self.clock = clock
        self.intake = intake
        self.settings = settings
        self._secret = secret

    def _t(self, text: str) -> str:
        return translate_to(self.settings.language, text)

    # -- the entry point -------------------------------------------------------------------

    def handle(
        self,
        incoming: Incoming,
        files: Sequence[InboundAttachment] = (),
        missing: Sequence[str] = (),
    ) -> Handled:
        """Everything one update asks for; `files` are its downloaded attachments, `missing`
        the names of those that could not be downloaded."""
        if not incoming.private:
            return Handled()  # the bot serves private chats only
        chat = self._chat(incoming)
        if chat.blocked:
            self._keep(incoming, "blocked chat")
            return Handled()
        if incoming.callback_data is not None:
            return Handled([self._rate(chat, incoming)])
        if incoming.contact_phone is not None:
            return Handled([self._bind_by_phone(chat, incoming)])
        match incoming.command:
            case "start":
                return Handled([self._start(chat, incoming.argument)])
            case "status":
                return Handled([self._status(chat)])
            case "help":
                return Handled([Reply(self._t(_HELP))])
        flooded, warn = self._flooded(chat, incoming)
        if flooded:
            self.intake.reject(
                ChannelKind.TELEGRAM,
                incoming.raw,
                f"flood limit: more than {self.settings.flood_per_minute} messages a minute",
                received_at=min(incoming.sent_at, self.clock.now()),
                source_ref=f"tg:{incoming.chat_id}:{incoming.message_id}",
            )
            text = self._t(N_("Too many messages: please wait a minute."))
            return Handled([Reply(text)] if warn else [])
        if incoming.command == "new":
            return self._new(chat, incoming, files, missing)
        if (
            chat.rating_prompt_id is not None
            and incoming.reply_to == chat.rating_prompt_id
            and chat.rating_ticket_id is not None
        ):
            return Handled([self._comment(chat, incoming)])
        return Handled(ingest=self._message(chat, incoming, files, missing))

    # -- chats -----------------------------------------------------------------------------

    def _chat(self, incoming: Incoming) -> TelegramChat:
        now = self.clock.now()
        with self.store.transaction() as session:
            chat = session.get(TelegramChat, incoming.chat_id)
            if chat is None:
                contact = _contact_by_telegram(session, incoming.user_id)
                chat = TelegramChat(
                    chat_id=incoming.chat_id,
                    user_id=incoming.user_id,
                    contact_id=contact.id if contact else None,
                    created_at=now,
                )
                session.add(chat)
            chat.name = incoming.name[:200]
            chat.username = (incoming.username or None) and incoming.username[:64]
            chat.updated_at = now
            session.flush()
            session.expunge(chat)
            return chat

    def _flooded(self, chat: TelegramChat, incoming: Incoming) -> tuple[bool, bool]:
        """Whether this message is over the chat's limit a minute, and whether it is the first
        one over it (the one the bot warns about). Counted by when the messages were sent, so
        a backlog read after an outage is not a flood; a replayed message is not counted."""
        key = f"tg:{incoming.chat_id}:{incoming.message_id}"
        with self.store.transaction() as session:
            seen = session.execute(
                select(Inbound.id).where(
                    Inbound.channel == ChannelKind.TELEGRAM.value,
                    or_(Inbound.idempotency_key == key, Inbound.source_ref == key),
                )
            ).first()
            if seen is not None:
                return False, False
            row = session.get(TelegramChat, chat.chat_id)
            assert row is not None
            at = incoming.sent_at
            start = row.window_start
            if start is None or at < start or at - start >= timedelta(minutes=1):
                row.window_start, row.window_count = at, 0
            row.window_count += 1
            limit = self.settings.flood_per_minute
            return row.window_count > limit, row.window_count == limit + 1

    def _keep(self, incoming: Incoming, why: str) -> None:
        """Keep an update in the ledger only (blocked chat, flood)."""
        key = f"tg:{incoming.chat_id}:{incoming.message_id}:kept"
        with self.store.transaction() as session:
            exists = session.execute(
                select(Inbound.id).where(
                    Inbound.channel == ChannelKind.TELEGRAM.value, Inbound.idempotency_key == key
                )
            ).first()
            if exists is None:
                session.add(
                    Inbound(
                        channel=ChannelKind.TELEGRAM.value,
                        idempotency_key=key,
                        received_at=incoming.sent_at,
                        raw=incoming.raw,
                    )
                )
        log.info("telegram chat %s: message kept, not taken (%s)", incoming.chat_id, why)

    # -- binding ---------------------------------------------------------------------------

    def _start(self, chat: TelegramChat, argument: str) -> Reply:
        code = argument.strip().upper()
        if code:
            return self._bind_by_code(chat, code)
        if chat.contact_id is not None:
            return Reply(self._t(_WELCOME_BACK), remove_keyboard=True)
        return Reply(self._t(_WELCOME), ask_contact=True)

    def _bind_by_code(self, chat: TelegramChat, code: str) -> Reply:
        now = self.clock.now()
        with self.store.transaction() as session:
            row = session.get(TelegramCode, code) if _CODE_RE.match(code) else None
            if row is None or row.used_at is not None or (row.expires_at or now) <= now:
                return Reply(
                    self._t(N_("This code is not valid. Ask your engineer for a new one."))
                )
            row.used_at = now
            contact = session.get(Contact, row.contact_id)
            assert contact is not None
            self._bind(session, chat, contact)
            return Reply(
                self._t(N_("Done: this chat is bound to {name}.")).format(name=contact.name),
                remove_keyboard=True,
            )

    def _bind_by_phone(self, chat: TelegramChat, incoming: Incoming) -> Reply:
        if incoming.contact_user_id != incoming.user_id:
            return Reply(
                self._t(N_("Please share your own number with the button below.")), ask_contact=True
            )
        phone = normalise_phone(incoming.contact_phone or "")
        with self.store.transaction() as session:
            contact = session.execute(
                select(Contact)
                .where(Contact.phone.in_([phone, phone.lstrip("+")]), Contact.is_active)
                .order_by(Contact.id)
                .limit(1)
            ).scalar_one_or_none()
            if contact is None:
                return Reply(
                    self._t(
                        N_(
                            "We do not know the number {phone}. Write your question anyway, or"
                            " ask your engineer for a code."
                        )
                    ).format(phone=phone),
                    remove_keyboard=True,
                )
            self._bind(session, chat, contact)
            return Reply(
                self._t(N_("Done: this chat is bound to {name}.")).format(name=contact.name),
                remove_keyboard=True,
            )

    def _bind(self, session: Session, chat: TelegramChat, contact: Contact) -> None:
        row = session.get(TelegramChat, chat.chat_id)
        assert row is not None
        row.contact_id = contact.id
        contact.telegram_id = chat.user_id
        # The chat's tickets opened while unbound are the contact's now.
        tickets = session.execute(
            select(Ticket).where(
                Ticket.source_key.like(f"tg:{chat.chat_id}:%"), Ticket.contact_id.is_(None)
            )
        ).scalars()
        for ticket in tickets:
            ticket.contact_id = contact.id
            ticket.tags = [t for t in ticket.tags if t != "unknown-sender"]

    def issue_code(self, contact_id: int, *, engineer_id: int | None) -> str:
        """A one-time code that binds a chat to this contact (see `issue_code`)."""
        return issue_code(
            self.store,
            self.clock,
            contact_id,
            engineer_id=engineer_id,
            hours=self.settings.code_hours,
        )

    # -- tickets ---------------------------------------------------------------------------

    def _new(
        self,
        chat: TelegramChat,
        incoming: Incoming,
        files: Sequence[InboundAttachment],
        missing: Sequence[str],
    ) -> Handled:
        with self.store.transaction() as session:
            row = session.get(TelegramChat, chat.chat_id)
            assert row is not None
            # Idempotent per /new message: the thread number is the message's.
            row.thread = max(row.thread, int(incoming.message_id))
            chat.thread = row.thread
        if not incoming.argument.strip() and not files:
            return Handled([Reply(self._t(N_("Describe the problem: it will be a new request.")))])
        plain = dataclasses.replace(incoming, text=incoming.argument, command=None)
        return Handled(ingest=self._message(chat, plain, files, missing))

    def _message(
        self,
        chat: TelegramChat,
        incoming: Incoming,
        files: Sequence[InboundAttachment],
        missing: Sequence[str] = (),
    ) -> IngestResult:
        key = f"tg:{incoming.chat_id}:{incoming.message_id}"
        in_reply_to: tuple[str, ...] = ()
        body = incoming.text
        if incoming.edited:
            stamp = int(incoming.edit_date.timestamp()) if incoming.edit_date else 0
            key = f"{key}:edit:{stamp}"
            in_reply_to = (f"tg:{incoming.chat_id}:{incoming.message_id}",)
            body = "✎ " + self._t(N_("edited:")) + " " + body
        elif incoming.reply_to:
            in_reply_to = (f"tg:{incoming.chat_id}:{incoming.reply_to}",)
        limit = self.settings.attachment_limit_mb * 1024 * 1024
        too_big = [f.file_name for f in incoming.files if f.size and f.size > limit]
        notes = tuple(
            Notice(
                N_("The file {name} was not downloaded: {reason}"),
                (("name", name), ("reason", reason)),
            )
            for names, reason in ((too_big, "over the size limit"), (missing, "Telegram refused"))
            for name in names
        )
        message = InboundMessage(
            channel=ChannelKind.TELEGRAM,
            idempotency_key=key,
            received_at=min(incoming.sent_at, self.clock.now()),
            sender=Sender(name=incoming.name, telegram_id=incoming.user_id),
            subject="",
            body=body,
            raw=incoming.raw,
            channel_message_id=key,
            in_reply_to=in_reply_to,
            thread_key=f"tg:{incoming.chat_id}:{chat.thread}",
            contact_id=chat.contact_id,
            attachments=tuple(files),
            notes=notes,
        )
        return self.intake.ingest(message)

    def _status(self, chat: TelegramChat) -> Reply:
        with self.store.reader() as session:
            mine = (
                Ticket.contact_id == chat.contact_id
                if chat.contact_id is not None
                else Ticket.source_key.like(f"tg:{chat.chat_id}:%")
            )
            tickets = (
                session.execute(
                    select(Ticket)
                    .where(mine, Ticket.status.in_([s.value for s in Status if s.is_open]))
                    .order_by(Ticket.id.desc())
                    .limit(20)
                )
                .scalars()
                .all()
            )
        if not tickets:
            return Reply(self._t(N_("You have no open requests.")))
        lines = [self._t(N_("Your open requests:"))]
        for ticket in tickets:
            assert ticket.id is not None
            status = translate_to(self.settings.language, _STATUS_WORDS[Status(ticket.status)])
            lines.append(f"{ticket_number(ticket.id)} · {status} · {ticket.subject[:60]}")
        return Reply("\n".join(lines))

    # -- ratings ---------------------------------------------------------------------------

    def rating_data(self, ticket_id: int, chat_id: str, score: int) -> str:
        """The callback data of a rating button: the ticket, the score and their HMAC."""
        return rating_data(self._secret, ticket_id, chat_id, score)

    def _sign(self, ticket_id: int, chat_id: str, score: int) -> str:
        return _signature(self._secret, ticket_id, chat_id, score)

    def _rate(self, chat: TelegramChat, incoming: Incoming) -> Reply:
        refused = Reply("", callback_answer=self._t(N_("This button is not valid.")))
        match = _RATE_RE.match(incoming.callback_data or "")
        if match is None:
            return refused
        ticket_id, score, signature = int(match[1]), int(match[2]), match[3]
        if not hmac.compare_digest(signature, self._sign(ticket_id, chat.chat_id, score)):
            log.warning(
                "telegram chat %s: forged rating button %r", chat.chat_id, incoming.callback_data
            )
            return refused
        now = self.clock.now()
        with self.store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or not _belongs(ticket, chat):
                return refused
            store_rating(session, ticket, score, channel=ChannelKind.TELEGRAM, now=now)
        return Reply(
            self._t(
                N_("Thank you! If you like, answer this message with a comment on {number}.")
            ).format(number=ticket_number(ticket_id)),
            callback_answer=self._t(N_("Rated {score} of 5.")).format(score=score),
            edit_markup=True,
            remember_as_rating_prompt=ticket_id,
        )

    def remember_prompt(self, chat_id: str, ticket_id: int, message_id: str) -> None:
        """The bot's comment prompt was sent as `message_id`: a reply to it is the comment."""
        with self.store.transaction() as session:
            row = session.get(TelegramChat, chat_id)
            if row is not None:
                row.rating_ticket_id, row.rating_prompt_id = ticket_id, message_id

    def _comment(self, chat: TelegramChat, incoming: Incoming) -> Reply:
        with self.store.transaction() as session:
            rating = session.execute(
                select(Rating).where(Rating.ticket_id == chat.rating_ticket_id)
            ).scalar_one_or_none()
            if rating is not None:
                rating.comment = incoming.text[:4000]
            row = session.get(TelegramChat, chat.chat_id)
            assert row is not None
            row.rating_prompt_id = None
        return Reply(self._t(N_("Thank you, we have passed your comment on.")))


def _belongs(ticket: Ticket, chat: TelegramChat) -> bool:
    if chat.contact_id is not None and ticket.contact_id == chat.contact_id:
        return True
    return bool(ticket.source_key and ticket.source_key.startswith(f"tg:{chat.chat_id}:"))


def _contact_by_telegram(session: Session, user_id: str) -> Contact | None:
    return session.execute(
        select(Contact)
        .where(Contact.telegram_id == user_id, Contact.is_active)
        .order_by(Contact.id)
        .limit(1)
    ).scalar_one_or_none()


def telegram_chat_of(session: Session, ticket: Ticket) -> str | None:
    """The chat a ticket's answers go to: the chat it came from, else its contact's."""
    if ticket.source_key and ticket.source_key.startswith("tg:"):
        return ticket.source_key.split(":")[1]
    if ticket.contact_id is not None:
        row = session.execute(
            select(TelegramChat.chat_id)
            .where(TelegramChat.contact_id == ticket.contact_id, TelegramChat.blocked.is_(False))
            .order_by(TelegramChat.updated_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is not None:
            return row
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None and contact.telegram_id:
            return contact.telegram_id
    return None


def issue_code(
    store: Store, clock: Clock, contact_id: int, *, engineer_id: int | None, hours: int = 72
) -> str:
    """A one-time code that binds a Telegram chat to this contact: the contact sends
    ``/start CODE`` to the bot. Valid for `hours`.

    Raises:
        NotFound: no such contact.
    """
    now = clock.now()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    with store.transaction() as session:
        if session.get(Contact, contact_id) is None:
            raise NotFound(N_("No contact {id}."), id=contact_id)
        session.add(
            TelegramCode(
                code=code,
                contact_id=contact_id,
                issued_by=engineer_id,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return code


def rating_secret(token: str) -> bytes:
    """The key of the rating buttons' HMAC: only the bot's owner can make a valid button."""
    return hashlib.sha256(b"sdconsole rating buttons\0" + token.encode()).digest()


def _signature(secret: bytes, ticket_id: int, chat_id: str, score: int) -> str:
    message = f"{ticket_id}:{chat_id}:{score}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:12]


def rating_data(secret: bytes, ticket_id: int, chat_id: str, score: int) -> str:
    """A rating button's callback data: ``r:TICKET:SCORE:HMAC`` (at most 64 bytes)."""
    return f"r:{ticket_id}:{score}:{_signature(secret, ticket_id, chat_id, score)}"


def rating_keyboard(secret: bytes, ticket_id: int, chat_id: str) -> list[list[tuple[str, str]]]:
    """The 1–5 buttons of a resolution notice: (label, callback data)."""
    return [[(str(score), rating_data(secret, ticket_id, chat_id, score)) for score in range(1, 6)]]


_WELCOME = N_(
    "Hello! This is the support service. To link this chat to your shop, share your phone"
    " number with the button below, or send /start and the code your engineer gave you."
    " You can also simply describe your problem."
)
_WELCOME_BACK = N_("Hello again! Describe your problem, or send /status to see your requests.")
_HELP = N_(
    "Write your question: it becomes a request, and our engineers answer here.\n"
    "/new: start a new request\n/status: your open requests"
)
_STATUS_WORDS = {
    Status.NEW: N_("new"),
    Status.OPEN: N_("in work"),
    Status.WAITING_CLIENT: N_("waiting for you"),
    Status.WAITING_VENDOR: N_("waiting for the vendor"),
    Status.RESOLVED: N_("resolved"),
    Status.CLOSED: N_("closed"),
    Status.CANCELLED: N_("cancelled"),
}
