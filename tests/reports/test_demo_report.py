"""The SLA report on the demo store, checked against counts taken ticket by ticket in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sdconsole.domain.reporting import ClockCounts, ReportGroup, ReportScope, percentile
from sdconsole.domain.sla import SlaClock
from sdconsole.services.breaches import list_breaches
from sdconsole.services.demo import build_demo
from sdconsole.storage import Store
from sdconsole.storage import reports as queries
from sdconsole.storage.tables import Ticket
from tests.conftest import NOW


def test_demo_report_equals_direct_counts(store: Store) -> None:
    build_demo(store, seed=1, now=NOW, tickets=150)
    scope = ReportScope(NOW - timedelta(days=120), datetime(2026, 11, 24, tzinfo=UTC))
    with store.reader() as session:
        rows = list(session.execute(select(Ticket)).scalars())
        groups, total = queries.sla_figures(
            session=session, scope=scope, now=NOW, by=ReportGroup.LINE
        )
    counted = [t for t in rows if t.status != "cancelled" and t.received_at >= scope.start]
    assert total.tickets == len(counted) > 100
    assert sum(g.tickets for g in groups) == total.tickets

    def state(stopped: bool, breached: bool, due: datetime | None, paused: bool) -> str:
        if breached or (not stopped and not paused and due is not None and due < NOW):
            return "breached"
        return "met" if stopped else "running"

    expected: dict[str, Counter[str]] = {clock: Counter() for clock in ("reg", "resp", "resol")}
    for t in counted:
        paused = t.paused_at is not None
        expected["reg"][
            state(
                t.registered_at is not None, t.registration_breached, t.registration_due_at, paused
            )
        ] += 1
        expected["resp"][
            state(t.response_minutes is not None, t.response_breached, t.response_due_at, paused)
        ] += 1
        expected["resol"][
            state(
                t.resolution_minutes is not None,
                t.resolution_breached,
                t.resolution_due_at,
                paused,
            )
        ] += 1
    for name, counts in (
        ("reg", total.registration),
        ("resp", total.response),
        ("resol", total.resolution),
    ):
        assert counts == ClockCounts(**expected[name]), name
    assert total.response.breached > 0 and total.resolution.met > 0
    response = sorted(t.response_minutes for t in counted if t.response_minutes is not None)
    assert total.response_minutes.median == percentile(response, 0.5)
    assert total.response_minutes.p90 == percentile(response, 0.9)

    breaches = Counter(b.clock for b in list_breaches(store, scope, NOW))
    assert breaches[SlaClock.REGISTRATION] == total.registration.breached
    assert breaches[SlaClock.RESPONSE] == total.response.breached
    assert breaches[SlaClock.RESOLUTION] == total.resolution.breached
