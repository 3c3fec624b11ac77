"""Provides `DeadLetterScreen`: what intake could not take, why, and retrying or dismissing it.

Nothing a channel delivers is dropped: a payload that cannot be parsed, or an automatic reply
that answers no ticket, waits here with the reason until an engineer retries it (after a fix,
or once its ticket exists) or dismisses it (dealt with by hand; it stays in the store).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.errors import SdError
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreFailed
from sdconsole.screens.dialogs import ConfirmDialog, HelpScreen, TextViewer
from sdconsole.services.dead_letters import (
    DeadLetterRow,
    DeadLetters,
    get,
    list_dead_letters,
    readable,
)


class DeadLetterScreen(Screen[None]):
    """The dead letters, newest first."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back"), id="dead.back"),
        Binding("enter", "show", N_("Show"), id="dead.show"),
        Binding("r", "retry", N_("Retry"), id="dead.retry"),
        Binding("d", "dismiss_letter", N_("Dismiss"), id="dead.dismiss"),
        Binding("ctrl+r", "reload", N_("Refresh"), id="dead.refresh", show=False),
        Binding("question_mark", "help", N_("Help"), id="dead.help"),
    ]

    DEFAULT_CSS = """
    DeadLetterScreen {
        #dead-empty { padding: 1 2; color: $text-muted; }
        DataTable { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.rows: list[DeadLetterRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("No dead letters: every input became a ticket."), id="dead-empty")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Dead letters")
        table = self.query_one(DataTable)
        table.add_columns(_("Last seen"), _("Channel"), _("Retries"), _("Reason"), _("Start"))
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="dead-letters", exit_on_error=False)
    def _load(self) -> None:
        try:
            rows = list_dead_letters(self.app.store)  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[DeadLetterRow]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                row.last_seen.strftime("%d.%m %H:%M"),
                row.channel,
                str(row.retries),
                Text(row.error[:80]),  # untrusted: never read as markup
                Text(row.preview[:60]),
                key=str(row.id),
            )
        self.query_one("#dead-empty").display = not rows
        table.display = bool(rows)

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.notify(message.error, title=_("Cannot read the store"), severity="error")

    def _current(self) -> DeadLetterRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_reload(self) -> None:
        self._load()

    def action_show(self) -> None:
        row = self._current()
        if row is None:
            return
        _row, raw = get(self.app.store, row.id)  # type: ignore[attr-defined]
        title = f"{row.channel} · {row.error}"
        self.app.push_screen(TextViewer(title, readable(raw)))

    @on(DataTable.RowSelected)
    def selected(self) -> None:
        self.action_show()

    def _service(self) -> DeadLetters:
        from sdconsole.services.mail import MailIntake

        app = self.app
        store, clock, settings = app.store, app.clock, app.settings  # type: ignore[attr-defined]
        return DeadLetters(store, clock, MailIntake.from_settings(store, clock, settings))

    def action_retry(self) -> None:
        row = self._current()
        if row is None:
            return
        try:
            result = self._service().retry(row.id)
        except SdError as error:
            self.notify(str(error), severity="error")
            return
        if result.ticket_id is not None:
            self.notify(_("Taken: ticket SD-{number:06d}.").format(number=result.ticket_id))
        else:
            self.notify(
                _("Still not taken: {reason}").format(reason=result.reason), severity="warning"
            )
        self._load()

    def action_dismiss_letter(self) -> None:
        row = self._current()
        if row is None:
            return

        def done(sure: bool | None) -> None:
            if sure:
                self._service().dismiss(row.id)
                self._load()

        self.app.push_screen(
            ConfirmDialog(_("Dismiss this dead letter? It stays in the store."), _("Dismiss")),
            done,
        )

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))
