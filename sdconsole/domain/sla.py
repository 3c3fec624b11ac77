"""Provides SLA targets and deadline arithmetic over a calendar.

A `Calendar` answers "which instant is N working minutes after this one". The round-the-clock
calendar lives here; business-hours calendars implement the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sdconsole.domain.model import Priority

PAUSED_DUE = datetime(9999, 1, 1, tzinfo=UTC)
"""The queue's sort key of a ticket whose clocks are paused: after every running one."""


class Calendar(Protocol):
    """Working-time arithmetic."""

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant `minutes` working minutes after `start`."""
        ...

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes from `start` to `end` (0 when `end` is not after `start`)."""
        ...


class RoundTheClock:
    """A 24/7 calendar: working minutes are wall-clock minutes."""

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class Targets:
    """One priority's targets, in working minutes."""

    registration_minutes: int
    response_minutes: int
    resolution_minutes: int


DEFAULT_TARGETS: dict[Priority, Targets] = {
    Priority.P1: Targets(15, 15, 4 * 60),
    Priority.P2: Targets(15, 30, 8 * 60),
    Priority.P3: Targets(15, 3 * 60, 3 * 24 * 60),
    Priority.P4: Targets(15, 24 * 60, 5 * 24 * 60),
}
"""Used when a ticket has no contract (DOMAIN.md §4.2)."""


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Due instants of the three clocks."""

    registration: datetime
    response: datetime
    resolution: datetime


def deadlines(start: datetime, targets: Targets, calendar: Calendar) -> Deadlines:
    """The clocks' due instants for a request received at `start`."""
    return Deadlines(
        registration=calendar.add_minutes(start, targets.registration_minutes),
        response=calendar.add_minutes(start, targets.response_minutes),
        resolution=calendar.add_minutes(start, targets.resolution_minutes),
    )


def queue_due(
    *,
    response_due: datetime | None,
    resolution_due: datetime | None,
    responded: bool,
    paused: bool,
) -> datetime:
    """The queue's sort key: the nearest deadline of a clock still running."""
    if paused:
        return PAUSED_DUE
    candidates = [d for d in (None if responded else response_due, resolution_due) if d is not None]
    return min(candidates) if candidates else PAUSED_DUE
