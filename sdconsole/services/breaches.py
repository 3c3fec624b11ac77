"""Provides the breached clocks of a period: which requests were late, on which clock, by how much.

The tickets come from `storage.reports.breached_tickets`, which applies the same rule as the SLA
report's counts, so the list has exactly as many rows as the report counts breaches. How late
each clock was is not stored: it comes from replaying the ticket's event trail through the SLA
engine (`domain.sla.replay`), on the policy of its contract, up to `now`.
"""

from __future__ import annotations

from datetime import datetime

from sdconsole.domain.model import Priority, Status
from sdconsole.domain.reporting import Breach, ReportScope
from sdconsole.domain.sla import SlaClock, replay
from sdconsole.services.sla import facts_for, first_priority, policy_for
from sdconsole.storage import Store
from sdconsole.storage import reports as queries
from sdconsole.storage.tables import Ticket

_CLOCKS = tuple(SlaClock)


def list_breaches(store: Store, scope: ReportScope, now: datetime) -> list[Breach]:
    """Every breached clock of the requests in `scope`, by receipt, then clock."""
    breaches: list[Breach] = []
    with store.reader() as session:
        tickets = queries.breached_tickets(session=session, scope=scope, now=now)
        trails = queries.events_of(session=session, ticket_ids=[t.id for t in tickets])
        for found in tickets:
            # A stand-in carrying what the policy and the first priority are looked up by.
            stand_in = Ticket(
                subject="",
                channel="",
                contract_id=found.contract_id,
                site_id=found.site_id,
                priority=found.priority,
            )
            events = trails[found.id]
            reading = replay(
                found.received_at,
                first_priority(stand_in, events),
                facts_for(events),
                policy_for(session, stand_in),
                now,
            )
            for index, clock in enumerate(reading):
                if found.states[index] != queries.BREACHED:
                    continue
                breaches.append(
                    Breach(
                        ticket_id=found.id,
                        clock=_CLOCKS[index],
                        priority=Priority(found.priority),
                        status=Status(found.status),
                        received_at=found.received_at,
                        due_at=clock.breached_at or found.due[index],
                        stopped_at=clock.stopped_at,
                        late_minutes=clock.overdue,
                        paused_minutes=clock.paused,
                        assignee=found.assignee,
                        client=found.client,
                        site=found.site,
                    )
                )
    return breaches
