"""Provides the SLA report's queries: figures per group, per day, and the breached clocks.

Every query reads the SLA fields the engine stored on each ticket (`services.sla.refresh`) and
classifies each of the three clocks with one SQL expression (`clock_state`), so the counts of
``report sla`` and the rows of ``report breaches`` come from the same rule:

* **breached**: the stored flag is set, or the clock still runs, is not paused and its deadline
  is past (`*_due_at < now`): the engine marks that only at its next refresh;
* **met**: the clock stopped (registered / first response / resolved) without breaching;
* **running**: neither yet.

Cancelled requests and the desk's own (``internal``) tickets are left out. The period is on
``received_at``, the first column of ``ix_ticket_report``, which also holds every other column the
figures read (migration 0014).

How the work is split between the database and Python was measured on 1,000,000 tickets
(BENCHMARKS.md, "SLA report"): one query gives each ticket's group and clock states, and its
minutes, as three texts of numbers, and numpy counts them and ranks the minutes
(`_tallied_figures`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
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
"""SQLite, for queries reading more than ``ix_ticket_report`` holds (``report breaches``): above
this share of all tickets in the period, scan the table instead of looking each entry's row up
(a million look-ups by rowid cost twice a scan)."""

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


def _conditions(session: Session, scope: ReportScope, *, covered: bool = False) -> list[Any]:
    """The scope as conditions on tickets.

    Args:
        covered: the query reads only ``ix_ticket_report``'s columns, so that index serves
            any period; otherwise, on SQLite, a long period skips the index (`_received`).
    """
    received = (
        [_t.received_at >= scope.start, _t.received_at < scope.end]
        if covered
        else _received(session, scope)
    )
    conditions = [
        *received,
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
    return _tallied_figures(session, by, _conditions(session, scope, covered=True), now)


NO_KEY = -1
"""How the report's columns carry a missing group key or minutes (ids are positive)."""


def _tallied_figures(
    session: Session, by: ReportGroup | None, conditions: list[Any], now: datetime
) -> tuple[list[SlaFigures], SlaFigures]:
    """Each ticket's group, state code and minutes as three columns, tallied with numpy.

    Fetching a million rows into Python costs more than the scan, and SQLite has no hash
    aggregate (a GROUP BY sorts every row) and no percentile function. So one query per
    back end joins each column into one text of numbers (SQLite's ``group_concat`` over the
    covering index ``ix_ticket_report``, PostgreSQL's ``string_agg`` over a parallel scan);
    numpy parses the three texts, numbers the groups and counts (``bincount``), and finds each
    group's median and p90 by partitioning, not sorting (`_spreads`), in C. Both back ends
    give the same figures by the same code.
    """
    import numpy as np  # only this report needs it: not at the CLI's start-up

    key, decode_key = _group_key(by)
    # The group key and the state code (0-26) travel as one number: key × 32 + code.
    # BigInteger: PostgreSQL would compute an integer key × 32 in int4.
    keyed_code = (
        cast(func.coalesce(key, NO_KEY), BigInteger) * 32 if key is not None else 0
    ) + _state_code(now)
    keyed, response, resolution = _integer_columns(
        session,
        conditions,
        [
            keyed_code,
            func.coalesce(_t.response_minutes, NO_KEY),
            func.coalesce(_t.resolution_minutes, NO_KEY),
        ],
    )
    keys, codes = keyed >> 5, keyed & 31  # arithmetic shift: NO_KEY × 32 + code gives NO_KEY
    stored_keys, group_of = _numbered(keys)
    groups = len(stored_keys)
    counts = np.bincount(group_of * 27 + codes, minlength=groups * 27).reshape(groups, 27)
    response_spreads, response_total = _spreads(group_of, response, groups)
    resolution_spreads, resolution_total = _spreads(group_of, resolution, groups)

    def figures(group: Any, per_code: list[int], rs: Spread, ss: Spread) -> SlaFigures:
        tickets, (registration, to_response, to_resolution) = _tally(enumerate(per_code))
        return SlaFigures(group, tickets, registration, to_response, to_resolution, rs, ss)

    total = figures(None, counts.sum(axis=0).tolist(), response_total, resolution_total)
    if by is None:
        return [], total
    found = [
        figures(decode_key(stored), per_code, response_spreads[i], resolution_spreads[i])
        for i, (stored, per_code) in enumerate(
            zip(stored_keys.tolist(), counts.tolist(), strict=True)
        )
    ]
    return found, total


