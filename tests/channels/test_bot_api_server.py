"""Provides the tests of `BotApiServer`: the real python-telegram-bot client against it.

Each test drives ``telegram.Bot`` (``base_url`` / ``base_file_url`` pointed at the server on
127.0.0.1) or, for the wire-level checks, a plain aiohttp client.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.warnings import PTBUserWarning

from tests.channels.bot_api_server import (
    DATA,
    BotApiServer,
    BotApiSpec,
    text_entities,
)

CHAT = 401_234_567  # a private chat: its id is the user's
TELOXIDE_UPDATES = DATA / "teloxide" / "updates"
OFFICIAL = DATA / "official-webhook-examples"
PARSE_CHECK = DATA / "ptb-22.8-parse-check.csv"
NO_SAMPLES = f"the Telegram samples are not here ({DATA}): they ship with the developers' share"


def make_bot(server: BotApiServer, token: str | None = None) -> Bot:
    return Bot(token or server.token, base_url=server.base_url, base_file_url=server.base_file_url)


def say(server: BotApiServer, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """A message of Olga, a cashier, in her private chat with the bot."""
    return server.message_update(
        CHAT, CHAT, text, first_name="Ольга", username="olga_kassir", **kwargs
    )


def parse_verdicts() -> dict[str, str]:
    with PARSE_CHECK.open(encoding="utf-8", newline="") as handle:
        return {
            row["file"]: row["parses_with_python_telegram_bot_22_8"]
            for row in csv.DictReader(handle)
        }


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as running:
        yield running


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with make_bot(server) as client:
        yield client


KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Закрыть заявку", callback_data="close:42"),
            InlineKeyboardButton("Оценить", callback_data="rate:42"),
        ]
    ]
)


# -- the basics --------------------------------------------------------------------------------


async def test_get_me(server: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "sdconsole_test_bot"
    assert me.id == server.bot_id == int(server.token.split(":")[0])
    assert bot.bot == me  # `async with bot` called getMe too
    assert [name for name, _ in server.calls] == ["getMe", "getMe"]


async def test_offset_confirms_and_drops(server: BotApiServer, bot: Bot) -> None:
    first = server.push_update(say(server, "Не печатает чек"))
    second = server.push_update(say(server, "ККТ «Атол 30Ф», ошибка 235"))
    assert second == first + 1

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message is not None and updates[0].message.text == "Не печатает чек"
    assert server.offsets == [None]
    assert len(server.pending_updates()) == 2  # fetched, not confirmed

    assert await bot.get_updates(offset=second + 1) == ()
    assert server.offsets[-1] == second + 1
    assert server.pending_updates() == []
    assert await bot.get_updates(offset=first) == ()  # confirmed once, gone for good
    assert await bot.get_updates() == ()

    third = server.push_update(say(server, "Спасибо"))
    fourth = server.push_update(say(server, "Ещё вопрос"))
    assert [u.update_id for u in await bot.get_updates(offset=first, limit=1)] == [third]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [fourth]  # from the end
    with pytest.raises(ValueError, match="below the confirmed offset"):
        server.push_update({"update_id": first, **say(server, "Старое")})


async def test_long_poll_returns_when_an_update_arrives(server: BotApiServer, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    polling = asyncio.create_task(bot.get_updates(timeout=10))
    assert await server.wait_for_async(lambda: len(server.offsets) == 1, timeout=2)
    await asyncio.sleep(0.1)
    assert not polling.done()

    pushed_at = loop.time()
    update_id = server.push_update(say(server, "Кассовая смена не закрывается"))
    updates = await asyncio.wait_for(polling, 2)

    assert [u.update_id for u in updates] == [update_id]
    assert loop.time() - pushed_at < 1.5


async def test_long_poll_is_capped() -> None:
    async with BotApiServer(long_poll_cap=0.3) as server, make_bot(server) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await bot.get_updates(timeout=30) == ()
        assert 0.25 <= loop.time() - started < 2


async def test_second_poller_ends_the_first_with_conflict(server: BotApiServer, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    assert await server.wait_for_async(lambda: len(server.offsets) == 1, timeout=2)
    async with make_bot(server) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)


# -- outgoing ----------------------------------------------------------------------------------


async def test_send_message_with_inline_keyboard(server: BotApiServer, bot: Bot) -> None:
    server.push_update(say(server, "Здравствуйте, касса не печатает"))  # message 1

    sent = await bot.send_message(
        CHAT, "Заявка №42 создана", reply_markup=KEYBOARD, reply_to_message_id=1
    )

    assert sent.message_id == 2  # the chat's numbering goes on
    assert sent.from_user is not None and sent.from_user.id == server.bot_id
    assert sent.chat.id == CHAT and sent.text == "Заявка №42 создана"
    assert sent.reply_markup == KEYBOARD
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "Здравствуйте, касса не печатает"
    entry = server.sent[-1]
    assert entry["method"] == "sendMessage" and entry["chat_id"] == CHAT
    assert entry["message_id"] == 2 and entry["text"] == "Заявка №42 создана"
    assert entry["reply_to_message_id"] == 1
    assert entry["reply_parameters"] == {"message_id": 1}  # PTB turns the id into these
    assert entry["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Закрыть заявку", "callback_data": "close:42"},
                {"text": "Оценить", "callback_data": "rate:42"},
            ]
        ]
    }
    assert server.spec.problems(entry["message"], ["Message"]) == []


async def test_reply_keyboard_is_recorded_not_echoed(server: BotApiServer, bot: Bot) -> None:
    server.add_chat(CHAT, first_name="Ольга")
    ask = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Отправить мой номер", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )

    sent = await bot.send_message(CHAT, "Поделитесь номером телефона", reply_markup=ask)

    assert sent.reply_markup is None  # Telegram echoes inline keyboards only
    markup = server.sent[-1]["reply_markup"]
    assert markup["keyboard"][0][0] == {"text": "📱 Отправить мой номер", "request_contact": True}
    assert markup["one_time_keyboard"] is True


async def test_send_message_is_refused_like_telegram(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(CHAT, "Никто не писал боту")
    server.add_chat(CHAT)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "🧾" * 2049)  # 2049 characters, 4098 UTF-16 units
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(CHAT, "Ответ", reply_to_message_id=99)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "Подтвердите", reply_markup=too_long)
    assert server.sent == []


async def test_send_document_uploads_bytes(server: BotApiServer, bot: Bot) -> None:
    server.add_chat(CHAT, first_name="Ольга")
    content = "Акт выполненных работ по заявке №42\n".encode() * 100

    sent = await bot.send_document(
        CHAT, document=content, filename="akt_42.pdf", caption="Акт по заявке №42"
    )

    entry = server.sent[-1]
    assert entry["method"] == "sendDocument"
    assert entry["document"] == content and entry["filename"] == "akt_42.pdf"
    assert entry["mime_type"] == "application/pdf"
    assert sent.document is not None and sent.document.file_name == "akt_42.pdf"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Акт по заявке №42"
    assert server.spec.problems(entry["message"], ["Message"]) == []
    handle = await bot.get_file(sent.document.file_id)
    assert bytes(await handle.download_as_bytearray()) == content


async def test_get_file_downloads_an_incoming_document(server: BotApiServer, bot: Bot) -> None:
    content = b"%PDF-1.4 scan of a receipt"
    stored = server.add_file(content, file_name="чек.pdf", mime_type="application/pdf")
    server.push_update(say(server, "Скан чека", document=stored))

    (update,) = await bot.get_updates()

    assert update.message is not None and update.message.caption == "Скан чека"
    document = update.message.document
    assert document is not None and document.file_name == "чек.pdf"
    assert (document.file_id, document.file_unique_id) == stored
    handle = await bot.get_file(document)
    assert handle.file_path is not None and handle.file_path.startswith(server.base_file_url)
    assert handle.file_size == len(content)
    assert bytes(await handle.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("no-such-file")


async def test_429_raises_retry_after(
    server: BotApiServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no warning
    server.add_chat(CHAT)
    server.fail_next("sendMessage", 1, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "Ваша заявка принята")
    assert caught.value.retry_after == dt.timedelta(seconds=3)

    await bot.send_message(CHAT, "Ваша заявка принята")  # the next call goes through
    assert [name for name, _ in server.calls].count("sendMessage") == 2
    assert len(server.sent) == 1

    server.fail_next("sendmessage", 2, error_code=403)
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(CHAT, "Вы здесь?")
    await bot.send_message(CHAT, "Вы здесь?")
    assert len(server.sent) == 2


# -- helper-built updates ----------------------------------------------------------------------


def _text(server: BotApiServer) -> dict[str, Any]:
    return say(server, "Здравствуйте! Не проходит оплата картой")


def _command(server: BotApiServer) -> dict[str, Any]:
    return say(server, "/start касса-17")


def _photo(server: BotApiServer) -> dict[str, Any]:
    stored = server.add_file(b"\xff\xd8\xff\xe0 jpeg", mime_type="image/jpeg", kind="photo")
    return say(server, "Вот ошибка на экране", photo=stored)


def _document(server: BotApiServer) -> dict[str, Any]:
    stored = server.add_file(b"log", file_name="atol.log", mime_type="text/plain")
    return say(server, document=stored)


def _voice(server: BotApiServer) -> dict[str, Any]:
    return say(server, voice=server.add_file(b"OggS", mime_type="audio/ogg", kind="voice"))


def _video_note(server: BotApiServer) -> dict[str, Any]:
    stored = server.add_file(b"\x00\x00\x00 ftyp", mime_type="video/mp4", kind="video_note")
    return say(server, video_note=stored)


def _contact(server: BotApiServer) -> dict[str, Any]:
    return say(server, contact="+79161234567")


def _edited(server: BotApiServer) -> dict[str, Any]:
    server.push_update(say(server, "Не работает эквайринг"))
    return say(server, "Не работает эквайринг на кассе 2", edit=True)


def _reply(server: BotApiServer) -> dict[str, Any]:
    server.push_update(say(server, "Первое сообщение"))
    return say(server, "Ответ на него", reply_to_message_id=1)


def _callback(server: BotApiServer) -> dict[str, Any]:
    server.push_update(say(server, "Привет"))
    return server.callback_update(CHAT, CHAT, "close:42", 1)


def _check_text(update: Update) -> None:
    assert update.message is not None
    assert update.message.text == "Здравствуйте! Не проходит оплата картой"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "ru"
    assert update.message.chat.type == "private"


def _check_command(update: Update) -> None:
    assert update.message is not None
    (entity,) = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)


def _check_photo(update: Update) -> None:
    assert update.message is not None and update.message.caption == "Вот ошибка на экране"
    assert [size.width for size in update.message.photo] == [90, 1280]


def _check_document(update: Update) -> None:
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "atol.log"
    assert update.message.document.mime_type == "text/plain"


def _check_voice(update: Update) -> None:
    assert update.message is not None and update.message.voice is not None
    assert update.message.voice.mime_type == "audio/ogg"


def _check_video_note(update: Update) -> None:
    assert update.message is not None and update.message.video_note is not None
    assert update.message.video_note.length == 240


def _check_contact(update: Update) -> None:
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.phone_number == "+79161234567"
    assert update.message.contact.user_id == CHAT


def _check_edited(update: Update) -> None:
    assert update.message is None and update.edited_message is not None
    assert update.edited_message.message_id == 1
    assert update.edited_message.edit_date is not None
    assert update.edited_message.text == "Не работает эквайринг на кассе 2"


def _check_reply(update: Update) -> None:
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.text == "Первое сообщение"


def _check_callback(update: Update) -> None:
    query = update.callback_query
    assert query is not None and query.data == "close:42"
    assert query.from_user.first_name == "Ольга"
    assert query.message is not None and query.message.message_id == 1


KINDS: dict[str, tuple[Callable[[BotApiServer], dict[str, Any]], Callable[[Update], None]]] = {
    "text": (_text, _check_text),
    "command": (_command, _check_command),
    "photo": (_photo, _check_photo),
    "document": (_document, _check_document),
    "voice": (_voice, _check_voice),
    "video_note": (_video_note, _check_video_note),
    "contact": (_contact, _check_contact),
    "edited_message": (_edited, _check_edited),
    "reply": (_reply, _check_reply),
    "callback_query": (_callback, _check_callback),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_helper_updates_parse_with_ptb(kind: str) -> None:
    server = BotApiServer()  # not started: building updates needs no socket
    build, check = KINDS[kind]
    data = build(server)
    data = {"update_id": server.push_update(data), **data}

    assert server.spec.problems(data, ["Update"]) == []
    update = Update.de_json(data, make_bot_offline(server))
    check(update)


def make_bot_offline(server: BotApiServer) -> Bot:
    return Bot(server.token)


async def test_helper_updates_through_get_updates(server: BotApiServer, bot: Bot) -> None:
    for build, _ in KINDS.values():
        server.push_update(build(server))
    pending = server.pending_updates()

    updates = await bot.get_updates()

    assert [u.update_id for u in updates] == [u["update_id"] for u in pending]
    assert all(server.spec.problems(u, ["Update"]) == [] for u in pending)


async def test_button_press_answer_and_edits(server: BotApiServer, bot: Bot) -> None:
    server.push_update(say(server, "Принтер чеков не печатает"))
    sent = await bot.send_message(CHAT, "Заявка №42 создана", reply_markup=KEYBOARD)
    server.push_update(server.callback_update(CHAT, CHAT, "close:42", sent.message_id))

    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.data == "close:42"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert isinstance(query.message, Message) and query.message.is_accessible
    assert query.message.reply_markup == KEYBOARD

    assert await query.answer("Заявка закрыта")
    assert server.answered_callbacks[-1]["text"] == "Заявка закрыта"
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()

    edited = await bot.edit_message_text("Заявка №42 закрыта", chat_id=CHAT, message_id=2)
    assert not isinstance(edited, bool)
    assert edited.text == "Заявка №42 закрыта" and edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Заявка №42 закрыта", chat_id=CHAT, message_id=2)
    again = await bot.edit_message_reply_markup(CHAT, 2, reply_markup=KEYBOARD)
    assert not isinstance(again, bool) and again.reply_markup == KEYBOARD
    await bot.edit_message_reply_markup(CHAT, 2, reply_markup=None)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(CHAT, 2, reply_markup=None)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("Чужое", chat_id=CHAT, message_id=1)
    assert [entry["method"] for entry in server.sent] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageReplyMarkup",
    ]
    assert {entry["message_id"] for entry in server.sent} == {2}
    assert server.message(CHAT, 2)["text"] == "Заявка №42 закрыта"

    server.push_update(server.callback_update(CHAT, CHAT, "rate:7", 999))
    (late,) = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert late.callback_query is not None and late.callback_query.message is not None
    # PTB 22.8 reads it as a Message (not an InaccessibleMessage) dated 1970-01-01
    assert not late.callback_query.message.is_accessible
    assert late.callback_query.message.message_id == 999


async def test_webhook_commands_and_actions(server: BotApiServer, bot: Bot) -> None:
    server.push_update(say(server, "Старое сообщение"))
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert server.pending_updates() == []
    assert await bot.get_updates() == ()

    commands = [BotCommand("start", "Начать"), BotCommand("new", "Новая заявка")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], language_code="ru")
    assert server.commands == [
        {"command": "start", "description": "Начать"},
        {"command": "new", "description": "Новая заявка"},
    ]
    assert server.command_sets[("default", "ru")] == [{"command": "start", "description": "Начать"}]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Новая", "Новая заявка")])

    assert await bot.send_chat_action(CHAT, "typing")


# -- the wire ----------------------------------------------------------------------------------


async def test_wire_errors_and_parameter_forms(server: BotApiServer) -> None:
    url = f"{server.base_url}{server.token}"
    server.add_chat(CHAT)
    async with aiohttp.ClientSession() as http:

        async def call(method: str, *, status: int, **kwargs: Any) -> dict[str, Any]:
            async with http.post(f"{url}/{method}", **kwargs) as response:
                assert response.status == status
                body: dict[str, Any] = await response.json()
                return body

        assert await call("noSuchMethod", status=404) == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        async with http.post(f"{server.base_url}123:wrong/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        missing = await call("sendMessage", status=400, data={"chat_id": str(CHAT)})
        assert missing["description"] == "Bad Request: text is required"
        broken = await call(
            "sendMessage", status=400, data={"chat_id": CHAT, "text": "x", "reply_markup": "{"}
        )
        assert broken["description"].startswith("Bad Request: can't parse reply_markup")
        by_json = await call("sendMessage", status=200, json={"chat_id": CHAT, "text": "JSON"})
        assert by_json["result"]["text"] == "JSON"
        async with http.get(f"{url}/getme") as response:  # GET, any letter case
            assert (await response.json())["result"]["username"] == "sdconsole_test_bot"
        async with http.get(f"{server.base_file_url}{server.token}/documents/none") as response:
            assert response.status == 404
    assert server.calls[-1] == ("getMe", {})


async def test_ptb_sees_token_and_method_errors(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(server, token="123:wrong"):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


# -- sync use from a worker thread -------------------------------------------------------------


async def _answer_once(server: BotApiServer) -> None:
    """What a worker thread's loop does: poll, answer, confirm."""
    async with make_bot(server) as bot:
        updates: tuple[Update, ...] = ()
        for _ in range(10):
            updates = await bot.get_updates(timeout=1)
            if updates:
                break
        for update in updates:
            assert update.message is not None
            await bot.send_message(update.message.chat_id, f"Получено: {update.message.text}")
        if updates:
            await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)


