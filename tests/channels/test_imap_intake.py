"""IMAP intake against a real Dovecot: tickets, server actions, replays, bad input, IDLE."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import func, select

from sdconsole.channels.base import ChannelError, FetchedMail, MailSource
from sdconsole.channels.mime import NotAMail, parse_mail
from sdconsole.config import MailboxSettings, MailSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.mail import MailIntake, imap_source, read_letters, source_ref
from sdconsole.services.parse_process import ParseProcess
from sdconsole.storage import Store
from sdconsole.storage.tables import DeadLetter, Inbound, MailboxState, Message, Ticket
from tests.channels.corpora import (
    DATA,
    MISSING,
    expected_onlyoffice,
    mail_files,
    normal,
    words,
)
from tests.channels.dovecot import Dovecot

PASSWORD_ENV = "SDCONSOLE_TEST_IMAP_PASSWORD"


def letter(n: int, *, subject: str = "", reply_to: str = "", sender: str = "olga") -> bytes:
    headers = [
        f"From: Ольга <{sender}@shop7.example>".encode(),
        b"To: support@desk.example",
        f"Subject: {subject or f'Касса {n} не печатает'}".encode(),
        f"Message-ID: <letter-{n}@shop7.example>".encode(),
        b"Date: Mon, 23 Nov 2026 09:00:00 +0300",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
    ]
    if reply_to:
        headers.append(f"In-Reply-To: <{reply_to}>".encode())
    body = f"Добрый день! Касса номер {n} не печатает чеки.\r\n".encode()
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


def settings_for(
    dovecot: Dovecot,
    user: str,
    *,
    after: Literal["flag", "move", "delete", "keep"] = "flag",
    security: Literal["tls", "starttls", "none"] = "starttls",
) -> MailSettings:
    box = MailboxSettings(
        name="support",
        host=dovecot.host,
        port=dovecot.tls_port if security == "tls" else dovecot.port,
        security=security,
        user=user,
        password_env=PASSWORD_ENV,
        ca_file=dovecot.ca_file,
        after=after,
        move_to="Done",
        poll_seconds=1.0,
        batch=7,
    )
    return MailSettings(address="support@desk.example", mailboxes=[box])


def write_config(path: Path, dovecot: Dovecot, user: str, *, batch: int = 50) -> None:
    path.write_text(
        f"""
[mail]
address = "support@desk.example"

