"""Provides `TelegramClient`: the support bot on python-telegram-bot (asyncio; run it in the
event loop of its own worker thread).

The client drives a real `telegram.ext.Application` (commands, messages, contacts, buttons are
routed by its handlers) but fetches the updates itself: `fetch` returns the raw updates of one
``getUpdates`` call, `process` runs one through the Application, and the caller confirms an
update (the next ``offset``) only after it stored what the update asked for. An update PTB
cannot read raises `BadUpdate` from `parse`, so the caller can keep it as a dead letter and go
on. `base_url` and `base_file_url` point it at any Bot API server (the tests run their own).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

# Time periods as timedelta, PTB 23's default (PTB 22 warns on every 429 otherwise).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (  # noqa: E402 - after the opt-in above
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from sdconsole.channels.base import ChannelError, DeliveryError
from sdconsole.config import TelegramSettings
from sdconsole.domain.chat import Incoming, IncomingFile

log = logging.getLogger(__name__)

COMMANDS = ("start", "new", "status", "help")

OnIncoming = Callable[[Incoming], Awaitable[None]]


class BadUpdate(ValueError):
    """An update the library cannot read (a malformed or unknown shape)."""


def _when(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_incoming(update: Update, raw: bytes = b"") -> Incoming | None:
    """The desk's view of an update; None for kinds the bot does not serve."""
    query = update.callback_query
    if query is not None:
        message = query.message if isinstance(query.message, Message) else None
        chat = message.chat if message is not None else None
        user = query.from_user
        return Incoming(
            update_id=update.update_id,
            chat_id=str(chat.id if chat else user.id),
            user_id=str(user.id),
            name=user.full_name,
            username=user.username,
            message_id=str(message.message_id if message else 0),
            sent_at=_when(message.date if message else None),
            callback_id=query.id,
            callback_data=query.data or "",
            private=chat is None or chat.type == "private",
            raw=raw,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    text = message.text or message.caption or ""
    command, argument = None, ""
    if message.text and message.text.startswith("/"):
        head, _, argument = message.text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        if name in COMMANDS:
            command = name
    contact = message.contact
    return Incoming(
        update_id=update.update_id,
        chat_id=str(message.chat.id),
        user_id=str(user.id),
        name=user.full_name,
        username=user.username,
        message_id=str(message.message_id),
        sent_at=_when(message.date),
        text=text,
        reply_to=(str(message.reply_to_message.message_id) if message.reply_to_message else None),
        edited=update.edited_message is not None,
        edit_date=message.edit_date,
        files=_files(message),
        command=command,
        argument=argument.strip(),
        contact_phone=contact.phone_number if contact else None,
        contact_user_id=str(contact.user_id) if contact and contact.user_id else None,
        private=message.chat.type == "private",
        raw=raw,
    )


_MEDIA = (
    # (attribute, default name, default MIME type)
    ("document", "document-{id}", "application/octet-stream"),
    ("voice", "voice-{id}.ogg", "audio/ogg"),
    ("video_note", "video-note-{id}.mp4", "video/mp4"),
    ("video", "video-{id}.mp4", "video/mp4"),
    ("audio", "audio-{id}", "audio/mpeg"),
)


def _files(message: Message) -> tuple[IncomingFile, ...]:
    """The files a message carries: the largest size of a photo, and every other medium."""
    found: list[IncomingFile] = []
    if message.photo:
        biggest = max(message.photo, key=lambda p: p.width * p.height)
        name = f"photo-{message.message_id}.jpg"
        found.append(IncomingFile(biggest.file_id, "photo", name, "image/jpeg", biggest.file_size))
    for kind, default_name, default_type in _MEDIA:
        media = getattr(message, kind)
        if media is None:
            continue
        found.append(
            IncomingFile(
                media.file_id,
                kind,
                getattr(media, "file_name", None) or default_name.format(id=message.message_id),
                getattr(media, "mime_type", None) or default_type,
                media.file_size,
            )
        )
    return tuple(found)


class TelegramClient:
    """The bot: an `Application` whose handlers hand each update to `on_incoming`."""

    def __init__(self, settings: TelegramSettings, token: str, on_incoming: OnIncoming) -> None:
        self.settings = settings
        self._on_incoming = on_incoming
        self._raw = b""
        self.failure: BaseException | None = None
        """The error a handler raised while processing the last update, if any."""
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .updater(None)
            .build()
        )
        handle = self._handle
        self.app.add_handler(CommandHandler(list(COMMANDS), handle))
        self.app.add_handler(CallbackQueryHandler(handle))
        self.app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, handle))
        self.app.add_handler(MessageHandler(filters.ALL, handle))
        self.app.add_error_handler(self._error)

    @property
    def bot(self) -> Bot:
        return cast(Bot, self.app.bot)

    async def start(self) -> None:
        """Initialise the Application (``getMe``). Raises `ChannelError`."""
        try:
            await self.app.initialize()
        except TelegramError as error:
            raise ChannelError(f"telegram: {error}") from error

    async def stop(self) -> None:
        try:
            await self.app.shutdown()
        except Exception:  # noqa: BLE001 - closing must not raise
            log.debug("telegram shutdown failed", exc_info=True)

    async def fetch(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        """One ``getUpdates``: raw updates from `offset` on (confirming everything before it).

        Raises:
            ChannelError: the server failed or could not be reached.
        """
        kwargs: dict[str, Any] = {"timeout": wait, "allowed_updates": _ALLOWED}
        if offset is not None:
            kwargs["offset"] = offset
        try:
            with warnings.catch_warnings():
                # Raw updates on purpose: `Bot.get_updates` parses the whole batch at once, so
                # one update the library cannot read would block every later one for good.
                warnings.simplefilter("ignore", PTBUserWarning)
                result = await self.bot.do_api_request(
                    "getUpdates", api_kwargs=kwargs, read_timeout=wait + 10
                )
        except TelegramError as error:
            raise ChannelError(f"telegram getUpdates: {error}") from error
        return [item for item in result or () if isinstance(item, dict)]

    def parse(self, raw: dict[str, Any]) -> Update:
        """The library's `Update`. Raises `BadUpdate`."""
        try:
            update = Update.de_json(raw, self.bot)
        except Exception as error:  # noqa: BLE001 - any shape the library cannot read
            raise BadUpdate(f"{type(error).__name__}: {error}") from error
        if update is None:
            raise BadUpdate("empty update")
        return update

    async def process(self, update: Update, raw: bytes) -> None:
        """Run one update through the Application's handlers.

        Raises:
            Exception: whatever a handler raised (the update is not confirmed).
        """
        self.failure = None
        self._raw = raw
        await self.app.process_update(update)
        if self.failure is not None:
            raise self.failure

    async def _handle(self, update: object, _context: CallbackContext[Any, Any, Any, Any]) -> None:
        if not isinstance(update, Update):
            return
        incoming = to_incoming(update, self._raw)
        if incoming is not None:
            await self._on_incoming(incoming)

    async def _error(self, _update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        self.failure = context.error

    # -- files and answers -------------------------------------------------------------------

    async def download(self, file: IncomingFile) -> bytes:
        """The file's bytes (getFile, then the file URL). Raises `ChannelError`."""
        try:
            handle = await self.bot.get_file(file.file_id)
            return bytes(await handle.download_as_bytearray())
        except TelegramError as error:
            raise ChannelError(f"telegram getFile {file.file_id}: {error}") from error

    async def send(
        self,
        chat_id: str,
        text: str,
        *,
        buttons: list[list[tuple[str, str]]] | None = None,
        ask_contact: bool = False,
        remove_keyboard: bool = False,
        reply_to: str | None = None,
    ) -> str:
        """Send a text; returns its message id.

        Raises:
            DeliveryError: refused; `retry_after` set for 429, `permanent` for a blocked bot
                or a bad request.
        """
        markup: Any = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in buttons
                ]
            )
        elif ask_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(_share_label(self.settings.language), request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
        elif remove_keyboard:
            markup = ReplyKeyboardRemove()
        try:
            sent = await self.bot.send_message(
                chat_id=int(chat_id),
                text=_fit(text),
                reply_markup=markup,
                reply_to_message_id=int(reply_to) if reply_to else None,
            )
        except RetryAfter as error:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PTB 22 warns that it becomes a timedelta
                wait: Any = error.retry_after
                described = str(error)
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            raise DeliveryError(described, permanent=False, retry_after=seconds) from error
        except (Forbidden, BadRequest) as error:
            raise DeliveryError(str(error), permanent=True) from error
        except (NetworkError, TelegramError) as error:
            raise DeliveryError(str(error), permanent=False) from error
        return str(sent.message_id)

    async def answer_callback(self, callback_id: str, text: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text[:200])
        except TelegramError as error:
            log.info("telegram answerCallbackQuery failed: %s", error)

    async def drop_buttons(self, chat_id: str, message_id: str) -> None:
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=int(chat_id), message_id=int(message_id), reply_markup=None
            )
        except TelegramError as error:
            log.info("telegram editMessageReplyMarkup failed: %s", error)


_ALLOWED = ["message", "edited_message", "callback_query"]
MAX_TEXT = 4096
"""Telegram's limit, in UTF-16 code units."""


def _fit(text: str) -> str:
    """The text cut to Telegram's limit, counted in UTF-16 units as Telegram counts."""
    if len(text.encode("utf-16-le")) <= 2 * MAX_TEXT:
        return text
    cut = text.encode("utf-16-le")[: 2 * (MAX_TEXT - 1)].decode("utf-16-le", "ignore")
    return cut + "…"


def _share_label(language: str) -> str:
    return "📱 Отправить мой номер" if language == "ru" else "📱 Share my phone number"
