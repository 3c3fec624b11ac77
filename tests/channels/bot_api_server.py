"""Provides `BotApiServer`, a Telegram Bot API server on 127.0.0.1 for driving the real
python-telegram-bot client in tests.

Point PTB at it with ``Bot(server.token, base_url=server.base_url,
base_file_url=server.base_file_url)``. The server speaks the wire protocol of the real one:
``POST /bot<token>/<method>`` with form, multipart, JSON or query-string parameters, answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}`` with
HTTP status N, serves files at ``/file/bot<token>/<file_path>``, and checks the parameters of
the methods it implements against the machine-readable Bot API spec (shared data,
``telegram-bot-api/spec/api-10.0.json``; a built-in table of the same methods is used when the
spec is absent).

Run it on the test's own loop (``async with BotApiServer() as server``, or `start`/`stop`) or on
a loop of its own in a background thread (``with BotApiServer() as server``, or
`start_in_thread`/`stop_thread`) when the code under test runs its own event loop.

Test-facing API:

- incoming: `push_update` queues an Update (``getUpdates`` long-polls on the queue and an offset
  drops everything before it, as Telegram does); `message_update`, `callback_update` and
  `add_file` build realistic Updates and files; `add_chat` makes a chat known without a message.
- outgoing: `sent` (every message sent or edited), `answered_callbacks`, `command_sets`,
  `calls` (every call with its decoded parameters), `offsets` (the offset of every
  ``getUpdates``), `message` (a message as it stands now), `wait_for` / `wait_for_async`.
- failure injection: `fail_next` makes the next calls of a method answer an error (429 with
  ``retry_after`` by default).

Behaviour of the real server that the fake reproduces, because client code must cope with it:
updates are filtered by the last ``allowed_updates`` when they arrive (by default without
``chat_member``, ``message_reaction`` and ``message_reaction_count``); a second ``getUpdates``
ends a pending one with 409 Conflict; a bot can only write to chats it has seen ("chat not
found"); texts over 4096 UTF-16 units, empty texts, ``callback_data`` over 64 bytes,
unknown reply targets, edits that change nothing and second answers to a callback query are
refused with the real descriptions; editing a text without ``reply_markup`` removes the inline
keyboard; only inline keyboards are echoed in the returned Message; commands, mentions, URLs
and e-mail addresses in texts get their entities (offsets in UTF-16 code units). Not
reproduced: ``parse_mode`` markup is recorded, not rendered.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "telegram-bot-api"
SPEC_PATH = DATA / "spec" / "api-10.0.json"

DEFAULT_TOKEN = "7012345678:AAHsdconsoleFakeTokenForTests000000"
HOST = "127.0.0.1"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
    " is running"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_INT_RE = re.compile(r"-?\d+")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

# Entities Telegram finds by itself in a plain text (no parse_mode).
_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"https?://[^\s<>\"]+|www\.[^\s<>\"]+")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")),
)

# Used only when the spec file is absent: the implemented methods' parameters, "!" = required.
_FALLBACK_METHODS: dict[str, str] = {
    "getMe": "",
    "getUpdates": "offset:Integer limit:Integer timeout:Integer allowed_updates:Array_of_String",
    "sendMessage": "chat_id:Integer|String! message_thread_id:Integer text:String! "
    "parse_mode:String entities:Array_of_MessageEntity link_preview_options:LinkPreviewOptions "
    "disable_notification:Boolean protect_content:Boolean reply_parameters:ReplyParameters "
    "reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply",
    "sendDocument": "chat_id:Integer|String! message_thread_id:Integer document:InputFile|String! "
    "thumbnail:InputFile|String caption:String parse_mode:String "
    "caption_entities:Array_of_MessageEntity disable_content_type_detection:Boolean "
    "disable_notification:Boolean protect_content:Boolean reply_parameters:ReplyParameters "
    "reply_markup:InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply",
    "sendChatAction": "chat_id:Integer|String! message_thread_id:Integer action:String!",
    "getFile": "file_id:String!",
    "answerCallbackQuery": "callback_query_id:String! text:String show_alert:Boolean url:String "
    "cache_time:Integer",
    "editMessageText": "chat_id:Integer|String message_id:Integer inline_message_id:String "
    "text:String! parse_mode:String entities:Array_of_MessageEntity "
    "link_preview_options:LinkPreviewOptions reply_markup:InlineKeyboardMarkup",
    "editMessageReplyMarkup": "chat_id:Integer|String message_id:Integer "
    "inline_message_id:String reply_markup:InlineKeyboardMarkup",
    "deleteWebhook": "drop_pending_updates:Boolean",
    "setMyCommands": "commands:Array_of_BotCommand! scope:BotCommandScope language_code:String",
}

# The kinds of file add_file knows: id prefix (as Telegram's), folder of file_path, extension.
_FILE_KINDS: dict[str, tuple[str, str, str]] = {
    "document": ("BQACAgIAAxkBAAI", "documents", ".bin"),
    "photo": ("AgACAgIAAxkBAAI", "photos", ".jpg"),
    "voice": ("AwACAgIAAxkBAAI", "voice", ".oga"),
    "video_note": ("DQACAgIAAxkBAAI", "video_notes", ".mp4"),
    "video": ("BAACAgIAAxkBAAI", "videos", ".mp4"),
    "audio": ("CQACAgIAAxkBAAI", "music", ".mp3"),
}

FileRef = str | tuple[str, str] | Mapping[str, Any]
"""A file for `BotApiServer.message_update`: a file_id or the pair `add_file` returned (the
server builds the object from the stored file), or the finished object, used as it is."""


# -- the spec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecField:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool


class BotApiSpec:
    """The Bot API's methods and types, as the machine-readable spec describes them."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = str(raw.get("version", ""))
        self.methods: dict[str, tuple[SpecField, ...]] = {
            name: _fields(method) for name, method in raw.get("methods", {}).items()
        }
        self.types: dict[str, tuple[SpecField, ...]] = {
            name: _fields(kind) for name, kind in raw.get("types", {}).items()
        }
        self.subtypes: dict[str, tuple[str, ...]] = {
            name: tuple(kind["subtypes"])
            for name, kind in raw.get("types", {}).items()
            if kind.get("subtypes")
        }
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def fallback(cls) -> BotApiSpec:
        """The implemented methods only, without types (no object validation)."""
        methods: dict[str, Any] = {}
        for name, table in _FALLBACK_METHODS.items():
            fields = []
            for item in table.split():
                field_name, _, types = item.partition(":")
                required = types.endswith("!")
                fields.append(
                    {
                        "name": field_name,
                        "types": [t.replace("_", " ") for t in types.rstrip("!").split("|")],
                        "required": required,
                    }
                )
            methods[name] = {"fields": fields}
        return cls({"version": "fallback", "methods": methods, "types": {}})

    def canonical_method(self, name: str) -> str | None:
        """The method's spelling in the spec (method names are case-insensitive)."""
        return self._by_lower.get(name.lower())

    def problems(
        self, value: Any, types: Sequence[str], *, where: str = "", strict: bool = True
    ) -> list[str]:
        """Why `value` is none of `types` (empty when it is one of them).

        Checks primitive types, arrays, required fields and (when `strict`) unknown fields,
        recursively; a union type matches when one of its subtypes does.
        """
        first: list[str] | None = None
        for kind in types:
            found = self._problems(value, kind, where or kind, strict)
            if not found:
                return []
            if first is None:
                first = found
        return first or []

    def _problems(self, value: Any, kind: str, where: str, strict: bool) -> list[str]:
        if kind.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: expected an array, got {type(value).__name__}"]
            inner = kind.removeprefix("Array of ")
            found: list[str] = []
            for index, item in enumerate(value):
                found += self._problems(item, inner, f"{where}[{index}]", strict)
            return found
        checks: dict[str, Callable[[Any], bool]] = {
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "String": lambda v: isinstance(v, str),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "InputFile": lambda v: True,
        }
        if kind in checks:
            return [] if checks[kind](value) else [f"{where}: {value!r} is not {kind}"]
        if kind in self.subtypes:
            return self.problems(value, self.subtypes[kind], where=where, strict=strict)
        if kind not in self.types:
            return []  # a type the spec does not describe: nothing to check
        if not isinstance(value, dict):
            return [f"{where}: expected a {kind} object, got {type(value).__name__}"]
        fields = {field.name: field for field in self.types[kind]}
        found = [
            f"{where}.{field.name}: required field of {kind} is missing"
            for field in fields.values()
            if field.required and field.name not in value
        ]
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                if strict:
                    found.append(f"{where}.{key}: {kind} has no such field")
                continue
            found += self.problems(item, field.types, where=f"{where}.{key}", strict=strict)
        return found


