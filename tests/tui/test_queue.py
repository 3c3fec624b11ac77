"""The queue screen: order, filters, opening a ticket, and untrusted text shown as plain text."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from sdconsole.app import SdConsoleApp
from sdconsole.screens.queue import QueueScreen
from sdconsole.screens.ticket import TicketScreen
from sdconsole.widgets.ticket_table import TicketTable, format_span
from tests.tui.conftest import settle


async def test_queue_lists_open_tickets_most_urgent_first(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        table = app.screen.query_one(TicketTable)
        rows = list(table.rows_by_key.values())
        assert len(rows) == 6
        assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)
        assert "6 tickets" in str(app.screen.query_one("#queue-title", Static).render())


async def test_filters_mine_and_unassigned(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        assert [r.assignee_login for r in table.rows_by_key.values()] == ["ivanov"]
        await pilot.press("u")
        await settle(pilot)
        assert len(table.rows_by_key) == 5
        assert all(r.assignee_login is None for r in table.rows_by_key.values())
        await pilot.press("a")
        await settle(pilot)
        assert len(table.rows_by_key) == 6


async def test_enter_opens_the_ticket_and_escape_returns(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        first = next(iter(table.rows_by_key))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == first
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_refresh_and_resize_keep_the_engineers_place(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("down", "down", "down")
        chosen = table.selected_id()
        assert chosen is not None and chosen != next(iter(table.rows_by_key))
        await pilot.press("r")
        await settle(pilot)
        assert table.selected_id() == chosen
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert table.selected_id() == chosen
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == chosen


async def test_markup_in_subjects_is_shown_literally(app: SdConsoleApp) -> None:
    async with app.run_test(size=(200, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        cells = [str(table.get_cell(str(key), "subject")) for key in table.rows_by_key]
        assert any(c.startswith("[bold red]СРОЧНО[/bold red]") for c in cells)
        assert not any("\x1b" in c for c in cells)


def test_format_span() -> None:
    assert format_span(45) == "45m"
    assert format_span(185) == "3h 05m"
    assert format_span(3 * 1440 + 60) == "3d 01h"
    assert format_span(-90) == "-1h 30m"


def test_queue_snapshot(app: SdConsoleApp, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_queue_snapshot_small_terminal(app: SdConsoleApp, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_ticket_snapshot(app: SdConsoleApp, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_queue_snapshot_in_russian(app: SdConsoleApp, snap_compare: Any) -> None:
    from sdconsole import i18n

    i18n.set_language("ru")
    try:
        from sdconsole.app import make_app

        russian = make_app(app.settings, app.store, app.clock, actor=app.actor)

        async def run_before(pilot: Any) -> None:
            await settle(pilot)

        assert snap_compare(russian, terminal_size=(120, 36), run_before=run_before)
    finally:
        i18n.set_language("en")


async def test_an_empty_queue_says_what_to_do(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#queue-empty", Static)
        assert not hint.display
        await pilot.press("4")
        await settle(pilot)
        assert hint.display
        assert "Press a for all open tickets" in str(hint.render())
        await pilot.press("a")
        await settle(pilot)
        assert not hint.display
