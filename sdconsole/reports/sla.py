"""Provides the SLA report: rows from the store's figures, and its table, chart, CSV, JSON and XLSX.

`build_report` is pure: it names and orders the groups the store aggregated
(`storage.reports.sla_figures`). The writers turn a `SlaReport` into a Rich table (for people),
a daily bar chart, CSV and JSON (stable, for scripts: docs/reports.md) and an XLSX workbook.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sdconsole.domain.model import ChannelKind, Priority
from sdconsole.domain.reporting import ClockCounts, ReportGroup, SlaDay, SlaFigures, Spread
from sdconsole.i18n import N_, _

NONE_KEY = "—"
"""The key of the group of requests without one (unassigned, uncategorised, no contract)."""

GROUP_TITLES = {
    ReportGroup.CLIENT: N_("Client"),
    ReportGroup.CONTRACT: N_("Contract"),
    ReportGroup.PRIORITY: N_("Priority"),
    ReportGroup.LINE: N_("Line"),
    ReportGroup.ENGINEER: N_("Engineer"),
    ReportGroup.CATEGORY: N_("Category"),
    ReportGroup.CHANNEL: N_("Channel"),
}


@dataclass(frozen=True, slots=True)
class SlaRow:
    """One group of the report: its key as shown and its figures."""

    key: str
    figures: SlaFigures


@dataclass(frozen=True, slots=True)
class SlaReport:
    """Everything the writers need.

    Attributes:
        start, end: the period, both days included (receipt dates in UTC).
        as_of: the instant running clocks were judged at.
        by: the grouping, or None for the total alone.
        client, contract: the filters as resolved (client name, contract number), or None.
        rows: the groups in display order.
        total: every request of the report.
        days: compliance per receipt day (only when a chart was asked for).
    """

    start: date
    end: date
    as_of: datetime
    by: ReportGroup | None
    client: str | None
    contract: str | None
    rows: tuple[SlaRow, ...]
    total: SlaFigures
    days: tuple[SlaDay, ...] = field(default=())


def key_label(by: ReportGroup, key: Any, labels: Mapping[Any, str]) -> str:
    """The key of a group as the report shows it: P1, 2, a login, a client's name, or —."""
    if key is None:
        return NONE_KEY
    if by is ReportGroup.PRIORITY:
        return Priority(key).label
    if by in (ReportGroup.LINE, ReportGroup.CHANNEL):
        return str(key)
    return labels.get(key, str(key))


def build_report(
    groups: Iterable[SlaFigures],
    total: SlaFigures,
    labels: Mapping[Any, str],
    *,
    by: ReportGroup | None,
    start: date,
    end: date,
    as_of: datetime,
    client: str | None = None,
    contract: str | None = None,
    days: Sequence[SlaDay] = (),
) -> SlaReport:
    """Name and order the groups: priorities and lines by number, the rest by name, — last."""
    rows = [] if by is None else [SlaRow(key_label(by, g.key, labels), g) for g in groups]
    seen = Counter(row.key for row in rows)
    # Two clients (or contracts) of one name stay two rows: their ids tell them apart.
    rows = [
        SlaRow(f"{row.key} #{row.figures.key}", row.figures)
        if seen[row.key] > 1 and row.key != NONE_KEY
        else row
        for row in rows
    ]

    def order(row: SlaRow) -> tuple[bool, Any]:
        if row.key == NONE_KEY:
            return (True, "")
        if by in (ReportGroup.PRIORITY, ReportGroup.LINE):
            return (False, int(row.figures.key or 0))
        return (False, row.key.casefold())

    rows.sort(key=order)
    return SlaReport(
        start=start,
        end=end,
        as_of=as_of,
        by=by,
        client=client,
        contract=contract,
        rows=tuple(rows),
        total=total,
        days=tuple(days),
    )


# -- JSON and CSV: the stable forms ------------------------------------------------------------


def _clock(counts: ClockCounts, spread: Spread | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "met": counts.met,
        "breached": counts.breached,
        "running": counts.running,
        "met_pct": counts.met_pct,
    }
    if spread is not None:
        data["median_minutes"] = spread.median
        data["p90_minutes"] = spread.p90
    return data


def _figures(figures: SlaFigures) -> dict[str, Any]:
    return {
        "tickets": figures.tickets,
        "registration": _clock(figures.registration),
        "response": _clock(figures.response, figures.response_minutes),
        "resolution": _clock(figures.resolution, figures.resolution_minutes),
    }


