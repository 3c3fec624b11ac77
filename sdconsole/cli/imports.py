"""Provides `sdconsole import clients|contracts|devices|engineers|calendars|sla-plans FILE.csv`.

Files are UTF-8 or Windows-1251, ``;`` or ``,`` delimited, with English or Russian column names
(docs/import-formats.md). A file with any bad row writes nothing: every problem is printed on
stderr as ``line N, column C: …`` and the command exits with code 2. Import contracts and devices
after the clients and SLA plans they refer to, clients after the engineers they name as managers,
and SLA plans after their calendars.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sdconsole.cli.common import TextFormat, err_console, handle_errors, print_json, state
from sdconsole.i18n import _

if TYPE_CHECKING:
    from sdconsole.services.importing import ImportKind, ImportRowsFailed

app = typer.Typer(
    help="Import clients, contracts, devices, engineers, calendars and SLA plans from CSV.",
    no_args_is_help=True,
)


def _file_argument(help_text: str) -> Any:
    """An existing, readable file named FILE on the command line."""
    return typer.Argument(
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
        metavar="FILE",
        help=help_text,
    )


FileArg = Annotated[Path, _file_argument("CSV file: UTF-8 or Windows-1251, ';' or ',' delimited.")]
HistoryFileArg = Annotated[
    Path,
    _file_argument("JSON lines: one ticket with its messages and events per line (format 1)."),
]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Check the file and count what would change; write nothing."),
]
FormatOpt = Annotated[TextFormat, typer.Option("--format", help="text or json.")]


def print_problems(error: ImportRowsFailed) -> None:
    """The summary line, then every problem indented, one per line (never wrapped, so it can be
    grepped and pasted), and a count of those left out."""
    err_console.print(_("error:"), str(error), markup=False, soft_wrap=True)
    for issue in error.issues:
        err_console.print("  " + str(issue), markup=False, soft_wrap=True)
    hidden = error.total - len(error.issues)
    if hidden > 0:
        err_console.print(
            "  " + _("… and {count} more.").format(count=hidden), markup=False, soft_wrap=True
        )


def _run(ctx: typer.Context, kind: ImportKind, path: Path, dry_run: bool, fmt: TextFormat) -> None:
    """Import one file and print its summary; print every problem and exit 2 when it has any."""
    from sdconsole.services.importing import ImportRowsFailed, ImportService

    cli = state(ctx)
    service = ImportService(cli.store(), cli.clock())
    try:
        summary = service.import_file(kind, path, dry_run=dry_run)
    except ImportRowsFailed as error:
        print_problems(error)
        raise typer.Exit(error.exit_code) from None
    if fmt == "json":
        print_json(summary.as_dict())
    else:
        typer.echo(
            _("{kind}: {created} created, {updated} updated, {unchanged} unchanged").format(
                kind=summary.kind.value,
                created=summary.created,
                updated=summary.updated,
                unchanged=summary.unchanged,
            )
        )
    if dry_run:
        err_console.print(_("Dry run: nothing was written."), markup=False)


@app.command("clients")
@handle_errors
def clients(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import the client tree: chains, legal entities and sites (shops)."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.CLIENTS, file, dry_run, fmt)


@app.command("contracts")
@handle_errors
def contracts(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import support contracts (their clients and SLA plans must exist)."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.CONTRACTS, file, dry_run, fmt)


@app.command("devices")
@handle_errors
def devices(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import equipment at sites: cash registers with fiscal-drive data, POS, UTM and more."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.DEVICES, file, dry_run, fmt)


@app.command("engineers")
@handle_errors
def engineers(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import engineers (matched by login): role, lines, teams, skills, Telegram id."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.ENGINEERS, file, dry_run, fmt)


@app.command("calendars")
@handle_errors
def calendars(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import business calendars (matched by code): weekly hours, zone, production calendar."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.CALENDARS, file, dry_run, fmt)


@app.command("sla-plans")
@handle_errors
def sla_plans(
    ctx: typer.Context, file: FileArg, dry_run: DryRunOpt = False, fmt: FormatOpt = TextFormat.TEXT
) -> None:
    """Import SLA plans (matched by code): P1-P4 targets, their calendars, warning threshold."""
    from sdconsole.services.importing import ImportKind

    _run(ctx, ImportKind.SLA_PLANS, file, dry_run, fmt)


@app.command("tickets")
@handle_errors
def tickets(
    ctx: typer.Context,
    file: HistoryFileArg,
    fmt: FormatOpt = TextFormat.TEXT,
) -> None:
    """Import ticket history from another service desk (matched by external_id, never twice)."""
    from sdconsole.services.importing import ImportRowsFailed
    from sdconsole.services.importing.history import import_history

    cli = state(ctx)
    try:
        summary = import_history(cli.store(), cli.clock(), file)
    except ImportRowsFailed as error:
        print_problems(error)
        raise typer.Exit(error.exit_code) from None
    if fmt == TextFormat.JSON:
        print_json({"kind": "tickets", "created": summary.created, "unchanged": summary.unchanged})
    else:
        typer.echo(
            _("tickets: {created} created, {unchanged} already imported").format(
                created=summary.created, unchanged=summary.unchanged
            )
        )
