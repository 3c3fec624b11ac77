"""Provides ``report volume``: how many requests came in, from where, about what, and when.

Per channel, category, client, priority, line or day: requests received in the period, their
share, and where they stand now (resolved or closed, still open, cancelled). ``--chart`` draws a
bar per group (per day with ``--by day``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sdconsole.domain.model import ChannelKind, Priority
from sdconsole.i18n import N_, _
from sdconsole.reports.tabular import Column, Kind, Period, Tabular, pct
from sdconsole.storage.team_reports import VolumeFigures

GROUP_TITLES = {
    "channel": N_("Channel"),
    "category": N_("Category"),
    "client": N_("Client"),
    "priority": N_("Priority"),
    "line": N_("Line"),
    "day": N_("Day"),
}

COLUMNS = (
    Column("key", "", Kind.TEXT),
    Column("received", N_("Requests")),
    Column("share_pct", N_("Share"), Kind.PCT, drop=3),
    Column("resolved", N_("Resolved\nby now")),
    Column("open", N_("Still\nopen")),
    Column("cancelled", N_("Cancelled"), drop=2),
)


def _row(f: VolumeFigures, whole: int) -> dict[str, Any]:
    return {
        "received": f.received,
        "share_pct": pct(f.received, whole),
        "resolved": f.resolved,
        "open": f.open,
        "cancelled": f.cancelled,
    }


def _label(by: str | None, key: Any, labels: Mapping[Any, str]) -> str:
    if key is None:
        return "—"
    if by == "priority":
        return Priority(key).label
    return labels.get(key, str(key))


def channel_word(value: Any) -> str:
    """A stored channel as people read it (JSON and CSV keep ``email``, ``telegram``, …)."""
    try:
        return ChannelKind(str(value)).label
    except ValueError:
        return str(value)


def build(
    figures: Mapping[Any, VolumeFigures],
    labels: Mapping[Any, str],
    *,
    period: Period,
    by: str | None,
) -> Tabular:
    """The volume report; with ``--by day`` every day of the period has a row, empty or not."""
    total = VolumeFigures()
    for f in figures.values():
        total.received += f.received
        total.resolved += f.resolved
        total.open += f.open
        total.cancelled += f.cancelled
    keys: list[Any]
    if by == "day":
        days = (period.end - period.start).days + 1
        keys = [(period.start + timedelta(days=i)).isoformat() for i in range(days)]
    elif by is not None:
        keys = list(figures)
    else:
        keys = []
    rows = [
        (
            key,
            {
                "key": _label(by, key, labels),
                **_row(figures.get(key, VolumeFigures()), total.received),
            },
        )
        for key in keys
    ]
    if by in ("priority", "line"):
        rows.sort(key=lambda item: (item[0] is None, item[0] or 0))
    elif by != "day":
        rows.sort(key=lambda item: (-item[1]["received"], item[1]["key"].casefold()))
    top = max((row["received"] for _key, row in rows), default=0)
    title = _(GROUP_TITLES[by]) if by else ""
    return Tabular(
        report="volume",
        title=period.describe(_("Requests received")),
        columns=(
            Column("key", title, Kind.TEXT, display=channel_word if by == "channel" else None),
            *COLUMNS[1:],
        ),
        rows=tuple(row for _key, row in rows),
        total=_row(total, total.received),
        caption=_("Received = resolved (or closed) + open + cancelled."),
        about=period.about(),
        about_rows=period.about_rows(title or None),
        chart_title=_("Requests received") + (f" · {title}" if title else ""),
        chart=tuple(
            (
                channel_word(row["key"]) if by == "channel" else row["key"],
                pct(row["received"], top),
                str(row["received"]),
            )
            for _key, row in rows
        ),
    )
