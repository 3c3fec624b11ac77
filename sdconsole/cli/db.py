"""Provides `sdconsole db upgrade | backup | status`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sdconsole.cli.common import err_console, handle_errors, state
from sdconsole.i18n import _

app = typer.Typer(help="Create, migrate and back up the store.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade(ctx: typer.Context) -> None:
    """Create the store or migrate it to the newest schema (safe to repeat)."""
    store = state(ctx).store(upgrade=True)
    err_console.print(_("Store {url} is up to date.").format(url=store.describe()), markup=False)


@app.command("status")
@handle_errors
def status(ctx: typer.Context) -> None:
    """Print the store's schema revision and the newest one (exit 7 when behind)."""
    from sdconsole.storage import Store, migrate

    settings = state(ctx).settings
    store = Store(settings.db)
    try:
        current = migrate.current_revision(store.engine)
        head = migrate.head_revision(store.engine)
    finally:
        store.dispose()
    typer.echo(
        _("Store {url}: schema revision {current}, newest {head}.").format(
            url=store.describe(), current=current or _("none"), head=head
        )
    )
    if current != head:
        err_console.print(_("The store is behind; run: sdconsole db upgrade"), markup=False)
        raise typer.Exit(7)


@app.command("backup")
@handle_errors
def backup(
    ctx: typer.Context,
    target: Annotated[
        Path, typer.Argument(help="File to write (SQLite file or a pg_dump archive).")
    ],
) -> None:
    """Copy the live store to FILE without stopping anyone's work.

    SQLite: the online backup API (a consistent copy while others write).
    PostgreSQL: pg_dump in custom format (restore with pg_restore).
    """
    from sdconsole.storage.backup import backup as run_backup

    store = state(ctx).store()
    run_backup(store, target)
    err_console.print(_("Backup written to {path}.").format(path=target), markup=False)
