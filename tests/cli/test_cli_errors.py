"""Ordinary mistakes get one clear line on stderr and a documented exit code, never a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.storage import Store


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_exits_8(runner: CliRunner) -> None:
    url = f"postgresql://sd@127.0.0.1:{free_port()}/sd"
    result = runner.invoke(app, ["--db", url, "ticket", "list"])
    assert result.exit_code == 8
    assert result.stderr.startswith("error: cannot open the store:")
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["mysql://x/y", "oracle://x@y/z"])
def test_a_database_sdconsole_does_not_use_is_named(runner: CliRunner, url: str) -> None:
    result = runner.invoke(app, ["--db", url, "db", "status"])
    assert result.exit_code == 2
    assert "SQLite or PostgreSQL" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("db = \n", "is not valid TOML"),
        ('queue_page_size = "x"\n', "queue_page_size"),
        ("foo = 1\n", "unknown settings: foo"),
        ('language = "de"\n', "language"),
    ],
)
def test_a_bad_config_file_is_explained(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(config, encoding="utf-8")
    monkeypatch.setenv("SDCONSOLE_CONFIG", str(path))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_an_unknown_language_option_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--lang", "de", "config", "show"])
    assert result.exit_code == 2
    assert "language" in result.stderr


def test_db_status_leaves_a_new_store_creatable(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["--db", url, "db", "status"]).exit_code == 7
    result = runner.invoke(app, ["--db", url, "ticket", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ("ticket", "show", "SD-000001", "--format", "xml"),
        ("ticket", "list", "--format", "yaml"),
        ("config", "show", "--format", "yaml"),
        ("ticket", "new", "--subject", "Касса", "--format", "xml"),
    ],
)
def test_an_unknown_format_is_a_usage_error(
    runner: CliRunner, populated: Store, args: tuple[str, ...]
) -> None:
    result = runner.invoke(app, ["--db", populated.url, "--as", "ivanov", *args])
    assert result.exit_code == 2
    assert "--format" in result.stderr


def test_a_phone_ticket_needs_a_subject(runner: CliRunner, populated: Store) -> None:
    result = runner.invoke(
        app, ["--db", populated.url, "--as", "ivanov", "ticket", "new", "--subject", "  "]
    )
    assert result.exit_code == 2
    assert "subject is required" in result.stderr


def test_json_times_are_whole_seconds(runner: CliRunner, populated: Store) -> None:
    result = runner.invoke(
        app,
        [
            "--db",
            populated.url,
            "--as",
            "ivanov",
            "ticket",
            "new",
            "--subject",
            "Весы",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    number = json.loads(result.stdout)["number"]
    shown = runner.invoke(
        app, ["--db", populated.url, "ticket", "show", number, "--format", "json"]
    )
    created = json.loads(shown.stdout)["created_at"]
    assert len(created) == len("2026-11-23T09:30:00Z"), created
