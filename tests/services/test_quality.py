"""Quality control on the store (both back ends): slow requests, problems from recurrences."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from sdconsole.config import QualitySettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import LinkKind, Status
from sdconsole.services.intake import IntakeService
from sdconsole.services.quality import PROBLEM_TAG, SLOW_TAG, run_quality
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Device, Ticket, TicketLink
from tests.conftest import NOW, add_engineer
from tests.services.helpers import MANUAL, email, make_world

SETTINGS = QualitySettings(recurring_count=3, recurring_days=30, slow_min_samples=5)


def _device(store: Store, site_id: int) -> int:
    with store.transaction() as session:
        device = Device(site_id=site_id, model="АТОЛ 30Ф", serial="00106100000001")
        session.add(device)
        session.flush()
        assert device.id is not None
        return device.id


def test_recurring_incidents_on_a_register_open_one_problem_that_gathers_the_next(
    store: Store, clock: FixedClock
) -> None:
    world = make_world(store, NOW - timedelta(days=10))
    device = _device(store, world.site_id)
    intake = IntakeService(store, clock, routing=MANUAL)

    def incident(n: int) -> int:
        message = replace(email(f"<{n}@shop>", clock.now()), device_id=device)
        result = intake.ingest(message)
        assert result.ticket_id is not None
        return result.ticket_id

    clock.set(NOW - timedelta(days=3))
    first = [incident(n) for n in range(3)]
    clock.set(NOW)
    summary = run_quality(store, clock, SETTINGS)
    assert (summary.problems, summary.linked) == (1, 3)
    assert run_quality(store, clock, SETTINGS).total == 0  # a second pass changes nothing
    with store.reader() as session:
        (problem,) = session.execute(select(Ticket).where(Ticket.channel == "internal")).scalars()
        linked = sorted(
            row[0]
            for row in session.execute(
                select(TicketLink.ticket_id).where(
                    TicketLink.other_id == problem.id, TicketLink.kind == LinkKind.PROBLEM.value
                )
            )
        )
    assert linked == first
    assert problem.line == 3 and PROBLEM_TAG in problem.tags
    assert problem.source_key == f"problem:kkt.print:device:{device}"
    assert "АТОЛ 30Ф" in problem.subject

    later = incident(3)
    assert run_quality(store, clock, SETTINGS).linked == 1
    lead = add_engineer(store, "lead")
    tickets = TicketService(store, clock)
    assert problem.id is not None
    tickets.take(problem.id, actor=lead)
    tickets.resolve(problem.id, "fixed", actor=lead, text="Заменили блок питания.")
    clock.advance(timedelta(hours=1))
    again = [incident(n) for n in range(10, 12)]
    assert run_quality(store, clock, SETTINGS).total == 0  # two since the fix: not yet
    again.append(incident(12))
    summary = run_quality(store, clock, SETTINGS)
    assert (summary.problems, summary.linked) == (1, 3)
    with store.reader() as session:
        problems = (
            session.execute(select(Ticket).where(Ticket.channel == "internal").order_by(Ticket.id))
            .scalars()
            .all()
        )
    assert [p.status for p in problems] == [Status.RESOLVED.value, Status.NEW.value]
    assert later not in again


def test_slow_requests_are_tagged_once(store: Store, clock: FixedClock) -> None:
    make_world(store, NOW - timedelta(days=10))
    engineer = add_engineer(store, "ivanov")
    intake = IntakeService(store, clock, routing=MANUAL)
    tickets = TicketService(store, clock)
    ids = []
    for n in range(6):
        clock.set(NOW - timedelta(days=2))
        ticket_id = intake.ingest(email(f"<s{n}@shop>", clock.now())).ticket_id
        assert ticket_id is not None
        tickets.take(ticket_id, actor=engineer)
        clock.advance(timedelta(minutes=30 if n < 5 else 600))
        tickets.resolve(ticket_id, "fixed", actor=engineer)
        ids.append(ticket_id)
    clock.set(NOW)
    assert run_quality(store, clock, SETTINGS).slow == 1
    assert run_quality(store, clock, SETTINGS).slow == 0
    with store.reader() as session:
        flagged = [t.id for t in session.execute(select(Ticket)).scalars() if SLOW_TAG in t.tags]
    assert flagged == [ids[-1]]
