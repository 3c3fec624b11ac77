"""Provides the Telegram worker and the Telegram side of the outbox.

`TelegramRunner.run` is a loop worker for `sdconsole workers run`: it reads updates with long
polling, runs each through the bot (`channels.telegram.TelegramClient`) and the desk
(`services.telegram.TelegramDesk`), and only then confirms it: the checkpoint (the last update
id, in ``mailbox_state`` under the name ``telegram``) is written after the update's ticket or
message is committed, and the next ``getUpdates`` offset follows it. A restart re-reads what was
not confirmed, and intake's ledger makes the second reading a no-op. An update the library cannot
read is kept as a dead letter and confirmed; any other failure stops the loop unconfirmed, and
the supervisor starts it again with backoff.

`TelegramTransport` sends the outbox's Telegram entries (answers, acknowledgements, the notices
"taken", "waiting for you", "resolved" with the rating buttons), honouring 429 ``retry_after``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from sqlmodel import Session

from sdconsole.channels.base import ChannelError, DeliveryError
from sdconsole.channels.telegram import BadUpdate, TelegramClient
from sdconsole.config import Settings, TelegramSettings, read_secret
from sdconsole.domain.chat import Incoming
from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput
from sdconsole.domain.intake import InboundAttachment
from sdconsole.domain.model import ChannelKind, ticket_number
from sdconsole.i18n import N_, translate_to
from sdconsole.services.intake import IntakeService
from sdconsole.services.telegram import (
    TelegramDesk,
    rating_keyboard,
    rating_secret,
    telegram_chat_of,
)
from sdconsole.storage import Store
from sdconsole.storage.tables import MailboxState, Message, Ticket

log = logging.getLogger(__name__)

CHECKPOINT = "tg:updates"
"""The checkpoint's row in ``mailbox_state`` (a colon no mailbox name may have)."""
GIVE_UP_AFTER = 3
"""Failures of one update before it is kept as a dead letter and confirmed."""
POLL_ROUND = 5
"""Seconds of one long-poll round at most, so that a stop request is seen promptly."""


def bot_token(settings: TelegramSettings) -> str:
    """The bot token from its environment variable or file.

    Raises:
        InvalidInput: neither is set, or the one named is missing.
    """
    token = read_secret(settings.token_env, settings.token_file, what="the Telegram bot")
    if not token:
        raise InvalidInput(N_("[telegram] needs token_env or token_file."))
    return token


class TelegramRunner:
    """The Telegram intake loop."""

    def __init__(self, store: Store, clock: Clock, settings: Settings, token: str) -> None:
        assert settings.telegram is not None
        self.store = store
        self.clock = clock
        self.settings = settings.telegram
        self.token = token
        self.intake = IntakeService.from_settings(store, clock, settings)
        self.desk = TelegramDesk(
            store, clock, self.intake, settings.telegram, secret=rating_secret(token)
        )
        self._client: TelegramClient | None = None
        self._failures: dict[int, int] = {}
        """Failures per update id, across the supervisor's restarts of this runner."""

    def run(self, stop: threading.Event, report: Any) -> None:
        """Take updates until `stop` is set. Raises `ChannelError` (restarted with backoff)."""
        asyncio.run(self._main(stop, report))

    async def _main(self, stop: threading.Event, report: Any) -> None:
        client = TelegramClient(self.settings, self.token, self._on_incoming)
        self._client = client
        await client.start()
        try:
            last = self._checkpoint()
            offset = last + 1 if last else None
            while not stop.is_set():
                raws = await client.fetch(offset, min(self.settings.poll_seconds, POLL_ROUND))
                for raw in raws:
                    update_id = int(raw.get("update_id", 0))
                    await self._take_or_give_up(client, raw, update_id)
                    self._save_checkpoint(update_id)
                    offset = update_id + 1
                report(len(raws))
        finally:
            await client.stop()
            self._client = None

    async def take_once(self) -> int:
        """One ``getUpdates`` round without waiting (for tests and `telegram fetch`)."""
        client = TelegramClient(self.settings, self.token, self._on_incoming)
        self._client = client
        await client.start()
        try:
            last = self._checkpoint()
            raws = await client.fetch(last + 1 if last else None, 0)
            for raw in raws:
                update_id = int(raw.get("update_id", 0))
                await self._take_or_give_up(client, raw, update_id)
                self._save_checkpoint(update_id)
            if raws:
                await client.fetch(int(raws[-1]["update_id"]) + 1, 0)  # confirm at once
            return len(raws)
        finally:
            await client.stop()
            self._client = None

    async def _take_or_give_up(
        self, client: TelegramClient, raw: dict[str, Any], update_id: int
    ) -> None:
        """Take an update; one that failed `GIVE_UP_AFTER` times is kept as a dead letter
        (and then confirmed), so that it never blocks the ones after it."""
        try:
            await self._take(client, raw, update_id)
        except Exception as error:
            failures = self._failures.get(update_id, 0) + 1
            self._failures[update_id] = failures
            if failures < GIVE_UP_AFTER:
                raise
            log.error(
                "telegram update %s failed %d times; kept as a dead letter", update_id, failures
            )
            self.intake.reject(
                ChannelKind.TELEGRAM,
                json.dumps(raw, ensure_ascii=False, sort_keys=True).encode(),
                f"failed {failures} times: {type(error).__name__}: {error}",
                received_at=self.clock.now(),
                source_ref=f"tg:update:{update_id}",
            )
        self._failures.pop(update_id, None)

    async def _take(self, client: TelegramClient, raw: dict[str, Any], update_id: int) -> None:
        data = json.dumps(raw, ensure_ascii=False, sort_keys=True).encode()
        try:
            update = client.parse(raw)
        except BadUpdate as error:
            log.warning("telegram update %s cannot be read: %s", update_id, error)
            self.intake.reject(
                ChannelKind.TELEGRAM,
                data,
                f"unreadable update: {error}",
                received_at=self.clock.now(),
                source_ref=f"tg:update:{update_id}",
            )
            return
        await client.process(update, data)

    async def _on_incoming(self, incoming: Incoming) -> None:
        client = self._client
        assert client is not None
        limit = self.settings.attachment_limit_mb * 1024 * 1024
        files: list[InboundAttachment] = []
        missing: list[str] = []
        for item in incoming.files:
            if item.size and item.size > limit:
                continue  # noted by the desk
            try:
                files.append(
                    InboundAttachment(item.file_name, item.mime_type, await client.download(item))
                )
            except ChannelError as error:
                log.warning("telegram file %s not downloaded: %s", item.file_id, error)
                missing.append(item.file_name)
        handled = self.desk.handle(incoming, files, missing)
        for reply in handled.replies:
            if reply.callback_answer and incoming.callback_id:
                await client.answer_callback(incoming.callback_id, reply.callback_answer)
            if reply.edit_markup:
                await client.drop_buttons(incoming.chat_id, incoming.message_id)
            if not reply.text:
                continue
            try:
                sent = await client.send(
                    incoming.chat_id,
                    reply.text,
                    ask_contact=reply.ask_contact,
                    remove_keyboard=reply.remove_keyboard,
                )
            except DeliveryError as error:
                log.info("telegram answer to %s not sent: %s", incoming.chat_id, error)
                continue
            if reply.remember_as_rating_prompt is not None:
                self.desk.remember_prompt(incoming.chat_id, reply.remember_as_rating_prompt, sent)

    def _checkpoint(self) -> int:
        with self.store.reader() as session:
            row = session.get(MailboxState, CHECKPOINT)
            return row.last_uid if row is not None else 0

    def _save_checkpoint(self, update_id: int) -> None:
        with self.store.transaction() as session:
            row = session.get(MailboxState, CHECKPOINT)
            if row is None:
                row = MailboxState(name=CHECKPOINT, uidvalidity=0, last_uid=0)
                session.add(row)
            row.last_uid = max(row.last_uid, update_id)
            row.updated_at = self.clock.now()


