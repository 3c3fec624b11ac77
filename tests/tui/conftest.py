"""TUI fixtures: a small fixed store, an app factory, and a helper to wait for workers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sdconsole.app import SdConsoleApp, make_app
from sdconsole.config import Settings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Actor, Priority
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from tests.conftest import add_engineer
from tests.services.helpers import MANUAL, email, make_world

SUBJECTS = [
    "Касса не печатает чеки, ошибка 3924",
    "[bold red]СРОЧНО[/bold red] не работает касса [link=http://evil.example]тут[/link]",
    "ФН заканчивается через 10 дней",
    "Не уходят чеки в ОФД с пятницы \x1b[31mкрасный\x1b[0m",
    "УТМ не запускается, ошибка RSA",
    "Весы не выгружают товары",
]


@pytest.fixture
def tui_store(sqlite_store: Store, clock: FixedClock) -> tuple[Store, Actor]:
    """Six open tickets of different priorities and ages; one taken by the engineer."""
    make_world(sqlite_store, clock.now())
    engineer = add_engineer(sqlite_store, "ivanov")
    intake = IntakeService(sqlite_store, clock, routing=MANUAL)
    ids = []
    for i, subject in enumerate(SUBJECTS):
        result = intake.ingest(
            email(
                f"<q{i}@shop>",
                clock.now() - timedelta(hours=3 * i),
                subject=subject,
                priority=Priority((i % 4) + 1),
            )
        )
        assert result.ticket_id is not None
        ids.append(result.ticket_id)
    TicketService(sqlite_store, clock).take(ids[2], actor=engineer)
    return sqlite_store, engineer


@pytest.fixture
def app(tui_store: tuple[Store, Actor], clock: FixedClock, tmp_path: Path) -> SdConsoleApp:
    store, engineer = tui_store
    # Live updates have their own test; here a worker's commit must not reload behind a check.
    return make_app(Settings(db=store.url, live_updates=False), store, clock, actor=engineer)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker finished and its messages were handled."""
    for _round in range(3):  # a handler may start another worker
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.group != "watch" and not w.is_finished]
        if busy:  # (an empty list would mean every worker, the store watcher's too)
            await pilot.app.workers.wait_for_complete(busy)
    await pilot.pause()