def _fields(raw: Mapping[str, Any]) -> tuple[SpecField, ...]:
    return tuple(
        SpecField(str(f["name"]), tuple(f["types"]), bool(f["required"]))
        for f in raw.get("fields", [])
    )


@cache
def load_spec(path: Path = SPEC_PATH) -> BotApiSpec:
    """The spec at `path`, read once; the built-in fallback when the file is absent."""
    if not path.is_file():
        return BotApiSpec.fallback()
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    """A file the server serves through getFile and the file URL."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str

    @property
    def file_size(self) -> int:
        return len(self.content)


@dataclass
class _Failure:
    remaining: int
    error_code: int
    description: str
    parameters: JSONDict | None


class BotApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return _json_response(body, status=self.error_code)


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _bad(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def text_entities(text: str) -> list[JSONDict]:
    """The entities Telegram detects in a plain text, offsets and lengths in UTF-16 units."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                end = start + len(match.group().rstrip(".,;:!?)]'\""))
            found.append((start, end, kind))
    found.sort()
    entities: list[JSONDict] = []
    last_end = -1
    for start, end, kind in found:
        if start < last_end:
            continue  # overlaps an earlier entity (a mention inside an e-mail address, ...)
        last_end = end
        offset = utf16_len(text[:start])
        entities.append({"offset": offset, "length": utf16_len(text[start:end]), "type": kind})
    return entities