def test_thread_wrapper_serves_a_worker_loop() -> None:
    with BotApiServer() as server:
        worker = threading.Thread(target=lambda: asyncio.run(_answer_once(server)))
        worker.start()
        update_id = server.push_update(say(server, "Касса не видит ФН"))

        assert server.wait_for(lambda: len(server.sent) == 1, timeout=5)
        worker.join(5)
        assert not worker.is_alive()
        assert server.sent[0]["text"] == "Получено: Касса не видит ФН"
        assert server.offsets[-1] == update_id + 1
        assert server.pending_updates() == []
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url


# -- real shapes -------------------------------------------------------------------------------

REAL = (
    "update__de_private_chat_text_message",
    "update__message",
    "update__dice_works",
    "update__pinned_message_works",
    "update__issue_1107",
    "update__new_update_kind_error",
    "update__message_reaction_updated",
)


async def test_serves_real_update_shapes(server: BotApiServer, bot: Bot) -> None:
    if not TELOXIDE_UPDATES.is_dir():
        pytest.skip(NO_SAMPLES)
    verdicts = parse_verdicts()
    raw = {
        name: json.loads((TELOXIDE_UPDATES / f"{name}.json").read_text(encoding="utf-8"))
        for name in REAL
    }
    assert {verdicts[f"teloxide/updates/{name}.json"] for name in REAL} == {"yes"}

    for name in sorted(REAL, key=lambda name: int(raw[name]["update_id"])):
        server.push_update(raw[name])  # unchanged, update_id included
    # Telegram does not deliver reactions unless the client asks for them (for later ones).
    reaction = raw["update__message_reaction_updated"]
    assert server.filtered_updates == [reaction]

    fetched = await bot.get_updates(allowed_updates=Update.ALL_TYPES)
    assert len(fetched) == len(REAL) - 1
    server.push_update(reaction)
    updates = {u.update_id: u for u in fetched}
    updates.update((u.update_id, u) for u in await bot.get_updates())

    assert set(updates) == {int(data["update_id"]) for data in raw.values()}
    by_name = {name: updates[int(data["update_id"])] for name, data in raw.items()}
    text = by_name["update__de_private_chat_text_message"].message
    assert text is not None and text.text == "4" and text.chat.type == "private"
    hello = by_name["update__message"].message
    assert hello is not None and hello.text == "hello there"
    dice = by_name["update__dice_works"].message
    assert dice is not None and dice.dice is not None and dice.dice.value == 2
    pinned = by_name["update__pinned_message_works"].message
    assert pinned is not None and pinned.pinned_message is not None
    story = by_name["update__issue_1107"].message
    assert story is not None and story.story is not None
    assert by_name["update__message_reaction_updated"].message_reaction is not None
    unknown = by_name["update__new_update_kind_error"]
    assert unknown.effective_message is None
    assert unknown.api_kwargs == {"new_update_kind": {"some_field_idk": 1}}


