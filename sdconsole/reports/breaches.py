"""Provides the breaches report: one row per breached clock, as records, a table, CSV and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from sdconsole.domain.reporting import Breach
from sdconsole.domain.sla import SlaClock
from sdconsole.i18n import N_, _

BREACH_FIELDS = (
    "number",
    "clock",
    "priority",
    "status",
    "received_at",
    "due_at",
    "stopped_at",
    "late_minutes",
    "paused_minutes",
    "assignee",
    "client",
    "site",
)
"""The stable columns of ``report breaches`` (JSON keys, CSV header), in order."""

CLOCK_TITLES = {
    SlaClock.REGISTRATION: N_("registration"),
    SlaClock.RESPONSE: N_("response"),
    SlaClock.RESOLUTION: N_("resolution"),
}


def breach_records(breaches: Sequence[Breach]) -> list[dict[str, Any]]:
    """The breaches as records with the keys of `BREACH_FIELDS`."""
    return [
        {
            "number": b.number,
            "clock": b.clock.value,
            "priority": b.priority.label,
            "status": b.status.value,
            "received_at": b.received_at,
            "due_at": b.due_at,
            "stopped_at": b.stopped_at,
            "late_minutes": b.late_minutes,
            "paused_minutes": b.paused_minutes,
            "assignee": b.assignee,
            "client": b.client,
            "site": b.site,
        }
        for b in breaches
    ]


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def breach_table(
    breaches: Sequence[Breach], start: date, end: date, width: int | None = None
) -> Table:
    """The breaches for people: times in UTC, a running clock's stop shown as "running".

    One line per breach, so a lead can scan and grep it: within `width` (a terminal's), every
    column keeps its width and only the place, the last one, is cut short; without, nothing is.
    """
    table = Table(
        title=Text(
            _("SLA breaches: received {start} – {end} (UTC), {count} in all").format(
                start=start.isoformat(), end=end.isoformat(), count=len(breaches)
            )
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    columns = (
        (_("Number"), "left"),
        (_("Clock"), "left"),
        (_("Pri"), "left"),
        (_("Due (UTC)"), "left"),
        (_("Stopped (UTC)"), "left"),
        (_("Late, min"), "right"),
        (_("Paused, min"), "right"),
        (_("Assignee"), "left"),
        (_("Site · client"), "left"),
    )
    rows = [
        (
            b.number,
            _(CLOCK_TITLES[b.clock]),
            b.priority.label,
            _when(b.due_at),
            _when(b.stopped_at) if b.stopped_at else _("running"),
            str(b.late_minutes),
            str(b.paused_minutes),
            b.assignee or "—",
            " · ".join(x for x in (b.site, b.client) if x),
        )
        for b in breaches
    ]
    widths = [
        max([cell_len(title), *(cell_len(row[index]) for row in rows)])
        for index, (title, _justify) in enumerate(columns)
    ]
    room = None
    if width is not None:
        room = max(12, width - sum(widths[:-1]) - 3 * (len(columns) - 1))
    for index, (title, justify) in enumerate(columns):
        last = index == len(columns) - 1
        table.add_column(
            title,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis",
            min_width=None if last else widths[index],
            max_width=room if last else None,
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table
