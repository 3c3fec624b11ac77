"""`report breaches` as a table: one line per breach, only the place is cut short."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.console import Console

from sdconsole.domain.model import Priority, Status
from sdconsole.domain.reporting import Breach
from sdconsole.domain.sla import SlaClock
from sdconsole.reports.breaches import breach_table

LONG_SITE = "Аптека «Живица» №218 (Тюмень, ул. Садовая, д. 14, корпус 2, вход со двора)"


def breach(ticket_id: int) -> Breach:
    at = datetime(2026, 11, 16, 7, 20, tzinfo=UTC)
    return Breach(
        ticket_id=ticket_id,
        clock=SlaClock.RESPONSE,
        priority=Priority.P3,
        status=Status.OPEN,
        received_at=at,
        due_at=at,
        stopped_at=None,
        late_minutes=38,
        paused_minutes=0,
        assignee="a.fedorov",
        client="ООО «Живица-Фарм»",
        site=LONG_SITE,
    )


def render(width: int | None) -> list[str]:
    console = Console(width=width or 400, record=True, highlight=False)
    table = breach_table(
        [breach(1926), breach(1927)], date(2026, 11, 16), date(2026, 11, 23), width
    )
    console.print(table)
    return console.export_text().splitlines()


def test_a_terminal_gets_one_line_per_breach_with_the_place_cut_short() -> None:
    lines = render(140)
    rows = [line for line in lines if line.startswith("SD-")]
    assert len(rows) == 2
    assert all("a.fedorov" in row and row.rstrip().endswith("…") for row in rows)
    assert all(len(line) <= 140 for line in lines)


def test_without_a_width_nothing_is_cut() -> None:
    rows = [line for line in render(None) if line.startswith("SD-")]
    assert len(rows) == 2
    assert all(LONG_SITE in row for row in rows)
