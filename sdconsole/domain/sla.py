"""Provides SLA targets and deadline arithmetic over a calendar.

A `Calendar` answers "which instant is N working minutes after this one". The round-the-clock
calendar lives here; business-hours calendars implement the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sdconsole.domain.model import Priority, Status

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

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant `seconds` working seconds after `start`."""
        ...

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Working seconds from `start` to `end`, rounded down (0 when `end` is not after)."""
        ...


class RoundTheClock:
    """A 24/7 calendar: working minutes are wall-clock minutes."""

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds() // 60))

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    def seconds_between(self, start: datetime, end: datetime) -> int:
        return max(0, int((end - start).total_seconds() // 1))


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


# -- the clocks, replayed from a ticket's history ---------------------------------------------


class SlaClock(StrEnum):
    """The three clocks every request runs (DOMAIN.md §3)."""

    REGISTRATION = "registration"
    """Received → registered and classified."""
    RESPONSE = "response"
    """Received → the first public reply by an engineer (or, on monitoring, the reaction)."""
    RESOLUTION = "resolution"
    """Received → resolved; a reopened ticket's clock goes on where it stopped."""


class FactKind(StrEnum):
    """What happened to a ticket, as far as the clocks care."""

    CLASSIFIED = "classified"
    RESPONDED = "responded"
    STATUS = "status"
    PRIORITY = "priority"


@dataclass(frozen=True, slots=True)
class Fact:
    """One step of a ticket's history: a status or priority change, a classification, a reply."""

    at: datetime
    kind: FactKind
    status: Status | None = None
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """What the clocks are measured against: the contract's SLA plan, or the defaults.

    Attributes:
        targets: each priority's targets.
        calendars: the working time of each priority's clocks (P1 is often round the clock).
        pausing: statuses in which the clocks stand still (waiting for the client; for the
            vendor where the plan says so).
        warning_pct: the share of a target after which the clock warns.
    """

    targets: Mapping[Priority, Targets]
    calendars: Mapping[Priority, Calendar]
    pausing: frozenset[Status] = frozenset({Status.WAITING_CLIENT})
    warning_pct: int = 80


DEFAULT_POLICY = Policy(DEFAULT_TARGETS, dict.fromkeys(Priority, RoundTheClock()))
"""Tickets without a contract: the default targets, round the clock."""

