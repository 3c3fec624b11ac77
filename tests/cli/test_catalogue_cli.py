"""`sdconsole catalogue stats | check | sync` and `sdconsole cards check | list`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import func, select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.storage import Store
from sdconsole.storage.tables import Category

BROKEN_CARD = """\
id: broken-card
title: {ru: Сломанная карта}
start: s1
steps:
  s1: {kind: question, text: {ru: Вопрос?}, answers: {yes: s2, "no": nowhere}}
  s2: {kind: action, text: {ru: Действие}, on_ok: done}
  done: {kind: resolved, resolution: ok}
"""


def test_stats_as_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalogue", "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["leaves"] >= 1000
    assert stats["levels"]["1"] == len(stats["areas"]) >= 11
    assert sum(a["leaves"] for a in stats["areas"].values()) == stats["leaves"]
    assert stats["cards_referenced"] >= 30


def test_stats_as_a_table_in_russian(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--lang", "ru", "catalogue", "stats"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "Каталог инцидентов" in result.stdout and "Фискальные накопители" in result.stdout


def test_cards_check_reports_every_problem_with_file_and_step(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_CARD, encoding="utf-8")
    result = runner.invoke(app, ["cards", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "broken.yaml: step s1: quote the answers yes and no" in result.stderr
    assert "broken.yaml: step s1: unknown target step 'nowhere'" in result.stderr
    assert "broken.yaml: step s2: dead end: the action step needs on_fail" in result.stderr

    packaged = runner.invoke(app, ["cards", "check", "sdconsole/resources/cards"])
    assert packaged.exit_code == 0 and "cards are valid" in packaged.stderr


def test_cards_list(runner: CliRunner) -> None:
    result = runner.invoke(app, ["cards", "list", "--format", "json"])
    assert result.exit_code == 0
    cards = {c["id"]: c for c in json.loads(result.stdout)}
    assert cards["fn-ofd-backlog"]["incident_types"] >= 1
    assert all(c["incident_types"] >= 1 for c in cards.values())


def test_sync_writes_the_catalogue_into_the_store(runner: CliRunner, sqlite_store: Store) -> None:
    result = runner.invoke(app, ["--db", sqlite_store.url, "catalogue", "sync"])
    assert result.exit_code == 0, result.output
    assert "added" in result.stderr
    again = runner.invoke(app, ["--db", sqlite_store.url, "catalogue", "sync"])
    assert "0 added, 0 updated" in again.stderr
    with sqlite_store.reader() as session:
        count = session.exec(select(func.count()).select_from(Category)).one()
    assert count >= 3000
