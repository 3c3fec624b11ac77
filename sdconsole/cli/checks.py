"""Provides `sdconsole checks`: cash-register health reports into the registry and tickets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sdconsole.cli.common import err_console, handle_errors, print_json, state

app = typer.Typer(help="Cash-register health checks (monitoring).", no_args_is_help=True)


@app.command("ingest")
@handle_errors
def ingest(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="A file of JSON lines (sdconsole.health/1), or - for stdin.")
    ],
) -> None:
    """Take health reports: update the device registry, open, update or resolve tickets.

    Prints the counts as JSON; every line that was not taken is named on stderr with its
    number and reason (and kept as a dead letter). Exit 1 when any line was refused.
    """
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.i18n import N_
    from sdconsole.services.monitoring import Monitoring

    cli = state(ctx)
    store, clock = cli.store(), cli.clock()
    monitoring = Monitoring.from_settings(store, clock, cli.settings)
    if source == "-":
        summary = monitoring.ingest_lines(sys.stdin.buffer)
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(N_("No such file or folder: {path}"), path=source)
        with path.open("rb") as handle:
            summary = monitoring.ingest_lines(handle)
    for number, reason in summary.errors:
        err_console.print(f"line {number}: {reason}", markup=False, highlight=False)
    print_json(summary.as_json())
    if summary.errors:
        raise typer.Exit(1)
