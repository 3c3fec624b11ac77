"""What people read: `ticket list` at every terminal width and piped, and a ticket's history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import LinkKind, Priority, Role, Status, SupportLine
from sdconsole.reports.ticket import ticket_table
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Ticket
from tests.conftest import add_engineer

LONG_SUBJECT = "Касса не печатает чеки после обновления прошивки, ошибка 3924, " * 3


def run(runner: CliRunner, store: Store, *args: str, columns: int | None) -> Any:
    """Invoke the CLI as a pipe would (no terminal): `columns` None leaves COLUMNS unset."""
    env = {"COLUMNS": str(columns) if columns else None}
    result = runner.invoke(app, ["--db", store.url, *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def header(output: str) -> list[str]:
    return [title.strip() for title in output.splitlines()[0].split("┃")]


@pytest.mark.parametrize("columns", [80, 100, 140])
def test_ticket_list_fits_the_terminal_without_squashing(
    runner: CliRunner, populated: Store, golden_text: Any, columns: int
) -> None:
    output = run(runner, populated, "ticket", "list", columns=columns).stdout
    assert max(cell_len(line) for line in output.splitlines()) <= columns
    for number, priority, status in (
        ("SD-000001", "P1", "new"),
        ("SD-000002", "P2", "open"),
        ("SD-000003", "P3", "resolved"),
    ):
        row = next(line for line in output.splitlines() if number in line)
        assert [cell.strip() for cell in row.split("│")[:3]] == [number, priority, status]
    assert output == golden_text


def test_narrow_terminals_drop_created_then_line_then_site(
    runner: CliRunner, populated: Store
) -> None:
    def columns_at(width: int) -> list[str]:
        return header(run(runner, populated, "ticket", "list", columns=width).stdout)

    everything = ["Number", "Pri", "Status", "Site · client", "Subject", "Line", "Assignee"]
    assert columns_at(160) == [*everything, "Created"]
    assert columns_at(100) == everything
    assert "Line" not in columns_at(80) and "Site · client" not in columns_at(80)
    assert columns_at(80)[:3] == ["Number", "Pri", "Status"]


def test_piped_list_keeps_every_character(runner: CliRunner, populated: Store) -> None:
    """A pipe or a file (no terminal, no COLUMNS) gets whole subjects, however long."""
    with populated.transaction() as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        ticket.subject = LONG_SUBJECT
    output = run(runner, populated, "ticket", "list", columns=None).stdout
    assert LONG_SUBJECT in output
    assert "…" not in output
    assert header(output)[-1] == "Created"


def test_table_narrower_than_its_fixed_columns_is_cropped_not_squashed() -> None:
    records = [
        {
            "number": "SD-000042",
            "priority": "P1",
            "status": "waiting_vendor",
            "site": "Магазин №7",
            "client": "Продукты Урала",
            "subject": "[bold]СРОЧНО[/bold] " + LONG_SUBJECT,
            "line": 4,
            "assignee": "ivanov",
            "created_at": None,
        }
    ]
    console = Console(width=40, record=True, highlight=False)
    console.print(ticket_table(records, width=40))
    lines = console.export_text().splitlines()
    assert lines[2].startswith(" SD-000042 │ P1  │ waiting for vendor │ ")
    assert all(cell_len(line) <= 40 for line in lines)


@pytest.fixture
def eventful(populated: Store, clock: FixedClock) -> Store:
    """Ticket 1 after a morning of work: every kind of change, with typed reasons in markup."""
    tickets = TicketService(populated, clock)
    petrov = add_engineer(populated, "petrov")
    lead = add_engineer(populated, "lead", Role.LEAD, lines=(1, 2))
    clock.advance(timedelta(minutes=5))
    tickets.take(1, actor=petrov)
    tickets.set_priority(1, Priority.P2, actor=petrov, reason="[red]Одна касса[/red] из трёх")
    tickets.reply(1, "Перезагрузите кассу, пожалуйста.", actor=petrov)
    tickets.note(1, "Похоже на ФН.", actor=petrov)
    tickets.set_status(1, Status.WAITING_CLIENT, actor=petrov)
    clock.advance(timedelta(minutes=20))
    tickets.log_time(1, 25, actor=petrov, billable=False)
    tickets.escalate(
        1, SupportLine.L2, "Нужен [link=http://evil.example]инженер[/link]", actor=lead
    )
    tickets.assign(1, "lead", actor=lead)
    tickets.link(1, 2, LinkKind.RELATED, actor=lead)
    clock.advance(timedelta(hours=1))
    tickets.resolve(1, "kkt.rebooted", "Перезагрузили", actor=lead)
    tickets.reopen(1, "Снова не печатает", actor=lead)
    tickets.merge(2, 1, actor=lead)
    return populated


@pytest.mark.parametrize("language", ["en", "ru"])
def test_ticket_history_reads_as_an_audit_trail(
    runner: CliRunner, eventful: Store, golden_text: Any, language: str
) -> None:
    output = run(
        runner, eventful, "--lang", language, "ticket", "show", "SD-000001", columns=150
    ).stdout
    history = output[output.index("History" if language == "en" else "История") :]
    # Typed text is shown as typed, never as markup; internal names and ids stay inside.
    assert "[red]Одна касса[/red] из трёх" in history
    assert "[link=http://evil.example]инженер[/link]" in history
    for internal in ("first_response", "waiting_client", "time_logged", "→ 2", "T09:"):
        assert internal not in history
    assert history == golden_text


def test_ticket_show_json_keeps_the_raw_events(runner: CliRunner, eventful: Store) -> None:
    import json

    data = json.loads(
        run(runner, eventful, "ticket", "show", "1", "--format", "json", columns=150).stdout
    )
    kinds = [event["kind"] for event in data["events"]]
    assert "first_response" in kinds and "time_logged" in kinds
    assert {"before": "open", "after": "waiting_client"}.items() <= next(
        e for e in data["events"] if e["after"] == "waiting_client"
    ).items()


@pytest.mark.parametrize(
    ("kind", "before", "after", "details", "expected"),
    [
        ("frobnicated", "a", "b", {}, "frobnicated  a → b"),
        ("message", None, 5016, {}, "Message added"),
        ("message", None, 5016, {"message_kind": "inbound", "channel": "fax"}, "Client wrote"),
        ("status", "limbo", "open", {}, "Status: limbo → open"),
        ("priority", 9, [1], {"reason": ["not", "text"]}, "Priority: 9 → [1]"),
        ("sla", None, "meltdown", {"clock": "response"}, "SLA: meltdown"),
        ("first_response", None, "2026-10-20T14:19:11+00:00", {}, "First response"),
        ("created", None, "new", None, "Ticket created"),
    ],
)
def test_odd_or_unknown_events_are_shown_as_stored_never_fail(
    kind: str, before: Any, after: Any, details: Any, expected: str
) -> None:
    """Old rows, newer writers and hand-edited stores must not break the history."""
    from sdconsole.domain.views import EventView
    from sdconsole.reports.history import describe_event
    from tests.conftest import NOW

    event = EventView(at=NOW, actor="x", kind=kind, before=before, after=after, details=details)
    assert describe_event(event).plain == expected
