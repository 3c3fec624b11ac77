"""Provides the queries of ``report csat``, ``report load`` and ``report volume``.

Each reads the rows of its period once and leaves the tallying to `reports.*` (ratings and a
period's events are thousands of rows, not millions). The scopes are those of the SLA report
(`ReportScope`): a period, a client subtree, a contract; what the period applies to differs:

* CSAT: when the rating was given;
* load: when tickets were taken and resolved, and when time was spent (open tickets: now);
* volume: when requests were received.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from sdconsole.domain.model import OPEN_STATUSES, ChannelKind, EventKind, Status
from sdconsole.domain.reporting import ReportGroup, ReportScope
from sdconsole.storage.reports import GROUP_COLUMNS, group_labels
from sdconsole.storage.tables import Client, Engineer, Event, Rating, Ticket, TimeEntry

_t = Ticket.__table__.c


def _scoped(scope: ReportScope) -> list[Any]:
    conditions: list[Any] = []
    if scope.client_ids is not None:
        ids = list(scope.client_ids)
        conditions.append(or_(_t.client_id.in_(ids), _t.site_id.in_(ids)))
    if scope.contract_id is not None:
        conditions.append(_t.contract_id == scope.contract_id)
    return conditions


def _logins(session: Session) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(Engineer.id, Engineer.login))}


# -- CSAT --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingRow:
    """A rating given in the period, with its ticket's group and who worked it."""

    ticket_id: int
    score: int
    comment: str
    channel: str | None
    created_at: datetime
    follow_up: str | None
    follow_up_note: str | None
    follow_up_by: str | None
    key: Any
    """The ticket's group key (`GROUP_COLUMNS`), or None without ``--by``."""
    assignee: str | None
    client: str
    subject: str


def ratings(
    *, session: Session, scope: ReportScope, by: ReportGroup | None
) -> tuple[list[RatingRow], dict[Any, str]]:
    """The ratings given in the period, oldest first, and the names of their group keys."""
    key = GROUP_COLUMNS[by] if by is not None else _t.id
    rows = session.execute(
        select(
            Rating.ticket_id,
            Rating.score,
            Rating.comment,
            Rating.channel,
            Rating.created_at,
            Rating.follow_up,
            Rating.follow_up_note,
            Rating.follow_up_by_id,
            key,
            _t.assignee_id,
            Client.name,
            _t.subject,
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .outerjoin(Client, Client.id == _t.client_id)
        .where(
            Rating.created_at >= scope.start,
            Rating.created_at < scope.end,
            _t.status != Status.CANCELLED.value,
            *_scoped(scope),
        )
        .order_by(Rating.created_at, Rating.ticket_id)
    ).all()
    logins = _logins(session)
    found = [
        RatingRow(
            ticket_id=r[0],
            score=r[1],
            comment=r[2] or "",
            channel=r[3],
            created_at=r[4],
            follow_up=r[5],
            follow_up_note=r[6],
            follow_up_by=logins.get(r[7]) if r[7] else None,
            key=r[8] if by is not None else None,
            assignee=logins.get(r[9]) if r[9] else None,
            client=r[10] or "—",
            subject=r[11],
        )
        for r in rows
    ]
    labels = group_labels(session=session, by=by, keys={r.key for r in found}) if by else {}
    return found, labels


# -- load --------------------------------------------------------------------------------------


@dataclass(slots=True)
class LoadFigures:
    """One engineer's (line's, team's) work: what is open now, and what the period saw."""

    open: int = 0
    taken: int = 0
    resolved: int = 0
    minutes: int = 0
    response_met: int = 0
    response_breached: int = 0
    resolution_met: int = 0
    resolution_breached: int = 0


LOAD_GROUPS = ("engineer", "line", "team")


def load_figures(
    *, session: Session, scope: ReportScope, by: str
) -> tuple[dict[Any, LoadFigures], dict[Any, str]]:
    """Per engineer (by login), line or team: open now; taken, resolved and time in the period.

    An engineer's *taken* are the tickets assigned to them in the period (by themselves or by
    someone else), *resolved* those they resolved, *time* what they logged; the SLA counts are
    over the tickets they resolved. By line or team, each ticket counts under its current line
    or team.
    """
    if by not in LOAD_GROUPS:
        raise ValueError(by)
    logins = _logins(session)
    ids_by_login = {login: engineer_id for engineer_id, login in logins.items()}
    figures: dict[Any, LoadFigures] = defaultdict(LoadFigures)
    scoped = _scoped(scope)
    group = {"engineer": _t.assignee_id, "line": _t.line, "team": _t.team}[by]

    open_statuses = [s.value for s in OPEN_STATUSES]
    for key, count in session.execute(
        select(group, func.count()).where(_t.status.in_(open_statuses), *scoped).group_by(group)
    ):
        if by != "engineer" or key is not None:
            figures[key].open += count

    period = (Event.at >= scope.start, Event.at < scope.end)
    taken: set[tuple[Any, int]] = set()
    for ticket_id, after, line, team in session.execute(
        select(Event.ticket_id, Event.after, _t.line, _t.team)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Event.kind == EventKind.ASSIGNEE.value, *period, *scoped)
    ):
        if after is None:
            continue
        key = {"engineer": ids_by_login.get(str(after)), "line": line, "team": team}[by]
        if key is not None or by != "engineer":
            taken.add((key, ticket_id))
    for key, _ticket in taken:
        figures[key].taken += 1

    resolved: dict[tuple[Any, int], tuple[bool, bool, bool, bool]] = {}
    for ticket_id, actor_id, line, team, r_min, r_breach, s_breach in session.execute(
        select(
            Event.ticket_id,
            Event.actor_id,
            _t.line,
            _t.team,
            _t.response_minutes,
            _t.response_breached,
            _t.resolution_breached,
        )
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(Event.kind == EventKind.RESOLVED.value, *period, *scoped)
    ):
        key = {"engineer": actor_id, "line": line, "team": team}[by]
        if by == "engineer" and key is None:
            continue
        resolved[(key, ticket_id)] = (
            r_min is not None and not r_breach,
            bool(r_breach),
            not s_breach,
            bool(s_breach),
        )
    for (key, _ticket), (r_met, r_late, s_met, s_late) in resolved.items():
        f = figures[key]
        f.resolved += 1
        f.response_met += r_met
        f.response_breached += r_late
        f.resolution_met += s_met
        f.resolution_breached += s_late

    entry_key = {"engineer": TimeEntry.engineer_id, "line": _t.line, "team": _t.team}[by]
    for key, minutes in session.execute(
        select(entry_key, func.sum(TimeEntry.minutes))
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .where(TimeEntry.spent_at >= scope.start, TimeEntry.spent_at < scope.end, *scoped)
        .group_by(entry_key)
    ):
        figures[key].minutes += int(minutes or 0)

    labels: dict[Any, str] = logins if by == "engineer" else {}
    return dict(figures), labels


