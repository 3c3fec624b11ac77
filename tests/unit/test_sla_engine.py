"""The SLA engine: three clocks replayed from a ticket's history (docs/sla.md, "Clocks")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdconsole.domain.calendar import WorkingCalendar
from sdconsole.domain.model import Priority, Status
from sdconsole.domain.sla import (
    DEFAULT_POLICY,
    DEFAULT_TARGETS,
    AlertLevel,
    Fact,
    FactKind,
    Policy,
    RoundTheClock,
    SlaClock,
    Targets,
    alert_bit,
    pending_alerts,
    replay,
)

MSK = ZoneInfo("Europe/Moscow")
OFFICE = WorkingCalendar("Europe/Moscow", {str(d): [["09:00", "17:00"]] for d in range(1, 6)})
"""Monday to Friday, 09:00-17:00 Moscow time, with the Russian production calendar."""


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of November 2026 (Monday the 2nd … Friday the 27th) in Moscow."""
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)


def office_policy(*, pause_on_vendor: bool = False, warning_pct: int = 80) -> Policy:
    pausing = {Status.WAITING_CLIENT} | ({Status.WAITING_VENDOR} if pause_on_vendor else set())
    targets = {
        Priority.P1: Targets(15, 15, 240),
        Priority.P2: Targets(15, 60, 480),
        Priority.P3: Targets(15, 240, 1440),
        Priority.P4: Targets(15, 480, 2400),
    }
    return Policy(targets, dict.fromkeys(Priority, OFFICE), frozenset(pausing), warning_pct)


def status(at: datetime, value: Status) -> Fact:
    return Fact(at, FactKind.STATUS, status=value)


def test_clocks_start_at_receipt_on_business_hours() -> None:
    # DOMAIN §3.4: a 1-hour response raised at 16:30 on a 9-17 calendar is due 09:30 next day.
    reading = replay(msk(24, 16, 30), Priority.P2, [], office_policy(), msk(24, 16, 31))
    assert reading.response.due_at == msk(25, 9, 30)
    assert reading.registration.due_at == msk(24, 16, 45)
    assert reading.response.warn_at == msk(25, 9, 18)  # 80 % of 60 minutes
    assert not reading.response.breached


def test_first_response_stops_its_clock_and_measures_working_minutes() -> None:
    facts = [Fact(msk(25, 9, 20), FactKind.RESPONDED)]
    reading = replay(msk(24, 16, 30), Priority.P2, facts, office_policy(), msk(25, 12, 0))
    assert reading.response.stopped_at == msk(25, 9, 20)
    assert reading.response.elapsed == 50  # 30 minutes on Tuesday, 20 on Wednesday
    assert not reading.response.breached
    assert reading.resolution.stopped_at is None


def test_a_late_response_is_a_breach_at_the_due_instant() -> None:
    facts = [Fact(msk(25, 10, 0), FactKind.RESPONDED)]
    reading = replay(msk(24, 16, 30), Priority.P2, facts, office_policy(), msk(25, 12, 0))
    assert reading.response.breached_at == msk(25, 9, 30)


def test_a_running_clock_past_due_is_breached_already() -> None:
    reading = replay(msk(24, 16, 30), Priority.P2, [], office_policy(), msk(25, 9, 31))
    assert reading.response.breached_at == msk(25, 9, 30)
    assert reading.response.stopped_at is None


def test_registration_stops_at_classification() -> None:
    facts = [Fact(msk(24, 10, 20), FactKind.CLASSIFIED)]
    reading = replay(msk(24, 10, 0), Priority.P3, facts, office_policy(), msk(24, 12, 0))
    assert reading.registration.stopped_at == msk(24, 10, 20)
    assert reading.registration.breached_at == msk(24, 10, 15)


