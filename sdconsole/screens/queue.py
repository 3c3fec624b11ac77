"""Provides `QueueScreen`: open tickets, most urgent first, with views, filters and search.

The left panel lists the views (built-in and saved) with their counts; the table shows the
chosen view, narrowed by the filter dialog (f) or the search line (/). Pages are read by keyset
as the engineer scrolls, so a million tickets cost no more than a hundred. Changes by anyone
else arrive by themselves (`StoreChanged`, from the app's watcher) and keep the cursor's ticket.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from sdconsole.bindings import translate_bindings
from sdconsole.domain.errors import SdError
from sdconsole.domain.model import Actor
from sdconsole.domain.views import QueueFilter, QueueRow, QueueView, builtin_views
from sdconsole.i18n import N_, _, ngettext
from sdconsole.messages import QueueCounted, QueueLoaded, StoreChanged, StoreFailed, ViewsCounted
from sdconsole.services import views as view_service
from sdconsole.storage import repositories
from sdconsole.widgets.ticket_table import TicketTable
from sdconsole.widgets.view_list import ViewList


class QueueScreen(Screen[None]):
    """The queue: what to work on next."""

    BINDINGS = [
        Binding("enter", "open", N_("Open"), id="queue.open", show=False),
        Binding("slash", "search", N_("Search"), id="queue.search"),
        Binding("f", "filter", N_("Filter"), id="queue.filter"),
        Binding("v", "views", N_("Views"), id="queue.views", show=False),
        Binding("s", "save_view", N_("Save view"), id="queue.save"),
        Binding("a", "show_view('all')", N_("All open"), id="queue.all", show=False),
        Binding("m", "show_view('mine')", N_("Mine"), id="queue.mine"),
        Binding("t", "show_view('team')", N_("My team"), id="queue.team", show=False),
        Binding("l", "show_view('myline')", N_("My line"), id="queue.myline", show=False),
        Binding(
            "u", "show_view('unassigned')", N_("Unassigned"), id="queue.unassigned", show=False
        ),
        Binding("b", "show_view('breached')", N_("Breached"), id="queue.breached", show=False),
        Binding("w", "show_view('waiting')", N_("Waiting"), id="queue.waiting", show=False),
        Binding("1", "show_view('line1')", N_("Line 1"), id="queue.line1", show=False),
        Binding("2", "show_view('line2')", N_("Line 2"), id="queue.line2", show=False),
        Binding("3", "show_view('line3')", N_("Line 3"), id="queue.line3", show=False),
        Binding("4", "show_view('line4')", N_("Line 4"), id="queue.line4", show=False),
        Binding("x", "clear_filter", N_("Clear filter"), id="queue.clear", show=False),
        Binding("delete", "delete_view", N_("Delete saved view"), id="queue.delete", show=False),
        Binding("c", "contracts", N_("Clients"), id="queue.contracts"),
        Binding("D", "dead_letters", N_("Dead letters"), id="queue.dead_letters", show=False),
        Binding("r", "reload", N_("Refresh"), id="queue.refresh"),
        Binding("question_mark", "help", N_("Help"), id="queue.help"),
    ]

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.view = QueueView("all", _("All open"), QueueFilter())
        self.queue = self.view.queue
        self._views: list[QueueView] = []
        self._total = 0
        self._exhausted = False
        self._loading_more = False
        self._reads_idle = threading.Event()
        self._reads_idle.set()
        self._views_started = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal():
            yield ViewList(id="queue-views")
            with Vertical(id="queue-main"):
                yield Static(id="queue-title")
                yield Input(id="queue-search", placeholder=_("Words to find; Enter searches"))
                yield Static(
                    _(
                        "No open tickets here. Press a for all open tickets, m for yours, 1-4 "
                        "for a support line, x to clear the filter. New requests arrive by "
                        "mail, Telegram, monitoring or `sdconsole ticket new`."
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
    def actor(self) -> Actor:
        return self.app.actor  # type: ignore[attr-defined, no-any-return]

    @property
    def page_size(self) -> int:
        return self.app.settings.queue_page_size  # type: ignore[attr-defined, no-any-return]

    # -- loading -----------------------------------------------------------------------------

    READ_YIELD = 2.0
    """Seconds a view count waits for the engineer's page read to finish before it goes on."""

    FIRST_ROWS = 60
    """The first read of a queue: a screenful and some, shown at once; the rest of the page
    follows as the engineer scrolls."""

    def load(self, *, after: QueueRow | None = None, keep: int = 0) -> None:
        """Read the first rows (or the page after `after`) in a worker; `keep` reads at least
        that many rows, so a refresh does not shorten what the engineer scrolled through."""
        limit = (
            self.page_size if after is not None else max(min(self.FIRST_ROWS, self.page_size), keep)
        )
        self._load(self.queue, None if after is None else (after.due_at, after.id), limit)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(self, queue: QueueFilter, after: tuple[datetime, int] | None, limit: int) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        now = self.app.clock.now()  # type: ignore[attr-defined]
        self._reads_idle.clear()
        try:
            try:
                with store.reader() as session:
                    rows = repositories.queue_page(
                        session=session, queue=queue, limit=limit, after=after, now=now
                    )
            finally:
                self._reads_idle.set()
            # The rows first: the count (a scan of the queue's index) must not delay them.
            self.post_message(QueueLoaded(queue, rows, append=after is not None, limit=limit))
            if after is None:
                with store.reader() as session:
                    total = repositories.count_queue(session=session, queue=queue, now=now)
                self.post_message(QueueCounted(queue, total))
        except Exception as error:  # noqa: BLE001 - shown to the engineer, never a crash
            self.post_message(StoreFailed(str(error)))

    @work(thread=True, exclusive=True, group="views", exit_on_error=False)
    def _count_views(self, views: list[QueueView]) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        now = self.app.clock.now()  # type: ignore[attr-defined]
        counts: dict[str, int] = {}
        worker = get_current_worker()
        try:
            for view in views:
                # One view at a time, and never while the engineer's own rows are being read:
                # on two cores the counts would slow the rows down.
                self._reads_idle.wait(timeout=self.READ_YIELD)
                if worker.is_cancelled:
                    return
                with store.reader() as session:
                    counts[view.key] = repositories.count_queue(
                        session=session, queue=view.queue, now=now
                    )
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        if not get_current_worker().is_cancelled:  # a newer count replaced this one
            self.post_message(ViewsCounted(counts))

    @work(thread=True, exclusive=True, group="saved-views", exit_on_error=False)
    def _refresh_views(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        try:
            saved = view_service.saved_views(store, self.actor)
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            saved = []
        self.app.call_from_thread(self._show_views, builtin_views(self.actor) + saved)

    def _show_views(self, views: list[QueueView]) -> None:
        self._views = views
        self.query_one(ViewList).show_views(views, self.view.key)
        self._count_views(views)

    @on(ViewsCounted)
    def show_counts(self, message: ViewsCounted) -> None:
        self.query_one(ViewList).show_counts(message.counts)

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
        self._exhausted = len(message.rows) < (message.limit or self.page_size)
        self._loading_more = False
        self.set_class(not table.row_count, "-empty")
        if not self._views_started:  # the panel's counts wait for the first rows
            self._views_started = True
            self._refresh_views()

    @on(QueueCounted)
    def show_count(self, message: QueueCounted) -> None:
        if message.queue == self.queue:
            self._total = message.total
            self._show_title()

    def _show_title(self) -> None:
        count = ngettext("{n} ticket", "{n} tickets", self._total).format(n=self._total)
        title = Text(self.view.title, style="bold")
        title.append(f"  ·  {count}")
        narrowed = self._narrowing()
        if narrowed:
            title.append("  ·  ", style="dim")
            title.append(narrowed, style="italic")
        self.query_one("#queue-title", Static).update(title)

    def _narrowing(self) -> str:
        """What the filter adds to the view, in words (empty when it is the view as saved)."""
        base, queue = self.view.queue, self.queue
        parts = []
        if queue.search and queue.search != base.search:
            parts.append(f"«{queue.search}»")
        if queue.client_id != base.client_id and queue.client_id is not None:
            parts.append(_("client {id}").format(id=queue.client_id))
        if queue.priority != base.priority and queue.priority is not None:
            parts.append(queue.priority.label)
        if queue.channel != base.channel and queue.channel is not None:
            parts.append(queue.channel.label)
        if queue.teams != base.teams and queue.teams:
            parts.append(", ".join(queue.teams))
        if queue.category != base.category and queue.category:
            parts.append(queue.category)
        return " · ".join(parts)

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.notify(message.error, title=_("Cannot read the store"), severity="error")

    @on(StoreChanged)
    def store_changed(self) -> None:
        """Someone else changed tickets: reload what is shown, where the engineer is."""
        table = self.query_one(TicketTable)
        self.load(keep=len(table.rows_by_key))
        self._count_views(self._views)

    def on_screen_resume(self) -> None:
        if self._views:
            self.store_changed()

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

    @on(ViewList.Chosen)
    def view_chosen(self, message: ViewList.Chosen) -> None:
        self._switch(message.view)
        self.remove_class("-views")
        self.query_one(TicketTable).focus()

    # -- actions -----------------------------------------------------------------------------

    def _switch(self, view: QueueView, queue: QueueFilter | None = None) -> None:
        self.view = view
        self.queue = view.queue if queue is None else queue
        self._exhausted = False
        self.query_one(ViewList).show_views(self._views, view.key)
        self.load()

    def _narrow(self, queue: QueueFilter) -> None:
        self.queue = queue
        self._exhausted = False
        self.load()

    def action_open(self) -> None:
        ticket_id = self.query_one(TicketTable).selected_id()
        if ticket_id is not None:
            self.post_message(TicketTable.TicketOpened(ticket_id))

    def action_reload(self) -> None:
        self._refresh_views()
        self.load(keep=len(self.query_one(TicketTable).rows_by_key))

    def action_show_view(self, key: str) -> None:
        for view in self._views or builtin_views(self.actor):
            if view.key == key:
                self._switch(view)
                return
        if key == "mine":
            message = _("Start the console with --as LOGIN to see your tickets.")
        elif key == "team":
            message = _("You are in no team; an administrator sets teams on engineers.")
        else:
            return
        self.notify(message, severity="warning")

    def show_client(self, client_id: int, name: str) -> None:
        """The queue of one client (and everything under it): the command palette's jump."""
        view = QueueView(f"client:{client_id}", name, QueueFilter(client_id=client_id))
        self._switch(view)

    NARROW_BELOW = 110
    """Narrower than this, the views panel hides until v shows it."""

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.NARROW_BELOW, "-narrow")

    def action_views(self) -> None:
        if self.has_class("-narrow"):
            self.toggle_class("-views")
            if not self.has_class("-views"):
                self.query_one(TicketTable).focus()
                return
        self.query_one(ViewList).focus()

    def action_search(self) -> None:
        search = self.query_one("#queue-search", Input)
        search.value = self.queue.search
        self.add_class("-searching")
        search.focus()

    @on(Input.Submitted, "#queue-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        self.remove_class("-searching")
        self.query_one(TicketTable).focus()
        self._narrow(replace(self.queue, search=event.value.strip()))

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        search = self.query_one("#queue-search", Input)
        if key == "escape" and search.has_focus:
            self.remove_class("-searching")
            self.query_one(TicketTable).focus()

    def action_clear_filter(self) -> None:
        self._narrow(self.view.queue)

    def action_filter(self) -> None:
        from sdconsole.screens.dialogs import FilterDialog

        store = self.app.store  # type: ignore[attr-defined]
        with store.reader() as session:
            teams = repositories.known_teams(session=session)
            categories = repositories.category_codes(session=session)

        def done(queue: QueueFilter | None) -> None:
            if queue is not None:
                self._narrow(queue)

        self.app.push_screen(
            FilterDialog(store, self.queue, teams=teams, categories=categories), done
        )

    def action_save_view(self) -> None:
        from sdconsole.screens.dialogs import NamePrompt

        def done(name: str | None) -> None:
            if not name:
                return
            app = self.app
            try:
                view = view_service.save_view(
                    app.store,  # type: ignore[attr-defined]
                    app.clock,  # type: ignore[attr-defined]
                    self.actor,
                    name,
                    self.queue,
                )
            except SdError as error:
                self.notify(str(error), severity="error")
                return
            self.view = view
            self.notify(_("Saved the view «{name}».").format(name=view.title))
            self._refresh_views()

        self.app.push_screen(NamePrompt(_("Save this queue as a view named:")), done)

    def action_delete_view(self) -> None:
        views = self.query_one(ViewList)
        if not views.has_focus or views.highlighted is None:
            return
        key = views.get_option_at_index(views.highlighted).id
        view = views.views.get(key or "")
        if view is None or view.saved_id is None:
            self.notify(_("Built-in views cannot be deleted."), severity="warning")
            return
        try:
            view_service.delete_view(self.app.store, self.actor, view.saved_id)  # type: ignore[attr-defined]
        except SdError as error:
            self.notify(str(error), severity="error")
            return
        self.notify(_("Deleted the view «{name}».").format(name=view.title))
        if self.view.key == view.key:
            self._switch(builtin_views(self.actor)[0])
        self._refresh_views()

    def action_contracts(self) -> None:
        from sdconsole.screens.contracts import ContractScreen

        self.app.push_screen(ContractScreen())

    def action_dead_letters(self) -> None:
        from sdconsole.screens.dead_letters import DeadLetterScreen

        self.app.push_screen(DeadLetterScreen())

    def action_help(self) -> None:
        from sdconsole.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen(self))
