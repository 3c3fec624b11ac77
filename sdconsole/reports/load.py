"""Provides ``report load``: who (which line, which team) carries how much work.

Per engineer, line or team: tickets open now, tickets taken and resolved in the period, the time
logged in it, and the SLA met % of the tickets resolved in it (first response and resolution:
met ÷ (met + breached), as in ``report sla``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sdconsole.domain.billing import hours
from sdconsole.i18n import N_, _
from sdconsole.reports.tabular import Column, Kind, Period, Tabular, pct
from sdconsole.storage.team_reports import LoadFigures

GROUP_TITLES = {"engineer": N_("Engineer"), "line": N_("Line"), "team": N_("Team")}

COLUMNS = (
    Column("key", "", Kind.TEXT),
    Column("open", N_("Open\nnow")),
    Column("taken", N_("Taken")),
    Column("resolved", N_("Resolved\nin period")),
    Column("hours_logged", N_("Hours\nlogged"), Kind.HOURS),
    Column("response_met_pct", N_("Resp.\nmet %"), Kind.PCT, drop=2),
    Column("resolution_met_pct", N_("Resol.\nmet %"), Kind.PCT, drop=1),
)


def _row(figures: LoadFigures) -> dict[str, Any]:
    return {
        "open": figures.open,
        "taken": figures.taken,
        "resolved": figures.resolved,
        "hours_logged": hours(figures.minutes),
        "response_met_pct": pct(
            figures.response_met, figures.response_met + figures.response_breached
        ),
        "resolution_met_pct": pct(
            figures.resolution_met, figures.resolution_met + figures.resolution_breached
        ),
    }


def build(
    figures: Mapping[Any, LoadFigures], labels: Mapping[Any, str], *, period: Period, by: str
) -> Tabular:
    """The load report: a row per engineer (by login), line (by number) or team; — last."""
    total = LoadFigures()
    rows = []
    for key, f in figures.items():
        for name in total.__slots__:
            setattr(total, name, getattr(total, name) + getattr(f, name))
        label = "—" if key is None else labels.get(key, str(key))
        rows.append(({"key": label, **_row(f)}, key))

    def order(item: tuple[dict[str, Any], Any]) -> tuple[bool, Any]:
        row, key = item
        if key is None:
            return (True, "")
        return (False, key) if by == "line" else (False, str(row["key"]).casefold())

    rows.sort(key=order)
    title = _(GROUP_TITLES[by])
    return Tabular(
        report="load",
        title=period.describe(_("Load")),
        columns=(Column("key", title, Kind.TEXT), *COLUMNS[1:]),
        rows=tuple(row for row, _key in rows),
        total=_row(total),
        caption=_(
            "Open now: assigned to the engineer and not resolved; taken, resolved and hours: in "
            "the period; met % over the tickets resolved in it."
        )
        if by == "engineer"
        else _(
            "Open now: not resolved, assigned or not, under the ticket's current line or team; "
            "taken, resolved and hours: in the period; met % over the tickets resolved in it."
        ),
        about=period.about(),
        about_rows=period.about_rows(title),
    )
