"""Provides the SLA bookkeeping on tickets: each ticket's clocks, replayed from its events.

`refresh(session, ticket, now)` reads the ticket's events (the audit trail is the source of truth),
replays them through `domain.sla.replay` on the policy of the ticket's contract and writes the
result to the ticket's SLA fields: the three deadlines, whether each clock breached, the working
minutes to first response and to resolution, the pause, and `due_at`, which the queue sorts by.
Every use case that changes a ticket calls it in the same transaction, so the stored fields are
always those the history gives.

The policy: the targets of the contract's SLA plan for each priority (else `DEFAULT_TARGETS`),
measured on the plan's calendar or a priority's own, in the calendar's zone or else the shop's
(else Moscow's); waiting for the client pauses, waiting for the vendor where the plan says so.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from sdconsole.domain.calendar import calendar_from_data
from sdconsole.domain.clock import Clock
from sdconsole.domain.model import EventKind, Priority, Status
from sdconsole.domain.sla import (
    DEFAULT_POLICY,
    DEFAULT_TARGETS,
    Calendar,
    Fact,
    FactKind,
    Policy,
    SlaReading,
    Targets,
    pending_alerts,
    queue_due,
    replay,
)
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    BusinessCalendar,
    Client,
    Contract,
    Event,
    SlaPlan,
    SlaTarget,
    Ticket,
)

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Europe/Moscow"
"""The zone of a calendar without one, for a ticket without a shop."""


def policy_for(session: Session, ticket: Ticket) -> Policy:
    """The SLA policy of the ticket's contract, in the ticket's shop's zone.

    Kept for the rest of the transaction in `session.info`: a bulk job (an import, the demo)
    refreshes many tickets of one contract; a plan edited in another transaction is seen by the
    next one.
    """
    return contract_policy(session, ticket.contract_id, ticket.site_id)


def contract_policy(session: Session, contract_id: int | None, site_id: int | None) -> Policy:
    """`policy_for` a ticket of this contract at this shop (kept for the transaction)."""
    if contract_id is None:
        return DEFAULT_POLICY
    cache: dict[tuple[int, int | None], Policy] = session.info.setdefault("sla_policies", {})
    key = (contract_id, site_id)
    if key not in cache:
        cache[key] = _load_policy(session, contract_id, site_id)
    return cache[key]


_PlanRows = tuple[SlaPlan, dict[int, SlaTarget], dict[int, BusinessCalendar]]


def _plan_rows(session: Session, contract_id: int) -> _PlanRows | None:
    """The contract's SLA plan, its targets by priority and its calendars, read once per
    transaction (a batch opens tickets at thousands of shops of one contract)."""
    cache: dict[int, _PlanRows | None] = session.info.setdefault("sla_plan_rows", {})
    if contract_id in cache:
        return cache[contract_id]
    plan = session.execute(
        select(SlaPlan)
        .join(Contract, Contract.sla_plan_id == SlaPlan.id)
        .where(Contract.id == contract_id)
    ).scalar_one_or_none()
    found: _PlanRows | None = None
    if plan is not None:
        rows = session.execute(select(SlaTarget).where(SlaTarget.plan_id == plan.id)).scalars()
        by_priority = {row.priority: row for row in rows}
        calendar_ids = {plan.calendar_id} | {
            row.calendar_id for row in by_priority.values() if row.calendar_id is not None
        }
        calendar_rows = {
            row.id: row
            for row in session.execute(
                select(BusinessCalendar).where(BusinessCalendar.id.in_(calendar_ids))
            ).scalars()
        }
        found = (plan, by_priority, calendar_rows)
    cache[contract_id] = found
    return found


def _load_policy(session: Session, contract_id: int, site_id: int | None) -> Policy:
    rows = _plan_rows(session, contract_id)
    if rows is None:
        return DEFAULT_POLICY
    plan, by_priority, calendar_rows = rows
    zone = _site_zone(session, site_id)
    calendars = {row_id: _calendar(row, zone) for row_id, row in calendar_rows.items()}
    targets: dict[Priority, Targets] = {}
    per_priority: dict[Priority, Calendar] = {}
    for priority in Priority:
        row = by_priority.get(int(priority))
        if row is None:
            targets[priority] = DEFAULT_TARGETS[priority]
            per_priority[priority] = calendars[plan.calendar_id]
            continue
        targets[priority] = Targets(
            row.registration_minutes, row.response_minutes, row.resolution_minutes
        )
        per_priority[priority] = calendars[row.calendar_id or plan.calendar_id]
    pausing = {Status.WAITING_CLIENT}
    if plan.pause_on_vendor:
        pausing.add(Status.WAITING_VENDOR)
    return Policy(targets, per_priority, frozenset(pausing), plan.warning_pct)


def facts_for(events: Sequence[Event]) -> list[Fact]:
    """The clock-relevant steps of a ticket's event trail."""
    facts: list[Fact] = []
    for event in events:
        kind = EventKind(event.kind)
        at = event.at
        assert at is not None
        if kind is EventKind.CREATED:
            if (event.details or {}).get("category"):
                facts.append(Fact(at, FactKind.CLASSIFIED))
        elif kind is EventKind.CATEGORY and event.after is not None:
            facts.append(Fact(at, FactKind.CLASSIFIED))
        elif kind is EventKind.FIRST_RESPONSE:
            facts.append(Fact(at, FactKind.RESPONDED))
        elif kind is EventKind.STATUS and event.after is not None:
            facts.append(Fact(at, FactKind.STATUS, status=Status(event.after)))
        elif kind is EventKind.PRIORITY and event.after is not None:
            facts.append(Fact(at, FactKind.PRIORITY, priority=Priority(int(event.after))))
    return facts


