"""Provides ``report client``: one document per client and month, for the client to read.

What the client paid for and got: SLA compliance by priority, requests by channel and the top
incidents, ratings, and hours against the contract. Its sections are `Tabular` reports built by
the other report modules, written as an XLSX workbook (a sheet per section) or as one
self-contained HTML page (no scripts, no external files; every value escaped).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO, Any

from sdconsole.domain.reporting import SlaFigures
from sdconsole.i18n import N_, _, current_language
from sdconsole.reports.sla import key_label
from sdconsole.reports.tabular import Column, Kind, Tabular, add_sheets, sheet_name

TOP_INCIDENTS = 10
"""How many categories the top-incidents section lists."""

SLA_COLUMNS = (
    Column("key", N_("Priority"), Kind.TEXT),
    Column("tickets", N_("Tickets")),
    Column("response_met_pct", N_("First response met %"), Kind.PCT),
    Column("response_median", N_("First response, median min"), Kind.NUMBER),
    Column("resolution_met_pct", N_("Resolution met %"), Kind.PCT),
    Column("resolution_median", N_("Resolution, median min"), Kind.NUMBER),
)


def sla_section(groups: Sequence[SlaFigures], total: SlaFigures) -> Tabular:
    """SLA compliance by priority, as the client's contract promised it."""
    from sdconsole.domain.reporting import ReportGroup

    def row(figures: SlaFigures) -> dict[str, Any]:
        return {
            "tickets": figures.tickets,
            "response_met_pct": figures.response.met_pct,
            "response_median": figures.response_minutes.median,
            "resolution_met_pct": figures.resolution.met_pct,
            "resolution_median": figures.resolution_minutes.median,
        }

    ordered = sorted(groups, key=lambda g: int(g.key or 0))
    return Tabular(
        report="sla",
        title=_("Service levels"),
        columns=SLA_COLUMNS,
        rows=tuple({"key": key_label(ReportGroup.PRIORITY, g.key, {}), **row(g)} for g in ordered),
        total=row(total),
        caption=_("Met % = met ÷ (met + breached); minutes are working minutes of the contract."),
    )


INTERNAL_COLUMNS = frozenset({"hours_logged", "cost", "margin", "margin_pct", "client"})
"""Billing columns a client's own report leaves out: the desk's cost and margin."""


def for_client(section: Tabular, title: str) -> Tabular:
    """A billing section as the client sees it: without the desk's cost and margin."""
    columns = tuple(c for c in section.columns if c.key not in INTERNAL_COLUMNS)
    return replace(section, title=title, columns=columns, caption="")


def top(section: Tabular, title: str, count: int = TOP_INCIDENTS) -> Tabular:
    """The first `count` rows of a volume section, under another title."""
    return replace(section, title=title, rows=section.rows[:count], total=None, caption="")


@dataclass(frozen=True, slots=True)
class ClientReport:
    """A client's month: its name, the month, and the sections in order."""

    client: str
    month: date
    as_of: datetime
    sections: tuple[Tabular, ...]

    @property
    def title(self) -> str:
        return _("{client}: support report for {month}").format(
            client=self.client, month=self.month.strftime("%m.%Y")
        )


def write_xlsx(report: ClientReport, out: IO[bytes]) -> None:
    """A workbook: a cover sheet, then a sheet per section (and per list of a section)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = sheet_name(_("Report"))
    cover.append([report.title])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([_("As of (UTC)"), report.as_of.strftime("%Y-%m-%d %H:%M")])
    for section in report.sections:
        cover.append([section.title])
    cover.column_dimensions["A"].width = 48
    for section in report.sections:
        add_sheets(book, section, section.title)
    book.save(out)


_STYLE = """
body { font-family: "PT Sans", "Segoe UI", Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border-bottom: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
th { background: #f2f4f7; } tr.total td { font-weight: bold; border-top: 2px solid #888; }
p.caption, p.about { color: #666; font-size: .9em; }
"""


def _html_table(columns: Sequence[Column], rows: Sequence[Any], total: Any) -> list[str]:
    e = html.escape
    heads = "".join(f'<th class="{c.kind.value}">{e(c.heading)}</th>' for c in columns)
    out = ["<table>", f"<tr>{heads}</tr>"]
    for row in rows:
        cells = "".join(
            f'<td class="{c.kind.value}">{e(c.show(row.get(c.key)))}</td>' for c in columns
        )
        out.append(f"<tr>{cells}</tr>")
    if total is not None:
        cells = "".join(f"<td>{e(c.show(total.get(c.key)))}</td>" for c in columns[1:])
        out.append(f'<tr class="total"><td>{e(_("Total"))}</td>{cells}</tr>')
    out.append("</table>")
    return out


def write_html(report: ClientReport, out: IO[str]) -> None:
    """One HTML page: a heading, then each section's table, caption and lists."""
    e = html.escape
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{e(current_language())}"><head><meta charset="utf-8">',
        f"<title>{e(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        '<p class="about">'
        + e(_("As of {when}").format(when=report.as_of.strftime("%Y-%m-%d %H:%M UTC")))
        + "</p>",
    ]
    for section in report.sections:
        lines.append(f"<h2>{e(section.title)}</h2>")
        if not section.rows and section.total is None:
            lines.append(f"<p>{e(_('None this month.'))}</p>")
        else:
            lines.extend(_html_table(section.columns, section.rows, section.total))
        if section.caption:
            lines.append(f'<p class="caption">{e(section.caption)}</p>')
        for listing in section.listings:
            if listing.rows:
                lines.append(f"<h3>{e(_(listing.title))}</h3>")
                lines.extend(_html_table(listing.columns, listing.rows, None))
    lines.append("</body></html>")
    out.write("\n".join(lines) + "\n")