def report_document(report: SlaReport) -> dict[str, Any]:
    """The ``--format json`` document (docs/reports.md describes every key)."""
    return {
        "period": {"from": report.start.isoformat(), "to": report.end.isoformat()},
        "as_of": report.as_of,
        "by": report.by.value if report.by is not None else None,
        "filters": {"client": report.client, "contract": report.contract},
        "groups": [{"key": row.key, **_figures(row.figures)} for row in report.rows],
        "total": _figures(report.total),
    }


CSV_FIELDS = (
    "kind",
    "key",
    "tickets",
    "registration_met",
    "registration_breached",
    "registration_running",
    "registration_met_pct",
    "response_met",
    "response_breached",
    "response_running",
    "response_met_pct",
    "response_median_minutes",
    "response_p90_minutes",
    "resolution_met",
    "resolution_breached",
    "resolution_running",
    "resolution_met_pct",
    "resolution_median_minutes",
    "resolution_p90_minutes",
)
"""The CSV header: one row per group (kind ``group``), then the total (kind ``total``)."""


def csv_records(report: SlaReport) -> list[dict[str, Any]]:
    """The report as flat records in `CSV_FIELDS` order (None for no value)."""

    def flat(kind: str, key: str, figures: SlaFigures) -> dict[str, Any]:
        record: dict[str, Any] = {"kind": kind, "key": key}
        for name, value in _figures(figures).items():
            if isinstance(value, dict):
                record.update({f"{name}_{k}": v for k, v in value.items()})
            else:
                record[name] = value
        return {k: record[k] for k in CSV_FIELDS}

    records = [flat("group", row.key, row.figures) for row in report.rows]
    records.append(flat("total", "", report.total))
    return records


def write_csv(records: Iterable[Mapping[str, Any]], fields: Sequence[str], out: IO[str]) -> None:
    """CSV with a header row; None is written as an empty cell."""
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)


# -- for people: the table, the chart, the workbook ---------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def column_titles(by: ReportGroup | None) -> list[str]:
    """Headings of the table and the workbook, in the current language."""
    return [
        _(GROUP_TITLES[by]) if by is not None else "",
        _("Tickets"),
        _("Reg.\nmet %"),
        _("Resp.\nmet"),
        _("Resp.\nbreached"),
        _("Resp.\nrunning"),
        _("Resp.\nmet %"),
        _("Resp.\nmedian"),
        _("Resp.\np90"),
        _("Resol.\nmet"),
        _("Resol.\nbreached"),
        _("Resol.\nrunning"),
        _("Resol.\nmet %"),
        _("Resol.\nmedian"),
        _("Resol.\np90"),
    ]


def _cells(figures: SlaFigures) -> list[int | float | None]:
    return [
        figures.tickets,
        figures.registration.met_pct,
        figures.response.met,
        figures.response.breached,
        figures.response.running,
        figures.response.met_pct,
        figures.response_minutes.median,
        figures.response_minutes.p90,
        figures.resolution.met,
        figures.resolution.breached,
        figures.resolution.running,
        figures.resolution.met_pct,
        figures.resolution_minutes.median,
        figures.resolution_minutes.p90,
    ]


_PCT_COLUMNS = {1, 5, 11}
"""Indexes in `_cells` that hold percentages (the others are counts or minutes)."""
_MINUTE_COLUMNS = {6, 7, 12, 13}


def _shown(index: int, value: int | float | None) -> str:
    if index in _PCT_COLUMNS:
        return _pct(value)
    if index in _MINUTE_COLUMNS:
        return _minutes(value)
    return str(value)


def describe(report: SlaReport) -> str:
    """The report's title line: period, filters and the instant it was judged at."""
    parts = [
        _("SLA report: received {start} – {end} (UTC)").format(
            start=report.start.isoformat(), end=report.end.isoformat()
        )
    ]
    if report.client:
        parts.append(_("client {name}").format(name=report.client))
    if report.contract:
        parts.append(_("contract {number}").format(number=report.contract))
    parts.append(_("as of {when}").format(when=report.as_of.strftime("%Y-%m-%d %H:%M UTC")))
    return ", ".join(parts)


_DROP_ORDER = (14, 8, 13, 7, 11, 5, 9, 3)
"""Columns left out, one by one, while the table is wider than the terminal: the p90s, the
medians, the running counts, the met counts (key, tickets, the breaches and met % stay)."""
KEY_MIN_WIDTH = 12
"""The key column wraps down to this width before any other column is left out."""


