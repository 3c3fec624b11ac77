"""Provides the SLA report's queries: figures per group, per day, and the breached clocks.

Every query reads the SLA fields the engine stored on each ticket (`services.sla.refresh`) and
classifies each of the three clocks with one SQL expression (`clock_state`), so the counts of
``report sla`` and the rows of ``report breaches`` come from the same rule:

* **breached**: the stored flag is set, or the clock still runs, is not paused and its deadline
  is past (`*_due_at < now`): the engine marks that only at its next refresh;
* **met**: the clock stopped (registered / first response / resolved) without breaching;
* **running**: neither yet.

Cancelled requests are left out. The period is on ``received_at`` (index ``ix_ticket_received``).

How the work is split between the database and Python was measured on 1,000,000 tickets
(BENCHMARKS.md, "SLA report"): PostgreSQL computes every figure in one scan (the clock states
counted with ``FILTER``, the medians with ``percentile_cont``, the groups and the total in one
``GROUPING SETS`` aggregate); SQLite has no hash aggregate (every GROUP BY sorts all rows) and no
percentile function, so it computes each ticket's clock states in one scan and Python tallies
them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session

from sdconsole.domain.model import ChannelKind, Status
from sdconsole.domain.reporting import (
    ClockCounts,
    ReportGroup,
    ReportScope,
    SlaDay,
    SlaFigures,
    Spread,
    percentile,
)
from sdconsole.storage.tables import Category, Client, Contract, Engineer, Event, Ticket
from sdconsole.storage.types import UTCDateTime

MET, BREACHED, RUNNING = 0, 1, 2
"""A clock's state as `clock_state` computes it."""

INDEX_SHARE = 0.25
"""SQLite: above this share of all tickets in the period, scan the table instead of reading
``ix_ticket_received`` (a million look-ups by rowid cost twice a scan)."""

_t = Ticket.__table__.c

GROUP_COLUMNS: dict[ReportGroup, Any] = {
    ReportGroup.CLIENT: _t.client_id,
    ReportGroup.CONTRACT: _t.contract_id,
    ReportGroup.PRIORITY: _t.priority,
    ReportGroup.LINE: _t.line,
    ReportGroup.ENGINEER: _t.assignee_id,
    ReportGroup.CATEGORY: _t.category_id,
    ReportGroup.CHANNEL: _t.channel,
}
"""The column each grouping reads: ids for clients, contracts, engineers and categories."""

_CLOCKS = (
    # stopped when …, breach flag, deadline
    (_t.registered_at, _t.registration_breached, _t.registration_due_at),
    (_t.response_minutes, _t.response_breached, _t.response_due_at),
    (_t.resolution_minutes, _t.resolution_breached, _t.resolution_due_at),
)


def clock_state(index: int, now: datetime) -> ColumnElement[int]:
    """The state of clock `index` (0 registration, 1 response, 2 resolution) at `now`.

    A clock has stopped when the engine stored its stop: `registered_at` for registration, the
    working minutes for response and resolution (set once responded, or resolved). A running
    clock past its deadline counts as breached unless the ticket is paused (a paused clock's
    stored deadline is where it would be if resumed at the last refresh).
    """
    stop, flag, due = _CLOCKS[index]
    overdue = and_(stop.is_(None), _t.paused_at.is_(None), due < now)
    return case(
        (or_(flag.is_(True), overdue), BREACHED),
        (stop.is_not(None), MET),
        else_=RUNNING,
    )


def _state_code(now: datetime) -> ColumnElement[int]:
    """The three states in one small integer: registration + 3 × response + 9 × resolution."""
    return clock_state(0, now) + 3 * clock_state(1, now) + 9 * clock_state(2, now)


def decode(code: int) -> tuple[int, int, int]:
    """The states of registration, response and resolution packed by `_state_code`."""
    return code % 3, code // 3 % 3, code // 9


