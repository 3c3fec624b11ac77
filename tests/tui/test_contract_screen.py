"""The contract screen: the client tree, search, a node's contracts and SLA, and its queue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rich.console import Console
from sqlalchemy import select
from textual.widgets import Input, Select, Static, Tree

from sdconsole.app import SdConsoleApp, make_app
from sdconsole.config import Settings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Actor, Role
from sdconsole.screens.contracts import ContractScreen
from sdconsole.screens.dialogs import FormDialog
from sdconsole.screens.queue import QueueScreen
from sdconsole.storage import Store
from sdconsole.storage.tables import Contract
from sdconsole.widgets.ticket_table import TicketTable
from tests.conftest import add_engineer
from tests.tui.conftest import settle


def _go_to(tree: Tree[int], label: str) -> None:
    stack = list(tree.root.children)
    while stack:
        node = stack.pop(0)
        if str(node.label) == label:
            tree.move_cursor(node)
            return
        stack.extend(node.children)
    raise AssertionError(f"no node {label}")


def _labels(tree: Tree[int]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(str(child.label))
            walk(child)

    walk(tree.root)
    return out


async def _open(app: SdConsoleApp, pilot: Any) -> ContractScreen:
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ContractScreen)
    return screen


async def test_search_choose_and_open_the_clients_queue(app: SdConsoleApp) -> None:
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await _open(app, pilot)
        tree = screen.query_one(Tree)
        assert _labels(tree) == ["Продукты Урала", "Магазин №7"]
        screen.query_one(Input).value = "магазин"
        screen.query_one(Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert _labels(tree) == ["Продукты Урала", "Магазин №7"]  # the shop, under its chain
        screen.query_one(Input).value = "нет такого"
        screen.query_one(Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert _labels(tree) == ["No client matches."]
        screen.query_one(Input).value = ""
        screen.query_one(Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        _go_to(tree, "Магазин №7")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.card is not None and screen.card.node.name == "Магазин №7"
        assert [c.number for c in screen.card.contracts] == ["Д-2026/7"]
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        rows = app.screen.query_one(TicketTable).rows_by_key
        assert len(rows) == 6 and app.screen.view.title == "Магазин №7"


def test_contract_snapshot(app: SdConsoleApp, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        screen = await _open(app, pilot)
        _go_to(screen.query_one(Tree), "Магазин №7")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(140, 44), run_before=run_before)


async def test_a_lead_edits_and_creates_contracts(
    tui_store: tuple[Store, Actor], clock: FixedClock
) -> None:
    store, engineer = tui_store
    lead = add_engineer(store, "lead", Role.LEAD)
    app = make_app(Settings(db=store.url, live_updates=False), store, clock, actor=lead)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        _go_to(screen.query_one(Tree), "Продукты Урала")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#field-number", Input).value == "Д-2026/7"
        form.query_one("#field-hourly_rate", Input).value = "2 400,50"
        form.query_one("#field-valid_to", Input).value = "31.12.2026"
        form.query_one("#field-rounding_minutes", Input).value = "15"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContractScreen)
        with store.reader() as session:
            (contract,) = session.execute(select(Contract)).scalars()
        assert contract.hourly_rate == Decimal("2400.50")
        assert contract.valid_to == date(2026, 12, 31) and contract.rounding_minutes == 15
        assert screen.card is not None
        console = Console(width=200, record=True)
        console.print(screen.render_card(screen.card, clock.now()))
        card = console.export_text()
        assert "2 400.50 an hour over" in card and "rounded up to 15 min" in card

        await pilot.press("n")
        await settle(pilot)
        new = app.screen
        assert isinstance(new, FormDialog)
        new.query_one("#field-number", Input).value = "Д-2027/1"
        new.query_one("#field-valid_from", Input).value = "2027-02-30"
        new.query_one("#field-sla_plan", Select).value = "gold"
        await pilot.press("ctrl+s")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, FormDialog) and again is not new  # refused: asked again
        error = str(again.query_one("#form-error", Static).render())
        assert "2027-02-30 is not a date" in error
        assert again.query_one("#field-number", Input).value == "Д-2027/1"  # nothing lost
        again.query_one("#field-valid_from", Input).value = "2027-01-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContractScreen)
    with store.reader() as session:
        numbers = sorted(c.number for c in session.execute(select(Contract)).scalars())
    assert numbers == ["Д-2026/7", "Д-2027/1"]


async def test_an_engineer_may_not_change_contracts(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        _go_to(screen.query_one(Tree), "Продукты Урала")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "Only a lead" in str(form.query_one("#form-error", Static).render())
