"""Quality control's rules: slow against the p90 of a category, recurrence at the nearest place."""

from __future__ import annotations

from sdconsole.domain.quality import Incident, Place, Resolution, recurring, slow_tickets


def test_slow_is_above_the_categorys_p90_with_enough_samples() -> None:
    usual = [Resolution(i, "kkt.print", 60 + i) for i in range(1, 10)]
    resolved = [*usual, Resolution(10, "kkt.print", 600), Resolution(11, "ofd", 9999)]
    found = slow_tickets(resolved, min_samples=10)
    # kkt.print: ten samples, p90 between 69 and 600; ofd has one sample and says nothing.
    assert [(s.ticket_id, s.samples) for s in found] == [(10, 10)]
    assert 69 < found[0].p90 < 600
    assert slow_tickets(resolved, min_samples=11) == []
    assert slow_tickets(resolved, min_samples=10, among=[1, 2]) == []


def test_recurrence_takes_the_most_specific_place() -> None:
    def at(ticket: int, device: int | None, site: int, category: str = "kkt.fn") -> Incident:
        return Incident(ticket, category, device, site, 100)

    incidents = [
        at(1, 7, 10),
        at(2, 7, 10),
        at(3, 7, 10),  # three on register 7: a problem of the register
        at(4, 8, 10),
        at(5, 9, 10),  # two more in shop 10: not three without the register's
        at(6, None, 11),
        at(7, None, 12),
        at(8, None, 13),  # three shops of client 100: a problem of the client
        at(9, 7, 10, "ofd"),
    ]
    groups = recurring(incidents, count=3)
    assert [(g.place, g.place_id, g.ticket_ids) for g in groups] == [
        (Place.DEVICE, 7, (1, 2, 3)),
        (Place.CLIENT, 100, (4, 5, 6, 7, 8)),
    ]
    assert groups[0].key == "problem:kkt.fn:device:7"
    assert recurring(incidents, count=3, taken=[1, 2, 3, 4, 5, 6, 7, 8]) == []


def test_a_place_has_its_own_threshold_and_zero_turns_it_off() -> None:
    incidents = [Incident(n, "pos.app", None, 10 + n, 100) for n in range(4)]
    counts = {Place.DEVICE: 3, Place.SITE: 3, Place.CLIENT: 0}
    assert recurring(incidents, counts=counts) == []
    counts[Place.CLIENT] = 4
    assert [g.place for g in recurring(incidents, counts=counts)] == [Place.CLIENT]
    counts[Place.CLIENT] = 5
    assert recurring(incidents, counts=counts) == []
