"""Provides `sdconsole report sla | breaches | csat | load | volume | billing`.

The period is the requests *received* from ``--from`` to ``--to``, both days included, in UTC;
by default the last 30 days up to today. docs/reports.md defines every figure and the JSON.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from sdconsole.cli.common import err_console, handle_errors, state, to_jsonable
from sdconsole.domain.reporting import ReportGroup, ReportScope
from sdconsole.i18n import N_, _

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import RenderableType

    from sdconsole.storage import Store

app = typer.Typer(
    help="Reports for team leads: SLA, breaches, CSAT, load, volume and billing.",
    no_args_is_help=True,
)

DEFAULT_DAYS = 30
"""The default period: this many days up to today (UTC), today included."""


class ReportFormat(StrEnum):
    """``--format`` of ``report sla``."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


class BreachFormat(StrEnum):
    """``--format`` of ``report breaches``."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FromOption = Annotated[
    datetime | None,
    typer.Option(
        "--from",
        formats=["%Y-%m-%d"],
        metavar="DATE",
        help="First day of the period (received on or after), YYYY-MM-DD; default: 29 days "
        "before --to.",
        show_default=False,
    ),
]
ToOption = Annotated[
    datetime | None,
    typer.Option(
        "--to",
        formats=["%Y-%m-%d"],
        metavar="DATE",
        help="Last day of the period (included), YYYY-MM-DD; default: today (UTC).",
        show_default=False,
    ),
]
ClientOption = Annotated[
    str | None,
    typer.Option(help="Only this client and everything below it: external id, INN or id."),
]
ContractOption = Annotated[str | None, typer.Option(help="Only this contract: number or id.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of standard output."),
]


@dataclass(frozen=True, slots=True)
class _Selection:
    scope: ReportScope
    start: date
    end: date
    now: datetime
    client: str | None
    contract: str | None


def _select(
    store: Store,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    client: str | None,
    contract: str | None,
) -> _Selection:
    """The period, the client subtree and the contract the options name."""
    from sdconsole.domain.errors import InvalidInput, NotFound
    from sdconsole.storage import reports as queries
    from sdconsole.storage import repositories

    last = end.date() if end is not None else now.date()
    first = start.date() if start is not None else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput(
            N_("The period starts after it ends: --from {start} is after --to {end}."),
            start=first.isoformat(),
            end=last.isoformat(),
        )
    client_ids: tuple[int, ...] | None = None
    client_name = contract_number = None
    contract_id = None
    with store.reader() as session:
        if client:
            found = repositories.client_by_ref(session=session, ref=client)
            if found is None or found.id is None:
                raise NotFound(N_("No client {ref}."), ref=client)
            client_ids = queries.client_subtree(session=session, client_id=found.id)
            client_name = found.name
        if contract:
            contracts = queries.contract_by_ref(session=session, ref=contract)
            if not contracts:
                raise NotFound(N_("No contract {ref}."), ref=contract)
            if len(contracts) > 1:
                raise InvalidInput(
                    N_("{count} contracts have the number {ref}; give the id: {ids}."),
                    count=len(contracts),
                    ref=contract,
                    ids=", ".join(str(c.id) for c in contracts),
                )
            contract_id = contracts[0].id
            contract_number = contracts[0].number
    scope = ReportScope(
        start=datetime.combine(first, time(), UTC),
        end=datetime.combine(last + timedelta(days=1), time(), UTC),
        client_ids=client_ids,
        contract_id=contract_id,
    )
    return _Selection(scope, first, last, now, client_name, contract_number)


@contextmanager
def _text_out(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as stream:
        yield stream
    err_console.print(_("Written to {path}.").format(path=output), markup=False)


def _print(renderables: list[RenderableType], output: Path | None) -> None:
    """Rich output: fitted to a terminal; piped or to a file, as wide as it needs."""
    from rich.console import Console

    with _text_out(output) as stream:
        console = Console(file=stream, highlight=False)
        if not _fits(console, output):
            wide = console.options.update_width(100_000)
            console.width = max(console.measure(r, options=wide).maximum for r in renderables)
        for renderable in renderables:
            console.print(renderable)


def _fits(console: Any, output: Path | None) -> bool:
    """Whether to fit the terminal's width: a terminal, or an explicit COLUMNS, and no file.

    A pipe or a file gets every column at full width (``less -S`` scrolls sideways)."""
    return output is None and (console.is_terminal or os.environ.get("COLUMNS", "").isdigit())


def _width(output: Path | None) -> int | None:
    from rich.console import Console

    console = Console()
    return console.width if _fits(console, output) else None


def _json(value: Any, output: Path | None) -> None:
    import json

    with _text_out(output) as stream:
        stream.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) + "\n")


@app.command("sla")
@handle_errors
def sla(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    client: ClientOption = None,
    contract: ContractOption = None,
    by: Annotated[
        ReportGroup | None,
        typer.Option(
            help="A row per client, contract, priority, line, engineer, category or "
            "channel; default: the total only.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table, csv, json or xlsx.")
    ] = ReportFormat.TABLE,
    output: OutputOption = None,
    chart: Annotated[
        bool, typer.Option("--chart", help="After the table, daily response and resolution met %.")
    ] = False,
) -> None:
    """SLA compliance of the requests received in a period: met, breached, running, met %."""
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.reports import sla as report_sla
    from sdconsole.storage import reports as queries

    check_output(output)
    if chart and fmt != ReportFormat.TABLE:
        raise InvalidInput(N_("--chart goes with --format table only."))
    if fmt == ReportFormat.XLSX and output is None and sys.stdout.isatty():
        raise InvalidInput(
            N_("XLSX is a binary file: give --output FILE.xlsx or redirect standard output.")
        )
    cli = state(ctx)
    store = cli.store()
    chosen = _select(store, cli.clock().now(), start, end, client, contract)
    with store.reader() as session:
        groups, total = queries.sla_figures(
            session=session, scope=chosen.scope, now=chosen.now, by=by
        )
        labels = (
            queries.group_labels(session=session, by=by, keys=[g.key for g in groups])
            if by is not None
            else {}
        )
        days = (
            queries.sla_days(session=session, scope=chosen.scope, now=chosen.now) if chart else []
        )
    report = report_sla.build_report(
        groups,
        total,
        labels,
        by=by,
        start=chosen.start,
        end=chosen.end,
        as_of=chosen.now,
        client=chosen.client,
        contract=chosen.contract,
        days=days,
    )
    if fmt == ReportFormat.JSON:
        _json(report_sla.report_document(report), output)
    elif fmt == ReportFormat.CSV:
        with _text_out(output) as stream:
            report_sla.write_csv(report_sla.csv_records(report), report_sla.CSV_FIELDS, stream)
    elif fmt == ReportFormat.XLSX:
        if output is not None:
            with output.open("wb") as binary:
                report_sla.write_xlsx(report, binary)
            err_console.print(_("Written to {path}.").format(path=output), markup=False)
        else:
            report_sla.write_xlsx(report, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    else:
        renderables: list[RenderableType] = [report_sla.sla_table(report, _width(output))]
        if chart:
            renderables.append(report_sla.daily_chart(report))
        _print(renderables, output)


@app.command("breaches")
@handle_errors
def breaches(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    client: ClientOption = None,
    contract: ContractOption = None,
    fmt: Annotated[
        BreachFormat, typer.Option("--format", help="table, csv or json.")
    ] = BreachFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Every breached SLA clock of the requests received in a period, and how late it was."""
    from sdconsole.reports import breaches as report_breaches
    from sdconsole.reports.sla import write_csv
    from sdconsole.services.breaches import list_breaches

    check_output(output)
    cli = state(ctx)
    store = cli.store()
    chosen = _select(store, cli.clock().now(), start, end, client, contract)
    found = list_breaches(store, chosen.scope, chosen.now)
    if fmt == BreachFormat.JSON:
        _json(report_breaches.breach_records(found), output)
    elif fmt == BreachFormat.CSV:
        with _text_out(output) as stream:
            write_csv(
                to_jsonable(report_breaches.breach_records(found)),
                report_breaches.BREACH_FIELDS,
                stream,
            )
    else:
        table = report_breaches.breach_table(found, chosen.start, chosen.end, _width(output))
        _print([table], output)


