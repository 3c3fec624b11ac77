"""`sdconsole report csat | load | volume | billing` and `ticket rate | follow-up | log-time`.

On the SLA report's world (tests/reports/world.py): ivanov resolved "met" and "late" two days
before NOW and "old" 40 days before; "other" is a request of a client without a contract.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from sdconsole.cli.common import CliState
from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Role, ticket_number
from sdconsole.storage import Store
from sdconsole.storage.tables import Contract, Engineer, Rating, Ticket
from tests.conftest import NOW, add_engineer
from tests.reports import world


@pytest.fixture
def ids(sqlite_store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    found = world.build(sqlite_store, clock)
    add_engineer(sqlite_store, "lead", Role.LEAD)
    monkeypatch.setattr(CliState, "clock", lambda self: clock)
    return found


def run(runner: CliRunner, store: Store, *args: str, columns: int = 200) -> Any:
    return runner.invoke(app, ["--db", store.url, *args], env={"COLUMNS": str(columns)})


def number(ids: dict[str, int], name: str) -> str:
    return ticket_number(ids[name])


def _rate(runner: CliRunner, store: Store, ids: dict[str, int]) -> None:
    for name, score, comment in (
        ("met", 5, "Спасибо!"),
        ("late", 2, "Долго ждали."),
        ("old", 4, ""),
    ):
        result = run(
            runner,
            store,
            "--as",
            "ivanov",
            "ticket",
            "rate",
            number(ids, name),
            "--score",
            str(score),
            "--comment",
            comment,
        )
        assert result.exit_code == 0, result.output


def test_csat_counts_scores_low_ratings_and_their_follow_up(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int], tmp_path: Path
) -> None:
    _rate(runner, sqlite_store, ids)
    result = run(runner, sqlite_store, "report", "csat", "--by", "engineer", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["report"] == "csat" and data["by"] == "engineer"
    assert data["total"] == {
        "ratings": 3,
        "score_1": 0,
        "score_2": 1,
        "score_3": 0,
        "score_4": 1,
        "score_5": 1,
        "average": 3.67,
        "csat_pct": 66.7,
        "low": 1,
        "followed_up": 0,
    }
    assert [g["key"] for g in data["groups"]] == ["ivanov"]
    assert [c["number"] for c in data["comments"]] == [number(ids, "met"), number(ids, "late")]
    (low,) = data["low_ratings"]
    assert (low["number"], low["score"], low["follow_up"]) == (number(ids, "late"), 2, "open")

    refused = run(
        runner, sqlite_store, "--as", "ivanov", "ticket", "follow-up", number(ids, "late"),
        "--note", "Позвонил",
    )  # fmt: skip
    assert refused.exit_code != 0 and "lead" in refused.output
    done = run(
        runner, sqlite_store, "--as", "lead", "ticket", "follow-up", number(ids, "late"),
        "--note", "Позвонили клиенту, извинились, дали скидку.",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    data = json.loads(run(runner, sqlite_store, "report", "csat", "--format", "json").stdout)
    assert data["total"]["followed_up"] == 1 and data["groups"] == []
    (low,) = data["low_ratings"]
    assert low["follow_up"] == "done" and low["follow_up_note"].startswith("Позвонили")

    table = run(runner, sqlite_store, "report", "csat", "--chart").stdout
    assert "★5" in table and "Low ratings" in table and "Долго ждали." in table
    path = tmp_path / "csat.xlsx"
    assert (
        run(runner, sqlite_store, "report", "csat", "--format", "xlsx", "-o", str(path)).exit_code
        == 0
    )
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["CSAT", "Comments", "Low ratings and their follow-up"]
    assert list(book["CSAT"].iter_rows(values_only=True))[-1][:2] == ("Total", 3)


def test_csat_period_is_when_the_rating_was_given(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int], clock: FixedClock
) -> None:
    _rate(runner, sqlite_store, ids)
    with sqlite_store.transaction() as session:
        for rating in session.execute(select(Rating)).scalars():
            if rating.ticket_id == ids["old"]:
                rating.created_at = NOW - timedelta(days=39)
    data = json.loads(run(runner, sqlite_store, "report", "csat", "--format", "json").stdout)
    assert data["total"]["ratings"] == 2


def test_only_a_resolved_ticket_is_rated(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    result = run(
        runner, sqlite_store, "--as", "ivanov", "ticket", "rate", number(ids, "fresh"),
        "--score", "5",
    )  # fmt: skip
    assert result.exit_code == 3 and "not resolved" in result.output
    bad = run(
        runner, sqlite_store, "--as", "ivanov", "ticket", "rate", number(ids, "met"),
        "--score", "6",
    )  # fmt: skip
    assert bad.exit_code == 2


def test_load_per_engineer_and_line(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    for name, minutes in (("met", 40), ("late", 95), ("waiting", 10)):
        result = run(
            runner, sqlite_store, "--as", "ivanov", "ticket", "log-time", number(ids, name),
            "--minutes", str(minutes),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    data = json.loads(run(runner, sqlite_store, "report", "load", "--format", "json").stdout)
    (ivanov,) = data["groups"]
    # Taken: waiting, met, late (old was taken 40 days ago); open now: waiting.
    assert ivanov == {
        "key": "ivanov",
        "open": 1,
        "taken": 3,
        "resolved": 2,
        "hours_logged": 2.42,
        "response_met_pct": 50.0,
        "resolution_met_pct": 50.0,
    }
    lines = json.loads(
        run(runner, sqlite_store, "report", "load", "--by", "line", "--format", "json").stdout
    )
    assert lines["total"]["open"] == 4  # silent, fresh, waiting, other: every open ticket
    rows = list(
        csv.DictReader(
            io.StringIO(run(runner, sqlite_store, "report", "load", "--format", "csv").stdout)
        )
    )
    assert [(r["kind"], r["key"], r["resolved"]) for r in rows] == [
        ("group", "ivanov", "2"),
        ("total", "", "2"),
    ]


def test_volume_by_priority_and_by_day(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    data = json.loads(
        run(runner, sqlite_store, "report", "volume", "--by", "priority", "--format", "json").stdout
    )
    assert [(g["key"], g["received"], g["cancelled"]) for g in data["groups"]] == [
        ("P1", 1, 0),
        ("P2", 2, 0),
        ("P3", 3, 0),
        ("P4", 1, 1),
    ]
    assert data["total"] == {
        "received": 7,
        "share_pct": 100.0,
        "resolved": 2,
        "open": 4,
        "cancelled": 1,
    }
    days = json.loads(
        run(runner, sqlite_store, "report", "volume", "--by", "day", "--format", "json").stdout
    )["groups"]
    assert len(days) == 30 and days[-1]["key"] == "2026-11-23"
    assert {d["key"]: d["received"] for d in days if d["received"]} == {
        "2026-11-21": 6,
        "2026-11-23": 1,
    }
    chart = run(runner, sqlite_store, "report", "volume", "--by", "channel", "--chart").stdout
    assert "email" in chart and "█" in chart


def test_billing_prices_the_month_and_lists_one_off_works(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    with sqlite_store.transaction() as session:
        (contract,) = session.execute(select(Contract)).scalars().all()
        contract.price = Decimal(30000)
        engineer = session.execute(select(Engineer).filter_by(login="ivanov")).scalar_one()
        engineer.cost_per_hour = Decimal(600)
    for name, minutes in (("met", 40), ("other", 50)):
        assert (
            run(
                runner,
                sqlite_store,
                "--as",
                "ivanov",
                "ticket",
                "log-time",
                number(ids, name),
                "--minutes",
                str(minutes),
            ).exit_code  # fmt: skip
            == 0
        )
    # The default [billing]: no one-off rate, so "other" is a one-off work worth nothing yet.
    result = run(
        runner, sqlite_store, "report", "billing", "--month", "2026-11", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["month"] == "2026-11"
    rows = {(g["client"], g["contract"]): g for g in data["groups"]}
    ours = rows[("Продукты Урала", "Д-2026/7")]
    assert (ours["fee"], ours["amount"], ours["hours_used"], ours["cost"]) == (
        30000.0,
        30000.0,
        0.67,
        400.0,
    )
    north = rows[("Северный берег", "—")]
    assert north["one_off_works"] == 1 and north["cost"] == 500.0
    assert [r["number"] for r in data["one_off_requests"]] == [number(ids, "other")]
    assert data["total"]["amount"] == 30000.0 and data["total"]["margin"] == 30000.0 - 900.0
    table = run(runner, sqlite_store, "report", "billing", "--month", "2026-11", columns=100)
    assert table.exit_code == 0 and max(len(x) for x in table.stdout.splitlines()) <= 100


def test_client_report_as_a_workbook_and_a_page(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int], tmp_path: Path
) -> None:
    _rate(runner, sqlite_store, ids)
    with sqlite_store.transaction() as session:
        engineer = session.execute(select(Engineer).filter_by(login="ivanov")).scalar_one()
        engineer.cost_per_hour = Decimal(600)
        ticket = session.get(Ticket, ids["met"])
        assert ticket is not None
        ticket.subject = "<script>alert(1)</script> Касса"
    run(
        runner, sqlite_store, "--as", "ivanov", "ticket", "log-time", number(ids, "met"),
        "--minutes", "40",
    )  # fmt: skip
    book_path = tmp_path / "client.xlsx"
    result = run(
        runner, sqlite_store, "report", "client", "--client", "CH-1", "--month", "2026-11",
        "-o", str(book_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    book = load_workbook(book_path)
    assert book.sheetnames == [
        "Report",
        "Service levels",
        "Requests",
        "Top incidents",
        "Ratings",
        "Comments",
        "Hours and amounts",
        "Billed as one-off works",
    ]
    sla = list(book["Service levels"].iter_rows(values_only=True))
    assert [r[0] for r in sla] == ["Priority", "P1", "P2", "P3", "Total"]
    assert sla[-1][1] == 5  # CH-1's requests in November, "cancelled" left out
    hours = list(book["Hours and amounts"].iter_rows(values_only=True))
    assert "Cost" not in hours[0] and "Margin" not in hours[0]
    assert hours[1][0] == "Д-2026/7"

    page_path = tmp_path / "client.html"
    result = run(
        runner, sqlite_store, "report", "client", "--client", "CH-1", "--month", "2026-11",
        "-o", str(page_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = page_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Продукты Урала" in page
    assert "<script>" not in page and "Спасибо!" in page
    assert "Margin" not in page and "Top incidents" in page
    wrong = run(
        runner, sqlite_store, "report", "client", "--client", "CH-1", "-o", str(tmp_path / "x.pdf")
    )
    assert wrong.exit_code == 2
    unknown = run(
        runner, sqlite_store, "report", "client", "--client", "NOPE", "-o", str(page_path)
    )
    assert unknown.exit_code == 4


def test_outputs_that_cannot_be_written_are_refused_before_any_work(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int], tmp_path: Path
) -> None:
    for args in (
        ("report", "csat", "-o", str(tmp_path)),
        ("report", "csat", "--format", "csv", "-o", str(tmp_path / "no" / "x.csv")),
        ("report", "sla", "--format", "xlsx", "-o", str(tmp_path / "no" / "x.xlsx")),
        ("report", "client", "--client", "CH-1", "-o", str(tmp_path / "no" / "x.html")),
    ):
        result = run(runner, sqlite_store, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "folder" in result.stderr


def test_a_follow_up_is_closed_once_and_a_low_score_always_needs_one(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    _rate(runner, sqlite_store, ids)
    with sqlite_store.transaction() as session:  # as older stores hold it: no follow-up state
        rating = session.execute(select(Rating).where(Rating.ticket_id == ids["late"])).scalar_one()
        rating.follow_up = None
    late = number(ids, "late")
    first = run(
        runner, sqlite_store, "--as", "lead", "ticket", "follow-up", late, "--note", "Звонок"
    )
    assert first.exit_code == 0, first.output
    again = run(runner, sqlite_store, "--as", "lead", "ticket", "follow-up", late, "--note", "x")
    assert again.exit_code == 3 and "followed up already: Звонок" in again.output
    high = run(
        runner,
        sqlite_store,
        "--as",
        "lead",
        "ticket",
        "follow-up",
        number(ids, "met"),
        "--note",
        "x",
    )
    assert high.exit_code == 3 and "not low" in high.output


def test_a_day_holds_no_more_than_a_days_minutes(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    def log(name: str, minutes: int) -> Any:
        return run(
            runner, sqlite_store, "--as", "ivanov", "ticket", "log-time", number(ids, name),
            "--minutes", str(minutes),
        )  # fmt: skip

    assert log("met", 1000).exit_code == 0
    refused = log("late", 500)
    assert refused.exit_code == 2 and "1000 min logged" in refused.output
    assert log("late", 440).exit_code == 0
    assert log("met", 2000).exit_code == 2  # over a day in one entry: refused by the option


def test_json_keeps_stored_values_whatever_the_language(
    runner: CliRunner, sqlite_store: Store, ids: dict[str, int]
) -> None:
    volume = run(
        runner, sqlite_store, "--lang", "ru", "report", "volume", "--by", "channel",
        "--format", "json",
    )  # fmt: skip
    assert [g["key"] for g in json.loads(volume.stdout)["groups"]] == ["email"]
    table = run(runner, sqlite_store, "--lang", "ru", "report", "volume", "--by", "channel")
    assert "почта" in table.stdout
    billing = run(
        runner, sqlite_store, "--lang", "ru", "report", "billing", "--month", "2026-11",
        "--format", "json",
    )  # fmt: skip
    kinds = {g["contract"]: g["contract_kind"] for g in json.loads(billing.stdout)["groups"]}
    assert kinds == {"Д-2026/7": "subscription", "—": None}
