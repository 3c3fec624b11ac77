"""An SVG snapshot of every screen at 80×24 and 160×45, in English and Russian, on a fixed clock.

Look at the SVGs before accepting new ones (`make snapshots`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.widgets import Tree

from sdconsole import i18n
from sdconsole.app import SdConsoleApp, make_app
from sdconsole.domain.clock import FixedClock
from sdconsole.screens.ticket import TicketScreen
from tests.tui.conftest import settle
from tests.tui.test_card_screen import _with_card
from tests.tui.test_contract_screen import _go_to
from tests.tui.test_wall import _wall

SIZES = [(80, 24), (160, 45)]
LANGUAGES = ["en", "ru"]


@pytest.fixture
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


async def _queue(pilot: Any) -> None:
    await settle(pilot)


async def _ticket(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def _card(ticket_id: int) -> Callable[[Any], Awaitable[None]]:
    async def run(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(TicketScreen(ticket_id))
        await settle(pilot)
        await pilot.press("d", "s")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)

    return run


async def _contracts(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    _go_to(pilot.app.screen.query_one(Tree), "Магазин №7")
    await pilot.press("enter")
    await settle(pilot)


SCREENS = ["queue", "ticket", "card", "contracts", "wall"]


@pytest.mark.parametrize("language", LANGUAGES, indirect=True)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen(
    app: SdConsoleApp,
    clock: FixedClock,
    snap_compare: Any,
    screen: str,
    size: tuple[int, int],
    language: str,
) -> None:
    run_before: Callable[[Any], Awaitable[None]]
    if screen == "wall":
        shown = _wall(app, clock)
        run_before = _queue
    else:
        ticket_id = _with_card(app) if screen == "card" else 0
        shown = make_app(app.settings, app.store, clock, actor=app.actor)  # in `language`
        if screen == "card":
            shown.diagnostics = app.diagnostics
        run_before = {
            "queue": _queue,
            "ticket": _ticket,
            "card": _card(ticket_id),
            "contracts": _contracts,
        }[screen]
    assert snap_compare(shown, terminal_size=size, run_before=run_before)