def _tally(codes: Iterable[tuple[int, int]]) -> tuple[int, list[ClockCounts]]:
    """Tickets and per-clock counts from (state code, tickets) pairs."""
    counts = [[0, 0, 0] for _ in range(3)]
    tickets = 0
    for code, n in codes:
        tickets += n
        for clock, state in enumerate(decode(code)):
            counts[clock][state] += n
    return tickets, [ClockCounts(*c) for c in counts]


# -- scope ------------------------------------------------------------------------------------


def client_subtree(*, session: Session, client_id: int) -> tuple[int, ...]:
    """The client and every client below it (a chain's legal entities and shops)."""
    found = [client_id]
    level = [client_id]
    while level:
        level = [
            row[0]
            for row in session.execute(select(Client.id).where(Client.parent_id.in_(level)))
            if row[0] not in found
        ]
        found.extend(level)
    return tuple(found)


def contract_by_ref(*, session: Session, ref: str) -> list[Contract]:
    """Contracts with this number (usually one), else the contract with this numeric id."""
    ref = ref.strip()
    found = list(
        session.execute(select(Contract).where(Contract.number == ref).order_by(Contract.id))
        .scalars()
        .all()
    )
    if not found and ref.isdigit():
        contract = session.get(Contract, int(ref))
        found = [contract] if contract is not None else []
    return found


def _received(session: Session, scope: ReportScope) -> list[Any]:
    """The period condition; on SQLite written to skip the index when it would cost more."""
    received: Any = _t.received_at
    if _dialect(session) == "sqlite":
        in_period = session.execute(
            select(func.count())
            .select_from(Ticket)
            .where(_t.received_at >= scope.start, _t.received_at < scope.end)
        ).scalar_one()
        everything = session.execute(select(func.max(_t.id))).scalar_one() or 0
        if in_period > INDEX_SHARE * everything:
            # Unary plus is a no-op on any value in SQLite, and hides the column from the planner.
            received = literal_column("+ticket.received_at", UTCDateTime())
    return [received >= scope.start, received < scope.end]


def _conditions(session: Session, scope: ReportScope) -> list[Any]:
    conditions = [
        *_received(session, scope),
        _t.status != Status.CANCELLED.value,
        _t.channel != ChannelKind.INTERNAL.value,
    ]
    if scope.client_ids is not None:
        ids = list(scope.client_ids)
        conditions.append(or_(_t.client_id.in_(ids), _t.site_id.in_(ids)))
    if scope.contract_id is not None:
        conditions.append(_t.contract_id == scope.contract_id)
    return conditions


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# -- the SLA report ---------------------------------------------------------------------------


def sla_figures(
    *, session: Session, scope: ReportScope, now: datetime, by: ReportGroup | None
) -> tuple[list[SlaFigures], SlaFigures]:
    """The report's figures per group (keys as stored, unordered) and over everything.

    Args:
        scope: which requests (received in the period; client subtree; contract).
        now: the instant running clocks are judged at.
        by: the grouping; None for the total only (the group list is then empty).
    """
    key = GROUP_COLUMNS[by] if by is not None else None
    conditions = _conditions(session, scope)
    if _dialect(session) != "sqlite":
        groups, total = _postgresql_figures(session, key, conditions, now)
        return (groups if by is not None else []), total
    codes, response, resolution = _sqlite_tally(session, key, conditions, now)

    def figures(group: Any, pairs: Iterable[tuple[int, int]], rs: Spread, ss: Spread) -> SlaFigures:
        tickets, (registration, response, resolution) = _tally(pairs)
        return SlaFigures(group, tickets, registration, response, resolution, rs, ss)

    groups = [
        figures(
            group,
            pairs.items(),
            _spread_sorted(response.get(group, ())),
            _spread_sorted(resolution.get(group, ())),
        )
        for group, pairs in codes.items()
    ]
    everything: Counter[int] = Counter()
    for pairs in codes.values():
        everything.update(pairs)
    total = figures(
        None,
        everything.items(),
        _spread_sorted(sorted(chain.from_iterable(response.values()))),
        _spread_sorted(sorted(chain.from_iterable(resolution.values()))),
    )
    return (groups if by is not None else []), total