def sla_table(report: SlaReport, width: int | None = None) -> Table:
    """The report as a Rich table: a row per group, then the total.

    `width`: the terminal's; columns are left out in `_DROP_ORDER` until the table fits (None:
    every column).
    """
    titles = column_titles(report.by)
    rows: list[tuple[str, list[str]]] = []
    for row in report.rows:
        key = row.key
        if report.by is ReportGroup.CHANNEL and row.figures.key is not None:
            try:
                key = ChannelKind(str(row.figures.key)).label
            except ValueError:
                pass
        rows.append((key, [_shown(i, v) for i, v in enumerate(_cells(row.figures))]))
    total = (_("Total"), [_shown(i, v) for i, v in enumerate(_cells(report.total))])
    natural = [
        max(
            [*(cell_len(line) for line in title.split("\n")), cell_len(total[0])]
            + [cell_len(key if index == 0 else values[index - 1]) for key, values in rows]
            + ([] if index == 0 else [cell_len(total[1][index - 1])])
        )
        for index, title in enumerate(titles)
    ]
    shown = list(range(len(titles)))

    def build() -> Table:
        table = Table(
            title=Text(describe(report)),
            title_justify="left",
            caption=Text(
                _(
                    "Reg. registration, Resp. first response, Resol. resolution; met % = met ÷ "
                    "(met + breached); median and p90 in working minutes."
                )
            ),
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for index in shown:
            if index == 0:
                table.add_column(
                    titles[0], overflow="ellipsis", min_width=min(natural[0], KEY_MIN_WIDTH)
                )
            else:
                table.add_column(
                    titles[index], justify="right", no_wrap=True, min_width=natural[index]
                )
        return table

    table = build()
    if width is not None:
        drops = list(_DROP_ORDER)
        measure = Console(width=100_000)
        while drops and Measurement.get(measure, measure.options, table).minimum > width:
            shown.remove(drops.pop(0))
            table = build()
    for key, values in rows:
        table.add_row(Text(key), *(values[i - 1] for i in shown[1:]))
    if report.rows:
        table.add_section()
    table.add_row(
        Text(total[0], style="bold"), *(Text(total[1][i - 1], style="bold") for i in shown[1:])
    )
    return table


BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(pct: float | None, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells for a percentage (eighth-cell steps); blank for None."""
    if pct is None:
        return " " * width
    eighths = round(max(0.0, min(100.0, pct)) / 100 * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width, "·")


def daily_chart(report: SlaReport) -> RenderableType:
    """Response and resolution met % of the requests received on each day of the period."""
    by_day = {d.day: d for d in report.days}
    grid = Table.grid(padding=(0, 1))
    grid.add_column()
    grid.add_column()
    grid.add_column(justify="right")
    grid.add_column()
    grid.add_column(justify="right")
    grid.add_column(justify="right")
    grid.add_row(
        Text(_("Day"), style="bold"),
        Text(_("Response met %"), style="bold"),
        "",
        Text(_("Resolution met %"), style="bold"),
        "",
        Text(_("Tickets"), style="bold"),
    )
    day = report.start
    while day <= report.end:
        found = by_day.get(day)
        response = found.response.met_pct if found else None
        resolution = found.resolution.met_pct if found else None
        grid.add_row(
            day.isoformat(),
            Text(bar(response), style="green"),
            _pct(response),
            Text(bar(resolution), style="cyan"),
            _pct(resolution),
            str(found.tickets if found else 0),
        )
        day += timedelta(days=1)
    return Group(Text(_("Daily compliance (by day received, UTC)"), style="bold"), grid)


def write_xlsx(report: SlaReport, out: IO[bytes]) -> None:
    """An XLSX workbook: sheet "SLA" (headings, a row per group, the total) and "Report"."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "SLA"
    titles = [t.replace("\n", " ") for t in column_titles(report.by)]
    titles[0] = titles[0] or _("Group")
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in report.rows:
        sheet.append([row.key, *_cells(row.figures)])
    sheet.append([_("Total"), *_cells(report.total)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, column in enumerate(sheet.iter_cols(min_row=2, min_col=2)):
        for cell in column:
            if index in _PCT_COLUMNS:
                cell.number_format = '0.0"%"'
            elif index in _MINUTE_COLUMNS:
                cell.number_format = "0.#"
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 32
    about = book.create_sheet(_("Report"))
    for name, value in (
        (_("Period from"), report.start.isoformat()),
        (_("Period to"), report.end.isoformat()),
        (_("As of (UTC)"), report.as_of.strftime("%Y-%m-%d %H:%M")),
        (_("Grouped by"), _(GROUP_TITLES[report.by]) if report.by else "—"),
        (_("Client"), report.client or "—"),
        (_("Contract"), report.contract or "—"),
    ):
        about.append([name, value])
    about.column_dimensions["A"].width = 20
    book.save(out)
