"""The queue's tools: SLA marks, search, the filter dialog, saved views with counts, help, the
command palette, and changes by others arriving without a key pressed."""

from __future__ import annotations

import threading
from datetime import timedelta

from textual.widgets import Input, Select, Static

from sdconsole.app import SdConsoleApp
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Priority
from sdconsole.domain.views import SlaState
from sdconsole.screens.dialogs import FilterDialog, HelpScreen, NamePrompt
from sdconsole.screens.queue import QueueScreen
from sdconsole.screens.ticket import TicketScreen
from sdconsole.services import views
from sdconsole.services.intake import IntakeService
from sdconsole.widgets.ticket_table import SLA_MARKS, TicketTable
from sdconsole.widgets.view_list import ViewList
from tests.services.helpers import MANUAL, email
from tests.tui.conftest import settle


def _rows(app: SdConsoleApp) -> list[str]:
    table = app.screen.query_one(TicketTable)
    return [row.subject for row in table.rows_by_key.values()]


async def test_each_row_marks_its_sla_state(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        now = app.clock.now()
        for key, row in table.rows_by_key.items():
            assert str(table.get_cell(str(key), "sla")) == SLA_MARKS[row.sla_state(now)]
        states = {row.sla_state(now) for row in table.rows_by_key.values()}
        assert SlaState.BREACHED in states and SlaState.OK in states


async def test_search_line_finds_words_in_any_form(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.screen.query_one("#queue-search", Input).has_focus
        await pilot.press(*"выгружать", "enter")  # «выгружают» in the subject
        await settle(pilot)
        assert _rows(app) == ["Весы не выгружают товары"]
        assert "«выгружать»" in str(app.screen.query_one("#queue-title", Static).render())
        await pilot.press("x")
        await settle(pilot)
        assert len(_rows(app)) == 6


async def test_filter_dialog_narrows_and_refuses_unknown_clients(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FilterDialog)
        dialog.query_one("#filter-client", Input).value = "нет такого"
        dialog.query_one("#filter-priority", Select).value = str(int(Priority.P1))
        await pilot.click("#filter-apply")
        await settle(pilot)
        assert app.screen is dialog  # still open, saying why
        assert "нет такого" in str(dialog.query_one("#filter-error", Static).render())
        client = dialog.query_one("#filter-client", Input)
        client.value = "CH-1"  # the chain's code
        client.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        table = app.screen.query_one(TicketTable)
        assert {row.priority for row in table.rows_by_key.values()} == {Priority.P1}
        assert len(table.rows_by_key) == 2


async def test_saved_view_appears_with_its_count(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ошибки", "enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, NamePrompt)
        await pilot.press(*"Кассы", "enter")
        await settle(pilot)
        panel = app.screen.query_one(ViewList)
        saved = [v for v in panel.views.values() if v.saved_id is not None]
        assert [v.title for v in saved] == ["Кассы"]
        assert panel.counts[saved[0].key] == len(_rows(app)) == 2
        assert [v.title for v in views.saved_views(app.store, app.actor)] == ["Кассы"]
        assert panel.counts["all"] == 6 and panel.counts["mine"] == 1


async def test_view_keys_and_the_panel(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        now = app.clock.now()
        table = app.screen.query_one(TicketTable)
        assert table.rows_by_key
        assert all(r.sla_state(now) == SlaState.BREACHED for r in table.rows_by_key.values())
        await pilot.press("v")
        assert app.screen.query_one(ViewList).has_focus
        await pilot.press("home", "enter")  # the first view: all open
        await settle(pilot)
        assert len(_rows(app)) == 6 and table.has_focus


async def test_help_lists_the_keys(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(description for _key, description in app.screen.keys)
        for words in ("Search", "Filter", "Save view", "Breached", "Command palette"):
            assert words in text
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_palette_jumps_to_a_ticket_by_number(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"SD-000003")
        for _attempt in range(50):  # the look-up runs in a thread
            await pilot.pause(0.05)
            if "SD-000003" in str(app.screen.query("OptionList").first().render_lines):
                break
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == 3


async def test_changes_by_others_appear_without_a_key(app: SdConsoleApp, clock: FixedClock) -> None:
    from sdconsole.app import make_app

    app = make_app(
        app.settings.model_copy(update={"live_updates": True}), app.store, clock, actor=app.actor
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert len(_rows(app)) == 6

        def arrive() -> None:  # intake in another thread: its own connection and transaction
            IntakeService(app.store, clock, routing=MANUAL).ingest(
                email("<new@shop>", clock.now() - timedelta(minutes=1), subject="Новая заявка")
            )

        writer = threading.Thread(target=arrive)
        writer.start()
        writer.join(10)
        for _attempt in range(40):  # at most 4 s; the target is 2 s
            await pilot.pause(0.1)
            if "Новая заявка" in _rows(app):
                break
        assert "Новая заявка" in _rows(app)
        # The views' counts follow the rows (they yield to the engineer's reads).
        for _attempt in range(40):
            if app.screen.query_one(ViewList).counts.get("all") == 7:
                break
            await pilot.pause(0.1)
        assert app.screen.query_one(ViewList).counts["all"] == 7
