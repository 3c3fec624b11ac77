"""The diagnostic-card screen: start, answer by number keys, resume, and escalate at the end
with the collected data filled in."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from textual.widgets import Select, Static, TextArea

from sdconsole.app import SdConsoleApp
from sdconsole.domain.diagnostics import parse_card
from sdconsole.screens.card import CardScreen
from sdconsole.screens.dialogs import FormDialog
from sdconsole.screens.ticket import TicketScreen
from sdconsole.services.diagnostics import DiagnosticsService
from sdconsole.storage import repositories
from sdconsole.storage.tables import Category, Ticket
from tests.tui.conftest import settle
from tests.unit.test_diagnostics import CARD


def _with_card(app: SdConsoleApp) -> int:
    """Give kkt.print the test card; return a ticket of that category."""
    store = app.store
    with store.transaction() as session:
        category = session.exec(select(Category).where(Category.code == "kkt.print")).one()
        category.card_id = "kkt-no-print"
        ticket_id = session.exec(
            select(Ticket.id).where(Ticket.category_id == category.id).order_by(Ticket.id)
        ).first()
    assert ticket_id is not None
    cards = {"kkt-no-print": parse_card(CARD, source="kkt-no-print.yaml")}
    app.diagnostics = DiagnosticsService(store, app.clock, cards=cards)
    return int(ticket_id)


def _step_text(app: SdConsoleApp) -> str:
    return str(app.screen.query_one("#card-step", Static).render())


async def _open_card(app: SdConsoleApp, pilot: Any, ticket_id: int) -> CardScreen:
    app.push_screen(TicketScreen(ticket_id))
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CardScreen)
    return screen


async def test_run_resume_and_escalate_with_the_collected_data(app: SdConsoleApp) -> None:
    ticket_id = _with_card(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_card(app, pilot, ticket_id)
        assert "Press s to start" in _step_text(app)
        await pilot.press("s")
        await settle(pilot)
        assert "Бумага есть?" in _step_text(app)
        assert screen.choices == ["yes", "no"]
        await pilot.press("1")  # paper: yes → close the cover
        await settle(pilot)
        assert "Закройте крышку" in _step_text(app)
        await pilot.press("escape")  # leave half-way ...
        await settle(pilot)
        await pilot.press("d")  # ... and come back: resumed at the same step
        await settle(pilot)
        again = app.screen
        assert isinstance(again, CardScreen)
        assert "Закройте крышку" in _step_text(app)
        assert "Бумага есть?" in str(again.query_one("#card-path", Static).render())
        for key in ("1", "2", "1", "1", "2"):  # ok, fail (again), yes, ok, fail: exhausted
            await pilot.press(key)
            await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)  # the escalate form, filled in by the card
        assert form.query_one("#field-line", Select).value == "2"
        reason = form.query_one(TextArea).text
        assert "Не печатает после проверки бумаги и крышки" in reason
        assert "kkt-no-print" in reason
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
    with app.store.reader() as session:
        view = repositories.ticket_view(session=session, ticket_id=ticket_id)
    assert view is not None and view.line == 2
    notes = [m.body for m in view.messages if m.kind.value == "note"]
    assert any("Бумага есть?" in note for note in notes)  # every answer is on the ticket


async def test_a_ticket_without_a_card_says_so(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.diagnostics = DiagnosticsService(app.store, app.clock, cards={})
        await _open_card(app, pilot, 1)
        title = str(app.screen.query_one("#card-title", Static).render())
        assert "has no diagnostic card" in title


def test_card_snapshot(app: SdConsoleApp, snap_compare: Any) -> None:
    ticket_id = _with_card(app)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        app.push_screen(TicketScreen(ticket_id))
        await settle(pilot)
        await pilot.press("d", "s")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
