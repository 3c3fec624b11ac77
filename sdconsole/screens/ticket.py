"""Provides `TicketScreen`: one ticket's details, thread and history (read-only for now)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.model import MessageKind
from sdconsole.domain.views import TicketView
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreFailed, TicketLoaded
from sdconsole.reports.history import history_lines
from sdconsole.reports.ticket import mark_breach, sla_summary
from sdconsole.storage import repositories


def _when(value: datetime | None, zone: str | None = None) -> str:
    if value is None:
        return "—"
    if zone:
        local = value.astimezone(ZoneInfo(zone))
        return local.strftime("%d.%m.%Y %H:%M ") + (local.tzname() or "")
    return value.strftime("%d.%m.%Y %H:%M UTC")


class TicketScreen(Screen[None]):
    """A ticket: who, where, what, the thread and every change."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back"), id="ticket.back"),
        Binding("r", "reload", N_("Refresh"), id="ticket.refresh"),
    ]

    DEFAULT_CSS = """
    TicketScreen {
        #ticket-header { padding: 0 1; background: $boost; }
        #ticket-body { padding: 0 1; }
        .message { margin: 1 0 0 0; padding: 0 1; border-left: thick $primary; }
        .message.-inbound { border-left: thick $accent; }
        .message.-note { border-left: thick $warning; background: $warning 10%; }
        .message.-auto { color: $text-muted; }
        #ticket-history { margin-top: 1; color: $text-muted; }
    }
    """

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.ticket_id = ticket_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="ticket-header")
        yield VerticalScroll(id="ticket-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ticket-body").focus()
        self._load()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="ticket", exit_on_error=False)
    def _load(self) -> None:
        try:
            with self.app.store.reader() as session:  # type: ignore[attr-defined]
                view = repositories.ticket_view(session=session, ticket_id=self.ticket_id)
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        if view is None:
            self.post_message(StoreFailed(_("No such ticket.")))
            return
        self.post_message(TicketLoaded(view))

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.notify(message.error, title=_("Cannot read the store"), severity="error")

    @on(TicketLoaded)
    async def show_ticket(self, message: TicketLoaded) -> None:
        view = message.view
        self.sub_title = f"{view.number}"
        self.query_one("#ticket-header", Static).update(self._header(view))
        body = self.query_one("#ticket-body", VerticalScroll)
        await body.remove_children()
        widgets: list[Static] = []
        kinds = {
            MessageKind.INBOUND: _("client"),
            MessageKind.OUTBOUND: _("reply"),
            MessageKind.NOTE: _("internal note"),
            MessageKind.SYSTEM: _("system"),
        }
        for entry in view.messages:
            head = Text(f"{_when(entry.created_at, view.site_timezone)}  ", style="dim")
            head.append(f"{kinds[entry.kind]} · ", style="bold")
            head.append(entry.author or "—")
            if entry.is_auto:
                head.append(f"  ({_('automatic')})", style="dim")
            content = Text.assemble(head, "\n", entry.body)
            for name in entry.attachments:
                content.append(f"\n📎 {name}", style="dim")
            classes = f"message -{entry.kind.value}" + (" -auto" if entry.is_auto else "")
            widgets.append(Static(content, classes=classes))
        zone = view.site_timezone
        history = Text()
        history.append(_("History"), style="bold")
        for line in history_lines(view.events, lambda at: _when(at, zone)):
            history.append("\n")
            history.append_text(line)
        widgets.append(Static(history, id="ticket-history"))
        await body.mount_all(widgets)

    def _header(self, view: TicketView) -> Group:
        grid = Table.grid(padding=(0, 2), expand=True)
        for _i in range(4):
            grid.add_column()
        title = Text(f"{view.number}  ", style="bold")
        title.append(view.subject, style="bold")
        zone = view.site_timezone
        local_now = ""
        if zone:
            now = self.app.clock.now()  # type: ignore[attr-defined]
            local_now = _("local time {time}").format(
                time=now.astimezone(ZoneInfo(zone)).strftime("%H:%M")
            )

        def pair(label: str, value: str) -> Text:
            out = Text(f"{label}: ", style="dim")
            out.append(value)
            return out

        sla = view.sla
        grid.add_row(
            pair(_("Status"), view.status.label),
            pair(_("Priority"), f"{view.priority.label} {view.priority.title}"),
            pair(_("Line"), str(view.line) + (f" · {view.team}" if view.team else "")),
            pair(_("Assignee"), view.assignee_login or "—"),
        )
        grid.add_row(
            pair(_("Client"), view.client_name or "—"),
            pair(_("Site"), " ".join(x for x in (view.site_name, local_now) if x) or "—"),
            pair(_("Contact"), view.contact_name or "—"),
            pair(_("Device"), view.device or "—"),
        )
        grid.add_row(
            pair(_("Channel"), view.channel.label),
            pair(_("Category"), view.category or "—"),
            pair(
                _("Response due"),
                mark_breach(_when(view.response_due_at, zone), bool(sla and sla.response_breached)),
            ),
            pair(
                _("Resolution due"),
                mark_breach(
                    _when(view.resolution_due_at, zone), bool(sla and sla.resolution_breached)
                ),
            ),
        )
        if sla is None:
            return Group(title, grid)
        return Group(title, grid, pair(_("SLA"), sla_summary(sla)))
