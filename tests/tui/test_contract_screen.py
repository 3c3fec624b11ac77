"""The contract screen: the client tree, search, a node's contracts and SLA, and its queue."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Tree

from sdconsole.app import SdConsoleApp
from sdconsole.screens.contracts import ContractScreen
from sdconsole.screens.queue import QueueScreen
from sdconsole.widgets.ticket_table import TicketTable
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