def test_waiting_for_client_pauses_and_shifts_by_working_time_only() -> None:
    # Paused Tuesday 12:00 until Wednesday 10:00: 5 + 1 = 6 working hours stood still.
    facts = [status(msk(24, 12, 0), Status.WAITING_CLIENT), status(msk(25, 10, 0), Status.OPEN)]
    reading = replay(msk(24, 10, 0), Priority.P3, facts, office_policy(), msk(25, 10, 0))
    assert reading.response.due_at == msk(25, 12, 0)  # 2 h used before the pause, 2 h left
    assert reading.response.paused == 360
    assert reading.paused_since is None


def test_paused_ticket_reports_since_when() -> None:
    facts = [status(msk(24, 12, 0), Status.WAITING_CLIENT)]
    reading = replay(msk(24, 10, 0), Priority.P3, facts, office_policy(), msk(26, 10, 0))
    assert reading.paused_since == msk(24, 12, 0)
    assert not reading.response.breached  # two days paused, never running past due


@pytest.mark.parametrize(("pause_on_vendor", "paused"), [(False, 0), (True, 120)])
def test_waiting_for_vendor_pauses_only_where_the_plan_says(
    pause_on_vendor: bool, paused: int
) -> None:
    facts = [status(msk(24, 11, 0), Status.WAITING_VENDOR), status(msk(24, 13, 0), Status.OPEN)]
    policy = office_policy(pause_on_vendor=pause_on_vendor)
    reading = replay(msk(24, 10, 0), Priority.P3, facts, policy, msk(24, 14, 0))
    assert reading.resolution.paused == paused
    assert reading.resolution.elapsed == 240 - paused


def test_raising_the_priority_retargets_from_the_change() -> None:
    # P4 received 10:00; raised to P2 at 11:00: the P2 hour counts from 11:00.
    facts = [Fact(msk(24, 11, 0), FactKind.PRIORITY, priority=Priority.P2)]
    reading = replay(msk(24, 10, 0), Priority.P4, facts, office_policy(), msk(24, 11, 5))
    assert reading.response.due_at == msk(24, 12, 0)
    assert reading.response.target == 60


def test_a_more_urgent_priority_never_moves_a_deadline_later() -> None:
    # P3 response due at 14:00; raised to P2 at 13:30, whose hour would end at 14:30.
    facts = [Fact(msk(24, 13, 30), FactKind.PRIORITY, priority=Priority.P2)]
    reading = replay(msk(24, 10, 0), Priority.P3, facts, office_policy(), msk(24, 13, 31))
    assert reading.response.due_at == msk(24, 14, 0)


def test_lowering_the_priority_gives_the_new_target_from_the_change_and_keeps_a_breach() -> None:
    facts = [Fact(msk(24, 11, 0), FactKind.PRIORITY, priority=Priority.P4)]
    reading = replay(msk(24, 10, 0), Priority.P1, facts, office_policy(), msk(24, 11, 1))
    assert reading.response.breached_at == msk(24, 10, 15)
    assert reading.response.due_at == msk(25, 11, 0)  # 6 working hours on Tuesday, 2 on Wednesday
    assert reading.response.target == 480


def test_resolving_stops_every_clock_and_reopening_resumes_resolution() -> None:
    facts = [
        Fact(msk(24, 10, 30), FactKind.RESPONDED),
        status(msk(24, 12, 0), Status.RESOLVED),
        status(msk(25, 9, 0), Status.OPEN),
    ]
    reading = replay(msk(24, 10, 0), Priority.P2, facts, office_policy(), msk(25, 9, 30))
    resolution = reading.resolution
    assert resolution.stopped_at is None
    # 2 h used before resolving, 6 h left from the reopening at 09:00: due 15:00.
    assert resolution.due_at == msk(25, 15, 0)
    assert resolution.elapsed == 150
    # The first response stays what it was.
    assert reading.response.stopped_at == msk(24, 10, 30)


