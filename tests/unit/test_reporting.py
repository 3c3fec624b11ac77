"""Pure parts of the SLA report: met %, percentiles, bars, and how late a breached clock ran."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sdconsole.domain.model import Priority, Status
from sdconsole.domain.reporting import ClockCounts, percentile
from sdconsole.domain.sla import DEFAULT_POLICY, Fact, FactKind, replay
from sdconsole.reports.sla import bar

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_met_pct_counts_breaches_still_running() -> None:
    assert ClockCounts(met=3, breached=1, running=10).met_pct == 75.0
    assert ClockCounts(met=0, breached=0, running=4).met_pct is None
    assert ClockCounts(2, 1) + ClockCounts(1, 0, 3) == ClockCounts(3, 1, 3)


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([5, 10, 30], 0.5) == 10.0
    assert percentile([5, 10, 30], 0.9) == 26.0
    assert percentile([120, 300], 0.5) == 210.0
    assert percentile([7], 0.9) == 7.0
    assert percentile([], 0.5) is None


@given(st.lists(st.integers(0, 10_000), min_size=1))
def test_percentile_lies_between_the_extremes(values: list[int]) -> None:
    values.sort()
    for fraction in (0.5, 0.9):
        value = percentile(values, fraction)
        assert value is not None and values[0] <= value <= values[-1]


def test_bar_in_eighths() -> None:
    assert bar(100.0, 4) == "████"
    assert bar(50.0, 4) == "██··"
    assert bar(None, 4) == "    "
    assert bar(0.0, 4) == "····"
    assert bar(56.25, 4) == "██▎·"


def test_overdue_is_elapsed_minus_target_pauses_excluded() -> None:
    """P1 response 15 min: answered after 40, of which 10 waiting for the client after 20."""
    facts = [
        Fact(T0 + timedelta(minutes=20), FactKind.STATUS, status=Status.WAITING_CLIENT),
        Fact(T0 + timedelta(minutes=30), FactKind.STATUS, status=Status.OPEN),
        Fact(T0 + timedelta(minutes=40), FactKind.RESPONDED),
    ]
    reading = replay(T0, Priority.P1, facts, DEFAULT_POLICY, T0 + timedelta(hours=1))
    assert reading.response.elapsed == 30 and reading.response.paused == 10
    assert reading.response.overdue == 30 - 15
    assert reading.response.breached_at == T0 + timedelta(minutes=15)
    # Resolution (240 min) still runs, on time.
    assert reading.resolution.overdue == 0


def test_a_clock_on_time_has_no_overdue() -> None:
    facts = [Fact(T0 + timedelta(minutes=15), FactKind.RESPONDED)]
    reading = replay(T0, Priority.P1, facts, DEFAULT_POLICY, T0 + timedelta(hours=1))
    assert not reading.response.breached and reading.response.overdue == 0
