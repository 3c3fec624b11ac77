"""Provides the SLA clock bookkeeping on tickets: start, pause, resume and re-target.

Targets come from the ticket's contract's SLA plan (per priority), else `DEFAULT_TARGETS`.
Deadlines are computed on the plan's calendar; the clock arithmetic lives in `domain.sla`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from sdconsole.domain.model import Priority, Status
from sdconsole.domain.sla import (
    DEFAULT_TARGETS,
    Calendar,
    RoundTheClock,
    Targets,
    deadlines,
)
from sdconsole.storage.tables import Contract, SlaPlan, SlaTarget, Ticket


def targets_for(session: Session, ticket: Ticket) -> tuple[Targets, Calendar]:
    """The targets and calendar that apply to the ticket's priority."""
    priority = Priority(ticket.priority)
    if ticket.contract_id is not None:
        row = session.execute(
            select(SlaTarget)
            .join(Contract, Contract.sla_plan_id == SlaTarget.plan_id)
            .where(Contract.id == ticket.contract_id, SlaTarget.priority == int(priority))
        ).scalar_one_or_none()
        if row is not None:
            targets = Targets(
                row.registration_minutes, row.response_minutes, row.resolution_minutes
            )
            return targets, RoundTheClock()
    return DEFAULT_TARGETS[priority], RoundTheClock()


def pausing_statuses(session: Session, ticket: Ticket) -> frozenset[Status]:
    """Statuses that stop the clocks: waiting for the client; for the vendor where the plan says."""
    pauses = {Status.WAITING_CLIENT}
    if ticket.contract_id is not None:
        pause_on_vendor = session.execute(
            select(SlaPlan.pause_on_vendor)
            .join(Contract, Contract.sla_plan_id == SlaPlan.id)
            .where(Contract.id == ticket.contract_id)
        ).scalar_one_or_none()
        if pause_on_vendor:
            pauses.add(Status.WAITING_VENDOR)
    return frozenset(pauses)


def start(session: Session, ticket: Ticket) -> None:
    """Set the three deadlines from the moment the request was received."""
    assert ticket.received_at is not None
    targets, calendar = targets_for(session, ticket)
    due = deadlines(ticket.received_at, targets, calendar)
    ticket.registration_due_at = due.registration
    ticket.response_due_at = due.response
    ticket.resolution_due_at = due.resolution


def retarget(session: Session, ticket: Ticket, now: datetime) -> None:
    """After a priority change: the new targets count from the change, minus nothing already paused.

    A clock already stopped (responded) keeps its outcome; a running one gets the new target
    measured from `now`.
    """
    targets, calendar = targets_for(session, ticket)
    due = deadlines(now, targets, calendar)
    if ticket.first_response_at is None:
        ticket.response_due_at = due.response
    if ticket.resolved_at is None:
        ticket.resolution_due_at = due.resolution


def resume(session: Session, ticket: Ticket, now: datetime) -> None:
    """End a pause: the running clocks' deadlines move by the paused working time."""
    assert ticket.paused_at is not None
    _, calendar = targets_for(session, ticket)
    paused = calendar.minutes_between(ticket.paused_at, now)
    ticket.paused_minutes += paused
    if ticket.first_response_at is None and ticket.response_due_at is not None:
        ticket.response_due_at = calendar.add_minutes(ticket.response_due_at, paused)
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = calendar.add_minutes(ticket.resolution_due_at, paused)
    ticket.paused_at = None
