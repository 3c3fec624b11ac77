"""`sdconsole classifier train | predict | eval`, and intake using the trained model."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.config import RoutingSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Status
from sdconsole.services.classifier import trained_classifier
from sdconsole.services.intake import IntakeService
from sdconsole.storage import Store
from sdconsole.storage.tables import Category, Ticket
from tests.classifier.test_model import PHRASES, dataset
from tests.conftest import NOW
from tests.services.helpers import email, make_world

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def trained_store(sqlite_store: Store, clock: FixedClock) -> Store:
    """Resolved tickets in the four categories of the model tests."""
    make_world(sqlite_store, NOW)
    with sqlite_store.transaction() as session:
        for code in PHRASES:
            if code != "kkt.print":
                session.add(Category(code=code, name_ru=code, name_en=code, team="kkt"))
    intake = IntakeService(sqlite_store, clock, routing=RoutingSettings(assign=False))
    texts, labels = dataset(repeat=2)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        message = replace(email(f"<t{i}@shop>", NOW, subject=text, body=text), category_code=label)
        intake.ingest(message)
    with sqlite_store.transaction() as session:
        for ticket in session.exec(select(Ticket)):
            ticket.status = Status.RESOLVED.value
    return sqlite_store


def test_train_then_predict(runner: CliRunner, trained_store: Store, tmp_path: Path) -> None:
    model = tmp_path / "model.npz"
    result = runner.invoke(
        app,
        [
            "--db",
            trained_store.url,
            "classifier",
            "train",
            "--model",
            str(model),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tickets"] == 40 and summary["categories"] == 4
    assert model.is_file()

    result = runner.invoke(
        app,
        [
            "classifier",
            "predict",
            "Весы опять не взвешивают",
            "--model",
            str(model),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["classifier"] == "model" and answer["top"][0]["category"] == "scales"
    assert len(answer["top"]) == 3


def test_intake_uses_the_trained_model(
    trained_store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    from sdconsole.classifier.model import TextModel

    texts, labels = dataset()
    path = tmp_path / "model.npz"
    TextModel.train(texts, labels, min_df=1).save(path)
    classifier = trained_classifier(path)
    intake = IntakeService(trained_store, clock, classifier, routing=RoutingSettings(assign=False))
    result = intake.ingest(email("<new@shop>", NOW, subject="ФН скоро закончится", body="Срок?"))
    with trained_store.reader() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.category_id is not None
        category = session.get(Category, ticket.category_id)
    assert category is not None and category.code == "fn.expiry"


def test_predict_without_a_model_uses_the_catalogue(runner: CliRunner) -> None:
    result = runner.invoke(app, ["classifier", "predict", "УТМ не запускается", "--format", "json"])
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["classifier"] == "keywords"
    assert answer["top"][0]["category"].startswith("egais.")


def test_train_refuses_an_empty_store(runner: CliRunner, sqlite_store: Store) -> None:
    result = runner.invoke(app, ["--db", sqlite_store.url, "classifier", "train"])
    assert result.exit_code == 2 and "Too few resolved tickets" in result.stderr


def test_eval_on_a_csv(runner: CliRunner, tmp_path: Path) -> None:
    texts, labels = dataset(repeat=3)
    data = tmp_path / "labelled.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "topic"])
        writer.writerows(zip(texts, labels, strict=True))
    result = runner.invoke(
        app,
        [
            "classifier",
            "eval",
            "--data",
            str(data),
            "--text",
            "body",
            "--label",
            "topic",
            "--folds",
            "3",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 60 and report["classes"] == 4
    assert [m["name"] for m in report["models"]] == ["sdconsole", "baseline"]
    bad = runner.invoke(
        app, ["classifier", "eval", "--data", str(data), "--text", "text", "--label", "topic"]
    )
    assert bad.exit_code == 2 and "has no column text; it has: body, topic" in bad.stderr


@pytest.mark.skipif(
    not (DATA / "appeals-kursk-ru" / "appeals_kursk.csv").is_file(),
    reason="the labelled Kursk appeals (../shared/data/appeals-kursk-ru) are not in this checkout",
)
def test_beats_the_baseline_on_russian_appeals(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "classifier",
            "eval",
            "--data",
            str(DATA / "appeals-kursk-ru" / "appeals_kursk.csv"),
            "--text",
            "text",
            "--label",
            "executor",
            "--folds",
            "3",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    ours, baseline = json.loads(result.stdout)["models"]
    assert ours["macro_f1"] > baseline["macro_f1"]
