"""Eight engineers take the same ticket at the same moment: exactly one owns it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.errors import AlreadyTaken
from sdconsole.domain.model import Actor
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Ticket
from tests.conftest import add_engineer
from tests.services.helpers import email

ENGINEERS = 8


def test_simultaneous_takes_leave_exactly_one_owner(store: Store, clock: FixedClock) -> None:
    actors: list[Actor] = [add_engineer(store, f"eng{i}") for i in range(ENGINEERS)]
    result = IntakeService(store, clock).ingest(email("<race@shop>", clock.now()))
    assert result.ticket_id is not None
    ticket_id = result.ticket_id
    service = TicketService(store, clock)
    barrier = threading.Barrier(ENGINEERS, timeout=30)

    def take(actor: Actor) -> str:
        barrier.wait()
        try:
            service.take(ticket_id, actor=actor)
            return f"won:{actor.login}"
        except AlreadyTaken as error:
            return f"lost:{error}"

    with ThreadPoolExecutor(max_workers=ENGINEERS) as pool:
        outcomes = list(pool.map(take, actors, timeout=60))

    winners = [o.removeprefix("won:") for o in outcomes if o.startswith("won:")]
    losers = [o for o in outcomes if o.startswith("lost:")]
    assert len(winners) == 1, outcomes
    assert len(losers) == ENGINEERS - 1
    assert all(f"already taken by {winners[0]}" in o for o in losers), outcomes
    with store.reader() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        owner = next(a for a in actors if a.login == winners[0])
        assert ticket.assignee_id == owner.engineer_id


@pytest.mark.postgres
def test_stale_concurrent_edits_conflict_not_overwrite(store: Store, clock: FixedClock) -> None:
    from sdconsole.domain.errors import Conflict
    from sdconsole.domain.model import Priority

    actor = add_engineer(store, "solo")
    result = IntakeService(store, clock).ingest(email("<stale@shop>", clock.now()))
    assert result.ticket_id is not None
    service = TicketService(store, clock)
    with store.reader() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None
        seen = ticket.version
    service.set_priority(result.ticket_id, Priority.P1, actor=actor, expected_version=seen)
    with pytest.raises(Conflict):
        service.set_priority(result.ticket_id, Priority.P4, actor=actor, expected_version=seen)
