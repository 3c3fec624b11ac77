"""The import channel: a CSV of requests goes through intake, idempotently, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.storage import Store
from sdconsole.storage.tables import Ticket
from tests.services.helpers import make_world

GOOD = (
    "Номер;Дата обращения;Точка;Тема;Описание;Заявитель;Телефон;Приоритет\n"
    "R-1;23.11.2026 08:15;S-7;Касса не печатает;Ошибка 3924;Ольга;+79120000007;P2\n"
    "R-2;2026-11-23T05:20:00+03:00;S-7;ФН заканчивается;Осталось 5 дней;;;\n"
)


def run(runner: CliRunner, store: Store, *args: str) -> Result:
    return runner.invoke(app, ["--db", store.url, "ticket", "import", *args])


def tickets(store: Store) -> int:
    with store.reader() as session:
        return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def test_import_creates_tickets_once(
    sqlite_store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    make_world(sqlite_store, clock.now())
    path = tmp_path / "requests.csv"
    path.write_bytes(GOOD.encode("cp1251"))
    runner = CliRunner()
    first = run(runner, sqlite_store, str(path), "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"created": 2, "appended": 0, "duplicate": 0}
    again = run(runner, sqlite_store, str(path), "--format", "json")
    assert json.loads(again.stdout) == {"created": 0, "appended": 0, "duplicate": 2}
    with sqlite_store.reader() as session:
        rows = session.execute(select(Ticket).order_by(Ticket.id)).scalars().all()
    assert [r.channel for r in rows] == ["import", "import"]
    # 08:15 at a Yekaterinburg shop is 03:15 UTC; the ISO one carries its own offset.
    assert [r.received_at.isoformat() for r in rows if r.received_at] == [
        "2026-11-23T03:15:00+00:00",
        "2026-11-23T02:20:00+00:00",
    ]
    assert rows[0].priority == 2


def test_text_summary_is_data_on_stdout(
    sqlite_store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    make_world(sqlite_store, clock.now())
    path = tmp_path / "requests.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--db", sqlite_store.url, "--lang", "en", "ticket", "import", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 created, 0 added to existing tickets, 0 already imported\n"
    assert result.stderr == ""


def test_a_bad_row_imports_nothing(sqlite_store: Store, clock: FixedClock, tmp_path: Path) -> None:
    make_world(sqlite_store, clock.now())
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "R-3;вчера;NOPE;Весы;;;;P9\n", encoding="utf-8")
    result = run(CliRunner(), sqlite_store, str(path))
    assert result.exit_code == 2
    stderr = result.stderr
    assert "line 4, column Дата обращения" in stderr
    assert "line 4, column Точка: no client with external id NOPE" in stderr
    assert "line 4, column Приоритет" in stderr
    assert tickets(sqlite_store) == 0
