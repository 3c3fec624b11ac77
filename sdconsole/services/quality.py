"""Provides quality control: slow requests flagged, recurring incidents gathered into problems.

`scan_quality` is a periodic job of ``sdconsole workers run`` (and ``sdconsole quality scan``).
Each pass, in one transaction:

1. requests resolved within ``[quality] slow_window_days`` above their category's p90 are tagged
   ``slow``, with an event that says by how much (`domain.quality.slow_tickets`);
2. requests of one category on one register, shop or client, ``recurring_count`` times within
   ``recurring_days``, open a **problem ticket** for line 3 that links them
   (`domain.quality.recurring`); later incidents of the same kind join the open problem. A
   problem resolved before an incident was received does not take it: a new one opens when the
   incidents recur again.

Both are idempotent: a second pass over the same tickets changes nothing. Problem tickets come
from the desk itself (channel ``internal``): they run no client SLA and the SLA report leaves
them out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from sdconsole.config import QualitySettings, Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.model import (
    ChannelKind,
    EventKind,
    LinkKind,
    MessageKind,
    Priority,
    Status,
    ticket_number,
)
from sdconsole.domain.quality import (
    Incident,
    Place,
    Recurrence,
    Resolution,
    recurring,
    slow_tickets,
)
from sdconsole.i18n import N_, _, current_language
from sdconsole.storage import Store
from sdconsole.storage.tables import Category, Client, Device, Event, Message, Ticket, TicketLink

ADVISORY_LOCK = 0x5D_0A_11_7E
"""PostgreSQL advisory lock key of a quality pass (SQLite serialises writers by itself)."""
SLOW_TAG = "slow"
PROBLEM_TAG = "problem"
PROBLEM_KEY = "problem:"

PLACE_WORDS = {
    Place.DEVICE: N_("register {name}"),
    Place.SITE: N_("shop {name}"),
    Place.CLIENT: N_("client {name}"),
}


@dataclass(slots=True)
class QualitySummary:
    """What one pass did."""

    slow: int = 0
    problems: int = 0
    linked: int = 0

    @property
    def total(self) -> int:
        return self.slow + self.problems + self.linked


def scan_quality(store: Store, clock: Clock, settings: Settings) -> int:
    """One pass of quality control (a `PeriodicJob`); returns how many changes it made."""
    return run_quality(store, clock, settings.quality).total


def run_quality(store: Store, clock: Clock, settings: QualitySettings) -> QualitySummary:
    """One pass of quality control, with what it did."""
    now = clock.now()
    summary = QualitySummary()
    with store.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One pass at a time (the worker and `quality scan`): two would both open a problem.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        summary.slow = _flag_slow(session, now, settings)
        _gather(session, now, settings, summary)
    return summary


# -- slow requests -----------------------------------------------------------------------------


def _flag_slow(session: Session, now: datetime, settings: QualitySettings) -> int:
    since = now - timedelta(days=settings.slow_window_days)
    rows = session.execute(
        select(Ticket.id, Category.code, Ticket.resolution_minutes, Ticket.tags)
        .join(Category, Category.id == Ticket.category_id)
        .where(
            Ticket.resolved_at >= since,
            Ticket.resolution_minutes.is_not(None),
            Ticket.status.in_([Status.RESOLVED.value, Status.CLOSED.value]),
            Ticket.channel != ChannelKind.INTERNAL.value,
        )
    ).all()
    unflagged = [r.id for r in rows if SLOW_TAG not in (r.tags or [])]
    found = slow_tickets(
        (Resolution(r.id, r.code, r.resolution_minutes) for r in rows),
        min_samples=settings.slow_min_samples,
        among=unflagged,
    )
    for slow in found:
        ticket = session.get(Ticket, slow.ticket_id)
        assert ticket is not None
        ticket.tags = [*ticket.tags, SLOW_TAG]
        session.add(
            Event(
                ticket_id=ticket.id,
                at=now,
                actor_id=None,
                kind=EventKind.FIELD.value,
                after=SLOW_TAG,
                details={
                    "field": "quality",
                    "minutes": slow.minutes,
                    "p90": slow.p90,
                    "samples": slow.samples,
                    "category": slow.category,
                },
            )
        )
    return len(found)


# -- recurring incidents -----------------------------------------------------------------------


def _gather(
    session: Session, now: datetime, settings: QualitySettings, summary: QualitySummary
) -> None:
    since = now - timedelta(days=settings.recurring_days)
    rows = session.execute(
        select(
            Ticket.id,
            Category.code,
            Ticket.device_id,
            Ticket.site_id,
            Ticket.client_id,
            Ticket.received_at,
        )
        .join(Category, Category.id == Ticket.category_id)
        .where(
            Ticket.received_at >= since,
            Ticket.status != Status.CANCELLED.value,
            Ticket.channel != ChannelKind.INTERNAL.value,
            Ticket.merged_into_id.is_(None),
        )
    ).all()
    received = {r.id: r.received_at for r in rows}
    incidents = [Incident(r.id, r.code, r.device_id, r.site_id, r.client_id) for r in rows]
    problems = _problems(session)
    links = _problem_links(session, [p.id for p in problems.values() if p.id is not None])
    open_keys = {k: p for k, p in problems.items() if Status(p.status).is_open}
    taken = {t for key, p in open_keys.items() for t in links.get(p.id or 0, ())}
    # Incidents of an open problem's kind that it does not have yet join it.
    for key, problem in open_keys.items():
        category, place, where = _parse(key)
        joining = [
            i.ticket_id
            for i in incidents
            if i.category == category and i.at(place) == where and i.ticket_id not in taken
        ]
        for ticket_id in joining:
            _link(session, ticket_id, problem, now)
            taken.add(ticket_id)
            summary.linked += 1
    counts = {
        Place.DEVICE: settings.recurring_count,
        Place.SITE: settings.recurring_count,
        Place.CLIENT: settings.recurring_client_count,
    }
    for group in recurring(incidents, counts=counts, taken=taken):
        earlier = problems.get(group.key)
        ids = group.ticket_ids
        if earlier is not None:
            done_at = earlier.resolved_at or earlier.closed_at or earlier.updated_at
            old = links.get(earlier.id or 0, set())
            ids = tuple(t for t in ids if t not in old and done_at and received[t] > done_at)
            if len(ids) < counts[group.place]:
                continue
        problem = _open_problem(session, group, ids, now, settings)
        for ticket_id in ids:
            _link(session, ticket_id, problem, now)
        summary.problems += 1
        summary.linked += len(ids)


def _problems(session: Session) -> dict[str, Ticket]:
    """The latest problem ticket of each key (open ones win over older finished ones)."""
    found: dict[str, Ticket] = {}
    for ticket in session.execute(
        select(Ticket)
        .where(Ticket.source_key.like(PROBLEM_KEY + "%"))
        .where(Ticket.channel == ChannelKind.INTERNAL.value)
        .order_by(Ticket.id)
    ).scalars():
        assert ticket.source_key is not None
        current = found.get(ticket.source_key)
        if current is None or not Status(current.status).is_open:
            found[ticket.source_key] = ticket
    return found


def _problem_links(session: Session, problem_ids: list[int]) -> dict[int, set[int]]:
    links: dict[int, set[int]] = defaultdict(set)
    if problem_ids:
        for incident, problem in session.execute(
            select(TicketLink.ticket_id, TicketLink.other_id).where(
                TicketLink.kind == LinkKind.PROBLEM.value, TicketLink.other_id.in_(problem_ids)
            )
        ):
            links[problem].add(incident)
    return links


def _parse(key: str) -> tuple[str, Place, int]:
    _prefix, category, place, where = key.split(":", 3)
    return category, Place(place), int(where)


def _place_name(session: Session, group: Recurrence) -> str:
    if group.place is Place.DEVICE:
        device = session.get(Device, group.place_id)
        if device is None:
            return f"#{group.place_id}"
        name = (device.model or "") + (f" № {device.serial}" if device.serial else "")
        return name.strip() or f"#{group.place_id}"
    client = session.get(Client, group.place_id)
    return client.name if client else f"#{group.place_id}"


def _open_problem(
    session: Session,
    group: Recurrence,
    ids: tuple[int, ...],
    now: datetime,
    settings: QualitySettings,
) -> Ticket:
    incidents = [session.get(Ticket, t) for t in ids]
    first = next(t for t in incidents if t is not None)
    category = session.get(Category, first.category_id) if first.category_id else None
    where = _(PLACE_WORDS[group.place]).format(name=_place_name(session, group))
    if category is None:
        name = group.category
    else:
        name = (category.name_ru if current_language() == "ru" else category.name_en) or (
            group.category
        )
    subject = _("Recurring incident: {category} at {place}, {count} in {days} days").format(
        category=name, place=where, count=len(ids), days=settings.recurring_days
    )
    priority = min((t.priority for t in incidents if t is not None), default=int(Priority.P3))
    problem = Ticket(
        subject=subject[:500],
        client_id=first.client_id,
        site_id=first.site_id if group.place is not Place.CLIENT else None,
        device_id=first.device_id if group.place is Place.DEVICE else None,
        contract_id=first.contract_id,
        channel=ChannelKind.INTERNAL.value,
        category_id=first.category_id,
        priority=priority,
        line=settings.problem_line,
        team=settings.problem_team or (category.team if category else None),
        status=Status.NEW.value,
        received_at=now,
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(days=settings.problem_review_days),
        resolution_due_at=now + timedelta(days=settings.problem_review_days),
        source_key=group.key,
        tags=[PROBLEM_TAG],
    )
    session.add(problem)
    session.flush()
    listing = "\n".join(
        f"{ticket_number(t.id or 0)} · {t.received_at:%Y-%m-%d} · {t.subject[:80]}"
        for t in incidents
        if t is not None
    )
    session.add(
        Message(
            ticket_id=problem.id,
            kind=MessageKind.SYSTEM.value,
            channel=ChannelKind.INTERNAL.value,
            author_name="sdconsole",
            body=_(
                "Requests of one kind at one place within {days} days: {count}. Find the cause "
                "and fix it once.\n\n{listing}"
            ).format(count=len(ids), days=settings.recurring_days, listing=listing),
            created_at=now,
        )
    )
    session.add(
        Event(
            ticket_id=problem.id,
            at=now,
            actor_id=None,
            kind=EventKind.CREATED.value,
            after=Status.NEW.value,
            details={
                "channel": ChannelKind.INTERNAL.value,
                "priority": Priority(priority).label,
                "category": group.category,
                "problem": {"place": group.place.value, "incidents": len(ids)},
            },
        )
    )
    return problem


def _link(session: Session, incident_id: int, problem: Ticket, now: datetime) -> None:
    assert problem.id is not None
    session.add(
        TicketLink(
            ticket_id=incident_id, other_id=problem.id, kind=LinkKind.PROBLEM.value, created_at=now
        )
    )
    for ticket_id, other, inverse in (
        (incident_id, problem.id, False),
        (problem.id, incident_id, True),
    ):
        details: dict[str, object] = {"link": LinkKind.PROBLEM.value}
        if inverse:
            details["inverse"] = True
        session.add(
            Event(
                ticket_id=ticket_id,
                at=now,
                actor_id=None,
                kind=EventKind.LINKED.value,
                after=ticket_number(other),
                details=details,
            )
        )
