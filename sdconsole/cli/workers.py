"""Provides `sdconsole workers run`: the periodic jobs (and, as channels arrive, intake workers)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from sdconsole.cli.common import err_console, handle_errors, print_json, state
from sdconsole.i18n import N_, _

app = typer.Typer(help="Run background workers and periodic jobs.", no_args_is_help=True)


@app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    only: Annotated[
        str | None,
        typer.Option(help="Comma-separated jobs to run (default: all). Jobs: sla."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass of each job, then exit.")] = False,
) -> None:
    """Run every job on its interval until stopped (Ctrl+C or SIGTERM)."""
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.services.runner import JOBS, run_jobs

    names = [n.strip() for n in only.split(",") if n.strip()] if only else list(JOBS)
    unknown = [n for n in names if n not in JOBS]
    if unknown:
        raise InvalidInput(
            N_("Unknown job {names}; jobs are: {known}"),
            names=", ".join(unknown),
            known=", ".join(JOBS),
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cli = state(ctx)
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
        err_console.print(
            _("Running {jobs}; stop with Ctrl+C.").format(jobs=", ".join(names)), markup=False
        )
    handled = run_jobs([JOBS[n] for n in names], cli.store(), cli.clock(), stop=stop, once=once)
    if once:
        print_json(handled)