# -- the server --------------------------------------------------------------------------------


class BotApiServer:
    """A Telegram Bot API server on 127.0.0.1 with an inspectable state (see the module doc)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sdconsole_test_bot",
        bot_first_name: str = "SD Console Test Bot",
        long_poll_cap: float = 2.0,
        first_update_id: int = 700_000_001,
        port: int = 0,
        spec: BotApiSpec | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_id = int(token.partition(":")[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.long_poll_cap = long_poll_cap
        self.spec = spec or load_spec()
        self._clock = clock
        self._requested_port = port
        self._port: int | None = None

        self.calls: list[tuple[str, JSONDict]] = []
        """Every call: (method as spelled in the spec, or as requested when unknown; params)."""
        self.sent: list[JSONDict] = []
        """Every message sent or edited by the bot, in order (see `_record_sent`)."""
        self.offsets: list[int | None] = []
        """The offset of every getUpdates call (None when the call had none)."""
        self.answered_callbacks: list[JSONDict] = []
        self.command_sets: dict[tuple[str, str], list[JSONDict]] = {}
        """setMyCommands: (scope as JSON or "default", language_code) -> commands."""
        self.filtered_updates: list[JSONDict] = []
        """Pushed updates that `allowed_updates` kept out of the queue."""

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._updates: list[JSONDict] = []
        self._update_ids: list[int] = []
        self._confirmed = 0
        self._next_update_id = first_update_id
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._last_incoming: dict[tuple[int, int], int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._callbacks: dict[str, JSONDict] = {}
        self._callback_counter = 0
        self._failures: dict[str, _Failure] = {}

        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._wakeup: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": lambda _params: self.bot_user(full=True),
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteWebhook": self._delete_webhook,
            "setMyCommands": self._set_my_commands,
        }

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("BotApiServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``: PTB appends the token and ``/<method>``."""
        return f"http://{HOST}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Bot(base_file_url=...)``: PTB appends the token and ``/<file_path>``."""
        return f"http://{HOST}:{self.port}/file/bot"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port unless one was given) on the running loop."""
        if self._runner is not None:
            raise RuntimeError("BotApiServer is already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._wakeup = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, self._requested_port).start()
        except BaseException:
            await runner.cleanup()
            self._loop = self._loop_thread_id = self._wakeup = None
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening; pending long polls return at once. The recorded state stays."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._wake_now()
        try:
            await runner.cleanup()
        finally:
            self._port = None
            self._loop = None
            self._loop_thread_id = None
            self._wakeup = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> None:
        """Run the server on an event loop of its own in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("BotApiServer already runs in a thread")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="BotApiServer", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"BotApiServer did not start within {timeout} s")
        if failure:
            thread.join(timeout)
            raise failure[0]
        self._thread, self._thread_loop = thread, loop

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop the server that `start_in_thread` started, and its thread."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._thread = self._thread_loop = None
        if thread.is_alive():
            raise TimeoutError(f"BotApiServer's thread did not end within {timeout} s")

    def __enter__(self) -> BotApiServer:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()

    # -- waking pollers and waiters ------------------------------------------------------------

    def _wake_now(self) -> None:
        """On the server's loop: wake every pending long poll."""
        event = self._wakeup
        if event is not None:
            self._wakeup = asyncio.Event()
            event.set()

    def _notify(self) -> None:
        """From any thread, with the state changed: wake long polls and `wait_for` callers."""
        with self._changed:
            self._changed.notify_all()
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread_id:
            self._wake_now()
        else:
            try:
                loop.call_soon_threadsafe(self._wake_now)
            except RuntimeError:
                pass  # the loop is closing

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate()` (called under the state lock) holds; False on timeout.

        For threads other than the server's (plain tests, the code under test's thread).
        """
        if threading.get_ident() == self._loop_thread_id:
            raise RuntimeError("wait_for would block the server's own loop: use wait_for_async")
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    async def wait_for_async(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - bounded by design: False on timeout
    ) -> bool:
        """Await until `predicate()` holds; False on timeout. Safe on the server's own loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if predicate():
                    return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)

    # -- incoming: updates, chats, files -------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an Update for getUpdates; returns its update_id.

        The update_id is the next one unless the update carries one. An update of a kind the
        last ``allowed_updates`` excludes goes to `filtered_updates` instead, as with Telegram.
        """
        data = copy.deepcopy(dict(update))
        with self._lock:
            if "update_id" in data:
                update_id = int(data["update_id"])
                if update_id < self._confirmed:
                    raise ValueError(
                        f"update_id {update_id} is below the confirmed offset {self._confirmed}"
                    )
                if update_id in self._update_ids:
                    raise ValueError(f"update_id {update_id} is already queued")
            else:
                update_id = self._next_update_id
                data = {"update_id": update_id, **data}
            self._next_update_id = max(self._next_update_id, update_id + 1)
            kind = next((key for key in data if key != "update_id"), "")
            if not self._allowed(kind):
                self.filtered_updates.append(data)
            else:
                index = bisect.bisect(self._update_ids, update_id)
                self._update_ids.insert(index, update_id)
                self._updates.insert(index, data)
        self._notify()
        return update_id

    def _allowed(self, kind: str) -> bool:
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def pending_updates(self) -> list[JSONDict]:
        """The queued updates that no offset has confirmed yet."""
        with self._lock:
            return copy.deepcopy(self._updates)

    @property
    def confirmed_offset(self) -> int:
        """Every update below this id is confirmed and gone."""
        return self._confirmed

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            keep = bisect.bisect_left(self._update_ids, offset)
            self._confirmed = max(self._confirmed, offset)
        elif offset < 0:
            keep = max(0, len(self._updates) + offset)
            first = self._update_ids[keep] if keep < len(self._update_ids) else None
            self._confirmed = max(self._confirmed, first or self._next_update_id)
        else:
            return
        del self._updates[:keep]
        del self._update_ids[:keep]

    def bot_user(self, *, full: bool = False) -> JSONDict:
        """The bot as a User (as getMe returns it when `full`)."""
        user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def add_chat(
        self,
        chat_id: int,
        *,
        first_name: str = "Пользователь",
        last_name: str | None = None,
        username: str | None = None,
        title: str | None = None,
    ) -> JSONDict:
        """Make a chat known (a private one for positive ids, a group for negative ones)."""
        chat: JSONDict = {"id": chat_id}
        if chat_id < 0:
            chat["title"] = title or "Поддержка"
            if username:
                chat["username"] = username
            chat["type"] = "supergroup" if str(chat_id).startswith("-100") else "group"
        else:
            chat["first_name"] = first_name
            if last_name:
                chat["last_name"] = last_name
            if username:
                chat["username"] = username
            chat["type"] = "private"
        with self._lock:
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def add_file(
        self,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        kind: str = "document",
    ) -> tuple[str, str]:
        """Store a file for getFile and the file URL; returns (file_id, file_unique_id).

        `kind` ("document", "photo", "voice", "video_note", ...) only shapes the id and the
        file_path, as Telegram's do.
        """
        prefix, folder, default_suffix = _FILE_KINDS.get(kind, _FILE_KINDS["document"])
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        suffix = Path(file_name).suffix if file_name else ""
        if not suffix:
            suffix = (mimetypes.guess_extension(mime_type) if mime_type else None) or default_suffix
        with self._lock:
            self._file_counter += 1
            number = self._file_counter
            stored = StoredFile(
                file_id=f"{prefix}{number:06X}c2Rjb25zb2xlLXRlc3QtZmlsZQAB",
                file_unique_id=f"AgAD{number:06X}",
                content=bytes(content),
                file_name=file_name,
                mime_type=mime_type,
                file_path=f"{folder}/file_{number}{suffix}",
            )
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
        return stored.file_id, stored.file_unique_id

    def file(self, file_id: str) -> StoredFile:
        """A stored file (added or uploaded) by its file_id."""
        with self._lock:
            return self._files[file_id]

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """A message (incoming or sent) as it stands now, edits included."""
        with self._lock:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    # -- update builders -----------------------------------------------------------------------

    def message_update(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        reply_to_message_id: int | None = None,
        photo: FileRef | Sequence[Mapping[str, Any]] | None = None,
        document: FileRef | None = None,
        voice: FileRef | None = None,
        video_note: FileRef | None = None,
        contact: str | Mapping[str, Any] | None = None,
        edit: bool = False,
        message_id: int | None = None,
    ) -> JSONDict:
        """An Update with a message from a user (not queued: pass it to `push_update`).

        The message gets the chat's next message_id (with `edit`, the id of the user's last
        message in the chat unless `message_id` is given; the update is then an
        ``edited_message``). With a photo, document or voice, `text` becomes the caption.
        A contact given as a phone number is the user's own.
        """
        media = {
            key: value
            for key, value in (
                ("photo", photo),
                ("document", document),
                ("voice", voice),
                ("video_note", video_note),
                ("contact", contact),
            )
            if value is not None
        }
        if len(media) > 1:
            raise ValueError(f"one attachment per message, not {sorted(media)}")
        if text is not None and ("video_note" in media or "contact" in media):
            raise ValueError("a video note or a contact message carries no text")
        if text is None and not media:
            raise ValueError("a message needs a text or an attachment")
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        now = int(self._clock())
        with self._lock:
            self._users[user_id] = user
            if chat_id not in self._chats or chat_id > 0:
                self.add_chat(
                    chat_id, first_name=first_name, last_name=last_name, username=username
                )
            chat = copy.deepcopy(self._chats[chat_id])
            date = now
            if edit:
                if message_id is None:
                    message_id = self._last_incoming.get((chat_id, user_id))
                    if message_id is None:
                        raise ValueError(f"user {user_id} has no message in chat {chat_id}")
                previous = self._messages.get((chat_id, message_id))
                if previous is not None:
                    date = int(previous["date"])
            elif message_id is None:
                message_id = self._allocate_message_id(chat_id)
            else:
                self._next_message_id[chat_id] = max(
                    self._next_message_id.get(chat_id, 1), message_id + 1
                )
            message: JSONDict = {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": date,
            }
            if edit:
                message["edit_date"] = now
            if reply_to_message_id is not None:
                message["reply_to_message"] = self._reply_copy(chat_id, reply_to_message_id)
            for key, value in media.items():
                message[key] = self._media(key, value, user)
            if text is not None:
                prefix = "caption" if media else "text"
                message[prefix] = text
                entities = text_entities(text)
                if entities:
                    message["caption_entities" if media else "entities"] = entities
            self._messages[(chat_id, message_id)] = copy.deepcopy(message)
            if not edit:
                self._last_incoming[(chat_id, user_id)] = message_id
        return {"edited_message" if edit else "message": message}

    def callback_update(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        message_id: int,
        *,
        first_name: str | None = None,
    ) -> JSONDict:
        """An Update with a press of an inline button with `data` under a message of the bot.

        The message is the one stored (as edited so far); an unknown one comes as an
        InaccessibleMessage (date 0), as Telegram sends for old or deleted messages. The user
        is the one of their last `message_update` unless `first_name` is given.
        """
        with self._lock:
            user = copy.deepcopy(self._users.get(user_id)) or {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or "Пользователь",
                "language_code": "ru",
            }
            if first_name:
                user["first_name"] = first_name
            stored = self._messages.get((chat_id, message_id))
            if stored is not None:
                message = copy.deepcopy(stored)
            else:
                chat = self._chats.get(chat_id) or self.add_chat(chat_id)
                message = {"chat": copy.deepcopy(chat), "message_id": message_id, "date": 0}
            self._callback_counter += 1
            query_id = str(4_382_000_000_000_000_000 + self._callback_counter)
            query: JSONDict = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(-(5_000_000_000_000_000_000 + abs(chat_id))),
                "data": data,
            }
            self._callbacks[query_id] = query
        return {"callback_query": copy.deepcopy(query)}

    def _media(self, key: str, value: Any, user: JSONDict) -> Any:
        if key == "contact":
            if isinstance(value, str):
                contact: JSONDict = {"phone_number": value, "first_name": user["first_name"]}
                if "last_name" in user:
                    contact["last_name"] = user["last_name"]
                contact["user_id"] = user["id"]
                return contact
            return dict(value)
        if key == "photo" and isinstance(value, Sequence) and not isinstance(value, str | tuple):
            return [dict(size) for size in value]
        if isinstance(value, Mapping):
            return dict(value)
        stored = self._files.get(value if isinstance(value, str) else value[0])
        if stored is None:
            raise ValueError(f"unknown file {value!r}: add it with add_file first")
        ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if key == "photo":
            thumb_id, thumb_unique = self.add_file(stored.content, kind="photo")
            return [
                {
                    "file_id": thumb_id,
                    "file_unique_id": thumb_unique,
                    "file_size": stored.file_size,
                    "width": 90,
                    "height": 68,
                },
                {**ids, "file_size": stored.file_size, "width": 1280, "height": 960},
            ]
        if key == "document":
            document: JSONDict = {}
            if stored.file_name:
                document["file_name"] = stored.file_name
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            return {**document, **ids, "file_size": stored.file_size}
        if key == "voice":
            return {
                "duration": 3,
                "mime_type": stored.mime_type or "audio/ogg",
                **ids,
                "file_size": stored.file_size,
            }
        return {"duration": 5, "length": 240, **ids, "file_size": stored.file_size}

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _reply_copy(self, chat_id: int, message_id: int) -> JSONDict:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply

    # -- failure injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Make the next `count` calls of `method` answer an error, with HTTP status
        `error_code` (as Telegram does; PTB picks its exception by the status: 429 with
        retry_after -> RetryAfter, 400 -> BadRequest, 403 -> Forbidden, 409 -> Conflict,
        5xx -> NetworkError). ``parameters.retry_after`` is sent with 429 only.
        """
        if not 400 <= error_code <= 599:
            raise ValueError(f"not an error status: {error_code}")
        name = self.spec.canonical_method(method) or method
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        parameters = {"retry_after": retry_after} if error_code == 429 and retry_after else None
        with self._lock:
            self._failures[name] = _Failure(count, error_code, description, parameters)

    def _take_failure(self, method: str) -> BotApiError | None:
        with self._lock:
            failure = self._failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            if failure.remaining == 0:
                del self._failures[method]
            return BotApiError(failure.error_code, failure.description, failure.parameters)

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        try:
            if path.startswith("/file/bot"):
                return self._serve_file(path.removeprefix("/file/bot"))
            if not path.startswith("/bot"):
                raise BotApiError(404, "Not Found")
            token, slash, method = path.removeprefix("/bot").partition("/")
            if not slash or not method or "/" in method:
                raise BotApiError(404, "Not Found")
            self._check_token(token)
            return _json_response({"ok": True, "result": await self._call(method, request)})
        except BotApiError as error:
            return error.response()

    def _check_token(self, token: str) -> None:
        if token == self.token:
            return
        if _TOKEN_RE.fullmatch(token):
            raise BotApiError(401, "Unauthorized")
        raise BotApiError(404, "Not Found")

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        self._check_token(token)
        with self._lock:
            stored = self._files_by_path.get(file_path)
        if stored is None:
            raise BotApiError(404, "Not Found")
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _call(self, method: str, request: web.Request) -> Any:
        raw = await self._read_params(request)
        name = self.spec.canonical_method(method)
        try:
            params = self._coerce(name, raw) if name else raw
        except BotApiError:
            self._record_call(name or method, raw)
            raise
        self._record_call(name or method, params)
        failure = self._take_failure(name or method)
        if failure is not None:
            raise failure
        if name is None:
            raise BotApiError(404, "Not Found: method not found")
        for field in self.spec.methods[name]:
            if field.required and field.name not in params:
                raise _bad(f"{field.name} is required")
        if name == "getUpdates":
            return await self._get_updates(params)
        handler = self._handlers.get(name)
        if handler is None:
            raise BotApiError(404, f"Not Found: method {name} is not implemented by BotApiServer")
        with self._lock:
            result = handler(params)
        self._notify()
        return result

    def _record_call(self, method: str, params: JSONDict) -> None:
        with self._changed:
            self.calls.append((method, params))
            self._changed.notify_all()

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = dict(request.query)
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise _bad("can't parse JSON body") from error
            if not isinstance(body, dict):
                raise _bad("the JSON body must be an object")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(
                        value.filename, value.content_type, value.file.read()
                    )
                elif isinstance(value, bytes):
                    params[key] = value.decode("utf-8", "replace")
                else:
                    params[key] = value
        return params

    def _coerce(self, method: str, raw: JSONDict) -> JSONDict:
        """Decode form values by the spec's parameter types; validate object parameters."""
        fields = {field.name: field for field in self.spec.methods[method]}
        params: JSONDict = {}
        for key, value in raw.items():
            field = fields.get(key)
            if field is None:
                params[key] = _loose(value)
                continue
            params[key] = self._coerce_value(field, value, raw)
        return params

    def _coerce_value(self, field: SpecField, value: Any, raw: JSONDict) -> Any:
        if isinstance(value, UploadedFile):
            if "InputFile" in field.types:
                return value
            raise _bad(f"{field.name} can't be a file")
        if "InputFile" in field.types and isinstance(value, str) and value.startswith("attach://"):
            attached = raw.get(value.removeprefix("attach://"))
            if not isinstance(attached, UploadedFile):
                raise _bad(f"file {value} not found in the request")
            return attached
        if not isinstance(value, str):
            decoded = value
        else:
            decoded = _decode(field, value)
        objects = [t for t in field.types if t not in ("Integer", "Float", "Boolean", "String")]
        if objects and not isinstance(decoded, str | int | float | bool):
            found = self.spec.problems(decoded, field.types, where=field.name, strict=False)
            if found:
                raise _bad(f"can't parse {field.name} JSON object: {found[0]}")
        return decoded

    # -- methods -------------------------------------------------------------------------------

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.long_poll_cap)
        with self._changed:
            self.offsets.append(offset)
            if offset is not None:
                self._confirm(int(offset))
            allowed = params.get("allowed_updates")
            if allowed is not None:
                self._allowed_updates = [str(kind) for kind in allowed]
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()
        self._wake_now()  # ends an earlier pending poll with 409
        while True:
            event = self._wakeup
            with self._lock:
                if self._poll_generation != generation:
                    raise BotApiError(409, CONFLICT)
                batch = copy.deepcopy(self._updates[:limit])
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0 or event is None:
                return batch
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _chat(self, chat_id: Any) -> JSONDict:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            username = chat_id.removeprefix("@").lower()
            for chat in self._chats.values():
                if str(chat.get("username", "")).lower() == username:
                    return chat
        elif isinstance(chat_id, int) and chat_id in self._chats:
            return self._chats[chat_id]
        raise _bad("chat not found")

    def _new_bot_message(self, chat: JSONDict, content: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._allocate_message_id(int(chat["id"])),
            "from": self.bot_user(),
            "chat": copy.deepcopy(chat),
            "date": int(self._clock()),
            **content,
        }
        self._messages[(int(chat["id"]), message["message_id"])] = copy.deepcopy(message)
        return message

    def _reply_markup(self, params: JSONDict) -> tuple[JSONDict | None, JSONDict | None]:
        """(the markup as sent, the inline keyboard the message keeps or None)."""
        markup = params.get("reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return markup, None
        for row in keyboard:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad("BUTTON_DATA_INVALID")
        return markup, (markup if any(keyboard) else None)

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {
                "message_id": int(params["reply_to_message_id"]),
                "allow_sending_without_reply": params.get("allow_sending_without_reply") is True,
            }
        if reply is None:
            return None
        target = reply.get("chat_id", chat_id)
        target_id = int(target) if _INT_RE.fullmatch(str(target)) else chat_id
        key = (target_id, int(reply["message_id"]))
        if key not in self._messages:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        return self._reply_copy(*key)

    def _record_sent(self, method: str, params: JSONDict, message: JSONDict, **extra: Any) -> None:
        """One entry of `sent`: method, chat_id, message_id, text, parse_mode, reply_markup (as
        sent, parsed), reply_to_message_id, reply_parameters, document bytes, filename,
        mime_type, caption, file_id, the returned `message` and the raw `params`."""
        reply = message.get("reply_to_message")
        entry: JSONDict = {
            "method": method,
            "chat_id": message["chat"]["id"],
            "message_id": message["message_id"],
            "text": message.get("text"),
            "parse_mode": params.get("parse_mode"),
            "reply_markup": params.get("reply_markup"),
            "reply_to_message_id": reply["message_id"] if reply else None,
            "reply_parameters": params.get("reply_parameters"),
            "document": None,
            "filename": None,
            "mime_type": None,
            "caption": message.get("caption"),
            "file_id": None,
            "message": copy.deepcopy(message),
            "params": params,
        }
        entry.update(extra)
        self.sent.append(entry)

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params["chat_id"])
        text = str(params["text"])
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise _bad("message is too long")
        markup, inline = self._reply_markup(params)
        reply = self._reply_target(int(chat["id"]), params)
        content: JSONDict = {}
        if reply is not None:
            content["reply_to_message"] = reply
        content["text"] = text
        if "parse_mode" not in params and (entities := text_entities(text)):
            content["entities"] = entities
        if inline is not None:
            content["reply_markup"] = inline
        message = self._new_bot_message(chat, content)
        self._record_sent("sendMessage", params, message)
        return message

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params["chat_id"])
        document = params["document"]
        if isinstance(document, UploadedFile):
            if not document.content:
                raise _bad("file must be non-empty")
            guessed = mimetypes.guess_type(document.filename)[0]
            file_id, _ = self.add_file(
                document.content,
                file_name=document.filename or "document",
                mime_type=guessed or document.content_type or "application/octet-stream",
            )
            stored = self._files[file_id]
        elif str(document) in self._files:
            stored = self._files[str(document)]
        elif str(document).startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > MAX_CAPTION:
            raise _bad("message caption is too long")
        markup, inline = self._reply_markup(params)
        reply = self._reply_target(int(chat["id"]), params)
        content: JSONDict = {}
        if reply is not None:
            content["reply_to_message"] = reply
        content["document"] = self._media("document", stored.file_id, self.bot_user())
        if caption:
            content["caption"] = str(caption)
        if inline is not None:
            content["reply_markup"] = inline
        message = self._new_bot_message(chat, content)
        self._record_sent(
            "sendDocument",
            params,
            message,
            document=stored.content,
            filename=stored.file_name,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
        )
        return message

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat(params["chat_id"])
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params["file_id"]))
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query = self._callbacks.pop(str(params["callback_query_id"]), None)
        if query is None:
            raise BotApiError(400, QUERY_TOO_OLD)
        self.answered_callbacks.append(
            {
                "callback_query_id": query["id"],
                "data": query.get("data"),
                "text": params.get("text"),
                "show_alert": params.get("show_alert", False),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
            }
        )
        return True

    def _message_to_edit(self, params: JSONDict) -> JSONDict | None:
        """The stored message an edit targets; None for an inline message."""
        if "inline_message_id" in params:
            return None
        for name in ("chat_id", "message_id"):
            if name not in params:
                raise _bad(f"{name} is required")
        chat = self._chat(params["chat_id"])
        stored = self._messages.get((int(chat["id"]), int(params["message_id"])))
        if stored is None:
            raise _bad("message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return stored

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        stored = self._message_to_edit(params)
        text = str(params["text"])
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise _bad("message is too long")
        _, inline = self._reply_markup(params)
        if stored is None:
            return True  # an inline message: recorded in `calls` only
        if "text" not in stored:
            raise _bad("there is no text in the message to edit")
        if stored["text"] == text and stored.get("reply_markup") == inline:
            raise BotApiError(400, NOT_MODIFIED)
        stored["text"] = text
        stored.pop("entities", None)
        if "parse_mode" not in params and (entities := text_entities(text)):
            stored["entities"] = entities
        return self._finish_edit("editMessageText", params, stored, inline)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        stored = self._message_to_edit(params)
        _, inline = self._reply_markup(params)
        if stored is None:
            return True  # an inline message: recorded in `calls` only
        if stored.get("reply_markup") == inline:
            raise BotApiError(400, NOT_MODIFIED)
        return self._finish_edit("editMessageReplyMarkup", params, stored, inline)

    def _finish_edit(
        self, method: str, params: JSONDict, stored: JSONDict, inline: JSONDict | None
    ) -> JSONDict:
        stored.pop("reply_markup", None)
        if inline is not None:
            stored["reply_markup"] = inline
        stored["edit_date"] = int(self._clock())
        self._record_sent(method, params, stored)
        return copy.deepcopy(stored)

    def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        return True

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params["commands"]
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be 1-256 characters long")
        if len(commands) > 100:
            raise _bad("too many commands")
        scope = params.get("scope")
        key = json.dumps(scope, sort_keys=True) if scope else "default"
        self.command_sets[(key, str(params.get("language_code", "")))] = copy.deepcopy(commands)
        return True

    @property
    def commands(self) -> list[JSONDict]:
        """The commands of the default scope and language."""
        return copy.deepcopy(self.command_sets.get(("default", ""), []))


def _decode(field: SpecField, value: str) -> Any:
    """A form value as the first of the field's types it reads as."""
    for kind in field.types:
        if kind == "Integer" and _INT_RE.fullmatch(value.strip()):
            return int(value)
        if kind == "Float":
            try:
                return float(value)
            except ValueError:
                continue
        if kind == "Boolean" and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if kind in ("String", "InputFile"):
            return value
        if kind not in ("Integer", "Float", "Boolean"):
            try:
                return json.loads(value)
            except ValueError as error:
                raise _bad(f"can't parse {field.name} JSON object") from error
    raise _bad(f"invalid {field.name} specified: {value!r} is not {' or '.join(field.types)}")


def _loose(value: Any) -> Any:
    """A parameter the spec does not know: integers and JSON decoded, the rest as it is."""
    if not isinstance(value, str):
        return value
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
