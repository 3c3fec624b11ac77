"""`sdconsole report sla | breaches`: golden JSON, CSV, XLSX, the chart and the exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sdconsole.cli.common import CliState
from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.reports.breaches import BREACH_FIELDS
from sdconsole.reports.sla import CSV_FIELDS
from sdconsole.storage import Store
from tests.reports import world


@pytest.fixture
def report_store(sqlite_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The report world, with the command's clock fixed at NOW."""
    world.build(sqlite_store, clock)
    monkeypatch.setattr(CliState, "clock", lambda self: clock)
    return sqlite_store


def invoke(runner: CliRunner, store: Store, *args: str, columns: int = 200) -> Any:
    return runner.invoke(app, ["--db", store.url, *args], env={"COLUMNS": str(columns)})


def test_report_sla_json_is_stable(
    runner: CliRunner, report_store: Store, golden_json: Any
) -> None:
    result = invoke(runner, report_store, "report", "sla", "--by", "priority", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["period"] == {"from": "2026-10-25", "to": "2026-11-23"}
    assert data["total"]["response"] == {
        "met": 2,
        "breached": 3,
        "running": 1,
        "met_pct": 40.0,
        "median_minutes": 10.0,
        "p90_minutes": 26.0,
    }
    assert result.stdout == golden_json


def test_report_sla_met_pct_is_null_when_nothing_counted(
    runner: CliRunner, report_store: Store
) -> None:
    result = invoke(
        runner, report_store, "report", "sla", "--from", "2026-11-23", "--format", "json"
    )
    total = json.loads(result.stdout)["total"]
    assert total["tickets"] == 1  # "fresh": every clock still running
    assert total["response"]["met_pct"] is None and total["response"]["median_minutes"] is None


def test_report_sla_csv(runner: CliRunner, report_store: Store, golden_csv: Any) -> None:
    result = invoke(runner, report_store, "report", "sla", "--by", "engineer", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_FIELDS
    assert [(r["kind"], r["key"], r["tickets"]) for r in rows] == [
        ("group", "ivanov", "3"),
        ("group", "—", "3"),
        ("total", "", "6"),
    ]
    assert result.stdout == golden_csv


def test_report_sla_table_and_chart(
    runner: CliRunner, report_store: Store, golden_text: Any
) -> None:
    result = invoke(runner, report_store, "report", "sla", "--by", "client", "--chart")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Продукты Урала" in out and "Северный берег" in out and "Total" in out
    chart = out[out.index("Daily compliance") :]
    assert "2026-10-25" in chart and "2026-11-21" in chart and "2026-11-23" in chart
    assert chart.count("\n") >= 30  # a line per day of the period
    assert out == golden_text


def test_report_sla_table_fits_a_narrow_terminal(runner: CliRunner, report_store: Store) -> None:
    out = invoke(runner, report_store, "report", "sla", "--by", "client", columns=80).stdout
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert "Resp.\n" not in out and "breached" in out  # the breaches stay, medians go


def test_report_sla_xlsx_reads_back(runner: CliRunner, report_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sla.xlsx"
    result = invoke(
        runner,
        report_store,
        "report",
        "sla",
        "--by",
        "priority",
        "--format",
        "xlsx",
        "-o",
        str(path),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "sla.xlsx" in result.stderr
    book = load_workbook(path)
    rows = list(book["SLA"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Priority", "Tickets", "Reg. met %")
    assert [r[0] for r in rows[1:]] == ["P1", "P2", "P3", "Total"]
    assert rows[-1][1] == 6 and rows[-1][6] == 40.0  # tickets, response met %


def test_report_sla_xlsx_to_a_pipe(runner: CliRunner, report_store: Store) -> None:
    result = invoke(runner, report_store, "report", "sla", "--format", "xlsx")
    assert result.exit_code == 0
    assert result.stdout_bytes[:2] == b"PK"  # a zip: the workbook itself


def test_report_sla_filters_and_errors(runner: CliRunner, report_store: Store) -> None:
    def total(*args: str) -> int:
        result = invoke(runner, report_store, "report", "sla", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout)["total"]["tickets"])

    assert total("--client", "CH-1") == 5
    assert total("--client", "S-7") == 5
    assert total("--client", "CH-2") == 1
    assert total("--contract", "Д-2026/7") == 5
    assert total("--from", "2026-10-01") == 7
    missing = invoke(runner, report_store, "report", "sla", "--client", "nobody")
    assert missing.exit_code == 4 and "No client nobody" in missing.stderr
    backwards = invoke(
        runner, report_store, "report", "sla", "--from", "2026-11-20", "--to", "2026-11-01"
    )
    assert backwards.exit_code == 2 and backwards.stdout == ""
    chart = invoke(runner, report_store, "report", "sla", "--chart", "--format", "json")
    assert chart.exit_code == 2 and "--chart" in chart.stderr


def test_breaches_match_the_report(runner: CliRunner, report_store: Store) -> None:
    report = json.loads(invoke(runner, report_store, "report", "sla", "--format", "json").stdout)[
        "total"
    ]
    result = invoke(runner, report_store, "report", "breaches", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    for clock in ("registration", "response", "resolution"):
        assert sum(r["clock"] == clock for r in rows) == report[clock]["breached"]
    assert tuple(rows[0]) == BREACH_FIELDS
    late = next(r for r in rows if r["number"] == "SD-000003" and r["clock"] == "response")
    assert late["late_minutes"] == 15 and late["due_at"] == "2026-11-21T09:45:00Z"
    csv_out = invoke(runner, report_store, "report", "breaches", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == ",".join(BREACH_FIELDS)
    assert len(csv_out.splitlines()) == len(rows) + 1
    table = invoke(runner, report_store, "report", "breaches").stdout
    assert "SD-000004" in table and "running" in table


def test_report_in_russian(runner: CliRunner, report_store: Store) -> None:
    out = invoke(runner, report_store, "--lang", "ru", "report", "sla", "--by", "line").stdout
    assert "Отчёт SLA" in out and "Итого" in out
