"""Provides the team lead's reports' common shape and writers: table, CSV, JSON, XLSX, charts.

A `Tabular` report is a list of groups with typed columns, a total and, optionally, lists
(the comments of a CSAT report, the low ratings). Each report module (`reports.csat`,
`reports.load`, `reports.volume`, `reports.billing`) builds one from the store's figures; these
writers give every report the same formats, as docs/reports.md describes:

* **table**: a Rich table fitted to the terminal (columns with a drop rank leave first, lowest
  rank first), the total in bold, then each list;
* **csv**: a header row, a row per group (``kind`` = ``group``), then the total (``total``);
* **json**: ``{"report", "period", "as_of", "by", "filters", "groups", "total", …lists}``;
* **xlsx**: a sheet of the groups and the total, a sheet per list, and a sheet about the report.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sdconsole.i18n import _
from sdconsole.reports.sla import bar


class Kind(StrEnum):
    """How a column's values are shown and stored."""

    TEXT = "text"
    COUNT = "count"
    PCT = "pct"
    NUMBER = "number"
    """One decimal (an average score, minutes)."""
    HOURS = "hours"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its stable key (JSON, CSV), its heading (an ``N_`` message) and its kind.

    Attributes:
        drop: the rank at which a too-narrow terminal leaves the column out (1 first); None:
            always shown.
    """

    key: str
    title: str
    kind: Kind = Kind.COUNT
    drop: int | None = None
    display: Callable[[Any], str] | None = None
    """How people read a stored value (a channel's or a kind's name in their language): the
    table, the workbook and the page use it; JSON and CSV keep the value itself."""

    def show(self, value: Any) -> str:
        """The value as people read it."""
        if self.display is not None and value is not None:
            return self.display(value)
        return shown(self.kind, value)

    @property
    def heading(self) -> str:
        """The heading in the current language ("" stays "": gettext would give its header)."""
        return _(self.title) if self.title else ""


@dataclass(frozen=True, slots=True)
class Listing:
    """A list after the table (comments, low ratings): its JSON key, title and columns."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Tabular:
    """A report as the writers take it.

    Attributes:
        report: its name (``csat``, ``load``, …): the JSON ``report`` key.
        title: the title line, translated.
        columns: the first is the group's key.
        rows: the groups, in display order: mappings from column keys to values.
        total: the total row (no key), or None.
        caption: a line under the table, translated.
        about: the JSON head (period, as_of, by, filters), in order.
        about_rows: the same for people: (translated label, value) pairs.
        listings: lists shown after the table.
        chart: (label, percent or None, text) bars shown with ``--chart``.
    """

    report: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    total: Mapping[str, Any] | None = None
    caption: str = ""
    about: Mapping[str, Any] = field(default_factory=dict)
    about_rows: tuple[tuple[str, str], ...] = ()
    listings: tuple[Listing, ...] = ()
    chart_title: str = ""
    chart: tuple[tuple[str, float | None, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Period:
    """What a report covers, as its head says it."""

    start: date
    end: date
    as_of: datetime
    by: str | None = None
    client: str | None = None
    contract: str | None = None

    def about(self) -> dict[str, Any]:
        """The JSON head: period, as_of, by, filters."""
        return {
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "as_of": self.as_of.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "by": self.by,
            "filters": {"client": self.client, "contract": self.contract},
        }

    def about_rows(self, by_title: str | None = None) -> tuple[tuple[str, str], ...]:
        """The same for the workbook's "Report" sheet, translated."""
        return (
            (_("Period from"), self.start.isoformat()),
            (_("Period to"), self.end.isoformat()),
            (_("As of (UTC)"), self.as_of.strftime("%Y-%m-%d %H:%M")),
            (_("Grouped by"), by_title or "—"),
            (_("Client"), self.client or "—"),
            (_("Contract"), self.contract or "—"),
        )

    def describe(self, what: str) -> str:
        """The title line: ``what``, the period, the filters and when it was judged."""
        parts = [
            _("{what}: {start} – {end} (UTC)").format(
                what=what, start=self.start.isoformat(), end=self.end.isoformat()
            )
        ]
        if self.client:
            parts.append(_("client {name}").format(name=self.client))
        if self.contract:
            parts.append(_("contract {number}").format(number=self.contract))
        parts.append(_("as of {when}").format(when=self.as_of.strftime("%Y-%m-%d %H:%M UTC")))
        return ", ".join(parts)


# -- values --------------------------------------------------------------------------------------


def shown(kind: Kind, value: Any) -> str:
    """A value as the table shows it; None is —."""
    if value is None or value == "":
        return "—"
    if kind is Kind.PCT:
        return f"{value:.1f}%"
    if kind is Kind.NUMBER:
        return f"{value:.1f}"
    if kind in (Kind.HOURS, Kind.MONEY):
        return f"{Decimal(value):,.2f}".replace(",", " ")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def plain(kind: Kind, value: Any) -> Any:
    """A value for JSON and CSV: money and hours as numbers with two decimals."""
    if value is None:
        return None
    if kind in (Kind.HOURS, Kind.MONEY):
        return float(Decimal(value).quantize(Decimal("0.01")))
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def pct(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal; None for an empty whole."""
    return round(100.0 * part / whole, 1) if whole else None


def _record(columns: Sequence[Column], row: Mapping[str, Any]) -> dict[str, Any]:
    return {c.key: plain(c.kind, row.get(c.key)) for c in columns}


# -- JSON and CSV --------------------------------------------------------------------------------


def document(report: Tabular) -> dict[str, Any]:
    """The JSON form: the report's name and head, the groups, the total and each list."""
    data: dict[str, Any] = {"report": report.report, **report.about}
    data["groups"] = [_record(report.columns, row) for row in report.rows]
    if report.total is not None:
        data["total"] = _record(report.columns[1:], report.total)
    for listing in report.listings:
        data[listing.key] = [_record(listing.columns, row) for row in listing.rows]
    return data


def write_csv(report: Tabular, out: IO[str]) -> None:
    """CSV: ``kind``, the columns; a row per group, then the total (empty key)."""
    fields = ["kind", *(c.key for c in report.columns)]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    records = [{"kind": "group", **_record(report.columns, row)} for row in report.rows]
    if report.total is not None:
        records.append({"kind": "total", **_record(report.columns, report.total)})
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)


# -- for people ------------------------------------------------------------------------------


def _table(
    title: str,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    total: Mapping[str, Any] | None,
    width: int | None,
) -> Table:
    cells = [[c.show(row.get(c.key)) for c in columns] for row in rows]
    total_cells = [_("Total"), *(c.show(total.get(c.key)) for c in columns[1:])] if total else None
    natural = [
        max(
            [cell_len(line) for line in c.heading.split("\n")]
            + [cell_len(r[i]) for r in cells]
            + ([cell_len(total_cells[i])] if total_cells else [])
        )
        for i, c in enumerate(columns)
    ]
    shown_columns = list(range(len(columns)))

    def build() -> Table:
        table = Table(
            title=Text(title) if title else None,
            title_justify="left",
            caption=Text(caption) if caption else None,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for index in shown_columns:
            column = columns[index]
            if column.kind is Kind.TEXT:
                table.add_column(
                    column.heading, overflow="ellipsis", min_width=min(natural[index], 12)
                )
            else:
                table.add_column(
                    column.heading, justify="right", no_wrap=True, min_width=natural[index]
                )
        return table

    table = build()
    if width is not None:
        drops = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop is not None and i != 0)
        measure = Console(width=100_000)
        while drops and Measurement.get(measure, measure.options, table).minimum > width:
            shown_columns.remove(drops.pop(0)[1])
            table = build()
    for row in cells:
        table.add_row(*(Text(row[i]) for i in shown_columns))
    if total_cells is not None:
        if cells:
            table.add_section()
        table.add_row(*(Text(total_cells[i], style="bold") for i in shown_columns))
    return table


def renderables(report: Tabular, width: int | None = None, *, chart: bool = False) -> list[Any]:
    """The table, the chart (when asked for) and each list, for a Rich console."""
    parts: list[RenderableType] = [
        _table(report.title, report.caption, report.columns, report.rows, report.total, width)
    ]
    if chart and report.chart:
        grid = Table.grid(padding=(0, 1))
        grid.add_column()
        grid.add_column()
        grid.add_column(justify="right")
        for label, value, text in report.chart:
            grid.add_row(Text(label), Text(bar(value, 30), style="cyan"), Text(text))
        parts.append(Group(Text(report.chart_title, style="bold"), grid))
    for listing in report.listings:
        if listing.rows:
            parts.append(_table(_(listing.title), "", listing.columns, listing.rows, None, width))
        else:
            parts.append(Text(_("{title}: none.").format(title=_(listing.title)), style="dim"))
    return parts


def _sheet_rows(
    sheet: Any, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], total: Any
) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([c.heading.replace("\n", " ") for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(
            [
                c.show(row.get(c.key)) if c.display else plain(c.kind, row.get(c.key))
                for c in columns
            ]
        )
    if total is not None:
        sheet.append([_("Total"), *(plain(c.kind, total.get(c.key)) for c in columns[1:])])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index, column in enumerate(columns):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        formats = {Kind.PCT: '0.0"%"', Kind.NUMBER: "0.0", Kind.HOURS: "0.00"}
        formats[Kind.MONEY] = "#,##0.00"
        number_format = formats.get(column.kind)
        if number_format:
            for cell in sheet[letter][1:]:
                cell.number_format = number_format
        sheet.column_dimensions[letter].width = 32 if column.kind is Kind.TEXT else 14
    sheet.freeze_panes = "B2"


def sheet_name(title: str) -> str:
    """A title Excel takes for a sheet: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"


def add_sheets(book: Any, report: Tabular, name: str) -> None:
    """Add the report's sheets to a workbook: the groups as `name`, then each list."""
    sheet = book.create_sheet(sheet_name(name))
    _sheet_rows(sheet, report.columns, report.rows, report.total)
    for listing in report.listings:
        _sheet_rows(
            book.create_sheet(sheet_name(_(listing.title))), listing.columns, listing.rows, None
        )


def write_xlsx(report: Tabular, out: IO[bytes], name: str) -> None:
    """An XLSX workbook: the groups (sheet `name`), each list, and a sheet about the report."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    add_sheets(book, report, name)
    about = book.create_sheet(_("Report"))
    for label, value in report.about_rows:
        about.append([label, value])
    about.column_dimensions["A"].width = 24
    book.save(out)