# -- volume ------------------------------------------------------------------------------------


@dataclass(slots=True)
class VolumeFigures:
    """Requests received in the period, of one group: how many, and where they stand now
    (received = resolved + open + cancelled; resolved includes closed)."""

    received: int = 0
    resolved: int = 0
    open: int = 0
    cancelled: int = 0


VOLUME_GROUPS = ("channel", "category", "client", "priority", "line", "day")


def volume_figures(
    *, session: Session, scope: ReportScope, by: str | None
) -> tuple[dict[Any, VolumeFigures], dict[Any, str]]:
    """Requests received in the period per channel, category, client, priority, line or day
    (UTC); None: the total only (one group, key None)."""
    if by is not None and by not in VOLUME_GROUPS:
        raise ValueError(by)
    if by == "day":
        key: Any = func.date(_t.received_at)
        if session.get_bind().dialect.name == "postgresql":
            key = func.date(func.timezone("UTC", _t.received_at))
    elif by is not None:
        key = GROUP_COLUMNS[ReportGroup(by)]
    else:
        key = None
    columns: Sequence[Any] = [key] if key is not None else []
    query = select(*columns, _t.status, func.count()).where(
        _t.received_at >= scope.start,
        _t.received_at < scope.end,
        _t.channel != ChannelKind.INTERNAL.value,
        *_scoped(scope),
    )
    query = query.group_by(*columns, _t.status)
    figures: dict[Any, VolumeFigures] = defaultdict(VolumeFigures)
    open_statuses = {s.value for s in OPEN_STATUSES}
    for row in session.execute(query):
        group = row[0] if key is not None else None
        if by == "day" and group is not None and not isinstance(group, str):
            group = group.isoformat()
        status, count = row[-2], row[-1]
        f = figures[group]
        f.received += count
        if status == Status.CANCELLED.value:
            f.cancelled += count
        elif status in open_statuses:
            f.open += count
        else:
            f.resolved += count
    labels = (
        group_labels(session=session, by=ReportGroup(by), keys=figures)
        if by in ("category", "client")
        else {}
    )
    return dict(figures), labels


def category_names(*, session: Session, ids: Iterable[Any], language: str) -> dict[Any, str]:
    """Categories' names in `language` (``ru`` or else English), for documents clients read."""
    from sdconsole.storage.tables import Category

    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    name = Category.name_ru if language == "ru" else Category.name_en
    return {
        row[0]: row[1]
        for row in session.execute(select(Category.id, name).where(Category.id.in_(wanted)))
    }
