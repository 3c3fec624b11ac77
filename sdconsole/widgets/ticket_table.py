"""Provides `TicketTable`: the queue's table; emits `TicketTable.TicketOpened` on Enter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from sdconsole.bindings import translate_bindings
from sdconsole.domain.model import OPEN_STATUSES, Priority, Status
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.domain.views import QueueRow, SlaState
from sdconsole.i18n import N_, _


def format_span(minutes: int) -> str:
    """A compact duration: 45m, 3h 05m, 2d 04h."""
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    d, h, m = _("d"), _("h"), _("m")  # one-letter units: days, hours, minutes
    if days:
        return f"{sign}{days}{d} {hours:02d}{h}"
    if hours:
        return f"{sign}{hours}{h} {mins:02d}{m}"
    return f"{sign}{mins}{m}"


SLA_MARKS = {
    SlaState.OK: "·",
    SlaState.WARNING: "▲",
    SlaState.BREACHED: "✖",
    SlaState.PAUSED: "‖",
}
"""The SLA state at a glance, readable without colour too."""


class TicketTable(DataTable[Text]):
    """Open tickets, one per row, keyed by ticket id; all cells are plain `Text`."""

    DEFAULT_CSS = """
    TicketTable {
        height: 1fr;
        & > .datatable--cursor { text-style: bold; }
    }
    """

    @dataclass
    class TicketOpened(Message):
        """The engineer pressed Enter on a ticket."""

        ticket_id: int

    BINDINGS = [Binding("enter", "select_cursor", N_("Open"), show=True)]
    """Enter opens the ticket; shown in the footer (DataTable's own binding is hidden)."""

    @dataclass
    class NearEnd(Message):
        """The cursor came close to the last loaded row: time to read the next page."""

    FIXED_WIDTHS = {
        "sla": 1,
        "number": 9,
        "priority": 3,
        "due": 8,
        "line": 5,
        "assignee": 11,
        "age": 7,
    }
    """Columns that keep their width; subject (and client) share what is left."""
    COMPACT_BELOW = 110
    """Narrower than this, the client and age columns give their room to the subject."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        translate_bindings(self)
        self.rows_by_key: dict[int, QueueRow] = {}
        self._alarm = "bold"
        self._warn = "bold"
        self._compact: bool | None = None
        self._last_selected: int | None = None
        self._last_index = 0
        self._now: datetime | None = None

    def _columns_for(self, compact: bool) -> list[tuple[str, str]]:
        columns = [
            ("sla", " "),
            ("number", _("Number")),
            ("priority", _("Pri")),
            ("due", _("Due in")),
            ("subject", _("Subject")),
        ]
        if not compact:
            columns.append(("client", _("Site · client")))
        columns += [("status", _("Status")), ("line", _("Line")), ("assignee", _("Assignee"))]
        if not compact:
            columns.append(("age", _("Age")))
        return columns

    def on_resize(self) -> None:
        """Lay the columns out for the width: subject gets 60 % of what fixed columns leave."""
        compact = self.size.width < self.COMPACT_BELOW
        columns = self._columns_for(compact)
        widths = dict(self.FIXED_WIDTHS)
        # Wide enough for the longest status in the UI's language ("waiting for vendor").
        widths["status"] = max(len(status.label) for status in OPEN_STATUSES)
        if compact:
            widths["status"] = min(widths["status"], 13)
        fixed = sum(widths.get(key, 0) for key, _title in columns)
        free = max(12, self.size.width - fixed - 2 * len(columns) * self.cell_padding - 1)
        if compact:
            widths["subject"] = free
        else:
            widths["subject"] = free * 3 // 5
            widths["client"] = free - widths["subject"]
        if compact != self._compact:
            self._compact = compact
            self._last_selected, self._last_index = self.selected_id(), self.cursor_row
            self.clear(columns=True)
            for key, title in columns:
                self.add_column(title, key=key, width=widths[key])
            rows = list(self.rows_by_key.values())
            self.rows_by_key.clear()
            if rows and self._now is not None:
                selected, index = self._last_selected, self._last_index
                self.show_rows(rows, self._now, append=True)
                self._restore_cursor(selected, index)
            return
        for key in ("subject", "client"):
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.width = widths[key]
        self.refresh()

    def show_rows(self, rows: list[QueueRow], now: datetime, *, append: bool) -> None:
        """Show a page of rows (replacing, or after the ones already shown)."""
        self._now = now
        selected, index = self.selected_id(), self.cursor_row
        if not append:
            self.clear()
            self.rows_by_key.clear()
        theme = self.app.current_theme
        # Colours come from the theme, so a night or light theme recolours the queue.
        self._alarm = f"bold {theme.error}" if theme.error else "bold"
        self._warn = f"bold {theme.warning}" if theme.warning else "bold"
        for row in rows:
            if row.id in self.rows_by_key:
                continue
            self.rows_by_key[row.id] = row
            if self._compact is not None:
                self.add_row(*self._cells(row, now), key=str(row.id))
        if not append:
            self._restore_cursor(selected, index)

    def selected_id(self) -> int | None:
        """The id of the ticket under the cursor, or None."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def _restore_cursor(self, ticket_id: int | None, index: int) -> None:
        """Keep the engineer's place: the same ticket if still listed, else the same row."""
        if not self.row_count:
            return
        if ticket_id is not None and ticket_id in self.rows_by_key:
            index = self.get_row_index(str(ticket_id))
        self.move_cursor(row=min(index, self.row_count - 1), scroll=True)

    def _cells(self, row: QueueRow, now: datetime) -> list[Text]:
        cells = self._all_cells(row, now)
        return [cells[key] for key, _title in self._columns_for(bool(self._compact))]

    def _all_cells(self, row: QueueRow, now: datetime) -> dict[str, Text]:
        priority_style = {
            Priority.P1: self._alarm,
            Priority.P2: self._warn,
            Priority.P3: "",
            Priority.P4: "dim",
        }[row.priority]
        # The shop first: it is what the engineer calls and visits; the client narrows it down.
        place = f"{row.site_name} · {row.client_name}" if row.site_name else row.client_name
        age = int((now - row.received_at).total_seconds() // 60)
        state = row.sla_state(now)
        if row.due_at >= PAUSED_DUE:
            due = Text(_("paused"), style="dim")
        else:
            left = int((row.due_at - now).total_seconds() // 60)
            # The time left is coloured by its own clock; the mark also tells earlier breaches.
            style = self._alarm if left < 0 else self._warn if state == SlaState.WARNING else ""
            due = Text(format_span(left), style=style)
        return {
            "sla": Text(SLA_MARKS[state], style=self._state_style(state)),
            "number": Text(row.number),
            "priority": Text(row.priority.label, style=priority_style),
            "due": due,
            "subject": Text(row.subject, no_wrap=True, overflow="ellipsis"),
            "client": Text(place, no_wrap=True, overflow="ellipsis"),
            "status": Text(Status(row.status).label),
            "line": Text(str(row.line)),
            "assignee": Text(row.assignee_login or "—", style="" if row.assignee_login else "dim"),
            "age": Text(format_span(age)),
        }

    def _state_style(self, state: SlaState) -> str:
        return {
            SlaState.OK: "",
            SlaState.WARNING: self._warn,
            SlaState.BREACHED: self._alarm,
            SlaState.PAUSED: "dim",
        }[state]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.TicketOpened(int(event.row_key.value)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.row_count and event.cursor_row >= self.row_count - 20:
            self.post_message(self.NearEnd())
