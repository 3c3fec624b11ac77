"""Provides quality control's rules: requests resolved far slower than similar ones, and recurring
incidents that deserve a problem ticket.

* **slow** (`slow_tickets`): a request whose working minutes to resolution are above the 90th
  percentile of its category's over the same window, where the category has at least
  `min_samples` resolved requests (fewer say nothing about what is usual).
* **recurring** (`recurring`): `count` or more requests of one category on one device, shop or
  client within the window (each place may have its own threshold). The most specific place
  wins: requests already gathered on a device do not count again for its shop or client, so one
  register's trouble makes one problem.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sdconsole.domain.reporting import percentile


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolved request: its category and working minutes to resolution."""

    ticket_id: int
    category: str
    minutes: int


@dataclass(frozen=True, slots=True)
class Slow:
    """A request resolved slower than its category's 90th percentile."""

    ticket_id: int
    category: str
    minutes: int
    p90: float
    samples: int


def slow_tickets(
    resolved: Iterable[Resolution], *, min_samples: int = 10, among: Iterable[int] | None = None
) -> list[Slow]:
    """The requests above their category's p90 (only those in `among`, when given)."""
    by_category: dict[str, list[Resolution]] = defaultdict(list)
    for item in resolved:
        by_category[item.category].append(item)
    wanted = set(among) if among is not None else None
    found: list[Slow] = []
    for category, items in by_category.items():
        if len(items) < min_samples:
            continue
        p90 = percentile(sorted(i.minutes for i in items), 0.9)
        assert p90 is not None
        found.extend(
            Slow(i.ticket_id, category, i.minutes, p90, len(items))
            for i in items
            if i.minutes > p90 and (wanted is None or i.ticket_id in wanted)
        )
    return sorted(found, key=lambda s: s.ticket_id)


class Place(StrEnum):
    """Where incidents recur, from the most specific."""

    DEVICE = "device"
    SITE = "site"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class Incident:
    """A request that may recur: its category and where it happened."""

    ticket_id: int
    category: str
    device_id: int | None
    site_id: int | None
    client_id: int | None

    def at(self, place: Place) -> int | None:
        return {
            Place.DEVICE: self.device_id,
            Place.SITE: self.site_id,
            Place.CLIENT: self.client_id,
        }[place]


@dataclass(frozen=True, slots=True)
class Recurrence:
    """`count` or more incidents of one category at one place."""

    category: str
    place: Place
    place_id: int
    ticket_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        """The problem ticket's thread key: one open problem per category and place."""
        return f"problem:{self.category}:{self.place.value}:{self.place_id}"


def recurring(
    incidents: Sequence[Incident],
    *,
    count: int = 3,
    counts: Mapping[Place, int] | None = None,
    taken: Iterable[int] = (),
) -> list[Recurrence]:
    """Groups of `count` or more incidents, the most specific place first.

    Args:
        counts: a threshold per place instead of `count` (0: that place is not looked at);
            a chain of a hundred shops sees the same request every week, a register should not.
        taken: incidents already linked to an open problem of their category: they join no
            new group (an open problem gathers them already).
    """
    used = set(taken)
    found = []
    for place in Place:
        needed = counts.get(place, count) if counts is not None else count
        if needed <= 0:
            continue
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for incident in incidents:
            where = incident.at(place)
            if where is not None and incident.ticket_id not in used:
                groups[(incident.category, where)].append(incident.ticket_id)
        for (category, where), ids in sorted(groups.items()):
            if len(ids) >= needed:
                found.append(Recurrence(category, place, where, tuple(sorted(ids))))
                used.update(ids)
    return found
