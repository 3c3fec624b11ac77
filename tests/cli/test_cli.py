"""The command line: golden outputs per format, exit codes, stdout for data and stderr for talk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.storage import Store


def invoke(runner: CliRunner, store: Store | str, *args: str) -> Any:
    url = store if isinstance(store, str) else store.url
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "150"})


def test_ticket_list_json_is_stable(runner: CliRunner, populated: Store, golden_json: Any) -> None:
    result = invoke(runner, populated, "ticket", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {
        "number",
        "status",
        "priority",
        "client",
        "subject",
        "line",
        "assignee",
        "created_at",
    } <= set(records[0])
    assert result.stdout == golden_json


def test_ticket_list_csv(runner: CliRunner, populated: Store, golden_csv: Any) -> None:
    result = invoke(runner, populated, "ticket", "list", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == golden_csv


def test_ticket_list_table_shows_markup_literally(
    runner: CliRunner, populated: Store, golden_text: Any
) -> None:
    result = invoke(runner, populated, "ticket", "list")
    assert result.exit_code == 0
    assert "[bold]СРОЧНО[/bold]" in result.stdout
    assert result.stdout == golden_text


def test_ticket_list_filters(runner: CliRunner, populated: Store) -> None:
    mine = json.loads(
        invoke(
            runner, populated, "ticket", "list", "--assignee", "ivanov", "--format", "json"
        ).stdout
    )
    assert {r["assignee"] for r in mine} == {"ivanov"} and len(mine) == 2
    active = json.loads(
        invoke(runner, populated, "ticket", "list", "--status", "active", "--format", "json").stdout
    )
    assert {r["status"] for r in active} == {"new", "open"}
    bad = invoke(runner, populated, "ticket", "list", "--status", "bogus")
    assert bad.exit_code == 2 and "Unknown status bogus" in bad.stderr


def test_ticket_show_json_and_text(runner: CliRunner, populated: Store, golden_json: Any) -> None:
    result = invoke(runner, populated, "ticket", "show", "SD-000002", "--format", "json")
    assert result.exit_code == 0
    assert result.stdout == golden_json
    text = invoke(runner, populated, "ticket", "show", "2")
    assert "Запланируем замену ФН на завтра." in text.stdout


def test_ticket_show_unknown_exits_4(runner: CliRunner, populated: Store) -> None:
    result = invoke(runner, populated, "ticket", "show", "SD-000999")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "No ticket SD-000999" in result.stderr


def test_ticket_new_is_the_phone_form_and_is_idempotent(
    runner: CliRunner, populated: Store
) -> None:
    args = (
        "ticket",
        "new",
        "--subject",
        "Весы не печатают этикетки",
        "--client",
        "S-7",
        "--caller",
        "Ольга",
        "--priority",
        "p2",
        "--key",
        "call-42",
        "--format",
        "json",
    )
    first = json.loads(invoke(runner, populated, *args).stdout)
    again = json.loads(invoke(runner, populated, *args).stdout)
    assert first["outcome"] == "created" and again["outcome"] == "duplicate"
    assert first["number"] == again["number"] == "SD-000004"
    assert "Already registered as SD-000004" in invoke(runner, populated, *args).stderr
    other = [a if a != "Весы не печатают этикетки" else "Другая заявка" for a in args]
    reused = invoke(runner, populated, *other)
    assert reused.exit_code == 6
    assert "Key call-42 was used for SD-000004 with other details" in reused.stderr
    shown = json.loads(invoke(runner, populated, "ticket", "show", "4", "--format", "json").stdout)
    assert (shown["channel"], shown["priority"], shown["site_name"]) == ("phone", 2, "Магазин №7")
    missing = invoke(runner, populated, "ticket", "new", "--subject", "x", "--client", "NOPE")
    assert missing.exit_code == 4 and "No client NOPE" in missing.stderr


def test_a_new_sqlite_store_is_created_on_first_use(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        runner, f"sqlite:///{tmp_path / 'new' / 'store.db'}", "ticket", "list", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_store_not_ready_exits_7_with_advice(runner: CliRunner, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.execute("CREATE TABLE unrelated (x)")
    result = invoke(runner, f"sqlite:///{old}", "ticket", "list")
    assert result.exit_code == 7
    assert "sdconsole db upgrade" in result.stderr


def test_db_upgrade_status_and_backup(runner: CliRunner, populated: Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert invoke(runner, url, "db", "status").exit_code == 7
    assert invoke(runner, url, "db", "upgrade").exit_code == 0
    assert invoke(runner, url, "db", "status").exit_code == 0
    target = tmp_path / "backup" / "copy.db"
    result = invoke(runner, populated, "db", "backup", str(target))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM ticket").fetchone() == (3,)


def test_config_show_reflects_file_env_and_options(
    runner: CliRunner, tmp_path: Path, monkeypatch: Any
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('db = "sqlite:///from-file.db"\nlanguage = "ru"\nuser = "ivanov"\n')
    monkeypatch.setenv("SDCONSOLE_CONFIG", str(config))
    monkeypatch.setenv("SDCONSOLE_USER", "petrova")
    result = runner.invoke(app, ["config", "show", "--format", "json"])
    shown = json.loads(result.stdout)
    assert (shown["db"], shown["language"], shown["user"]) == (
        "sqlite:///from-file.db",
        "ru",
        "petrova",
    )
    result = runner.invoke(app, ["--db", "postgresql://u:secret@db/sd", "config", "show"])
    assert "secret" not in result.stdout and 'db = "postgresql://u:***@db/sd"' in result.stdout


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "db", "import", "ticket", "config"):
        assert command in result.stdout


def test_config_show_writes_tables_that_read_back(
    runner: CliRunner, tmp_path: Path, monkeypatch: Any
) -> None:
    config = tmp_path / "routing.toml"
    config.write_text(
        '[routing]\nmax_open = 25\n\n[[routing.rules]]\nname = "ЕГАИС"\ncategories = ["egais"]\n'
        "line = 2\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SDCONSOLE_CONFIG", str(config))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    import tomllib

    shown = tomllib.loads(result.stdout)
    assert shown["routing"]["max_open"] == 25
    assert shown["routing"]["rules"][0] == {
        "name": "ЕГАИС",
        "categories": ["egais"],
        "priorities": [],
        "channels": [],
        "clients": [],
        "line": 2,
        "skills": [],
    }