_STOPS_EVERYTHING = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One clock's state after replaying a history up to `now`.

    Attributes:
        clock: which clock.
        target: the current target, in working minutes.
        due_at: when the clock breaches (or breached) if it keeps running; while paused, the due
            instant were it resumed now.
        stopped_at: when it stopped (classified, responded, resolved), or None while running.
        elapsed: working minutes it ran, pauses excluded.
        paused: working minutes it stood paused.
        breached_at: when it passed its due instant, or None.
        warn_at: when it crosses the warning threshold (running clocks only).
        overdue: working minutes it ran past its deadline, pauses excluded (0 while on time);
            with no priority change, `elapsed` − `target`.
    """

    clock: SlaClock
    target: int
    due_at: datetime
    stopped_at: datetime | None
    elapsed: int
    paused: int
    breached_at: datetime | None
    warn_at: datetime | None
    overdue: int = 0

    @property
    def breached(self) -> bool:
        """It passed its due instant before it stopped (or, still running, before now)."""
        return self.breached_at is not None


@dataclass(frozen=True, slots=True)
class SlaReading:
    """All three clocks of one ticket, and since when they stand paused (None: running)."""

    registration: ClockReading
    response: ClockReading
    resolution: ClockReading
    paused_since: datetime | None

    def __iter__(self) -> Iterator[ClockReading]:
        return iter((self.registration, self.response, self.resolution))


class _Run:
    """The bookkeeping of one clock during a replay, in working seconds.

    Seconds, not minutes: a history has many steps, and rounding each to whole minutes would
    move a deadline up to a minute later per step.
    """

    def __init__(self, clock: SlaClock, start: datetime, priority: Priority, policy: Policy):
        self.clock = clock
        self.policy = policy
        self.calendar = policy.calendars[priority]
        self.target = _target(policy, priority, clock)
        self.remaining = self.target * 60
        """Working seconds left until due, counted from `mark`; negative once overdue."""
        self.mark = start
        self.elapsed = 0
        self.paused = 0
        self.overdue = 0
        self.paused_now = False
        self.stopped_at: datetime | None = None
        self.breached_at: datetime | None = None

    def advance(self, at: datetime) -> None:
        """Count the working time from the mark to `at` as running or paused."""
        if self.stopped_at is not None or at <= self.mark:
            return
        used = self.calendar.seconds_between(self.mark, at)
        if self.paused_now:
            self.paused += used
        else:
            if used > self.remaining:
                if self.breached_at is None:
                    self.breached_at = self.calendar.add_seconds(self.mark, max(self.remaining, 0))
                self.overdue += used - max(self.remaining, 0)
            self.elapsed += used
            self.remaining -= used
        self.mark = at

    def stop(self, at: datetime) -> None:
        if self.stopped_at is None:
            self.stopped_at = at

    def restart(self, at: datetime) -> None:
        """A reopened ticket: the clock goes on from `at` with what it had left."""
        if self.stopped_at is not None:
            self.stopped_at = None
            self.mark = at

    def retarget(self, priority: Priority, more_urgent: bool) -> None:
        """The new priority's target counts from the change; more urgent never means later."""
        target = _target(self.policy, priority, self.clock)
        self.remaining = min(self.remaining, target * 60) if more_urgent else target * 60
        self.target = target
        self.calendar = self.policy.calendars[priority]

    def reading(self, now: datetime) -> ClockReading:
        if self.remaining <= 0 and self.breached_at is not None:
            due = self.breached_at
        else:
            due = self.calendar.add_seconds(self.mark, self.remaining)
        warn_at = None
        if self.stopped_at is None and not self.paused_now:
            margin = -(-self.target * 60 * (100 - self.policy.warning_pct) // 100)
            warn_at = self.calendar.add_seconds(self.mark, max(self.remaining - margin, 0))
        return ClockReading(
            clock=self.clock,
            target=self.target,
            due_at=due,
            stopped_at=self.stopped_at,
            elapsed=self.elapsed // 60,
            paused=self.paused // 60,
            breached_at=self.breached_at,
            warn_at=warn_at,
            overdue=self.overdue // 60,
        )


def _target(policy: Policy, priority: Priority, clock: SlaClock) -> int:
    targets = policy.targets[priority]
    return {
        SlaClock.REGISTRATION: targets.registration_minutes,
        SlaClock.RESPONSE: targets.response_minutes,
        SlaClock.RESOLUTION: targets.resolution_minutes,
    }[clock]


def replay(
    received_at: datetime,
    priority: Priority,
    facts: Iterable[Fact],
    policy: Policy,
    now: datetime,
) -> SlaReading:
    """Run the three clocks over a ticket's history, from its receipt up to `now`.

    The rules (docs/sla.md pins each one with a test):

    * every clock starts when the request was received, on the targets of the first priority;
    * registration stops at the first classification, response at the first response,
      resolution when the ticket is resolved; resolving, closing or cancelling stops all three;
    * in a pausing status the running clocks stand still, and their deadlines move by the paused
      working time; reopening a resolved or closed ticket restarts the resolution clock with the
      time it had left;
    * a priority change re-targets the running clocks from the change: the new target counts
      from that instant, except that a more urgent priority never moves a deadline later;
    * a clock breaches when it runs past its deadline; a breach stays a breach.

    Facts are taken in time order; facts before `received_at` count as at `received_at`, facts
    after `now` are ignored.
    """
    runs = {clock: _Run(clock, received_at, priority, policy) for clock in SlaClock}
    paused_since: datetime | None = None
    status = Status.NEW
    for fact in sorted(facts, key=lambda f: f.at):
        if fact.at > now:
            break
        at = max(fact.at, received_at)
        for run in runs.values():
            run.advance(at)
        if fact.kind is FactKind.CLASSIFIED:
            runs[SlaClock.REGISTRATION].stop(at)
        elif fact.kind is FactKind.RESPONDED:
            runs[SlaClock.RESPONSE].stop(at)
        elif fact.kind is FactKind.PRIORITY and fact.priority is not None:
            if fact.priority != priority:
                for run in runs.values():
                    if run.stopped_at is None:
                        run.retarget(fact.priority, fact.priority < priority)
                priority = fact.priority
        elif fact.kind is FactKind.STATUS and fact.status is not None:
            before, status = status, fact.status
            if status in _STOPS_EVERYTHING:
                for run in runs.values():
                    run.stop(at)
            elif before in _STOPS_EVERYTHING:
                runs[SlaClock.RESOLUTION].restart(at)
            pause = status in policy.pausing
            for run in runs.values():
                run.paused_now = pause
            paused_since = (paused_since or at) if pause else None
    for run in runs.values():
        run.advance(now)
    return SlaReading(
        registration=runs[SlaClock.REGISTRATION].reading(now),
        response=runs[SlaClock.RESPONSE].reading(now),
        resolution=runs[SlaClock.RESOLUTION].reading(now),
        paused_since=paused_since,
    )


# -- warnings and breaches --------------------------------------------------------------------


class AlertLevel(StrEnum):
    """How far a clock has gone."""

    WARNING = "warning"
    """Past the plan's warning threshold."""
    BREACH = "breach"
    """Past the deadline."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One warning or breach of one clock, at the instant it happened."""

    clock: SlaClock
    level: AlertLevel
    at: datetime

    @property
    def bit(self) -> int:
        """This alert's bit in a ticket's record of alerts already raised (`sla_alerts`)."""
        return alert_bit(self.clock, self.level)


def alert_bit(clock: SlaClock, level: AlertLevel) -> int:
    """The bit of (clock, level) in a ticket's `sla_alerts`: each is raised once per ticket."""
    return _ALERT_BITS[clock, level]


_ALERT_BITS = {
    (clock, level): 1 << (c * 2 + n)
    for c, clock in enumerate(SlaClock)
    for n, level in enumerate(AlertLevel)
}


def pending_alerts(reading: SlaReading, raised: int) -> list[Alert]:
    """Every warning and breach the clocks have reached or will reach, not raised yet.

    A running clock has its warning and its breach ahead (or behind: `at` may be past); a
    stopped clock has only the breach it ran into before stopping. A paused clock has none
    until it runs again. Sorted by instant.
    """
    alerts: list[Alert] = []
    for clock in reading:
        candidates: list[tuple[AlertLevel, datetime | None]] = []
        if clock.breached_at is not None:
            # Past its deadline already: the breach says it all, a warning after it would not.
            candidates = [(AlertLevel.BREACH, clock.breached_at)]
        elif clock.stopped_at is None and reading.paused_since is None:
            candidates = [(AlertLevel.WARNING, clock.warn_at), (AlertLevel.BREACH, clock.due_at)]
        for level, at in candidates:
            if at is not None and not raised & alert_bit(clock.clock, level):
                alerts.append(Alert(clock.clock, level, at))
    return sorted(alerts, key=lambda alert: alert.at)