def _numbered(keys: Any) -> tuple[Any, Any]:
    """The distinct keys in order, and each key's place among them (``numpy.unique``'s
    ``return_inverse``): by counting where the keys are ids (a range not much wider than the
    count), by ``unique``'s sort otherwise."""
    import numpy as np

    if len(keys) == 0 or int(keys.max()) - NO_KEY > 4 * len(keys) + 1024:
        return np.unique(keys, return_inverse=True)
    shifted = keys - NO_KEY  # NO_KEY is the least key: 0 and up
    present = np.flatnonzero(np.bincount(shifted))
    places = np.zeros(int(present[-1]) + 1, dtype=np.int64)  # keys is not empty
    places[present] = np.arange(len(present))
    return present + NO_KEY, places[shifted]


def _integer_columns(session: Session, conditions: list[Any], columns: list[Any]) -> list[Any]:
    """The values of integer `columns` (never NULL) over the tickets meeting `conditions`.

    Each column comes back from the database as one text of numbers, joined by the database
    (SQLite's ``group_concat``, PostgreSQL's ``string_agg``), and is parsed by numpy into an
    int64 array: no Python object per ticket. The texts are read in parts (`_parts`), each part
    one row of texts, so that no text nears the databases' limit on one value.
    """
    import numpy as np

    sqlite = _dialect(session) == "sqlite"
    if not sqlite:
        # Compiling this one scan's expressions costs more than it saves (0.2 s of 0.85 s at a
        # million tickets): PostgreSQL's JIT would start above its cost threshold. (For the
        # rest of the transaction: a report's reader session is its own.)
        session.execute(text("SET LOCAL jit = off"))
    joined = [
        func.group_concat(column) if sqlite else func.string_agg(cast(column, Text), literal(","))
        for column in columns
    ]
    parts: list[list[Any]] = [[] for _ in columns]
    for row in _parts(session, sqlite, joined, conditions):
        for part, text_ in zip(parts, row, strict=True):
            if text_:
                part.append(np.fromstring(text_, dtype=np.int64, sep=","))
    return [np.concatenate(part) if part else np.empty(0, dtype=np.int64) for part in parts]


CHUNK_TICKETS = 2_000_000
"""SQLite: tickets per query, by id range (a million tickets make about 4 MB a column; the
limit on one value is a billion bytes)."""

PAGES_PER_PART = 50_000
"""PostgreSQL: table pages per part (at about 27 tickets a page, 1.3 million tickets)."""

PARALLEL_PARTS = 2
"""PostgreSQL: the fewest parts, so that its parallel workers share the scan."""


