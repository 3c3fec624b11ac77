"""Provides `sdconsole report sla | breaches`: SLA compliance and the breaches behind it.

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

app = typer.Typer(help="Reports for team leads: SLA compliance and breaches.", no_args_is_help=True)

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