def test_cancelling_stops_every_clock() -> None:
    facts = [status(msk(24, 10, 5), Status.CANCELLED)]
    reading = replay(msk(24, 10, 0), Priority.P1, facts, office_policy(), msk(24, 18, 0))
    assert all(r.stopped_at == msk(24, 10, 5) and not r.breached for r in reading)


def test_facts_before_receipt_and_after_now() -> None:
    facts = [
        Fact(msk(24, 9, 0), FactKind.CLASSIFIED),  # a clock in another desk ran ahead
        Fact(msk(24, 13, 0), FactKind.RESPONDED),  # the future is not read
    ]
    reading = replay(msk(24, 10, 0), Priority.P3, facts, office_policy(), msk(24, 12, 0))
    assert reading.registration.stopped_at == msk(24, 10, 0)
    assert reading.response.stopped_at is None


def test_round_the_clock_policy_is_wall_clock_time() -> None:
    received = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    reading = replay(received, Priority.P1, [], DEFAULT_POLICY, received)
    assert reading.resolution.due_at == received + timedelta(minutes=240)
    assert DEFAULT_POLICY.calendars[Priority.P1].__class__ is RoundTheClock
    assert reading.response.target == DEFAULT_TARGETS[Priority.P1].response_minutes


def test_new_year_holidays_hold_a_business_hours_clock() -> None:
    # Received on 30 Dec 2026 at 16:00 with a 2-hour target: one hour that day (31 Dec is a
    # day off in 2026), the second after the January holidays, on Monday 11 Jan 2027.
    received = datetime(2026, 12, 30, 16, 0, tzinfo=MSK)
    targets = dict.fromkeys(Priority, Targets(15, 120, 480))
    policy = Policy(targets, dict.fromkeys(Priority, OFFICE))
    reading = replay(received, Priority.P3, [], policy, received)
    assert reading.response.due_at == datetime(2027, 1, 11, 10, 0, tzinfo=MSK)
    assert SlaClock.RESPONSE == reading.response.clock


def test_pending_alerts_of_a_running_clock_are_its_warning_and_breach() -> None:
    reading = replay(msk(24, 10, 0), Priority.P2, [], office_policy(), msk(24, 10, 1))
    response = [a for a in pending_alerts(reading, 0) if a.clock is SlaClock.RESPONSE]
    assert [(a.level, a.at) for a in response] == [
        (AlertLevel.WARNING, msk(24, 10, 48)),
        (AlertLevel.BREACH, msk(24, 11, 0)),
    ]
    raised = alert_bit(SlaClock.RESPONSE, AlertLevel.WARNING)
    assert [a.level for a in pending_alerts(reading, raised) if a.clock is SlaClock.RESPONSE] == [
        AlertLevel.BREACH
    ]


def test_a_stopped_clock_alerts_only_the_breach_it_ran_into() -> None:
    facts = [Fact(msk(24, 11, 30), FactKind.RESPONDED)]
    reading = replay(msk(24, 10, 0), Priority.P2, facts, office_policy(), msk(24, 12, 0))
    response = [a for a in pending_alerts(reading, 0) if a.clock is SlaClock.RESPONSE]
    assert [(a.level, a.at) for a in response] == [(AlertLevel.BREACH, msk(24, 11, 0))]
    on_time = replay(
        msk(24, 10, 0),
        Priority.P2,
        [Fact(msk(24, 10, 30), FactKind.RESPONDED)],
        office_policy(),
        msk(24, 12, 0),
    )
    assert not [a for a in pending_alerts(on_time, 0) if a.clock is SlaClock.RESPONSE]


def test_a_paused_ticket_has_no_alerts_ahead() -> None:
    facts = [status(msk(24, 10, 10), Status.WAITING_CLIENT)]
    reading = replay(msk(24, 10, 0), Priority.P2, facts, office_policy(), msk(24, 12, 0))
    assert pending_alerts(reading, 0) == []


