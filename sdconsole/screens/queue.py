"""Provides `QueueScreen`: open tickets, most urgent first, with quick filters."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.views import QueueFilter, QueueRow
from sdconsole.i18n import N_, _, ngettext
from sdconsole.messages import QueueLoaded, StoreFailed
from sdconsole.storage import repositories
from sdconsole.widgets.ticket_table import TicketTable


class QueueScreen(Screen[None]):
    """The queue: what to work on next."""

    BINDINGS = [
        Binding("enter", "open", N_("Open"), id="queue.open", show=False),
        Binding("a", "show_all", N_("All"), id="queue.all"),
        Binding("m", "show_mine", N_("Mine"), id="queue.mine"),
        Binding("u", "show_unassigned", N_("Unassigned"), id="queue.unassigned"),
        Binding("1", "show_line(1)", N_("Line 1"), id="queue.line1", show=False),
        Binding("2", "show_line(2)", N_("Line 2"), id="queue.line2", show=False),
        Binding("3", "show_line(3)", N_("Line 3"), id="queue.line3", show=False),
        Binding("4", "show_line(4)", N_("Line 4"), id="queue.line4", show=False),
        Binding("r", "reload", N_("Refresh"), id="queue.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.queue = QueueFilter()
        self.queue_title = _("All open tickets")
        self._exhausted = False
        self._loading_more = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="queue-title")
        yield Static(
            _(
                "No open tickets here. Press a for all open tickets, m for yours, 1-4 for a "
                "support line. New requests arrive by mail, Telegram, monitoring or "
                "`sdconsole ticket new`."
            ),
            id="queue-empty",
            markup=False,
        )
        yield TicketTable(id="queue-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TicketTable).focus()
        self.load()

    @property
    def page_size(self) -> int:
        return self.app.settings.queue_page_size  # type: ignore[attr-defined, no-any-return]

    # -- loading -----------------------------------------------------------------------------

    def load(self, *, after: QueueRow | None = None) -> None:
        """Read the first page (or the page after `after`) in a worker."""
        self._load(self.queue, None if after is None else (after.due_at, after.id))

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(self, queue: QueueFilter, after: tuple[datetime, int] | None) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        try:
            with store.reader() as session:
                rows = repositories.queue_page(
                    session=session, queue=queue, limit=self.page_size, after=after
                )
                total = None if after else repositories.count_queue(session=session, queue=queue)
        except Exception as error:  # noqa: BLE001 - shown to the engineer, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        self.post_message(QueueLoaded(queue, rows, total, append=after is not None))

    @on(QueueLoaded)
    def show_page(self, message: QueueLoaded) -> None:
        if message.queue != self.queue:
            return  # a late answer to a filter no longer shown
        table = self.query_one(TicketTable)
        table.show_rows(
            message.rows,
            self.app.clock.now(),  # type: ignore[attr-defined]
            append=message.append,
        )
        self._exhausted = len(message.rows) < self.page_size
        self._loading_more = False
        self.set_class(not table.row_count, "-empty")
        if message.total is not None:
            self._total = message.total
            self._show_title()

    def _show_title(self) -> None:
        count = ngettext("{n} ticket", "{n} tickets", self._total).format(n=self._total)
        title = Text(self.queue_title, style="bold")
        title.append(f"  ·  {count}")
        self.query_one("#queue-title", Static).update(title)

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.notify(message.error, title=_("Cannot read the store"), severity="error")

    @on(TicketTable.NearEnd)
    def load_more(self) -> None:
        table = self.query_one(TicketTable)
        if self._exhausted or self._loading_more or not table.rows_by_key:
            return
        self._loading_more = True
        last = list(table.rows_by_key.values())[-1]
        self.load(after=last)

    @on(TicketTable.TicketOpened)
    def open_ticket(self, message: TicketTable.TicketOpened) -> None:
        from sdconsole.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(message.ticket_id))

    # -- actions -----------------------------------------------------------------------------

    def _switch(self, queue: QueueFilter, title: str) -> None:
        self.queue = queue
        self.queue_title = title
        self._exhausted = False
        self.load()

    def action_open(self) -> None:
        ticket_id = self.query_one(TicketTable).selected_id()
        if ticket_id is not None:
            self.post_message(TicketTable.TicketOpened(ticket_id))

    def action_reload(self) -> None:
        self.load()

    def action_show_all(self) -> None:
        self._switch(QueueFilter(), _("All open tickets"))

    def action_show_mine(self) -> None:
        actor = self.app.actor  # type: ignore[attr-defined]
        if actor.engineer_id is None:
            self.notify(
                _("Start the console with --as LOGIN to see your tickets."), severity="warning"
            )
            return
        self._switch(
            QueueFilter(assignee_id=actor.engineer_id),
            _("My tickets ({login})").format(login=actor.login),
        )

    def action_show_unassigned(self) -> None:
        self._switch(QueueFilter(unassigned=True), _("Unassigned tickets"))

    def action_show_line(self, line: int) -> None:
        self._switch(QueueFilter(line=line), _("Line {line}").format(line=line))
