"""The wall monitor: the figures, the nearest deadlines and the workers' health, read-only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.widgets import Digits, Static

from sdconsole.app import SdConsoleApp, make_app
from sdconsole.domain.clock import FixedClock
from sdconsole.screens.wall import WallScreen
from sdconsole.services.heartbeat import beat
from tests.tui.conftest import settle


def _wall(app: SdConsoleApp, clock: FixedClock) -> SdConsoleApp:
    now = clock.now()
    beat(app.store, clock, "sla", interval=30.0, started_at=now)
    late = FixedClock(now - timedelta(hours=2))
    beat(app.store, late, "imap", interval=30.0, started_at=now - timedelta(hours=3))
    return make_app(app.settings, app.store, clock, mode="wall")


async def test_wall_figures_deadlines_and_workers(app: SdConsoleApp, clock: FixedClock) -> None:
    wall = _wall(app, clock)
    async with wall.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        screen = wall.screen
        assert isinstance(screen, WallScreen) and screen.summary is not None
        summary = screen.summary
        assert str(screen.query_one("#digits-unassigned", Digits).value) == "5"
        assert str(screen.query_one("#digits-breached", Digits).value) == str(summary.breached)
        assert summary.breached == 5 and screen.query_one("#figure-breached").has_class("-alarm")
        assert len(summary.nearest) == 6
        assert [r.due_at for r in summary.nearest] == sorted(r.due_at for r in summary.nearest)
        assert summary.open_by_line == ((1, 6), (2, 0), (3, 0), (4, 0))
        assert str(screen.query_one("#digits-met_today", Digits).value) == "–"  # none resolved
        assert wall.theme == "sdconsole-night"
        workers = str(screen.query_one("#wall-workers", Static).render())
        assert "imap DOWN" in workers and "sla alive" in workers
        await pilot.press("enter", "m", "x")  # no action keys on the wall
        assert isinstance(wall.screen, WallScreen)
        await pilot.press("t")
        assert wall.theme != "sdconsole-night"


async def test_wall_says_when_the_store_is_unreachable_and_recovers(
    app: SdConsoleApp, clock: FixedClock, monkeypatch: Any
) -> None:
    from sdconsole.storage import repositories

    wall = _wall(app, clock)
    real = repositories.wall_summary
    async with wall.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        screen = wall.screen
        assert isinstance(screen, WallScreen)

        def down(**_kwargs: Any) -> Any:
            raise ConnectionError("connection refused")

        monkeypatch.setattr(repositories, "wall_summary", down)
        await pilot.press("r")
        await settle(pilot)
        assert screen.has_class("-failed")
        assert "connection refused" in str(screen.query_one("#wall-problem", Static).render())
        assert str(screen.query_one("#digits-unassigned", Digits).value) == "5"  # kept
        monkeypatch.setattr(repositories, "wall_summary", real)
        await pilot.press("r")  # the interval would do the same
        await settle(pilot)
        assert not screen.has_class("-failed")


def test_countdown() -> None:
    from sdconsole.screens.wall import countdown

    assert countdown(3849) == "1:04:09"
    assert countdown(-750) == "-0:12:30"
    assert countdown(2 * 86400 + 4 * 3600 + 5) == "2d 04h"


@pytest.mark.parametrize("size", [(80, 24), (160, 45), (300, 80)])
def test_wall_snapshot(
    app: SdConsoleApp, clock: FixedClock, snap_compare: Any, size: tuple[int, int]
) -> None:
    wall = _wall(app, clock)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    assert snap_compare(wall, terminal_size=size, run_before=run_before)
