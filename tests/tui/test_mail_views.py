"""Mail in the console: quoted history folded on screen, delivery states, dead letters."""

from __future__ import annotations

import os

from sqlalchemy import select
from textual.widgets import DataTable, Static

from sdconsole.app import SdConsoleApp
from sdconsole.config import MailSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.screens.dead_letters import DeadLetterScreen
from sdconsole.screens.dialogs import ConfirmDialog, TextViewer
from sdconsole.screens.ticket import TicketScreen
from sdconsole.services.dead_letters import list_dead_letters
from sdconsole.services.intake import IntakeService
from sdconsole.services.mail import MailIntake
from sdconsole.storage.tables import Message
from tests.services.helpers import MANUAL, email
from tests.tui.conftest import settle

REPLY = (
    "From: Ольга <olga@shop7.example>\r\n"
    "Subject: Касса не печатает\r\n"
    "Message-ID: <fold-1@shop7.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Перезагрузила, всё равно ошибка 3924.\r\n\r\n"
    "-- \r\nОльга, магазин №7\r\n\r\n"
    "Пятница, 20 ноября 2026, 10:15 +03:00 от support@desk.example:\r\n"
    "> Перезагрузите кассу и напишите, что на экране.\r\n"
    "> Служба поддержки\r\n"
).encode()


def header_text(app: SdConsoleApp) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(app.screen.query_one("#ticket-header", Static).content)
    return console.export_text()


def thread_text(app: SdConsoleApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(".message").results(Static))


async def test_quoted_history_is_folded_and_z_shows_it(
    app: SdConsoleApp, clock: FixedClock
) -> None:
    mail = MailIntake(
        app.store, clock, IntakeService(app.store, clock, routing=MANUAL), MailSettings()
    )
    result = mail.take(REPLY)
    assert result.ticket_id is not None
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(TicketScreen(result.ticket_id))
        await settle(pilot)
        text = thread_text(app)
        assert "Перезагрузила, всё равно ошибка 3924." in text
        assert "Перезагрузите кассу" not in text and "магазин №7" not in text
        assert "6 lines of quoted text and signature hidden (z shows)" in text
        assert "<olga@shop7.example>" in text
        await pilot.press("z")
        await settle(pilot)
        text = thread_text(app)
        assert "> Перезагрузите кассу и напишите, что на экране." in text
        assert "Ольга, магазин №7" in text


async def test_a_letter_that_was_not_delivered_says_why(
    app: SdConsoleApp, clock: FixedClock
) -> None:
    result = IntakeService(app.store, clock, routing=MANUAL).ingest(
        email("<bounce-me@shop>", clock.now(), subject="Касса", sender="petr@shop9.example")
    )
    assert result.ticket_id is not None
    with app.store.transaction() as session:
        ack = session.execute(
            select(Message).where(Message.kind == "outbound", Message.ticket_id == result.ticket_id)
        ).scalar_one()
        ack.delivery_state = "failed"
        ack.delivery_error = "550 5.1.1 <petr@shop9.example>: no such user"
    assert result.ticket_id is not None
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(TicketScreen(result.ticket_id))
        await settle(pilot)
        text = thread_text(app)
        assert "[not delivered] 550 5.1.1 <petr@shop9.example>: no such user" in text


async def test_dead_letters_are_listed_shown_retried_and_dismissed(
    app: SdConsoleApp, clock: FixedClock
) -> None:
    mail = MailIntake(app.store, clock, IntakeService(app.store, clock), MailSettings())
    mail.take(b"\x1b[31m\x00 garbage [bold]not a letter[/bold] [/b] [link=http://x]y[/link]")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DeadLetterScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        reason = str(table.get_row_at(0)[3])
        assert reason.startswith("not a mail")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TextViewer)
        shown = str(app.screen.query_one("#viewer-text", Static).render())
        assert "[bold]not a letter[/bold]" in shown and "\x1b" not in shown
        await pilot.press("escape")
        await pilot.press("r")
        await settle(pilot)
        assert list_dead_letters(app.store)[0].retries == 1  # still not a letter
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert list_dead_letters(app.store) == []
        assert not app.screen.query_one(DataTable).display


async def test_an_unknown_sender_is_bound_to_a_shop(app: SdConsoleApp, clock: FixedClock) -> None:
    from textual.widgets import Input

    from sdconsole.screens.dialogs import FormDialog

    result = IntakeService(app.store, clock, routing=MANUAL).ingest(
        email("<stranger@x>", clock.now(), subject="Касса", sender="new.manager@shop7.example")
    )
    assert result.ticket_id is not None
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(TicketScreen(result.ticket_id))
        await settle(pilot)
        header = header_text(app)
        assert "unknown sender (b binds)" in header
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-client", Input).value = "S-404"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)  # refused: no such shop, said so
        await pilot.press("b")
        await settle(pilot)
        second = app.screen
        assert isinstance(second, FormDialog)
        second.query_one("#field-client", Input).value = "S-7"
        second.query_one("#field-name", Input).value = "Пётр, новый управляющий"
        await pilot.press("ctrl+s")
        await settle(pilot)
        header = header_text(app)
        assert "Пётр, новый управляющий" in header and "Магазин №7" in header
        assert "unknown sender" not in header
    # The next letter from that address finds the contact by itself.
    again = IntakeService(app.store, clock, routing=MANUAL).ingest(
        email("<stranger-2@x>", clock.now(), subject="Весы", sender="new.manager@shop7.example")
    )
    with app.store.reader() as session:
        from sdconsole.storage.tables import Ticket

        ticket = session.get(Ticket, again.ticket_id)
        assert ticket is not None and ticket.contact_id is not None and ticket.tags == []