def first_priority(ticket: Ticket, events: Sequence[Event]) -> Priority:
    """The priority the ticket was received with: before its first priority change."""
    for event in events:
        if event.kind == EventKind.PRIORITY.value and event.before is not None:
            return Priority(int(event.before))
    return Priority(ticket.priority)


def refresh(session: Session, ticket: Ticket, now: datetime) -> SlaReading:
    """Replay the ticket's clocks up to `now` and store the result on the ticket."""
    assert ticket.received_at is not None
    events = list(
        session.execute(
            select(Event).where(Event.ticket_id == ticket.id).order_by(Event.at, Event.id)
        ).scalars()
    )
    reading = replay(
        ticket.received_at,
        first_priority(ticket, events),
        facts_for(events),
        policy_for(session, ticket),
        now,
    )
    store_reading(ticket, reading)
    raise_alerts(session, ticket, reading, now)
    return reading


def raise_alerts(session: Session, ticket: Ticket, reading: SlaReading, now: datetime) -> None:
    """Record each warning and breach reached by `now` once, and note when the next is due."""
    events, ticket.sla_alerts, ticket.sla_next_alert_at = alerts_reached(
        ticket.id, ticket.sla_alerts, reading, now
    )
    for values in events:
        session.add(Event(**values))


def alerts_reached(
    ticket_id: int | None, raised: int, reading: SlaReading, now: datetime
) -> tuple[list[dict[str, Any]], int, datetime | None]:
    """The alert events a reading has reached by `now` and not yet raised (as column values),
    the ticket's alert bits with them, and when the next one falls due."""
    pending = pending_alerts(reading, raised)
    events: list[dict[str, Any]] = []
    for alert in pending:
        if alert.at > now:
            break
        events.append(
            {
                "ticket_id": ticket_id,
                "at": alert.at,
                "actor_id": None,
                "kind": EventKind.SLA.value,
                "before": None,
                "after": alert.level.value,
                "details": {
                    "clock": alert.clock.value,
                    "recorded_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
                },
            }
        )
        raised |= alert.bit
    return events, raised, next((a.at for a in pending if a.at > now), None)


def store_reading(ticket: Ticket, reading: SlaReading) -> None:
    """Write a replay's result to the ticket's SLA fields."""
    for name, value in reading_fields(Status(ticket.status), reading).items():
        setattr(ticket, name, value)


def reading_fields(status: Status, reading: SlaReading) -> dict[str, Any]:
    """A replay's result as the ticket's SLA column values, for a ticket in `status`."""
    registration, response, resolution = reading
    finished = status in (Status.RESOLVED, Status.CLOSED)
    return {
        "registration_due_at": registration.due_at,
        "registered_at": registration.stopped_at,
        "registration_breached": registration.breached,
        "response_due_at": response.due_at,
        "response_breached": response.breached,
        "response_minutes": response.elapsed if response.stopped_at is not None else None,
        "resolution_due_at": resolution.due_at,
        "resolution_breached": resolution.breached,
        "resolution_minutes": resolution.elapsed if finished else None,
        "paused_at": reading.paused_since,
        "paused_minutes": resolution.paused,
        "due_at": queue_due(
            response_due=response.due_at,
            resolution_due=resolution.due_at if resolution.stopped_at is None else None,
            responded=response.stopped_at is not None,
            paused=reading.paused_since is not None,
        ),
    }


def _site_zone(session: Session, site_id: int | None) -> str:
    if site_id is None:
        return DEFAULT_ZONE
    site = session.get(Client, site_id)  # a batch has its shops in the session already
    return (site.timezone if site is not None else None) or DEFAULT_ZONE


def _calendar(row: BusinessCalendar, site_zone: str) -> Calendar:
    return _cached_calendar(
        row.timezone or site_zone,
        row.is_24x7,
        json.dumps(row.weekly, sort_keys=True),
        row.holidays,
        json.dumps(row.overrides, sort_keys=True, default=str),
    )


@functools.lru_cache(maxsize=256)
def _cached_calendar(
    zone: str, is_24x7: bool, weekly: str, holidays: str | None, overrides: str
) -> Calendar:
    """Calendars keep per-day caches: build each distinct one once per process."""
    data: dict[str, Any] = json.loads(overrides)
    return calendar_from_data(
        timezone=zone,
        is_24x7=is_24x7,
        weekly=json.loads(weekly),
        holidays=holidays,
        overrides=data,
    )


def check_alerts(store: Store, clock: Clock, *, limit: int = 1000) -> int:
    """The periodic SLA job: raise the warnings and breaches that fell due since the last run.

    Reads the tickets whose next alert is due (an index on `sla_next_alert_at`), and refreshes
    each in its own short transaction. A ticket an engineer changed meanwhile is skipped: their
    change refreshed its clocks and raised its alerts already.

    Returns:
        How many tickets were refreshed.
    """
    now = clock.now()
    with store.reader() as session:
        due = list(
            session.execute(
                select(Ticket.id)
                .where(Ticket.sla_next_alert_at <= now)
                .order_by(Ticket.sla_next_alert_at)
                .limit(limit)
            ).scalars()
        )
    done = 0
    for ticket_id in due:
        try:
            with store.transaction() as session:
                ticket = session.get(Ticket, ticket_id)
                if ticket is None or ticket.sla_next_alert_at is None:
                    continue
                if ticket.sla_next_alert_at > now:
                    continue
                refresh(session, ticket, now)
                done += 1
        except StaleDataError:
            log.info("ticket %s changed while its SLA alerts were raised; skipped", ticket_id)
    return done


def calendar_for_row(row: BusinessCalendar, zone: str) -> Calendar:
    """The calendar of a stored row, in its own zone or else `zone` (cached per process)."""
    return _calendar(row, zone)