# -- the team lead's other reports: one shape (reports.tabular), the same options ----------------


class LoadGroup(StrEnum):
    """``--by`` of ``report load``."""

    ENGINEER = "engineer"
    LINE = "line"
    TEAM = "team"


class VolumeGroup(StrEnum):
    """``--by`` of ``report volume``."""

    CHANNEL = "channel"
    CATEGORY = "category"
    CLIENT = "client"
    PRIORITY = "priority"
    LINE = "line"
    DAY = "day"


FormatOption = Annotated[ReportFormat, typer.Option("--format", help="table, csv, json or xlsx.")]
ChartOption = Annotated[bool, typer.Option("--chart", help="After the table, a bar chart.")]


def check_output(output: Path | None) -> None:
    """Refuse, before any work, an output path that cannot be written: a folder, or a file in
    a folder that does not exist."""
    from sdconsole.domain.errors import InvalidInput

    if output is None:
        return
    if output.is_dir():
        raise InvalidInput(N_("{path} is a folder; give a file name."), path=str(output))
    if not output.parent.is_dir():
        raise InvalidInput(N_("No folder {path} to write into."), path=str(output.parent))


def _check_format(fmt: ReportFormat, output: Path | None, chart: bool) -> None:
    from sdconsole.domain.errors import InvalidInput

    check_output(output)
    if chart and fmt != ReportFormat.TABLE:
        raise InvalidInput(N_("--chart goes with --format table only."))
    if fmt == ReportFormat.XLSX and output is None and sys.stdout.isatty():
        raise InvalidInput(
            N_("XLSX is a binary file: give --output FILE.xlsx or redirect standard output.")
        )


