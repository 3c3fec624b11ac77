"""`sdconsole demo`: builds once, reuses, rebuilds on --force, and never touches other stores."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from sdconsole import locations
from sdconsole.cli.common import state
from sdconsole.cli.main import app
from sdconsole.services import demo as service
from sdconsole.storage import Store


@pytest.fixture(autouse=True)
def _small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command builds the full demo; these tests need its behaviour, not its size."""
    monkeypatch.setattr(service, "build_demo", partial(service.build_demo, tickets=40))


def _demo(runner: CliRunner, *args: str, force: bool = False) -> Any:
    extra = ["--force"] if force else []
    return runner.invoke(app, [*args, "demo", "--no-tui", *extra], env={"COLUMNS": "200"})


def _tickets(url: str) -> int:
    store = Store(url)
    try:
        return service.inspect_store(store)[0]
    finally:
        store.dispose()


def test_builds_then_reuses_then_rebuilds(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = _demo(runner, "--db", url)
    assert built.exit_code == 0, built.output
    assert "Demo store:" in built.stderr and url in built.stderr
    assert built.stdout == ""
    count = _tickets(url)
    assert count > 30

    again = _demo(runner, "--db", url)
    assert again.exit_code == 0 and "Using the demo store" in again.stderr
    assert _tickets(url) == count

    rebuilt = _demo(runner, "--db", url, force=True)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Demo store:" in rebuilt.stderr and _tickets(url) == count


def test_default_location_is_the_demo_file(runner: CliRunner) -> None:
    result = _demo(runner)
    assert result.exit_code == 0, result.output
    assert Path(locations.demo_store_url().removeprefix("sqlite:///")).exists()
    assert not Path(locations.default_store_url().removeprefix("sqlite:///")).exists()


def test_sdconsole_db_names_the_store(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("SDCONSOLE_DB", url)
    assert _demo(runner).exit_code == 0
    assert _tickets(url) > 0


def test_refuses_a_store_that_is_not_a_demo(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'work.db'}"
    made = runner.invoke(app, ["--db", url, "ticket", "new", "--subject", "Касса не печатает"])
    assert made.exit_code == 0, made.output
    plain = _demo(runner, "--db", url)
    assert plain.exit_code == 2 and "not a demo store" in plain.stderr
    forced = _demo(runner, "--db", url, force=True)
    assert forced.exit_code == 2 and "not a demo store" in forced.stderr
    assert _tickets(url) == 1


def test_force_never_deletes_other_files(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database at all")
    result = _demo(runner, "--db", f"sqlite:///{path}", force=True)
    assert result.exit_code == 2 and "not a demo store" in result.stderr
    assert path.read_bytes() == b"not a database at all"


def test_opens_the_console_as_a_demo_engineer(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_tui(ctx: typer.Context) -> None:
        cli = state(ctx)
        seen.update(db=cli.settings.db, actor=cli.actor(required=False).login)

    monkeypatch.setattr("sdconsole.cli.main.open_tui", fake_tui)
    monkeypatch.setenv("SDCONSOLE_USER", "someone.else")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["--db", url, "demo"])
    assert result.exit_code == 0, result.output
    assert seen == {"db": url, "actor": service.DEMO_LOGIN}


@pytest.mark.postgres
def test_force_on_postgresql_needs_an_empty_database(runner: CliRunner, pg_database: str) -> None:
    engine = sa.create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    first = _demo(runner, "--db", pg_database, force=True)
    assert first.exit_code == 0, first.output
    again = _demo(runner, "--db", pg_database, force=True)
    assert again.exit_code == 2 and "--force deletes only a SQLite demo file" in again.stderr
    assert _demo(runner, "--db", pg_database).exit_code == 0
