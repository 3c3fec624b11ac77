"""Dead letters: kept with the reason, listed, retried after a fix, dismissed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.config import MailSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.services import mail as mail_module
from sdconsole.services.dead_letters import DeadLetters, list_dead_letters
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.mail import MailIntake
from sdconsole.storage import Store
from sdconsole.storage.tables import Inbound, Ticket

LETTER = (
    b"From: olga@shop7.example\r\nSubject: =?utf-8?b?0JrQsNGB0YHQsA==?=\r\n"
    b"Message-ID: <dl-1@shop7.example>\r\n\r\nThe till is down.\r\n"
)


def test_a_letter_the_parser_choked_on_is_taken_after_the_fix(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail = MailIntake(store, clock, IntakeService(store, clock), MailSettings())

    def broken(raw: bytes, **_kwargs: object) -> object:
        raise UnicodeError("a parser bug")

    with monkeypatch.context() as patch:
        patch.setattr(mail_module, "parse_mail", broken)
        first = mail.take(LETTER, source_ref="imap:support:7:42")
    assert first.outcome is Outcome.DEAD_LETTER
    [row] = list_dead_letters(store)
    assert row.key == "imap:support:7:42"
    assert row.error == "cannot parse: UnicodeError: a parser bug"
    assert "The till is down." in row.preview
    # The same letter fetched again is recognised: no second dead letter.
    with monkeypatch.context() as patch:
        patch.setattr(mail_module, "parse_mail", broken)
        assert mail.take(LETTER, source_ref="imap:support:7:42").outcome is Outcome.DUPLICATE

    result = DeadLetters(store, clock, mail).retry(row.id)

    assert result.outcome is Outcome.CREATED
    assert list_dead_letters(store) == []
    [resolved] = list_dead_letters(store, include_resolved=True)
    assert resolved.resolved_at == clock.now()
    with store.reader() as session:
        assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1
        ledger = session.execute(select(Inbound)).scalar_one()
        assert ledger.source_ref == "imap:support:7:42" and ledger.ticket_id is not None


def test_the_dead_letters_command(sqlite_store: Store, clock: FixedClock) -> None:
    mail = MailIntake(sqlite_store, clock, IntakeService(sqlite_store, clock), MailSettings())
    mail.take(b"\x00\x01 not a letter at all")
    mail.take(
        b"From: olga@shop7.example\r\nAuto-Submitted: auto-replied\r\n"
        b"Subject: Out of office\r\nMessage-ID: <ooo@shop7.example>\r\n\r\nAway.\r\n"
    )
    runner = CliRunner()
    listed = runner.invoke(
        app, ["--db", sqlite_store.url, "dead-letters", "list", "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert sorted(r["error"] for r in rows) == [
        "automatic reply that answers no open ticket",
        "not a mail: no mail header (From, To, Subject, Date, Content-Type, …)",
    ]
    table = runner.invoke(app, ["--db", sqlite_store.url, "dead-letters", "list"])
    assert "automatic reply" in table.stdout
    shown = runner.invoke(
        app, ["--db", sqlite_store.url, "dead-letters", "show", str(rows[0]["id"])]
    )
    assert shown.exit_code == 0 and "\x00" not in shown.stdout
    retried = runner.invoke(app, ["--db", sqlite_store.url, "dead-letters", "retry", "--all"])
    assert retried.exit_code == 0, retried.output
    outcomes = {v["outcome"] for v in json.loads(retried.stdout).values()}
    assert outcomes == {"dead_letter"}  # nothing changed for either: both stay, retried once
    assert [r.retries for r in list_dead_letters(sqlite_store)] == [1, 1]
    for row in rows:
        done = runner.invoke(
            app, ["--db", sqlite_store.url, "dead-letters", "dismiss", str(row["id"])]
        )
        assert done.exit_code == 0, done.output
    assert list_dead_letters(sqlite_store) == []
    missing = runner.invoke(app, ["--db", sqlite_store.url, "dead-letters", "show", "999"])
    assert missing.exit_code != 0 and "No dead letter 999" in missing.stderr
