"""CLI fixtures: a runner, golden-file extensions per format, and a small populated store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from typer.testing import CliRunner

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Priority
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from tests.conftest import add_engineer
from tests.services.helpers import MANUAL, email, make_world


class TextGolden(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    _file_extension = "txt"


class JsonGolden(TextGolden):
    _file_extension = "json"


class CsvGolden(TextGolden):
    _file_extension = "csv"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def golden_json(snapshot: Any) -> Any:
    return snapshot.use_extension(JsonGolden)


@pytest.fixture
def golden_csv(snapshot: Any) -> Any:
    return snapshot.use_extension(CsvGolden)


@pytest.fixture
def golden_text(snapshot: Any) -> Any:
    return snapshot.use_extension(TextGolden)


@pytest.fixture
def populated(sqlite_store: Store, clock: FixedClock) -> Store:
    """Three tickets at fixed times: one new, one taken and answered, one resolved."""
    make_world(sqlite_store, clock.now())
    engineer = add_engineer(sqlite_store, "ivanov")
    intake = IntakeService(sqlite_store, clock, routing=MANUAL)
    tickets = TicketService(sqlite_store, clock)
    subjects = [
        "Касса не печатает чеки",
        "ФН заканчивается через 10 дней",
        "[bold]СРОЧНО[/bold] не уходят чеки в ОФД",
    ]
    ids = []
    for i, subject in enumerate(subjects):
        result = intake.ingest(
            email(
                f"<cli{i}@shop>",
                clock.now() - timedelta(hours=i),
                subject=subject,
                priority=Priority(i + 1),
            )
        )
        assert result.ticket_id is not None
        ids.append(result.ticket_id)
    clock.advance(timedelta(minutes=7))
    tickets.take(ids[1], actor=engineer)
    tickets.reply(ids[1], "Запланируем замену ФН на завтра.", actor=engineer)
    tickets.take(ids[2], actor=engineer)
    tickets.resolve(ids[2], "ofd.backlog.cleared", "Восстановили связь с ОФД", actor=engineer)
    return sqlite_store