[[mail.mailboxes]]
name = "support"
host = "{dovecot.host}"
port = {dovecot.port}
security = "starttls"
ca_file = "{dovecot.ca_file}"
user = "{user}"
password_env = "{PASSWORD_ENV}"
poll_seconds = 1
batch = {batch}
""",
        encoding="utf-8",
    )


@pytest.fixture
def account(
    dovecot: Dovecot, mailbox: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    monkeypatch.setenv(PASSWORD_ENV, mailbox[1])
    return mailbox


def intake_for(store: Store, clock: FixedClock, settings: MailSettings) -> MailIntake:
    return MailIntake(store, clock, IntakeService(store, clock), settings)


def count(store: Store, table: type, *where: object) -> int:
    with store.reader() as session:
        return int(
            session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def flags(dovecot: Dovecot, user: str, password: str, folder: str = "INBOX") -> list[bytes]:
    with dovecot.connect(user, password) as client:
        client.select_folder(folder, readonly=True)
        found = client.get_flags(client.search(["ALL"]))
        return [b" ".join(sorted(f)) for _uid, f in sorted(found.items())]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_letters_become_tickets_and_are_flagged_only_once_stored(
    store: Store,
    clock: FixedClock,
    dovecot: Dovecot,
    account: tuple[str, str],
    security: Literal["tls", "starttls"],
) -> None:
    user, password = account
    dovecot.append_many(
        user, password, [letter(1), letter(2), letter(3, reply_to="letter-1@shop7.example")]
    )
    settings = settings_for(dovecot, user, security=security)
    mail = intake_for(store, clock, settings)

    result = mail.fetch_once(settings.mailboxes[0])

    assert result.seen == 3
    assert result.count(Outcome.CREATED) == 2 and result.count(Outcome.APPENDED) == 1
    assert count(store, Ticket) == 2
    assert count(store, Message, Message.kind == "inbound") == 3
    assert flags(dovecot, user, password) == [b"\\Seen"] * 3
    with store.reader() as session:
        state = session.get(MailboxState, "support")
        assert state is not None and state.last_uid == 3
        refs = set(session.execute(select(Inbound.source_ref)).scalars())
    validity = dovecot.uidvalidity(user, password)
    assert refs == {source_ref("support", validity, uid) for uid in (1, 2, 3)}
    # The next pass finds nothing new.
    assert mail.fetch_once(settings.mailboxes[0]).seen == 0


@pytest.mark.parametrize("processes", [0, 1, "broken", "starting"])
def test_letters_parsed_beside_the_store_or_in_it_come_out_the_same(
    store: Store,
    clock: FixedClock,
    dovecot: Dovecot,
    account: tuple[str, str],
    processes: int | str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, password = account
    letters = [letter(n) for n in range(1, 16)] + [b"\x00\x01 not a letter at all"]
    dovecot.append_many(user, password, letters)
    settings = settings_for(dovecot, user, security="starttls")
    settings = settings.model_copy(update={"parse_process": processes != 0})
    submit = ProcessPoolExecutor.submit
    sent: list[int] = []  # the batches given to the process

    def counted(self: ProcessPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is not read_letters:
            return submit(self, fn, *args, **kwargs)
        sent.append(len(args[0]))
        if processes == "broken":
            died: Future[Any] = Future()
            died.set_exception(BrokenExecutor("the parsing process died"))
            return died
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", counted)
    start = ParseProcess.start

    def started(self: ParseProcess) -> None:
        start(self)
        if processes == "starting":  # still loading for the whole pass: parsed here
            self._ready = Future()
        else:  # loaded: every batch goes to it
            assert self._ready is not None
            self._ready.result(timeout=60)

    monkeypatch.setattr(ParseProcess, "start", started)
    mail = intake_for(store, clock, settings)

    result = mail.fetch_once(settings.mailboxes[0])  # batches of 7: three, parsed in turn

    assert sent == ([7, 7, 2] if processes in (1, "broken") else [])
    assert result.seen == 16
    assert result.count(Outcome.CREATED) == 15 and result.count(Outcome.DEAD_LETTER) == 1
    assert count(store, Ticket) == 15
    assert count(store, DeadLetter) == 1
    with store.reader() as session:
        state = session.get(MailboxState, "support")
        assert state is not None and state.last_uid == 16
        subjects = set(session.execute(select(Ticket.subject)).scalars())
    assert len(subjects) == 15


def test_a_pass_of_one_batch_starts_no_parsing_process(
    sqlite_store: Store,
    clock: FixedClock,
    dovecot: Dovecot,
    account: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, password = account
    dovecot.append_many(user, password, [letter(n) for n in range(1, 4)])
    settings = settings_for(dovecot, user)  # batches of 7
    assert settings.parse_process
    starts: list[ParseProcess] = []
    monkeypatch.setattr(ParseProcess, "start", starts.append)
    result = intake_for(sqlite_store, clock, settings).fetch_once(settings.mailboxes[0])
    assert result.count(Outcome.CREATED) == 3
    assert starts == []  # nothing to parse beside the store: no interpreter to spawn


@pytest.mark.parametrize("after", ["move", "delete", "keep"])
def test_what_happens_on_the_server_after_a_letter_is_stored(
    sqlite_store: Store,
    clock: FixedClock,
    dovecot: Dovecot,
    account: tuple[str, str],
    after: Literal["move", "delete", "keep"],
) -> None:
    user, password = account
    dovecot.append_many(user, password, [letter(1), letter(2)])
    settings = settings_for(dovecot, user, after=after)
    mail = intake_for(sqlite_store, clock, settings)
    mail.fetch_once(settings.mailboxes[0])
    left = dovecot.uids(user, password)
    if after == "keep":
        assert flags(dovecot, user, password) == [b"", b""]  # not even marked seen
    else:
        assert left == []
    if after == "move":
        assert len(dovecot.uids(user, password, "Done")) == 2
    # A new letter after the checkpoint is read; the kept ones are not read again.
    dovecot.append(user, password, letter(3))
    again = mail.fetch_once(settings.mailboxes[0])
    assert again.seen == 1 and again.count(Outcome.CREATED) == 1
    assert count(sqlite_store, Ticket) == 3


class _CrashAfterStoring:
    """A mailbox whose first `done` fails, as if the worker died after its commit."""

    def __init__(self, inner: MailSource) -> None:
        self.inner = inner
        self.name = inner.name
        self.crashes = 1

    def open(self) -> int:
        return self.inner.open()

    def uids_after(self, last_uid: int) -> list[int]:
        return self.inner.uids_after(last_uid)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        return self.inner.fetch(uids)

    def done(self, uids: list[int]) -> None:
        if self.crashes:
            self.crashes -= 1
            raise ChannelError("connection lost")
        self.inner.done(uids)

    def wait(self, timeout: float) -> bool:
        return self.inner.wait(timeout)

    def close(self) -> None:
        self.inner.close()


def test_a_crash_between_storing_and_flagging_replays_without_duplicates(
    store: Store, clock: FixedClock, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    user, password = account
    dovecot.append_many(user, password, [letter(n) for n in range(1, 10)])
    settings = settings_for(dovecot, user)
    wrapped: list[_CrashAfterStoring] = []

    def crashing(box: MailboxSettings) -> MailSource:
        wrapped.append(_CrashAfterStoring(imap_source(box)))
        return wrapped[-1]

    mail = MailIntake(store, clock, IntakeService(store, clock), settings, open_source=crashing)
    with pytest.raises(ChannelError):
        mail.fetch_once(settings.mailboxes[0])
    assert count(store, Ticket) == 7  # the first batch is stored, but never flagged
    assert flags(dovecot, user, password) == [b""] * 9

    wrapped_again = intake_for(store, clock, settings)
    result = wrapped_again.fetch_once(settings.mailboxes[0])
    assert result.count(Outcome.DUPLICATE) == 7 and result.count(Outcome.CREATED) == 2
    assert count(store, Ticket) == 9 and count(store, Inbound) == 9
    assert flags(dovecot, user, password) == [b"\\Seen"] * 9


def test_a_new_uidvalidity_rereads_the_mailbox_without_duplicates(
    sqlite_store: Store, clock: FixedClock, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    user, password = account
    dovecot.append_many(user, password, [letter(1), letter(2)])
    settings = settings_for(dovecot, user, after="keep")
    mail = intake_for(sqlite_store, clock, settings)
    mail.fetch_once(settings.mailboxes[0])
    with sqlite_store.transaction() as session:
        state = session.get(MailboxState, "support")
        assert state is not None
        state.uidvalidity += 1  # as after the server rebuilt its index

    result = mail.fetch_once(settings.mailboxes[0])

    assert result.seen == 2 and result.count(Outcome.DUPLICATE) == 2
    assert count(sqlite_store, Ticket) == 2


def test_a_letter_that_cannot_be_parsed_is_a_dead_letter_and_the_mailbox_goes_on(
    store: Store, clock: FixedClock, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    user, password = account
    junk = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an Outlook .msg file, not a letter\r\n"
    dovecot.append_many(user, password, [junk, letter(1)])
    settings = settings_for(dovecot, user)
    mail = intake_for(store, clock, settings)

    result = mail.fetch_once(settings.mailboxes[0])

    assert result.count(Outcome.DEAD_LETTER) == 1 and result.count(Outcome.CREATED) == 1
    with store.reader() as session:
        dead = session.execute(select(DeadLetter)).scalar_one()
        assert dead.error.startswith("not a mail")
        assert bytes(dead.raw).startswith(b"\xd0\xcf\x11\xe0")
    assert flags(dovecot, user, password) == [b"\\Seen"] * 2
    assert mail.fetch_once(settings.mailboxes[0]).seen == 0
    assert count(store, DeadLetter) == 1


def test_the_loop_takes_new_mail_as_it_arrives_and_stops_promptly(
    sqlite_store: Store, clock: FixedClock, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    user, password = account
    settings = settings_for(dovecot, user)
    mail = intake_for(sqlite_store, clock, settings)
    stop = threading.Event()
    passes: list[int] = []
    worker = threading.Thread(
        target=mail.run,
        args=(settings.mailboxes[0], stop),
        kwargs={"on_pass": lambda r: passes.append(r.seen)},
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not passes and time.monotonic() < deadline:
            time.sleep(0.05)
        dovecot.append(user, password, letter(1))
        while count(sqlite_store, Ticket) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(sqlite_store, Ticket) == 1
    finally:
        stop.set()
        worker.join(15)
    assert not worker.is_alive()


def test_mail_fetch_command(
    sqlite_store: Store, dovecot: Dovecot, account: tuple[str, str], tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from sdconsole.cli.main import app

    user, password = account
    dovecot.append_many(user, password, [letter(1), letter(2)])
    write_config(tmp_path / "config.toml", dovecot, user)
    result = CliRunner().invoke(app, ["--db", sqlite_store.url, "mail", "fetch", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"support": {"seen": 2, "created": 2}}


@pytest.mark.skipif(not DATA.is_dir(), reason=MISSING)
@pytest.mark.slow
def test_every_corpus_mail_goes_in_through_imap(
    sqlite_store: Store, clock: FixedClock, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    user, password = account
    files = mail_files()
    raws = [path.read_bytes() for path in files]
    uids = dovecot.append_many(user, password, raws)
    settings = settings_for(dovecot, user)
    mail = intake_for(sqlite_store, clock, settings)

    result = mail.fetch_once(settings.mailboxes[0])

    assert result.seen == len(files)
    validity = dovecot.uidvalidity(user, password)
    with sqlite_store.reader() as session:
        ledger = {
            row.source_ref: row
            for row in session.execute(select(Inbound)).scalars()
            if row.source_ref is not None
        }
        keys = set(session.execute(select(Inbound.idempotency_key)).scalars())
        dead = {d.key: d.error for d in session.execute(select(DeadLetter)).scalars() if d.error}
    for uid, path in zip(uids, files, strict=True):
        row = ledger.get(source_ref("support", validity, uid))
        if row is None:
            # A second copy of a letter already taken (the corpus keeps LF, CRLF and CR
            # copies of some mails; over IMAP they are the same letter).
            assert parse_mail(path.read_bytes()).idempotency_key in keys, path
            continue
        if row.ticket_id is None:
            assert dead.get(row.idempotency_key) or dead.get(row.source_ref or ""), path
    # Where the corpus gives the expected result, the stored ticket matches it.
    checked = 0
    with sqlite_store.reader() as session:
        for path, expected in expected_onlyoffice():
            parsed = parse_mail(path.read_bytes())
            inbound = session.execute(
                select(Inbound).where(Inbound.idempotency_key == parsed.idempotency_key)
            ).scalar_one()
            if inbound.message_id is None:  # a bounce of no letter of ours: kept, with the reason
                assert dead[inbound.idempotency_key], path
                continue
            entry = session.get(Message, inbound.message_id)
            assert entry is not None and entry.address == expected.from_email, path
            ticket = session.get(Ticket, entry.ticket_id)
            assert ticket is not None
            first = session.execute(
                select(func.min(Message.id)).where(Message.ticket_id == ticket.id)
            ).scalar_one()
            if normal(expected.subject) and first == entry.id:  # a letter that opened a ticket
                assert normal(expected.subject)[:80] in normal(ticket.subject), path
            want = words(expected.body)
            assert not want or len(want & words(entry.body)) / len(want) >= 0.6, path
            checked += 1
    assert checked >= 28


def test_not_a_mail_is_refused_by_the_parser() -> None:
    with pytest.raises(NotAMail):
        parse_mail(b"just some bytes with no header at all")
