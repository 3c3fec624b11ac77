"""The real python-telegram-bot Application against our Bot API server on 127.0.0.1: binding,
tickets, attachments, replies through 429s, ratings, a forged button, a restart mid-batch."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from sdconsole.config import MailSettings, Settings, TelegramSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Status
from sdconsole.services.outbox import Outbox
from sdconsole.services.telegram import TelegramDesk
from sdconsole.services.telegram_runner import TelegramRunner, TelegramTransport
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    Attachment,
    DeadLetter,
    Message,
    Rating,
    TelegramChat,
    Ticket,
)
from tests.channels.bot_api_server import BotApiServer
from tests.conftest import add_engineer
from tests.services.helpers import MANUAL, make_world

OLGA = 5001
PETR = 6002


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer() as running:
        yield running


def settings_for(server: BotApiServer, store: Store) -> Settings:
    return Settings(
        db=store.url,
        routing=MANUAL,
        mail=MailSettings(client_language="en"),
        telegram=TelegramSettings(
            base_url=server.base_url,
            base_file_url=server.base_file_url,
            language="en",
            poll_seconds=1,
        ),
    )


@pytest.fixture
def runner(store: Store, clock: FixedClock, server: BotApiServer) -> TelegramRunner:
    make_world(store, clock.now())
    return TelegramRunner(store, clock, settings_for(server, store), server.token)


def count(store: Store, table: type, *where: Any) -> int:
    with store.reader() as session:
        return int(
            session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def texts_to(server: BotApiServer, chat_id: int) -> list[str]:
    return [str(s.get("text") or "") for s in server.sent if s.get("chat_id") == chat_id]


def test_binding_tickets_and_attachments(
    runner: TelegramRunner, server: BotApiServer, store: Store
) -> None:
    server.push_update(server.message_update(OLGA, OLGA, "/start", first_name="Ольга"))
    server.push_update(
        server.message_update(OLGA, OLGA, first_name="Ольга", contact="+79120000007")
    )
    server.push_update(
        server.message_update(OLGA, OLGA, "Касса не печатает чеки", first_name="Ольга")
    )
    photo = server.add_file(
        b"\xff\xd8 photo", file_name="screen.jpg", mime_type="image/jpeg", kind="photo"
    )
    server.push_update(
        server.message_update(OLGA, OLGA, "Вот экран", first_name="Ольга", photo=photo)
    )
    document = server.add_file(
        b"%PDF report", file_name="Отчёт ФН.pdf", mime_type="application/pdf"
    )
    server.push_update(server.message_update(OLGA, OLGA, first_name="Ольга", document=document))
    voice = server.add_file(
        b"OggS voice", file_name="voice.ogg", mime_type="audio/ogg", kind="voice"
    )
    server.push_update(server.message_update(OLGA, OLGA, first_name="Ольга", voice=voice))
    note = server.add_file(
        b"video note", file_name="note.mp4", mime_type="video/mp4", kind="video_note"
    )
    server.push_update(server.message_update(OLGA, OLGA, first_name="Ольга", video_note=note))

    assert take(runner) == 7

    welcome, bound = texts_to(server, OLGA)[:2]
    assert "share your phone number" in welcome
    assert bound == "Done: this chat is bound to Ольга Петрова."
    [ticket] = list_tickets(store)
    assert ticket.subject == "Касса не печатает чеки" and ticket.contact_id is not None
    with store.reader() as session:
        files = sorted((a.filename, a.size) for a in session.execute(select(Attachment)).scalars())
    assert {name.rsplit(".", 1)[-1] for name, _size in files} == {"jpg", "pdf", "ogg", "mp4"}
    assert ("Отчёт ФН.pdf", len(b"%PDF report")) in files
    # Every update was confirmed once stored.
    assert server.pending_updates() == []


def take(runner: TelegramRunner) -> int:
    """One round of updates, as the worker takes them (in an event loop of its own)."""
    return asyncio.run(runner.take_once())


def list_tickets(store: Store) -> list[Ticket]:
    with store.reader() as session:
        return list(session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def test_replies_reach_the_chat_through_429s(
    runner: TelegramRunner, server: BotApiServer, store: Store, clock: FixedClock
) -> None:
    server.push_update(
        server.message_update(OLGA, OLGA, "Касса не печатает чеки", first_name="Ольга")
    )
    take(runner)
    [ticket] = list_tickets(store)
    assert ticket.id is not None
    engineer = add_engineer(store, "petrov")
    TicketService(store, clock).reply(ticket.id, "Перезагрузите кассу.", actor=engineer)
    transport = TelegramTransport(runner.settings, server.token)
    outbox = Outbox(store, clock, MailSettings(), transports=[transport])
    server.fail_next("sendMessage", 3, error_code=429, retry_after=3)
    try:
        # The acknowledgement, the reply and the "taken" notice (the reply opened the ticket):
        # Telegram answers 429 to all three.
        assert outbox.deliver_due() == 0
        with store.reader() as session:
            waiting = (
                session.execute(
                    select(Message).where(Message.kind == "outbound").order_by(Message.id)
                )
                .scalars()
                .all()
            )
        assert [m.next_attempt_at for m in waiting] == [clock.now() + timedelta(seconds=3)] * 3
        assert outbox.deliver_due() == 0  # not due: Telegram asked to wait
        clock.advance(timedelta(seconds=3))
        assert outbox.deliver_due() == 3
    finally:
        outbox.close()
    sent = texts_to(server, OLGA)
    assert f"Answer on request SD-{ticket.id:06d}:\n\nПерезагрузите кассу." in sent
    with store.reader() as session:
        reply = session.execute(
            select(Message).where(Message.kind == "outbound", Message.is_auto.is_(False))
        ).scalar_one()
    assert reply.delivery_state == "sent" and reply.channel_message_id is not None
    # The client answers the bot's message: it goes to the same ticket.
    our_id = int(reply.channel_message_id.rsplit(":", 1)[1])
    server.push_update(
        server.message_update(
            OLGA, OLGA, "Не помогло", first_name="Ольга", reply_to_message_id=our_id
        )
    )
    take(runner)
    assert count(store, Ticket) == 1
    assert count(store, Message, Message.kind == "inbound") == 2


def test_the_rating_flow_and_a_forged_button(
    runner: TelegramRunner, server: BotApiServer, store: Store, clock: FixedClock
) -> None:
    server.push_update(
        server.message_update(OLGA, OLGA, "Касса не печатает чеки", first_name="Ольга")
    )
    take(runner)
    [ticket] = list_tickets(store)
    assert ticket.id is not None
    engineer = add_engineer(store, "petrov")
    service = TicketService(store, clock, client_language="en")
    service.take(ticket.id, actor=engineer)
    service.resolve(ticket.id, "fixed.remote", actor=engineer)
    transport = TelegramTransport(runner.settings, server.token)
    outbox = Outbox(store, clock, MailSettings(), transports=[transport])
    try:
        assert outbox.deliver_due() == 3  # acknowledgement, taken, resolved
    finally:
        outbox.close()
    notice = server.sent[-1]
    buttons = notice["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    message_id = int(notice["message_id"])

    # Petr presses a forged button, and Olga's own button from his chat: nothing changes.
    forged = buttons[0]["callback_data"][:-12] + "0" * 12
    server.push_update(server.callback_update(OLGA, OLGA, forged, message_id))
    server.push_update(server.callback_update(PETR, PETR, buttons[4]["callback_data"], 1))
    take(runner)
    assert count(store, Rating) == 0
    assert [a["text"] for a in server.answered_callbacks] == ["This button is not valid."] * 2

    server.push_update(server.callback_update(OLGA, OLGA, buttons[2]["callback_data"], message_id))
    take(runner)
    assert server.answered_callbacks[-1]["text"] == "Rated 3 of 5."
    assert server.message(OLGA, message_id).get("reply_markup") is None  # buttons gone
    prompt = server.sent[-1]
    assert prompt["text"].startswith("Thank you!")
    server.push_update(
        server.message_update(
            OLGA,
            OLGA,
            "Долго ждали",
            first_name="Ольга",
            reply_to_message_id=int(prompt["message_id"]),
        )
    )
    take(runner)
    with store.reader() as session:
        rating = session.execute(select(Rating)).scalar_one()
        flagged = session.get(Ticket, ticket.id)
    assert (rating.score, rating.comment) == (3, "Долго ждали")
    assert flagged is not None and "low-rating" in flagged.tags
    assert flagged.status == Status.RESOLVED.value  # the comment did not reopen it


def test_a_restart_in_the_middle_of_a_batch_loses_and_duplicates_nothing(
    runner: TelegramRunner,
    server: BotApiServer,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(5):
        server.push_update(
            server.message_update(OLGA + n, OLGA + n, f"Касса {n} не работает", first_name="К")
        )
    real = TelegramDesk.handle
    calls = {"n": 0}

    def dying(self: TelegramDesk, incoming: Any, files: Any = (), missing: Any = ()) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("the store went away")
        return real(self, incoming, files, missing)

    monkeypatch.setattr(TelegramDesk, "handle", dying)
    with pytest.raises(ConnectionError):
        take(runner)
    assert count(store, Ticket) == 2
    assert len(server.pending_updates()) == 5  # nothing was confirmed to Telegram yet
    monkeypatch.setattr(TelegramDesk, "handle", real)
    # A new worker (a restarted process reads the same checkpoint) takes the rest.
    again = TelegramRunner(runner.store, runner.clock, settings_for(server, store), server.token)
    assert take(again) == 3
    assert count(store, Ticket) == 5
    assert count(store, Message, Message.kind == "inbound") == 5
    assert server.pending_updates() == []


def test_an_unreadable_update_is_a_dead_letter_and_the_bot_goes_on(
    runner: TelegramRunner, server: BotApiServer, store: Store
) -> None:
    server.push_update({"message": {"message_id": "not a number", "chat": "nonsense"}})
    server.push_update(
        server.message_update(OLGA, OLGA, "Касса не печатает чеки", first_name="Ольга")
    )
    assert take(runner) == 2
    assert count(store, Ticket) == 1
    with store.reader() as session:
        dead = session.execute(select(DeadLetter)).scalar_one()
    assert dead.channel == "telegram" and dead.error.startswith("unreadable update")
    assert server.pending_updates() == []


def test_the_worker_loop_takes_updates_as_they_come(
    runner: TelegramRunner, server: BotApiServer, store: Store
) -> None:
    stop = threading.Event()
    beats: list[int] = []
    worker = threading.Thread(target=runner.run, args=(stop, beats.append))
    worker.start()
    try:
        server.push_update(
            server.message_update(OLGA, OLGA, "Касса не печатает чеки", first_name="Ольга")
        )
        deadline = time.monotonic() + 15
        while count(store, Ticket) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(store, Ticket) == 1
    finally:
        stop.set()
        worker.join(15)
    assert not worker.is_alive() and beats
    with store.reader() as session:
        chat = session.get(TelegramChat, str(OLGA))
    assert chat is not None and chat.contact_id is None


def test_an_update_that_keeps_failing_is_kept_and_never_blocks_the_next(
    runner: TelegramRunner,
    server: BotApiServer,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = TelegramDesk.handle

    def poisoned(self: TelegramDesk, incoming: Any, files: Any = (), missing: Any = ()) -> Any:
        if incoming.chat_id == str(PETR):
            raise ValueError("a bug this update always hits")
        return real(self, incoming, files, missing)

    monkeypatch.setattr(TelegramDesk, "handle", poisoned)
    server.push_update(server.message_update(PETR, PETR, "яд", first_name="Пётр"))
    server.push_update(server.message_update(OLGA, OLGA, "Касса не печатает", first_name="Ольга"))
    for _attempt in range(2):
        with pytest.raises(ValueError, match="always hits"):
            take(runner)
        assert count(store, Ticket) == 0
    assert take(runner) == 2  # the third failure: kept as a dead letter, and the bot goes on
    assert count(store, Ticket) == 1
    with store.reader() as session:
        dead = session.execute(select(DeadLetter)).scalar_one()
    assert dead.error.startswith("failed 3 times: ValueError")
