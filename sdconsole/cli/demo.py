"""Provides `sdconsole demo`: build the demo store once, then open the console on it.

The demo lives in its own SQLite file (``demo.db`` in the data folder) unless ``--db`` or
``SDCONSOLE_DB`` names another store; the configured working store is never touched. A store that
already holds the demo is reused; ``--force`` deletes a SQLite demo file and builds it again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sdconsole.cli.common import CliState, err_console, handle_errors, state
from sdconsole.i18n import N_, _

if TYPE_CHECKING:
    from sdconsole.services.demo import DemoSummary
    from sdconsole.storage import Store


@handle_errors
def demo(
    ctx: typer.Context,
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Build (or reuse) the demo store and stop.")
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same demo.")
    ] = 1,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Delete the SQLite demo store and build it again (a PostgreSQL store must be "
            "empty).",
        ),
    ] = False,
) -> None:
    """Build the demo store (once) and open the console on it as a demo engineer."""
    from sdconsole import locations
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.services import demo as service

    cli = state(ctx)
    url = cli.db or os.environ.get("SDCONSOLE_DB") or locations.demo_store_url()
    # The root callback has already read the settings for the language; the demo gets its own
    # state so the working store and the configured user (unknown to the demo) stay out of it.
    demo_state = CliState(db=url, user=cli.user or service.DEMO_LOGIN, language=cli.language)
    ctx.find_root().obj = demo_state
    ctx.call_on_close(demo_state.close)

    path = _sqlite_path(url)
    if force and path is not None and path.exists():
        _delete_sqlite_demo(url, path)
    store = demo_state.store(upgrade=True)
    tickets, is_demo = service.inspect_store(store)
    if tickets and force:
        raise InvalidInput(
            N_(
                "--force deletes only a SQLite demo file; {url} is not one and already has "
                "tickets. Empty that database yourself or pick another --db."
            ),
            url=store.describe(),
        )
    if tickets and not is_demo:
        raise InvalidInput(
            N_("{url} already has tickets and is not a demo store; the demo needs an empty store."),
            url=store.describe(),
        )
    if tickets:
        err_console.print(
            _("Using the demo store {url} ({count} tickets); --force builds it again.").format(
                url=store.describe(), count=tickets
            ),
            markup=False,
            soft_wrap=True,
        )
    else:
        started = time.perf_counter()
        summary = _build(store, seed, demo_state)
        err_console.print(
            _("{summary} Built in {seconds:.0f} s: {url}").format(
                summary=summary.describe(),
                seconds=time.perf_counter() - started,
                url=store.describe(),
            ),
            markup=False,
            soft_wrap=True,
        )
    if not no_tui:
        from sdconsole.cli.main import open_tui

        open_tui(ctx)


def _build(store: Store, seed: int, cli: CliState) -> DemoSummary:
    """Build with a progress bar on a terminal (the full demo takes about a minute)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sdconsole.services.demo import build_demo

    now = cli.clock().now()
    if not err_console.is_terminal:
        return build_demo(store, seed=seed, now=now)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(_("Building the demo store"), total=None)
        return build_demo(
            store,
            seed=seed,
            now=now,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL, or None for another back end (or an in-memory one)."""
    from sqlalchemy.engine import make_url

    from sdconsole.storage.engine import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def _delete_sqlite_demo(url: str, path: Path) -> None:
    """Delete a SQLite demo store (with its WAL files); refuse any other file.

    Raises:
        InvalidInput: the file is not the default demo file, a demo store or an empty store.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from sdconsole import locations
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.services.demo import inspect_store
    from sdconsole.storage import Store, migrate

    disposable = path == _sqlite_path(locations.demo_store_url()) or path.stat().st_size == 0
    if not disposable:
        store = Store(url)
        try:
            if migrate.current_revision(store.engine) is not None:
                tickets, is_demo = inspect_store(store)
                disposable = is_demo or tickets == 0
        except SQLAlchemyError:
            disposable = False
        finally:
            store.dispose()
    if not disposable:
        raise InvalidInput(
            N_("{path} is not a demo store; --force deletes only demo stores."), path=str(path)
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
