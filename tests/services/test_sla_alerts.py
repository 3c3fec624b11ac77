"""The periodic SLA job: each warning and breach is recorded once, at the instant it happened."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Status
from sdconsole.services.intake import IntakeService
from sdconsole.services.sla import check_alerts
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Event, Ticket
from tests.conftest import add_engineer
from tests.services.helpers import email, make_world


def alerts(store: Store, ticket_id: int) -> list[tuple[str, str]]:
    with store.reader() as session:
        rows = session.execute(
            select(Event)
            .where(Event.ticket_id == ticket_id, Event.kind == "sla")
            .order_by(Event.at)
        ).scalars()
        return [(e.details["clock"], e.after) for e in rows]


def new_ticket(store: Store, clock: FixedClock) -> int:
    """A P2 request on the world's 24/7 plan: response due in 30 minutes, warning at 24."""
    make_world(store, clock.now())
    result = IntakeService(store, clock).ingest(email("<a@shop>", clock.now()))
    assert result.ticket_id is not None
    return result.ticket_id


def test_warning_then_breach_each_once(store: Store, clock: FixedClock) -> None:
    ticket_id = new_ticket(store, clock)
    received = clock.now()
    assert check_alerts(store, clock) == 0
    clock.advance(timedelta(minutes=25))
    assert check_alerts(store, clock) == 1
    assert alerts(store, ticket_id) == [("response", "warning")]
    assert check_alerts(store, clock) == 0  # nothing new: never twice
    clock.advance(timedelta(minutes=10))
    check_alerts(store, clock)
    assert alerts(store, ticket_id) == [("response", "warning"), ("response", "breach")]
    with store.reader() as session:
        events = session.execute(
            select(Event).where(Event.ticket_id == ticket_id, Event.kind == "sla")
        ).scalars()
        (breach,) = [e for e in events if e.after == "breach"]
        ticket = session.get(Ticket, ticket_id)
    assert breach.at == received + timedelta(minutes=30)  # when it happened, not when seen
    assert ticket is not None and ticket.response_breached
    assert ticket.sla_next_alert_at is not None  # the resolution clock's warning is ahead


def test_an_engineers_late_reply_records_the_breach_at_once(
    store: Store, clock: FixedClock
) -> None:
    ticket_id = new_ticket(store, clock)
    engineer = add_engineer(store, "ivanov")
    clock.advance(timedelta(minutes=40))
    TicketService(store, clock).reply(ticket_id, "Смотрим.", actor=engineer)
    assert ("response", "breach") in alerts(store, ticket_id)


def test_a_paused_ticket_raises_nothing(store: Store, clock: FixedClock) -> None:
    ticket_id = new_ticket(store, clock)
    engineer = add_engineer(store, "ivanov")
    TicketService(store, clock).set_status(ticket_id, Status.WAITING_CLIENT, actor=engineer)
    clock.advance(timedelta(days=3))
    assert check_alerts(store, clock) == 0
    assert alerts(store, ticket_id) == []


def test_workers_run_once(store: Store, clock: FixedClock) -> None:
    new_ticket(store, clock)
    runner = CliRunner()
    result = runner.invoke(app, ["--db", store.url, "workers", "run", "--only", "sla", "--once"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("{")
    every = runner.invoke(app, ["--db", store.url, "workers", "run", "--once"])
    assert every.exit_code == 0, every.output
    assert set(json.loads(every.stdout)) == {"sla", "monitoring", "quality", "contracts"}
    bad = runner.invoke(app, ["--db", store.url, "workers", "run", "--only", "mail", "--once"])
    assert bad.exit_code == 2
    assert "Unknown job mail" in bad.stderr