def _sqlite_tally(
    session: Session, key: Any, conditions: list[Any], now: datetime
) -> tuple[dict[Any, Counter[int]], dict[Any, list[int]], dict[Any, list[int]]]:
    """One scan: each ticket's group, state code and minutes; tallied here, not by a sort."""
    columns = [
        key if key is not None else literal_column("NULL"),
        _state_code(now),
        _t.response_minutes,
        _t.resolution_minutes,
    ]
    result: Any = session.connection().execute(select(*columns).where(*conditions))
    # The DB-API rows as they are: SQLAlchemy's Row objects would cost more than the tally.
    rows = result.cursor.fetchall() if result.cursor is not None else result.all()
    result.close()
    codes: dict[Any, Counter[int]] = {}
    response: dict[Any, list[int]] = {}
    resolution: dict[Any, list[int]] = {}
    for group, code, to_response, to_resolution in rows:
        tally = codes.get(group)
        if tally is None:
            tally = codes[group] = Counter()
        tally[code] += 1
        if to_response is not None:
            values = response.get(group)
            if values is None:
                values = response[group] = []
            values.append(to_response)
        if to_resolution is not None:
            values = resolution.get(group)
            if values is None:
                values = resolution[group] = []
            values.append(to_resolution)
    for values in chain(response.values(), resolution.values()):
        values.sort()
    return codes, response, resolution


SORT_MEMORY = "256MB"
"""PostgreSQL ``work_mem`` for the report's transaction: the medians sort every clock's minutes
in memory instead of spilling to disk (the server's default of 4 MB spills at ~100,000 rows)."""


def _postgresql_figures(
    session: Session, key: Any, conditions: list[Any], now: datetime
) -> tuple[list[SlaFigures], SlaFigures]:
    """PostgreSQL: every figure of every group and of the total from one scan.

    The clock states are counted with ``FILTER`` and the medians taken with ``percentile_cont``
    (which skips NULL minutes) in one ``GROUPING SETS`` aggregate: one pass over the table where
    a query per figure would read it three times.
    """
    session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    states = (
        select(
            (key if key is not None else literal_column("NULL")).label("k"),
            *(clock_state(i, now).label(f"s{i}") for i in range(3)),
            _t.response_minutes.label("response"),
            _t.resolution_minutes.label("resolution"),
        )
        .where(*conditions)
        .subquery()
    )
    counts = [
        func.count().filter(states.c[f"s{clock}"] == state)
        for clock in range(3)
        for state in (MET, BREACHED, RUNNING)
    ]
    quantiles = [
        func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(states.c[name])
        for name in ("response", "resolution")
    ]
    if key is not None:
        stmt = select(func.grouping(states.c.k), states.c.k, func.count(), *counts, *quantiles)
        stmt = stmt.group_by(func.grouping_sets(states.c.k, tuple_()))
    else:
        stmt = select(
            literal_column("1"), literal_column("NULL"), func.count(), *counts, *quantiles
        )
    groups: list[SlaFigures] = []
    total = SlaFigures(None, 0, ClockCounts(), ClockCounts(), ClockCounts(), Spread(), Spread())
    for row in session.execute(stmt):
        is_total, group, tickets = row[0], row[1], row[2]
        registration, response, resolution = (
            ClockCounts(*row[3 + 3 * c : 6 + 3 * c]) for c in range(3)
        )
        figures = SlaFigures(
            None if is_total else group,
            tickets,
            registration,
            response,
            resolution,
            _spread(row[12]),
            _spread(row[13]),
        )
        if is_total:
            total = figures
        else:
            groups.append(figures)
    return groups, total


def _spread(values: Sequence[float] | None) -> Spread:
    if not values:
        return Spread()
    return Spread(round(values[0], 1), round(values[1], 1))


def _spread_sorted(values: Sequence[int]) -> Spread:
    return Spread(percentile(values, 0.5), percentile(values, 0.9))


