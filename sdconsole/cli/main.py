"""Provides the root command: `sdconsole` (the TUI) and its command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from sdconsole.cli import catalogue as catalogue_cli
from sdconsole.cli import checks as checks_cli
from sdconsole.cli import classifier as classifier_cli
from sdconsole.cli import config as config_cli
from sdconsole.cli import db as db_cli
from sdconsole.cli import dead_letters as dead_letters_cli
from sdconsole.cli import demo as demo_cli
from sdconsole.cli import imports as import_cli
from sdconsole.cli import mail as mail_cli
from sdconsole.cli import quality as quality_cli
from sdconsole.cli import report as report_cli
from sdconsole.cli import telegram as telegram_cli
from sdconsole.cli import tickets as ticket_cli
from sdconsole.cli import workers as workers_cli
from sdconsole.cli.common import CliState, handle_errors, state

app = typer.Typer(
    name="sdconsole",
    help="sdconsole: the service-desk console for cash-register and retail-IT support.",
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_cli.app, name="db")
app.add_typer(import_cli.app, name="import")
app.add_typer(ticket_cli.app, name="ticket")
app.add_typer(config_cli.app, name="config")
app.add_typer(workers_cli.app, name="workers")
app.add_typer(mail_cli.app, name="mail")
app.add_typer(dead_letters_cli.app, name="dead-letters")
app.add_typer(telegram_cli.app, name="telegram")
app.add_typer(checks_cli.app, name="checks")
app.add_typer(report_cli.app, name="report")
app.add_typer(catalogue_cli.app, name="catalogue")
app.add_typer(catalogue_cli.cards_app, name="cards")
app.add_typer(classifier_cli.app, name="classifier")
app.add_typer(quality_cli.app, name="quality")
app.command("demo")(demo_cli.demo)


@app.command("wall")
def wall(ctx: typer.Context) -> None:
    """The wall monitor: unassigned and breached tickets, deadlines, workers (read-only)."""
    open_tui(ctx, mode="wall")


@app.callback(invoke_without_command=True)
@handle_errors
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store URL (sqlite:///file.db or postgresql://…); env SDCONSOLE_DB.",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--as", help="Engineer login to act as; env SDCONSOLE_USER.", show_default=False
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Interface language: ru or en (default: from config, else LANG).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Open the console on the configured store (or run a command)."""
    ctx.obj = CliState(db=db, user=user, language=language)
    from sdconsole import i18n

    i18n.set_language(ctx.obj.settings.language)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        open_tui(ctx)


@handle_errors
def open_tui(ctx: typer.Context, *, mode: str = "queue") -> None:
    """Build the app from the settings and the store, and run it."""
    from sdconsole.app import make_app

    cli = state(ctx)
    store = cli.store()
    actor = cli.actor(required=False)
    make_app(cli.settings, store, cli.clock(), actor=actor, mode=mode).run()


def run() -> None:
    """Console-script entry point."""
    app()
