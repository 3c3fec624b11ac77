"""History import (JSON lines from another desk): checks, idempotency, and SLA from history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.services.importing import ImportRowsFailed
from sdconsole.services.importing.history import import_history
from sdconsole.storage import Store
from sdconsole.storage.tables import Event, Message, Ticket
from tests.conftest import add_engineer
from tests.services.helpers import make_world

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # Monday 11:00 in Yekaterinburg


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def ticket(external_id: str, **changes: Any) -> dict[str, Any]:
    """A P2 request on the world's 24/7 plan (response 30 min, resolution 8 h)."""
    record: dict[str, Any] = {
        "format": 1,
        "external_id": external_id,
        "subject": "Касса не печатает чеки",
        "received_at": at(0),
        "channel": "email",
        "client": "S-7",
        "category": "kkt.print",
        "priority": "P2",
        "messages": [
            {"at": at(0), "kind": "inbound", "author": "Ольга", "body": "Касса не печатает."},
            {"at": at(1), "kind": "outbound", "author": "robot", "body": "Принято", "auto": True},
            {"at": at(20), "kind": "note", "by": "ivanov", "body": "Смотрю"},
            {"at": at(45), "kind": "outbound", "by": "ivanov", "body": "Замените рулон."},
        ],
        "events": [
            {"at": at(5), "kind": "assign", "to": "ivanov", "by": "ivanov"},
            {"at": at(5), "kind": "status", "to": "open", "by": "ivanov"},
            {"at": at(50), "kind": "status", "to": "waiting_client", "by": "ivanov"},
            {"at": at(170), "kind": "status", "to": "open"},
            {"at": at(200), "kind": "status", "to": "resolved", "code": "printer.paper"},
            {"at": at(3000), "kind": "status", "to": "closed"},
        ],
    }
    record.update(changes)
    return record


def write(path: Path, *records: dict[str, Any] | str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def world(store: Store, clock: FixedClock) -> Store:
    make_world(store, clock.now())
    add_engineer(store, "ivanov")
    return store


def test_history_becomes_tickets_with_sla_from_their_events(
    world: Store, clock: FixedClock, tmp_path: Path
) -> None:
    summary = import_history(world, clock, write(tmp_path / "h.jsonl", ticket("OTRS-1")))
    assert (summary.created, summary.unchanged) == (1, 0)
    with world.reader() as session:
        row = session.execute(select(Ticket).where(Ticket.external_id == "OTRS-1")).scalar_one()
        kinds = [
            e.kind
            for e in session.execute(select(Event).where(Event.ticket_id == row.id)).scalars()
        ]
        messages = session.execute(select(Message).where(Message.ticket_id == row.id)).all()
    assert row.status == "closed" and row.resolution_code == "printer.paper"
    assert row.contract_id is not None and row.site_id is not None
    # The auto-acknowledgement and the note never count: the first response is at 45 min.
    assert row.first_response_at == T0 + timedelta(minutes=45)
    assert row.response_minutes == 45 and row.response_breached
    # 200 minutes to resolution, 120 of them waiting for the client: 80 working minutes.
    assert (row.resolution_minutes, row.paused_minutes) == (80, 120)
    assert not row.resolution_breached
    assert len(messages) == 4
    assert {"created", "first_response", "status", "resolved", "sla"} <= set(kinds)


def test_reimport_is_idempotent(world: Store, clock: FixedClock, tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", ticket("OTRS-1"), ticket("OTRS-2"))
    import_history(world, clock, path)
    again = import_history(world, clock, path)
    assert (again.created, again.unchanged) == (0, 2)
    with world.reader() as session:
        assert len(session.execute(select(Ticket.id)).all()) == 2


def test_bad_lines_are_reported_and_nothing_is_imported(
    world: Store, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.jsonl",
        ticket("OTRS-1"),
        "{not json",
        ticket("OTRS-3", received_at="2026-11-02 09:00", client="NOPE"),
        ticket("OTRS-4", events=[{"at": at(1), "kind": "assign", "to": "ghost"}]),
        ticket("OTRS-1"),
        ticket("OTRS-6", format=2),
        ticket("OTRS-7", messages=[{"at": "вчера", "kind": "letter"}]),
    )
    with pytest.raises(ImportRowsFailed) as caught:
        import_history(world, clock, path)
    found = [str(issue) for issue in caught.value.issues]
    assert found[0].startswith("line 2: not a JSON object")
    assert "line 3, column received_at: 2026-11-02 09:00 is not a time with an offset" in found[1]
    assert "line 3, column client: no client NOPE" in found
    assert (
        "line 4, column events[0].to: no engineer with login ghost; import engineers first" in found
    )
    assert "line 5, column external_id: OTRS-1 repeats line 1" in found
    assert "line 6, column format: 2 is not a format this sdconsole reads; use 1" in found
    assert any(f.startswith("line 7, column messages[0].at: вчера is not a time") for f in found)
    assert any(f.startswith("line 7, column messages[0].kind: letter is not one of") for f in found)
    with world.reader() as session:
        assert session.execute(select(Ticket.id)).all() == []


def test_reopened_history_resumes_resolution(
    world: Store, clock: FixedClock, tmp_path: Path
) -> None:
    events = [
        {"at": at(10), "kind": "status", "to": "resolved", "code": "printer.paper"},
        {"at": at(70), "kind": "status", "to": "open"},
        {"at": at(100), "kind": "priority", "to": "P1", "reason": "Все кассы"},
    ]
    import_history(world, clock, write(tmp_path / "h.jsonl", ticket("R-1", events=events)))
    with world.reader() as session:
        row = session.execute(select(Ticket).where(Ticket.external_id == "R-1")).scalar_one()
        kinds = [
            e.kind
            for e in session.execute(select(Event).where(Event.ticket_id == row.id)).scalars()
        ]
    assert row.status == "open" and row.priority == 1 and row.resolved_at is None
    assert "reopened" in kinds
    # P1 from 100 min: 240 minutes of resolution target counted from the change.
    assert row.resolution_due_at == T0 + timedelta(minutes=340)


def test_import_tickets_cli(world: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", ticket("OTRS-1"))
    runner = CliRunner()
    result = runner.invoke(app, ["--db", world.url, "import", "tickets", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "tickets: 1 created, 0 already imported\n"
    bad = write(tmp_path / "bad.jsonl", "[]")
    failed = runner.invoke(app, ["--db", world.url, "import", "tickets", str(bad)])
    assert failed.exit_code == 2
    assert "line 1: not a JSON object: list" in failed.stderr