class TelegramTransport:
    """The outbox's Telegram side: a `telegram.Bot` on an event loop of its own (the outbox
    worker is a plain thread)."""

    channel = ChannelKind.TELEGRAM

    def __init__(self, settings: TelegramSettings, token: str) -> None:
        self.settings = settings
        self._secret = rating_secret(token)
        self._loop = asyncio.new_event_loop()
        self._client = TelegramClient(settings, token, _ignore)
        self._started = False

    def recipient(self, session: Session, ticket: Ticket) -> str | None:
        return telegram_chat_of(session, ticket)

    def message_id(self, ticket: Ticket, row: Message) -> str | None:
        return None  # Telegram gives it on sending

    def compose(
        self, session: Session, ticket: Ticket, row: Message, address: str, channel_id: str | None
    ) -> tuple[str, str, list[list[tuple[str, str]]] | None]:
        assert ticket.id is not None
        text = row.body
        data = row.channel_data or {}
        notice = _NOTICES.get(str(data.get("notice")))
        if notice is not None:
            text = translate_to(self.settings.language, notice).format(
                number=ticket_number(ticket.id)
            )
        elif not row.is_auto:
            head = translate_to(self.settings.language, N_("Answer on request {number}:"))
            text = f"{head.format(number=ticket_number(ticket.id))}\n\n{row.body}"
        buttons = rating_keyboard(self._secret, ticket.id, address) if "rate" in data else None
        return address, text, buttons

    def send(self, payload: Any) -> str | None:
        chat_id, text, buttons = payload
        try:
            if not self._started:
                self._loop.run_until_complete(self._client.start())
                self._started = True
            sent = self._loop.run_until_complete(self._client.send(chat_id, text, buttons=buttons))
        except DeliveryError:
            raise  # as the channel judged it (a 429 carries its retry_after)
        except ChannelError as error:
            raise DeliveryError(str(error), permanent=False) from error
        return f"tg:{chat_id}:{sent}"

    def close(self) -> None:
        if self._started:
            self._loop.run_until_complete(self._client.stop())
        self._loop.close()


_NOTICES = {
    "taken": N_("Your request {number} is taken: an engineer is working on it."),
    "waiting": N_("Your request {number} waits for your answer: please reply here."),
    "resolved": N_("Your request {number} is resolved. How did we do? Rate us from 1 to 5:"),
}
"""The notices of `TicketService`, said in the bot's language when they are sent."""


async def _ignore(_incoming: Incoming) -> None:
    return None
