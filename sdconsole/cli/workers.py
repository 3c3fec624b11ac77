"""Provides `sdconsole workers run`: intake loops and periodic jobs under one supervisor."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from sdconsole.cli.common import err_console, handle_errors, print_json, state
from sdconsole.i18n import _

app = typer.Typer(help="Run background workers and periodic jobs.", no_args_is_help=True)


@app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    only: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated workers to run (default: all). Workers: sla, monitoring,"
            " quality, contracts, outbox (with [mail.smtp] or [telegram]), imap (every mailbox)"
            " or imap:NAME, telegram."
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="One pass of each periodic job, then exit.")
    ] = False,
) -> None:
    """Run every worker until stopped (Ctrl+C or SIGTERM); a failing one restarts with backoff."""
    from sdconsole.services.runner import JOBS, Supervisor, build_workers, run_jobs, settings_jobs

    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    cli = state(ctx)
    settings = cli.settings
    store = cli.store()
    clock = cli.clock()
    if once:
        from sdconsole.domain.errors import InvalidInput
        from sdconsole.i18n import N_

        known = {**JOBS, **settings_jobs(settings)}
        unknown = [n for n in names or () if n not in known]
        if unknown:
            raise InvalidInput(
                N_("Unknown job {names}; jobs are: {known}"),
                names=", ".join(unknown),
                known=", ".join(known),
            )
        jobs = [known[n] for n in (names or known)]
        print_json(run_jobs(jobs, store, clock, stop=threading.Event(), once=True))
        return
    workers = build_workers(store, clock, settings, names)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    err_console.print(
        _("Running {workers}; stop with Ctrl+C.").format(
            workers=", ".join(w.name for w in workers)
        ),
        markup=False,
    )
    Supervisor(store, clock, workers).run(stop)
    err_console.print(_("Stopped."), markup=False)
