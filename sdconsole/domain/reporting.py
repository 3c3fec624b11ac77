"""Provides the values of the SLA report: what a report covers and the figures of its groups.

The figures follow DOMAIN.md §3.6: per clock, a ticket is *met* (the clock stopped without
breaching), *breached* (it breached, stopped or still running) or *running* (still running and
not past its deadline); met % = met ÷ (met + breached), so a running clock that has not breached
yet counts for nothing and one already past its deadline counts against. Cancelled requests are
left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sdconsole.domain.model import Priority, Status, ticket_number
from sdconsole.domain.sla import SlaClock


class ReportGroup(StrEnum):
    """What the rows of the SLA report are (``--by``)."""

    CLIENT = "client"
    CONTRACT = "contract"
    PRIORITY = "priority"
    LINE = "line"
    ENGINEER = "engineer"
    CATEGORY = "category"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which requests a report covers: received in ``[start, end)``, of a client or contract.

    Attributes:
        start: first instant (inclusive), aware.
        end: end of the period (exclusive), aware.
        client_ids: a client and its whole subtree (its legal entities and shops): a request
            counts when its contract holder or its shop is one of them; None: every client.
        contract_id: only requests under this contract; None: any.
    """

    start: datetime
    end: datetime
    client_ids: tuple[int, ...] | None = None
    contract_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClockCounts:
    """How one clock ended (or stands) over a set of requests."""

    met: int = 0
    breached: int = 0
    running: int = 0

    @property
    def met_pct(self) -> float | None:
        """Met ÷ (met + breached) in per cent, one decimal; None when no clock counted yet."""
        counted = self.met + self.breached
        if not counted:
            return None
        return round(100 * self.met / counted, 1)

    def __add__(self, other: ClockCounts) -> ClockCounts:
        return ClockCounts(
            self.met + other.met, self.breached + other.breached, self.running + other.running
        )


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and 90th percentile of a set of durations in working minutes (None: no values)."""

    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True, slots=True)
class SlaFigures:
    """The figures of one group of requests (or of all of them).

    Attributes:
        key: the group's raw key as stored (client or contract id, priority, line, engineer or
            category id, channel); None for "none" (unassigned, uncategorised) and for the total.
        tickets: requests in the group.
        registration, response, resolution: the three clocks.
        response_minutes, resolution_minutes: working minutes to first response and to
            resolution, pauses excluded, over the requests that have them.
    """

    key: int | str | None
    tickets: int
    registration: ClockCounts
    response: ClockCounts
    resolution: ClockCounts
    response_minutes: Spread
    resolution_minutes: Spread


@dataclass(frozen=True, slots=True)
class SlaDay:
    """Response and resolution compliance of the requests received on one day (UTC)."""

    day: date
    tickets: int
    response: ClockCounts
    resolution: ClockCounts


@dataclass(frozen=True, slots=True)
class Breach:
    """One breached clock of one request, as ``report breaches`` lists it.

    Attributes:
        due_at: the deadline the clock passed (for a clock that breached, the instant of the
            breach; for one still running past its deadline, that deadline).
        stopped_at: when the clock stopped (registered, first response, resolved); None while
            it still runs.
        late_minutes: working minutes the clock ran past its deadline, pauses excluded, up to
            its stop or up to the report's "now" (with no priority change: elapsed − target).
            0 for a running clock whose deadline passed outside working hours.
        paused_minutes: working minutes the clock stood paused (waiting for the client).
    """

    ticket_id: int
    clock: SlaClock
    priority: Priority
    status: Status
    received_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    late_minutes: int
    paused_minutes: int
    assignee: str | None
    client: str
    site: str

    @property
    def number(self) -> str:
        return ticket_number(self.ticket_id)


def percentile(values: Sequence[int], fraction: float) -> float | None:
    """The `fraction` quantile of sorted `values` by linear interpolation between closest ranks.

    The same definition as PostgreSQL's ``percentile_cont``: position ``(n - 1) * fraction``,
    interpolated between its neighbours. Rounded to one decimal; None for no values.
    """
    if len(values) == 0:  # not `not values`: numpy arrays are sequences too
        return None
    position = (len(values) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    value = values[low] + (values[high] - values[low]) * (position - low)
    return round(value, 1)
