"""Provides `JumpProvider`: the command palette's jumps to a ticket, a client or a device.

Type a ticket number (``SD-000123``, ``123``), part of a client's name, an ИНН, or the first
digits of a cash register's serial, registration or fiscal-drive number; the palette offers the
ticket, the client's queue (everything under it too), or the device's latest open ticket.
"""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider

from sdconsole.domain.views import Jump, JumpKind
from sdconsole.i18n import _
from sdconsole.storage import repositories


class JumpProvider(Provider):
    """Look-ups in the store, off the UI thread."""

    async def search(self, query: str) -> Hits:
        store = self.app.store  # type: ignore[attr-defined]

        def find() -> list[Jump]:
            with store.reader() as session:
                return repositories.find_jumps(session=session, text_=query)

        try:
            jumps = await asyncio.to_thread(find)
        except Exception:  # noqa: BLE001 - a failed look-up offers nothing, the palette goes on
            return
        for rank, jump in enumerate(jumps):
            yield Hit(
                score=1.0 - rank / 100,
                match_display=self._title(jump),
                command=partial(self._go, jump),
                text=self._title(jump),
                help=jump.detail or None,
            )

    @staticmethod
    def _title(jump: Jump) -> str:
        if jump.kind == JumpKind.TICKET:
            return _("Open ticket {number}").format(number=jump.label)
        if jump.kind == JumpKind.CLIENT:
            return _("Queue of {client}").format(client=jump.label)
        if jump.ticket_id is None:
            return _("Device {device}: no open ticket").format(device=jump.label)
        return _("Device {device}: open its ticket").format(device=jump.label)

    def _go(self, jump: Jump) -> None:
        from sdconsole.screens.queue import QueueScreen
        from sdconsole.screens.ticket import TicketScreen

        app = self.app
        if jump.kind == JumpKind.CLIENT:
            while len(app.screen_stack) > 1 and not isinstance(app.screen, QueueScreen):
                app.pop_screen()
            if isinstance(app.screen, QueueScreen):
                app.screen.show_client(jump.id, jump.label)
            return
        ticket_id = jump.id if jump.kind == JumpKind.TICKET else jump.ticket_id
        if ticket_id is None:
            app.notify(_("This device has no open ticket."), severity="warning")
            return
        app.push_screen(TicketScreen(ticket_id))