async def test_a_legacy_update_breaks_the_whole_ptb_batch(server: BotApiServer, bot: Bot) -> None:
    legacy_file = OFFICIAL / "01_message_text_minimal.json"
    if not legacy_file.is_file():
        pytest.skip(NO_SAMPLES)
    assert parse_verdicts()[f"official-webhook-examples/{legacy_file.name}"] == "no"
    legacy = json.loads(legacy_file.read_text(encoding="utf-8"))
    good = server.push_update(say(server, "Добрый день"))
    server.push_update(legacy)  # its users lack is_bot

    with pytest.raises(TypeError, match="is_bot"):
        await bot.get_updates()
    assert len(server.pending_updates()) == 2  # nothing confirmed: a poison update

    # The way round: fetch raw updates and parse them one by one.
    with pytest.warns(PTBUserWarning, match="Bot.getUpdates"):
        items = await bot.do_api_request("getUpdates", api_kwargs={"timeout": 0})
    parsed: list[int] = []
    for item in items:
        try:
            parsed.append(Update.de_json(item, bot).update_id)
        except TypeError:
            continue
    assert parsed == [good]


# -- pieces ------------------------------------------------------------------------------------


def test_entities_count_utf16_units() -> None:
    assert text_entities(
        "🧾 /start см. https://ofd.ru/check. Почта: kassa@shop.ru @olga_kassir"
    ) == [
        {"offset": 3, "length": 6, "type": "bot_command"},
        {"offset": 14, "length": 20, "type": "url"},  # without the full stop after it
        {"offset": 43, "length": 13, "type": "email"},
        {"offset": 57, "length": 12, "type": "mention"},
    ]


async def test_fallback_spec_without_shared_data() -> None:
    async with BotApiServer(spec=BotApiSpec.fallback()) as server, make_bot(server) as bot:
        server.add_chat(CHAT)
        sent = await bot.send_message(CHAT, "Работает и без спецификации", reply_markup=KEYBOARD)
        assert sent.reply_markup == KEYBOARD
        async with aiohttp.ClientSession() as http:
            url = f"{server.base_url}{server.token}/sendMessage"
            async with http.post(url, data={"chat_id": CHAT}) as response:
                assert (await response.json())["description"] == "Bad Request: text is required"