def _emit(report: Any, fmt: ReportFormat, output: Path | None, chart: bool, sheet: str) -> None:
    """Write a `reports.tabular.Tabular` in the chosen format."""
    from sdconsole.reports import tabular

    if fmt == ReportFormat.JSON:
        _json(tabular.document(report), output)
    elif fmt == ReportFormat.CSV:
        with _text_out(output) as stream:
            tabular.write_csv(report, stream)
    elif fmt == ReportFormat.XLSX:
        if output is not None:
            with output.open("wb") as binary:
                tabular.write_xlsx(report, binary, sheet)
            err_console.print(_("Written to {path}.").format(path=output), markup=False)
        else:
            tabular.write_xlsx(report, sys.stdout.buffer, sheet)
            sys.stdout.buffer.flush()
    else:
        _print(tabular.renderables(report, _width(output), chart=chart), output)


def _period(chosen: _Selection, by: str | None) -> Any:
    from sdconsole.reports.tabular import Period

    return Period(chosen.start, chosen.end, chosen.now, by, chosen.client, chosen.contract)


@app.command("csat")
@handle_errors
def csat(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    client: ClientOption = None,
    contract: ContractOption = None,
    by: Annotated[
        ReportGroup | None,
        typer.Option(
            help="A row per client, contract, priority, line, engineer, category or channel; "
            "default: the total only.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
    chart: ChartOption = False,
) -> None:
    """Client satisfaction: ratings given in a period, CSAT %, comments and low ratings."""
    from sdconsole.reports import csat as report_csat
    from sdconsole.storage import team_reports

    _check_format(fmt, output, chart)
    cli = state(ctx)
    store = cli.store()
    chosen = _select(store, cli.clock().now(), start, end, client, contract)
    with store.reader() as session:
        rows, labels = team_reports.ratings(session=session, scope=chosen.scope, by=by)
    period = _period(chosen, by.value if by else None)
    _emit(report_csat.build(rows, labels, period=period, by=by), fmt, output, chart, "CSAT")


@app.command("load")
@handle_errors
def load(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    client: ClientOption = None,
    contract: ContractOption = None,
    by: Annotated[LoadGroup, typer.Option(help="A row per engineer, line or team.")] = (
        LoadGroup.ENGINEER
    ),
    fmt: FormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Who carries the work: open now; taken, resolved, hours logged and SLA met % in a period."""
    from sdconsole.reports import load as report_load
    from sdconsole.storage import team_reports

    _check_format(fmt, output, False)
    cli = state(ctx)
    store = cli.store()
    chosen = _select(store, cli.clock().now(), start, end, client, contract)
    with store.reader() as session:
        figures, labels = team_reports.load_figures(
            session=session, scope=chosen.scope, by=by.value
        )
    report = report_load.build(figures, labels, period=_period(chosen, by.value), by=by.value)
    _emit(report, fmt, output, False, _("Load"))


@app.command("volume")
@handle_errors
def volume(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    client: ClientOption = None,
    contract: ContractOption = None,
    by: Annotated[
        VolumeGroup | None,
        typer.Option(
            help="A row per channel, category, client, priority, line or day; default: the "
            "total only.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
    chart: ChartOption = False,
) -> None:
    """How many requests were received in a period, and where they stand now."""
    from sdconsole.reports import volume as report_volume
    from sdconsole.storage import team_reports

    _check_format(fmt, output, chart)
    cli = state(ctx)
    store = cli.store()
    chosen = _select(store, cli.clock().now(), start, end, client, contract)
    key = by.value if by else None
    with store.reader() as session:
        figures, labels = team_reports.volume_figures(session=session, scope=chosen.scope, by=key)
    report = report_volume.build(figures, labels, period=_period(chosen, key), by=key)
    _emit(report, fmt, output, chart, _("Volume"))


MonthOption = Annotated[
    datetime | None,
    typer.Option(
        "--month",
        formats=["%Y-%m"],
        metavar="YYYY-MM",
        help="The month; default: the previous month (UTC).",
        show_default=False,
    ),
]


def _month(value: datetime | None, now: datetime) -> date:
    if value is not None:
        return value.date().replace(day=1)
    return (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)


@app.command("billing")
@handle_errors
def billing(
    ctx: typer.Context,
    month: MonthOption = None,
    client: ClientOption = None,
    fmt: FormatOption = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """What each client owes for a month, per contract, and the cost and margin behind it."""
    from sdconsole.domain.errors import NotFound
    from sdconsole.reports import billing as report_billing
    from sdconsole.services.billing import month_bills
    from sdconsole.storage import reports as queries
    from sdconsole.storage import repositories

    _check_format(fmt, output, False)
    cli = state(ctx)
    store = cli.store()
    now = cli.clock().now()
    first = _month(month, now)
    with store.reader() as session:
        client_ids = name = None
        if client:
            found = repositories.client_by_ref(session=session, ref=client)
            if found is None or found.id is None:
                raise NotFound(N_("No client {ref}."), ref=client)
            client_ids = queries.client_subtree(session=session, client_id=found.id)
            name = found.name
        bills = month_bills(session, first, cli.settings.billing, client_ids=client_ids)
    report = report_billing.build(bills, month=first, as_of=now, client=name)
    _emit(report, fmt, output, False, _("Billing"))


@app.command("client")
@handle_errors
def client_report(
    ctx: typer.Context,
    client: Annotated[str, typer.Option(help="The client: external id, INN or id.")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="FILE.xlsx (a workbook) or FILE.html (a page)."),
    ],
    month: MonthOption = None,
) -> None:
    """One document for a client and a month: SLA, requests, top incidents, ratings, hours."""
    from sdconsole.domain.errors import InvalidInput, NotFound
    from sdconsole.domain.reporting import ReportScope
    from sdconsole.i18n import current_language
    from sdconsole.reports import billing as report_billing
    from sdconsole.reports import client as report_client
    from sdconsole.reports import csat as report_csat
    from sdconsole.reports import volume as report_volume
    from sdconsole.reports.tabular import Period
    from sdconsole.services.billing import month_bills
    from sdconsole.storage import reports as queries
    from sdconsole.storage import repositories, team_reports

    check_output(output)
    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".html", ".htm"):
        raise InvalidInput(
            N_("The client report is FILE.xlsx or FILE.html, not {name}."), name=output.name
        )
    cli = state(ctx)
    store = cli.store()
    now = cli.clock().now()
    first = _month(month, now)
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine((first + timedelta(days=32)).replace(day=1), time(), UTC)
    with store.reader() as session:
        found = repositories.client_by_ref(session=session, ref=client)
        if found is None or found.id is None:
            raise NotFound(N_("No client {ref}."), ref=client)
        ids = queries.client_subtree(session=session, client_id=found.id)
        scope = ReportScope(start=start, end=end, client_ids=ids)
        groups, total = queries.sla_figures(
            session=session, scope=scope, now=now, by=ReportGroup.PRIORITY
        )
        channels, _labels = team_reports.volume_figures(session=session, scope=scope, by="channel")
        categories, _codes = team_reports.volume_figures(
            session=session, scope=scope, by="category"
        )
        names = team_reports.category_names(
            session=session, ids=categories, language=current_language()
        )
        rated, _keys = team_reports.ratings(session=session, scope=scope, by=None)
        bills = month_bills(session, first, cli.settings.billing, client_ids=ids)
    period = Period(first, (end - timedelta(days=1)).date(), now, None, found.name)
    csat = report_csat.build(rated, {}, period=period, by=None)
    sections = (
        report_client.sla_section(groups, total),
        _titled(report_volume.build(channels, {}, period=period, by="channel"), _("Requests")),
        report_client.top(
            report_volume.build(categories, names, period=period, by="category"),
            _("Top incidents"),
        ),
        _titled(csat, _("Ratings"), listings=csat.listings[:1]),
        report_client.for_client(
            report_billing.build(bills, month=first, as_of=now, client=found.name),
            _("Hours and amounts"),
        ),
    )
    document = report_client.ClientReport(found.name, first, now, sections)
    if suffix == ".xlsx":
        with output.open("wb") as binary:
            report_client.write_xlsx(document, binary)
    else:
        with output.open("w", encoding="utf-8") as stream:
            report_client.write_html(document, stream)
    err_console.print(_("Written to {path}.").format(path=output), markup=False)


def _titled(report: Any, title: str, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(report, title=title, **changes)
