"""Telegram binding codes, issued from the ticket screen and from the contract screen."""

from __future__ import annotations

import re

from sqlalchemy import select
from textual.widgets import Static, Tree

from sdconsole.app import SdConsoleApp
from sdconsole.screens.contracts import ContractScreen
from sdconsole.screens.dialogs import FormDialog, TextViewer
from sdconsole.screens.ticket import TicketScreen
from sdconsole.storage.tables import TelegramCode
from tests.tui.conftest import settle
from tests.tui.test_contract_screen import _go_to


def codes(app: SdConsoleApp) -> list[TelegramCode]:
    with app.store.reader() as session:
        return list(session.execute(select(TelegramCode)).scalars())


def shown_code(app: SdConsoleApp) -> str:
    assert isinstance(app.screen, TextViewer)
    text = str(app.screen.query_one("#viewer-text", Static).render())
    found = re.search(r"/start ([A-Z2-9]{8})", text)
    assert found is not None, text
    return found.group(1)


async def test_a_code_from_the_ticket_screen(app: SdConsoleApp) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TicketScreen(1))
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        code = shown_code(app)
    [row] = codes(app)
    assert row.code == code and row.contact_id is not None and row.issued_by is not None


async def test_a_code_from_the_contract_screen(app: SdConsoleApp) -> None:
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContractScreen)
        await pilot.press("g")  # no client chosen yet: said so, nothing issued
        await settle(pilot)
        assert codes(app) == []
        _go_to(screen.query_one(Tree), "Магазин №7")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        code = shown_code(app)
    [row] = codes(app)
    assert row.code == code