def _parts(session: Session, sqlite: bool, joined: list[Any], conditions: list[Any]) -> list[Any]:
    """Rows of the joined texts, one per part of the tickets; together, every ticket once.

    SQLite: a query per id range (`+id` keeps the planner on the covering index rather than
    the rowid range). PostgreSQL has no parallel ``string_agg`` (no combine function before
    16), so one statement joins the parts' aggregates with ``UNION ALL``, each over a range of
    the table's pages (a TID range scan): its Parallel Append gives the parts to its workers,
    all under the statement's one snapshot (BENCHMARKS.md, "SLA report": 0.70–0.82 s → 0.32–0.41
    s for the scan of a million). The last range is open, for pages added since the count.
    """
    if sqlite:
        last_id = session.execute(select(func.max(_t.id))).scalar_one() or 0
        if last_id < CHUNK_TICKETS:
            return [session.connection().execute(select(*joined).where(*conditions)).one()]
        ticket_id: Any = literal_column("+ticket.id")
        return [
            session.connection()
            .execute(
                select(*joined).where(
                    *conditions, ticket_id >= start, ticket_id < start + CHUNK_TICKETS
                )
            )
            .one()
            for start in range(0, last_id + 1, CHUNK_TICKETS)
        ]
    pages = session.execute(
        text("SELECT pg_relation_size('ticket') / current_setting('block_size')::int")
    ).scalar_one()
    count = max(PARALLEL_PARTS, -(-pages // PAGES_PER_PART))
    bounds = [None, *(pages * i // count for i in range(1, count)), None]
    ctid: Any = literal_column("ticket.ctid")
    branches = []
    for low, high in pairwise(bounds):
        # The bounds are page numbers computed here, never input: safe as literals.
        ranged = list(conditions)
        if low is not None:
            ranged.append(ctid >= literal_column(f"'({int(low)},0)'::tid"))
        if high is not None:
            ranged.append(ctid < literal_column(f"'({int(high)},0)'::tid"))
        branches.append(select(*joined).where(*ranged))
    return list(session.connection().execute(union_all(*branches)).all())


def _group_key(by: ReportGroup | None) -> tuple[Any, Any]:
    """The grouping as an integer column for the report's texts, and how to read a key back."""
    if by is None:
        return None, lambda _stored: None
    if by is ReportGroup.CHANNEL:
        # The one text-valued grouping: each channel by its place in ChannelKind (only sdconsole
        # writes the column, always a ChannelKind; any other value would count as no channel).
        names = [kind.value for kind in ChannelKind]
        column = case({name: i for i, name in enumerate(names)}, value=_t.channel, else_=None)
        return column, lambda stored: None if stored == NO_KEY else names[stored]
    return GROUP_COLUMNS[by], lambda stored: None if stored == NO_KEY else stored


def _spreads(group_of: Any, minutes: Any, groups: int) -> tuple[list[Spread], Spread]:
    """Median and p90 of each group's known minutes and of all of them, with no full sort.

    The minutes are put in group order (a stable sort of the small group numbers, a radix sort
    below 65,536 groups), and each group's slice, like the whole, is only partitioned around
    the few ranks `percentile` reads (`_Ranked`).
    """
    import numpy as np

    known = minutes != NO_KEY
    values = minutes[known]
    of = group_of[known]
    if groups < 1 << 16:
        of = of.astype(np.uint16)
    in_groups = values[np.argsort(of, kind="stable")]
    bounds = [0, *np.cumsum(np.bincount(of, minlength=groups)).tolist()]
    spreads = [_spread_of(in_groups[a:b]) for a, b in pairwise(bounds)]
    return spreads, _spread_of(values)


SPREAD_FRACTIONS = (0.5, 0.9)
"""The median and p90 of every spread in the report."""


class _Ranked:
    """Unsorted values as `percentile` reads them: the k-th smallest, for the ranks it needs.

    ``numpy.partition`` puts those ranks in place in linear time, where a sort would order
    every value.
    """

    def __init__(self, values: Any, fractions: Sequence[float] = SPREAD_FRACTIONS) -> None:
        import numpy as np

        self._length = len(values)
        positions = [(self._length - 1) * fraction for fraction in fractions]
        ranks = sorted({r for p in positions for r in (math.floor(p), math.ceil(p))})
        placed = np.partition(values, ranks) if self._length else values
        self._at = {rank: placed[rank] for rank in ranks} if self._length else {}

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, rank: int) -> Any:
        return self._at[rank]


def _spread_of(values: Any) -> Spread:
    """`percentile`'s median and p90 of numpy values, as plain floats."""
    ranked = _Ranked(values)
    median, p90 = (percentile(ranked, fraction) for fraction in SPREAD_FRACTIONS)
    return Spread(None if median is None else float(median), None if p90 is None else float(p90))


def sla_days(*, session: Session, scope: ReportScope, now: datetime) -> list[SlaDay]:
    """Response and resolution compliance of the requests received on each day (UTC)."""
    import numpy as np

    if _dialect(session) == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: the date's digits make YYYYMMDD.
        day: Any = cast(func.replace(func.substr(_t.received_at, 1, 10), "-", ""), Integer)
    else:
        day = cast(func.to_char(func.timezone("UTC", _t.received_at), "YYYYMMDD"), Integer)
    (day_code,) = _integer_columns(
        session, _conditions(session, scope, covered=True), [day * 32 + _state_code(now)]
    )
    stored_days, day_of = np.unique(day_code >> 5, return_inverse=True)
    counts = np.bincount(day_of * 27 + (day_code & 31), minlength=len(stored_days) * 27)
    days = []
    for stored, per_code in zip(stored_days.tolist(), counts.reshape(-1, 27).tolist(), strict=True):
        tickets, (_, response, resolution) = _tally(enumerate(per_code))
        when = date(stored // 10000, stored // 100 % 100, stored % 100)
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
