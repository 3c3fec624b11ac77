"""The ticket screen's panels: the device with its fiscal drive, the checklist, and attachments
saved to a folder without overwriting anything."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from textual.widgets import Input, Select, Static

from sdconsole.app import SdConsoleApp
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.intake import InboundAttachment
from sdconsole.screens.dialogs import FormDialog
from sdconsole.screens.ticket import TicketScreen
from sdconsole.services.intake import IntakeService
from sdconsole.storage.tables import Device, Ticket
from tests.services.helpers import MANUAL, email
from tests.tui.conftest import settle


def _ticket_with_device(app: SdConsoleApp, clock: FixedClock) -> int:
    store = app.store
    result = IntakeService(store, clock, routing=MANUAL).ingest(
        email(
            "<files@shop>",
            clock.now() - timedelta(minutes=5),
            subject="Ошибка ФН, фото экрана",
            attachments=(InboundAttachment("../../etc/экран.png", "image/png", b"\x89PNG fake"),),
        )
    )
    assert result.ticket_id is not None
    with store.transaction() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.site_id is not None
        device = Device(
            site_id=ticket.site_id,
            model="АТОЛ 30Ф",
            serial="00106709123456",
            reg_number="0000000001012345",
            fn_serial="7281440500123456",
            fn_valid_until=clock.now().date() + timedelta(days=12),
            fn_memory_used_pct=41.0,
            health_state="warning",
        )
        session.add(device)
        session.flush()
        ticket.device_id = device.id
    return result.ticket_id


async def test_device_panel_shows_the_fiscal_drive(app: SdConsoleApp, clock: FixedClock) -> None:
    ticket_id = _ticket_with_device(app, clock)
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(TicketScreen(ticket_id))
        await settle(pilot)
        panel = str(app.screen.query_one("#ticket-device", Static).render())
        assert "ЗН 00106709123456" in panel and "РН 0000000001012345" in panel
        assert "ФН 7281440500123456" in panel and "12 days left" in panel
        assert "41 % used" in panel and "warning" in panel


async def test_checklist_add_and_tick(app: SdConsoleApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(TicketScreen(1))
        await settle(pilot)
        for text in ("Проверить бумагу", "Снять фото ошибки"):
            await pilot.press("i")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, FormDialog)
            form.query_one("#field-add", Input).value = text
            await pilot.press("ctrl+s")
            await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-toggle", Select).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.view is not None
        assert [(i.text, i.done, i.by) for i in screen.view.checklist] == [
            ("Проверить бумагу", False, ""),
            ("Снять фото ошибки", True, "ivanov"),
        ]
        shown = str(screen.query_one("#ticket-checklist", Static).render())
        assert "☐ Проверить бумагу" in shown and "☑ Снять фото ошибки" in shown


async def test_attachments_are_saved_under_a_safe_name_never_over_a_file(
    app: SdConsoleApp, clock: FixedClock, tmp_path: Path
) -> None:
    ticket_id = _ticket_with_device(app, clock)
    folder = tmp_path / "out"
    folder.mkdir()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(TicketScreen(ticket_id))
        await settle(pilot)
        for _round in range(2):
            await pilot.press("w")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, FormDialog)
            form.query_one("#field-folder", Input).value = str(folder)
            await pilot.press("ctrl+s")
            await settle(pilot)
    saved = sorted(p.name for p in folder.iterdir())
    assert len(saved) == 2 and all("/" not in name and ".." not in name for name in saved)
    assert set(saved) == {"экран.png", "экран (2).png"}
    assert all((folder / name).read_bytes() == b"\x89PNG fake" for name in saved)
    assert not (tmp_path / "etc").exists()


def test_fn_days_left() -> None:
    from sdconsole.domain.views import DeviceView

    device = DeviceView(1, "", "", "", "", "", date(2026, 12, 1), None, "", None, None)
    assert device.fn_days_left(date(2026, 11, 23)) == 8
    assert device.fn_days_left(date(2026, 12, 3)) == -2


async def test_text_attachments_are_shown_as_plain_text(
    app: SdConsoleApp, clock: FixedClock
) -> None:
    from sdconsole.screens.dialogs import TextViewer

    store = app.store
    log = "Ошибка 3924 [bold]ФН[/bold] \x1b[31mкрасный\x1b[0m\n".encode("cp1251")
    result = IntakeService(store, clock, routing=MANUAL).ingest(
        email(
            "<log@shop>",
            clock.now(),
            subject="Лог кассы",
            attachments=(
                InboundAttachment("kkt.log", "text/plain", log),
                InboundAttachment("photo.png", "image/png", b"\x89PNG"),
            ),
        )
    )
    assert result.ticket_id is not None
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(TicketScreen(result.ticket_id))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the first file: the log
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, TextViewer)
        shown = str(viewer.query_one("#viewer-text", Static).render())
        assert "Ошибка 3924 [bold]ФН[/bold]" in shown and "\x1b" not in shown
        await pilot.press("escape", "v")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-file", Select).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)  # a picture is not shown as text
