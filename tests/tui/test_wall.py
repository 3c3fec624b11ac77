"""The wall monitor: the figures, the nearest deadlines and the workers' health, read-only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
        workers = str(screen.query_one("#wall-workers", Static).render())
        assert "imap DOWN" in workers and "sla alive" in workers
        await pilot.press("t", "enter", "m")  # no action keys on the wall
        assert isinstance(wall.screen, WallScreen)


def test_wall_snapshot(app: SdConsoleApp, clock: FixedClock, snap_compare: Any) -> None:
    wall = _wall(app, clock)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    assert snap_compare(wall, terminal_size=(160, 45), run_before=run_before)