def sla_days(*, session: Session, scope: ReportScope, now: datetime) -> list[SlaDay]:
    """Response and resolution compliance of the requests received on each day (UTC)."""
    if _dialect(session) == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
        day: Any = func.substr(_t.received_at, 1, 10)
    else:
        day = cast(func.timezone("UTC", _t.received_at), Date)
    sub = (
        select(day.label("day"), _state_code(now).label("code"))
        .where(*_conditions(session, scope))
        .subquery()
    )
    per_day: dict[date, list[tuple[int, int]]] = {}
    for value, code, n in session.execute(
        select(sub.c.day, sub.c.code, func.count()).group_by(sub.c.day, sub.c.code)
    ):
        when = value if isinstance(value, date) else date.fromisoformat(value)
        per_day.setdefault(when, []).append((code, n))
    days = []
    for when in sorted(per_day):
        tickets, (_, response, resolution) = _tally(per_day[when])
        days.append(SlaDay(when, tickets, response, resolution))
    return days


def group_labels(*, session: Session, by: ReportGroup, keys: Iterable[Any]) -> dict[Any, str]:
    """Names of the stored keys of id-based groupings (client, contract, engineer, category).

    Other groupings (priority, line, channel) and missing keys get no entry.
    """
    ids = [k for k in keys if k is not None]
    columns: dict[ReportGroup, tuple[Any, Any]] = {
        ReportGroup.CLIENT: (Client.id, Client.name),
        ReportGroup.CONTRACT: (Contract.id, Contract.number),
        ReportGroup.ENGINEER: (Engineer.id, Engineer.login),
        ReportGroup.CATEGORY: (Category.id, Category.code),
    }
    if by not in columns or not ids:
        return {}
    id_column, name_column = columns[by]
    return {
        row[0]: row[1]
        for row in session.execute(select(id_column, name_column).where(id_column.in_(ids)))
    }


# -- breaches ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreachedTicket:
    """A ticket of the period with at least one breached clock, and what the report shows."""

    id: int
    priority: int
    status: str
    received_at: datetime
    contract_id: int | None
    site_id: int | None
    assignee: str | None
    client: str
    site: str
    states: tuple[int, int, int]
    """`clock_state` of registration, response and resolution."""
    due: tuple[datetime | None, datetime | None, datetime | None]
    """The stored deadlines of the three clocks."""


def breached_tickets(
    *, session: Session, scope: ReportScope, now: datetime
) -> list[BreachedTicket]:
    """The tickets of the scope with a clock `clock_state` calls breached, by receipt."""
    site = aliased(Client)
    client = aliased(Client)
    states = [clock_state(i, now) for i in range(3)]
    stmt = (
        select(
            _t.id,
            _t.priority,
            _t.status,
            _t.received_at,
            _t.contract_id,
            _t.site_id,
            Engineer.login,
            client.name,
            site.name,
            *states,
            _t.registration_due_at,
            _t.response_due_at,
            _t.resolution_due_at,
        )
        .select_from(Ticket)
        .outerjoin(client, client.id == _t.client_id)
        .outerjoin(site, site.id == _t.site_id)
        .outerjoin(Engineer, Engineer.id == _t.assignee_id)
        .where(*_conditions(session, scope), or_(*(s == BREACHED for s in states)))
        .order_by(_t.received_at, _t.id)
    )
    return [
        BreachedTicket(
            id=row[0],
            priority=row[1],
            status=row[2],
            received_at=row[3],
            contract_id=row[4],
            site_id=row[5],
            assignee=row[6],
            client=row[7] or "",
            site=row[8] or "",
            states=(row[9], row[10], row[11]),
            due=(row[12], row[13], row[14]),
        )
        for row in session.execute(stmt)
    ]


def events_of(*, session: Session, ticket_ids: Sequence[int]) -> dict[int, list[Event]]:
    """The event trails of these tickets, each in time order (read in chunks)."""
    trails: dict[int, list[Event]] = {i: [] for i in ticket_ids}
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        for event in session.execute(
            select(Event).where(Event.ticket_id.in_(chunk)).order_by(Event.at, Event.id)
        ).scalars():
            trails[event.ticket_id].append(event)
    return trails