_STATUSES = st.sampled_from(
    [Status.OPEN, Status.WAITING_CLIENT, Status.WAITING_VENDOR, Status.RESOLVED, Status.CLOSED]
)
_FACTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7 * 24 * 60),
        st.one_of(
            st.builds(lambda s: (FactKind.STATUS, s), _STATUSES),
            st.builds(lambda p: (FactKind.PRIORITY, p), st.sampled_from(list(Priority))),
            st.just((FactKind.RESPONDED, None)),
            st.just((FactKind.CLASSIFIED, None)),
        ),
    ),
    max_size=12,
)


def _history(raw: list[tuple[int, tuple[FactKind, Any]]]) -> list[Fact]:
    start = msk(23, 8, 0)
    facts = []
    for minutes, (kind, value) in raw:
        at = start + timedelta(minutes=minutes)
        if kind is FactKind.STATUS:
            facts.append(Fact(at, kind, status=value))
        elif kind is FactKind.PRIORITY:
            facts.append(Fact(at, kind, priority=value))
        else:
            facts.append(Fact(at, kind))
    return facts


@settings(max_examples=150, deadline=None)
@given(_FACTS, st.integers(min_value=0, max_value=8 * 24 * 60), st.sampled_from(list(Priority)))
def test_clocks_never_count_more_than_the_working_time_there_was(
    raw: list[tuple[int, tuple[FactKind, Any]]], later: int, priority: Priority
) -> None:
    received = msk(23, 8, 0)
    now = received + timedelta(minutes=later)
    policy = office_policy(pause_on_vendor=True)
    reading = replay(received, priority, _history(raw), policy, now)
    available = OFFICE.minutes_between(received, now)
    for clock in reading:
        assert 0 <= clock.elapsed and 0 <= clock.paused
        assert clock.elapsed + clock.paused <= available
        if clock.breached_at is not None:
            assert clock.breached_at <= (clock.stopped_at or now)
    # No hidden state: the same history reads the same.
    assert replay(received, priority, _history(raw), policy, now) == reading


@settings(max_examples=100, deadline=None)
@given(_FACTS, st.integers(min_value=0, max_value=4 * 24 * 60), st.sampled_from(list(Priority)))
def test_time_only_adds_to_a_clock(
    raw: list[tuple[int, tuple[FactKind, Any]]], later: int, priority: Priority
) -> None:
    received = msk(23, 8, 0)
    facts = _history(raw)
    policy = office_policy()
    early = replay(received, priority, facts, policy, received + timedelta(minutes=later))
    late = replay(received, priority, facts, policy, received + timedelta(minutes=later + 600))
    for before, after in zip(early, late, strict=True):
        assert after.elapsed >= before.elapsed
        assert after.paused >= before.paused
        if before.breached_at is not None:
            assert after.breached_at == before.breached_at


def test_many_steps_never_move_a_deadline() -> None:
    # Steps at odd seconds must not each round a minute away (a drift found on the demo).
    received = datetime(2026, 11, 20, 10, 29, 42, tzinfo=UTC)
    steps = [
        status(datetime(2026, 11, 20, 11, 7, 22, tzinfo=UTC), Status.OPEN),
        Fact(datetime(2026, 11, 20, 11, 30, 57, tzinfo=UTC), FactKind.RESPONDED),
        Fact(
            datetime(2026, 11, 20, 11, 51, 57, tzinfo=UTC), FactKind.PRIORITY, priority=Priority.P2
        ),
        status(datetime(2026, 11, 20, 12, 34, 31, tzinfo=UTC), Status.WAITING_VENDOR),
    ]
    reading = replay(received, Priority.P2, steps, DEFAULT_POLICY, received + timedelta(hours=3))
    assert reading.resolution.due_at == received + timedelta(hours=8)
    assert reading.response.breached_at == received + timedelta(minutes=30)
    assert reading.response.elapsed == 61  # 61 min 15 s to the first response
