"""The ticket screen's actions: each asks for what it needs, goes through the services, and a
change someone else made meanwhile is reported with an offer to reload."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from textual.widgets import Input, Select, Static, TextArea

from sdconsole.app import SdConsoleApp
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import MessageKind, Status
from sdconsole.screens.dialogs import ConfirmDialog, FormDialog
from sdconsole.screens.ticket import TicketScreen
from sdconsole.services.tickets import TicketService
from sdconsole.storage import repositories
from tests.conftest import add_engineer
from tests.tui.conftest import settle


async def _open(app: SdConsoleApp, pilot: object, ticket_id: int) -> TicketScreen:
    app.push_screen(TicketScreen(ticket_id))
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TicketScreen) and screen.view is not None
    return screen


def _view(app: SdConsoleApp, ticket_id: int):  # type: ignore[no-untyped-def]  # noqa: ANN202
    with app.store.reader() as session:
        return repositories.ticket_view(session=session, ticket_id=ticket_id)


async def test_take_reply_and_resolve(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open(app, pilot, 1)
        await pilot.press("t")
        await settle(pilot)
        assert screen.view is not None and screen.view.assignee_login == "ivanov"
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press("ctrl+s")  # empty: refused, the form stays
        assert app.screen is form
        assert "Required" in str(form.query_one("#form-error", Static).render())
        form.query_one(TextArea).insert("Перезагрузите кассу, пожалуйста.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        view = _view(app, 1)
        assert view.messages[-1].kind == MessageKind.OUTBOUND
        assert view.messages[-1].body == "Перезагрузите кассу, пожалуйста."
        await pilot.press("x")
        await settle(pilot)
        resolve = app.screen
        assert isinstance(resolve, FormDialog)
        resolve.query_one("#field-code", Input).value = "fixed.remote"
        resolve.query_one(TextArea).insert("Касса перезагружена, чеки печатаются.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 1).status == Status.RESOLVED
        assert screen.view is not None and screen.view.status == Status.RESOLVED


async def test_assign_lists_engineers_by_load_and_escalate_needs_a_reason(
    app: SdConsoleApp,
) -> None:
    add_engineer(app.store, "petrov", lines=(1, 2))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _open(app, pilot, 2)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        select = form.query_one("#field-engineer", Select)
        labels = [str(prompt) for prompt, _value in select._options if " open " in str(prompt)]  # noqa: SLF001
        assert labels[0].startswith("petrov") and "0 open" in labels[0]  # least loaded first
        assert labels[1].startswith("ivanov") and "1 open" in labels[1]
        select.value = "petrov"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 2).assignee_login == "petrov"
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#field-line", Select).value == "2"  # the next line up
        await pilot.press("ctrl+s")
        assert app.screen is form  # the reason is required
        form.query_one(TextArea).insert("Нужна перепрошивка, на линии 1 не делаем.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 2).line == 2


async def test_a_change_by_someone_else_offers_a_reload(app: SdConsoleApp) -> None:
    other = add_engineer(app.store, "sidorov")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open(app, pilot, 4)
        seen = screen.view.version if screen.view else 0
        TicketService(app.store, app.clock).note(4, "Звонил клиент", actor=other)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one(TextArea).insert("Моя заметка")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)  # not written over the other change
        assert [m.body for m in _view(app, 4).messages].count("Моя заметка") == 0
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert screen.view is not None and screen.view.version > seen
        assert "Звонил клиент" in [m.body for m in screen.view.messages]


async def _form(app: SdConsoleApp, pilot: object, key: str) -> FormDialog:
    await pilot.press(key)
    await settle(pilot)
    form = app.screen
    assert isinstance(form, FormDialog), key
    return form


async def test_status_priority_category_time_link_merge_and_reopen(app: SdConsoleApp) -> None:
    from textual.widgets import Input

    from sdconsole.domain.model import Priority

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _open(app, pilot, 3)  # ivanov's ticket
        form = await _form(app, pilot, "s")
        form.query_one("#field-status", Select).value = Status.WAITING_CLIENT.value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 3).status == Status.WAITING_CLIENT

        form = await _form(app, pilot, "p")
        form.query_one("#field-priority", Select).value = "1"
        form.query_one("#field-reason", Input).value = "Все кассы магазина стоят"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 3).priority == Priority.P1

        form = await _form(app, pilot, "c")
        form.query_one("#field-code", Input).value = "kkt.print"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 3).category == "kkt.print"

        form = await _form(app, pilot, "l")
        form.query_one("#field-minutes", Input).value = "25"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any(e.kind == "time_logged" and e.after == 25 for e in _view(app, 3).events)

        form = await _form(app, pilot, "k")
        form.query_one("#field-other", Input).value = "SD-000004"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any(e.kind == "linked" for e in _view(app, 3).events)

        form = await _form(app, pilot, "x")
        form.query_one("#field-code", Input).value = "consulted"
        form.query_one(TextArea).insert("Проконсультировали")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 3).status == Status.RESOLVED
        form = await _form(app, pilot, "o")
        form.query_one("#field-reason", Input).value = "Клиент перезвонил: снова не печатает"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _view(app, 3).status != Status.RESOLVED

        form = await _form(app, pilot, "m")
        form.query_one("#field-other", Input).value = "4"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert _view(app, 3).merged_into_id == 4


async def test_the_timer_outlives_the_screen_and_fills_the_log_time_form(
    app: SdConsoleApp, clock: FixedClock
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open(app, pilot, 2)
        await pilot.press("T")
        await settle(pilot)
        assert 2 in app.work_timers
        clock.advance(timedelta(minutes=12, seconds=30))
        await pilot.pause(1.2)  # the header ticks
        assert screen.view is not None
        console = Console(width=120, record=True)
        console.print(screen._header(screen.view))
        assert "timer 0:12:30" in console.export_text()
        await pilot.press("escape")  # back to the queue: the timer runs on
        await settle(pilot)
        screen = await _open(app, pilot, 2)
        clock.advance(timedelta(seconds=40))
        await pilot.press("T")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#field-minutes", Input).value == "14"  # 13 min 10 s, rounded up
        await pilot.press("escape")  # cancelled: the measured time is not lost
        await settle(pilot)
        assert 2 in app.work_timers
        await pilot.press("T")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert 2 not in app.work_timers
        assert any(e.kind == "time_logged" and e.after == 14 for e in _view(app, 2).events)
