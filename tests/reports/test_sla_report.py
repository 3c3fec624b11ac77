"""The SLA report's figures on both back ends: counting rules, filters, groups and breaches."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import ChannelKind, Status
from sdconsole.domain.reporting import (
    ClockCounts,
    ReportGroup,
    ReportScope,
    SlaFigures,
    Spread,
    percentile,
)
from sdconsole.domain.sla import SlaClock
from sdconsole.reports.sla import build_report
from sdconsole.services.breaches import list_breaches
from sdconsole.storage import Store, repositories
from sdconsole.storage import reports as queries
from sdconsole.storage.tables import Contract, Ticket
from tests.conftest import NOW
from tests.reports import world

PERIOD = ReportScope(
    start=datetime(2026, 10, 25, tzinfo=UTC), end=datetime(2026, 11, 24, tzinfo=UTC)
)
"""The default period at NOW: the last 30 days up to 23 November, both included."""


@pytest.fixture
def ids(store: Store, clock: FixedClock) -> dict[str, int]:
    return world.build(store, clock)


def figures(
    store: Store, scope: ReportScope = PERIOD, by: ReportGroup | None = None
) -> tuple[list[SlaFigures], SlaFigures]:
    with store.reader() as session:
        return queries.sla_figures(session=session, scope=scope, now=NOW, by=by)


def subtree(store: Store, ref: str) -> tuple[int, ...]:
    with store.reader() as session:
        client = repositories.client_by_ref(session=session, ref=ref)
        assert client is not None and client.id is not None
        return queries.client_subtree(session=session, client_id=client.id)


def test_every_way_a_clock_ends_is_counted(store: Store, ids: dict[str, int]) -> None:
    groups, total = figures(store)
    assert groups == []
    # old is before the period, cancelled is left out.
    assert total.tickets == 6
    assert total.registration == ClockCounts(met=5, breached=1, running=0)
    assert total.response == ClockCounts(met=2, breached=3, running=1)
    assert total.resolution == ClockCounts(met=1, breached=3, running=2)
    assert total.response.met_pct == 40.0
    assert total.resolution.met_pct == 25.0
    assert total.registration.met_pct == 83.3


def test_a_running_clock_past_its_deadline_is_breached_before_the_engine_says_so(
    store: Store, ids: dict[str, int]
) -> None:
    """Nothing refreshed "silent" since intake: its flags are clear, yet it is two days late."""
    with store.reader() as session:
        silent = session.get(Ticket, ids["silent"])
        assert silent is not None
        assert not (silent.response_breached or silent.resolution_breached)
    scope = ReportScope(PERIOD.start, PERIOD.end, client_ids=subtree(store, "CH-1"))
    by_engineer, _ = figures(store, scope, ReportGroup.ENGINEER)
    unassigned = next(g for g in by_engineer if g.key is None)
    # silent (breached) and fresh (running, 30 minutes old)
    assert unassigned.response == ClockCounts(met=0, breached=1, running=1)


def test_a_paused_clock_past_its_old_deadline_is_running(store: Store, ids: dict[str, int]) -> None:
    with store.reader() as session:
        waiting = session.get(Ticket, ids["waiting"])
        assert waiting is not None and waiting.status == Status.WAITING_CLIENT.value
        assert waiting.paused_at is not None and waiting.resolution_due_at is not None
        assert waiting.resolution_due_at < NOW
    by_priority, _ = figures(store, by=ReportGroup.PRIORITY)
    p3 = next(g for g in by_priority if g.key == 3)
    # silent breached; fresh and waiting (paused) running.
    assert p3.resolution == ClockCounts(met=0, breached=1, running=2)


def test_cancelled_tickets_are_left_out_entirely(store: Store, ids: dict[str, int]) -> None:
    by_priority, total = figures(store, by=ReportGroup.PRIORITY)
    assert 4 not in {g.key for g in by_priority}  # the only P4 was cancelled
    assert sum(g.tickets for g in by_priority) == total.tickets == 6


def test_median_and_p90_over_the_tickets_that_have_them(store: Store, ids: dict[str, int]) -> None:
    _, total = figures(store)
    # Response: waiting 5, met 10, late 30; resolution: met 120, late 300.
    assert total.response_minutes == Spread(median=10.0, p90=26.0)
    assert total.resolution_minutes == Spread(median=210.0, p90=282.0)
    by_priority, _ = figures(store, by=ReportGroup.PRIORITY)
    p2 = next(g for g in by_priority if g.key == 2)
    assert p2.response_minutes == Spread(10.0, 10.0)  # "other" has not been answered
    assert next(g for g in by_priority if g.key == 3).resolution_minutes == Spread()


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (ReportGroup.CLIENT, {"Продукты Урала": 5, "Северный берег": 1}),
        (ReportGroup.CONTRACT, {"Д-2026/7": 5, "—": 1}),
        (ReportGroup.PRIORITY, {"P1": 1, "P2": 2, "P3": 3}),
        (ReportGroup.LINE, {"1": 6}),
        (ReportGroup.ENGINEER, {"ivanov": 3, "—": 3}),
        (ReportGroup.CATEGORY, {"kkt.print": 5, "—": 1}),
        (ReportGroup.CHANNEL, {"email": 6}),
    ],
)
def test_group_keys(
    store: Store, ids: dict[str, int], by: ReportGroup, expected: dict[str, int]
) -> None:
    groups, total = figures(store, by=by)
    with store.reader() as session:
        labels = queries.group_labels(session=session, by=by, keys=[g.key for g in groups])
    report = build_report(
        groups, total, labels, by=by, start=PERIOD.start.date(), end=NOW.date(), as_of=NOW
    )
    assert {row.key: row.figures.tickets for row in report.rows} == expected
    if "—" in expected:
        assert report.rows[-1].key == "—"  # "none" comes last


def test_client_filter_takes_the_whole_subtree(store: Store, ids: dict[str, int]) -> None:
    chain = subtree(store, "CH-1")
    assert len(chain) == 2  # the chain and its shop
    for ref, tickets in (("CH-1", 5), ("S-7", 5), ("CH-2", 1)):
        scope = ReportScope(PERIOD.start, PERIOD.end, client_ids=subtree(store, ref))
        assert figures(store, scope)[1].tickets == tickets, ref


def test_contract_filter(store: Store, ids: dict[str, int]) -> None:
    with store.reader() as session:
        (contract,) = queries.contract_by_ref(session=session, ref="Д-2026/7")
        assert queries.contract_by_ref(session=session, ref=str(contract.id))[0].id == contract.id
        assert queries.contract_by_ref(session=session, ref="nope") == []
        assert session.execute(select(Contract)).scalars().all() == [contract]
    scope = ReportScope(PERIOD.start, PERIOD.end, contract_id=contract.id)
    assert figures(store, scope)[1].tickets == 5


def test_period_is_on_receipt(store: Store, ids: dict[str, int]) -> None:
    earlier = ReportScope(NOW - timedelta(days=45), PERIOD.end)
    assert figures(store, earlier)[1].tickets == 7  # with "old"
    only_today = ReportScope(datetime(2026, 11, 23, tzinfo=UTC), PERIOD.end)
    assert figures(store, only_today)[1].tickets == 1  # fresh
    assert figures(store, ReportScope(PERIOD.end, PERIOD.end + timedelta(days=1)))[1].tickets == 0


def test_daily_figures(store: Store, ids: dict[str, int]) -> None:
    with store.reader() as session:
        days = queries.sla_days(session=session, scope=PERIOD, now=NOW)
    assert [(d.day.isoformat(), d.tickets) for d in days] == [("2026-11-21", 5), ("2026-11-23", 1)]
    assert days[0].response == ClockCounts(met=2, breached=3, running=0)


def test_breaches_list_every_breach_the_report_counts(store: Store, ids: dict[str, int]) -> None:
    breaches = list_breaches(store, PERIOD, NOW)
    _, total = figures(store)
    per_clock = Counter(b.clock for b in breaches)
    assert per_clock[SlaClock.REGISTRATION] == total.registration.breached
    assert per_clock[SlaClock.RESPONSE] == total.response.breached
    assert per_clock[SlaClock.RESOLUTION] == total.resolution.breached
    late = {(b.ticket_id, b.clock): b for b in breaches}
    # Stopped clocks: late by elapsed − target (30 − 15, 300 − 240), due at the deadline passed.
    response = late[ids["late"], SlaClock.RESPONSE]
    assert response.late_minutes == 15
    assert response.due_at == world.BASE + timedelta(minutes=15)
    assert response.stopped_at == world.BASE + timedelta(minutes=30)
    assert late[ids["late"], SlaClock.RESOLUTION].late_minutes == 60
    # Running ones: up to now (two days = 2,880 minutes) minus the target.
    assert late[ids["silent"], SlaClock.REGISTRATION].late_minutes == 2880 - 15
    assert late[ids["silent"], SlaClock.RESPONSE].stopped_at is None
    assert late[ids["silent"], SlaClock.RESOLUTION].late_minutes == 2880 - 1440
    assert late[ids["other"], SlaClock.RESPONSE].late_minutes == 2880 - 30
    assert late[ids["other"], SlaClock.RESPONSE].client == "Северный берег"
    assert response.assignee == "ivanov" and response.site == "Магазин №7"


@pytest.mark.parametrize("by", list(ReportGroup))
def test_each_groups_medians_are_those_of_its_own_tickets(
    store: Store, ids: dict[str, int], by: ReportGroup
) -> None:
    groups, _ = figures(store, by=by)
    column = queries.GROUP_COLUMNS[by]
    with store.reader() as session:
        rows = session.execute(
            select(column, Ticket.response_minutes, Ticket.resolution_minutes).where(
                Ticket.received_at >= PERIOD.start,
                Ticket.received_at < PERIOD.end,
                Ticket.status != Status.CANCELLED.value,
                Ticket.channel != ChannelKind.INTERNAL.value,
            )
        ).all()
    expected = {}
    for key in {row[0] for row in rows}:
        response = sorted(r[1] for r in rows if r[0] == key and r[1] is not None)
        resolution = sorted(r[2] for r in rows if r[0] == key and r[2] is not None)
        expected[key] = (
            Spread(percentile(response, 0.5), percentile(response, 0.9)),
            Spread(percentile(resolution, 0.5), percentile(resolution, 0.9)),
        )
    assert {g.key: (g.response_minutes, g.resolution_minutes) for g in groups} == expected


@pytest.mark.parametrize("by", [None, *ReportGroup])
def test_figures_read_in_parts_are_the_same(
    store: Store, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, by: ReportGroup | None
) -> None:
    groups, total = figures(store, by=by)
    with store.reader() as session:
        days = queries.sla_days(session=session, scope=PERIOD, now=NOW)
    if store.engine.dialect.name == "postgresql":
        # A few tickets a page (the world fits one page): rewritten at the lowest fill factor.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ALTER TABLE ticket SET (fillfactor = 10)")
            c.exec_driver_sql("VACUUM FULL ticket")
    monkeypatch.setattr(queries, "CHUNK_TICKETS", 2)  # SQLite: id ranges of two tickets
    monkeypatch.setattr(queries, "PAGES_PER_PART", 1)  # PostgreSQL: a part per table page
    monkeypatch.setattr(queries, "PARALLEL_PARTS", 3)
    read_parts = queries._parts
    filled: list[int] = []

    def parts(*args: Any) -> list[Any]:
        rows = read_parts(*args)
        filled.append(sum(1 for row in rows if row[0]))
        return rows

    monkeypatch.setattr(queries, "_parts", parts)
    in_ranges, total_in_ranges = figures(store, by=by)
    assert filled and min(filled) > 1  # the tickets did come in several parts
    assert total_in_ranges == total
    assert sorted(in_ranges, key=repr) == sorted(groups, key=repr)
    with store.reader() as session:
        assert queries.sla_days(session=session, scope=PERIOD, now=NOW) == days


def test_sqlite_figures_read_the_covering_index_alone(
    sqlite_store: Store, clock: FixedClock
) -> None:
    """A column the report reads outside ``ix_ticket_report`` would cost a row look-up each.

    (With a client or contract filter the planner may rightly prefer those columns' indexes.)
    """
    world.build(sqlite_store, clock)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "group_concat" in statement:
            statements.append((statement, parameters))

    event.listen(sqlite_store.engine, "before_cursor_execute", seen)
    try:
        for by in [None, *ReportGroup]:
            figures(sqlite_store, by=by)
            figures(sqlite_store, ReportScope(PERIOD.start.replace(year=2000), PERIOD.end), by)
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", seen)
    assert len(statements) == 2 * (1 + len(ReportGroup))
    with sqlite_store.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            details = " ".join(row[-1] for row in plan)
            assert "COVERING INDEX ix_ticket_report" in details, details


@given(st.lists(st.integers(-1, 3_000), max_size=200), st.integers(0, 5))
def test_numbering_and_spreads_agree_with_a_full_sort(keys: list[int], wide: int) -> None:
    """The counting numbering equals ``numpy.unique``'s; partitioned spreads equal sorted ones."""
    # `wide` spreads some keys far apart, over the counting path's limit.
    array = np.array([k * 10**wide if k % 7 == 0 else k for k in keys], dtype=np.int64)
    stored, places = queries._numbered(array)
    expected_stored, expected_places = np.unique(array, return_inverse=True)
    assert stored.tolist() == expected_stored.tolist()
    assert places.tolist() == expected_places.tolist()

    minutes = np.array([(k * 37) % 500 if k % 5 else queries.NO_KEY for k in keys], dtype=np.int64)
    spreads, total = queries._spreads(places, minutes, len(stored))
    for group, spread in enumerate(spreads):
        mine = sorted(
            m
            for m, p in zip(minutes.tolist(), places.tolist(), strict=True)
            if p == group and m >= 0
        )
        assert spread == Spread(percentile(mine, 0.5), percentile(mine, 0.9))
    known = sorted(m for m in minutes.tolist() if m >= 0)
    assert total == Spread(percentile(known, 0.5), percentile(known, 0.9))
