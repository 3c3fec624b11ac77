"""Tests of `sdconsole import …`: summaries on stdout, problems on stderr, exit codes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner, Result

from sdconsole.cli.main import app
from sdconsole.storage import Store
from sdconsole.storage.tables import Client, Device, Engineer

DATA = Path(__file__).parent.parent / "data" / "import"

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(runner: CliRunner, store: Store) -> Invoke:
    """Run ``sdconsole --db URL import ARGS…`` against the test store."""

    def run(*args: str) -> Result:
        return runner.invoke(app, ["--db", store.url, "import", *args])

    return run


def clients(store: Store) -> int:
    with store.reader() as session:
        return int(session.exec(select(func.count()).select_from(Client)).one())


def test_cp1251_file_imports_with_a_text_summary(invoke: Invoke, store: Store) -> None:
    result = invoke("clients", str(DATA / "clients_1c_cp1251.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "clients: 6 created, 0 updated, 0 unchanged\n"
    assert result.stderr == ""
    assert clients(store) == 6


def test_json_summary_and_idempotent_reimport(invoke: Invoke, store: Store) -> None:
    path = str(DATA / "clients_bom.csv")
    first = invoke("clients", path, "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "kind": "clients",
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    second = invoke("clients", path, "--format", "json")
    assert json.loads(second.stdout) == {
        "kind": "clients",
        "created": 0,
        "updated": 0,
        "unchanged": 3,
    }
    assert clients(store) == 3


def test_two_bad_rows_exit_2_with_both_lines_and_nothing_written(
    invoke: Invoke, store: Store
) -> None:
    result = invoke("clients", str(DATA / "clients_bad.csv"))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "error: clients_bad.csv: nothing was imported; problems found: 2."
    assert lines[1] == "  line 3, column inn: 7701234561 is not a valid INN (check digit)"
    assert lines[2].startswith("  line 5, column timezone: unknown time zone Europe/Kazan")
    assert clients(store) == 0


def test_dry_run_writes_nothing(invoke: Invoke, store: Store) -> None:
    path = str(DATA / "clients_1c_cp1251.csv")
    result = invoke("clients", path, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 6
    assert "Dry run: nothing was written." in result.stderr
    assert clients(store) == 0


def test_every_kind_in_dependency_order(invoke: Invoke, store: Store) -> None:
    assert invoke("engineers", str(DATA / "engineers.csv")).exit_code == 0
    assert invoke("clients", str(DATA / "clients_1c_cp1251.csv")).exit_code == 0
    devices = invoke("devices", str(DATA / "devices.csv"), "--format", "json")
    assert json.loads(devices.stdout)["created"] == 2
    contracts = invoke("contracts", str(DATA / "contracts.csv"))
    assert contracts.exit_code == 2  # no SLA plan STANDARD in this store
    assert "line 2, column SLA: no SLA plan with code STANDARD" in contracts.stderr
    with store.reader() as session:
        assert len(session.exec(select(Engineer)).all()) == 2
        assert len(session.exec(select(Device)).all()) == 2


def test_unknown_columns_exit_2(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("Код;Наименованее;Вид\n1;X;сеть\n", encoding="utf-8")
    result = invoke("clients", str(path))
    assert result.exit_code == 2
    assert "line 1: unknown columns: Наименованее" in result.stderr


@pytest.mark.parametrize(
    "args", [["clients", "missing.csv"], ["clients", "x.csv", "--format", "xml"]]
)
def test_bad_usage_exits_2(invoke: Invoke, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "x.csv").write_text("external_id,kind,name\n", encoding="utf-8")
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    assert invoke(*args).exit_code == 2


def test_an_unmigrated_store_exits_7(runner: CliRunner, tmp_path: Path) -> None:
    # A new file is created and migrated on first use; an existing file with foreign
    # tables is a store that needs `sdconsole db upgrade` and is never touched.
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.execute("CREATE TABLE unrelated (x)")
    url = f"sqlite:///{old}"
    result = runner.invoke(app, ["--db", url, "import", "clients", str(DATA / "clients_bom.csv")])
    assert result.exit_code == 7
    assert "sdconsole db upgrade" in result.stderr
