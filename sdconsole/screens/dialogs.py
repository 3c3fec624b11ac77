"""Provides the modal dialogs: a name prompt, the key help, the queue's filter, a form for the
ticket's actions, and a yes/no question."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from sdconsole.bindings import translate_bindings
from sdconsole.domain.model import ChannelKind, Priority
from sdconsole.domain.views import QueueFilter
from sdconsole.i18n import N_, _
from sdconsole.storage import Store, repositories

DIALOG_CSS = """
ModalScreen { align: center middle; background: $background 60%; }
.dialog {
    width: 72; height: auto; max-height: 90%;
    padding: 1 2; border: thick $accent; background: $surface;
}
.dialog .title { text-style: bold; margin-bottom: 1; }
.dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.dialog .buttons Button { margin-left: 1; }
.dialog .error { color: $error; height: auto; }
"""


class NamePrompt(ModalScreen[str | None]):
    """Ask for one line of text (a view's name); Enter accepts, Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="prompt.cancel")]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        translate_bindings(self)
        self._title = title
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title", markup=False)
            yield Input(self._value, id="prompt-input")

    @on(Input.Submitted)
    def accept(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, with what it does."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("escape,question_mark,q", "close", N_("Close"), id="help.close"),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        translate_bindings(self)
        self._under = screen
        self.keys: list[tuple[str, str]] = []
        """(key, what it does), as listed."""

    def compose(self) -> ComposeResult:
        seen: set[str] = set()
        for active in self._under.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            self.keys.append((self.app.get_key_display(binding), binding.description))
        self.keys.append(("ctrl+p", _("Command palette: jump to a ticket, client, ИНН or serial")))
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with Vertical(classes="dialog"):
            yield Label(_("Keys"), classes="title")
            yield Static(table)
            yield Label(_("Escape closes this help."), classes="title")

    def action_close(self) -> None:
        self.dismiss(None)


ANY = "any"


class FilterDialog(ModalScreen[QueueFilter | None]):
    """Narrow the queue: words, client, priority, channel, team, category."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    FilterDialog Grid { grid-size: 2; grid-columns: 14 1fr; grid-rows: 3; height: auto; }
    FilterDialog Grid Label { padding: 1 0 0 0; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="filter.cancel")]

    def __init__(
        self, store: Store, queue: QueueFilter, *, teams: list[str], categories: list[str]
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self._store = store
        self._queue = queue
        self._teams = teams
        self._categories = categories

    def compose(self) -> ComposeResult:
        queue = self._queue
        with Vertical(classes="dialog"):
            yield Label(_("Filter the queue"), classes="title")
            with Grid():
                yield Label(_("Words"))
                yield Input(
                    queue.search, id="filter-search", placeholder=_("subject, text, serial…")
                )
                yield Label(_("Client"))
                yield Input(
                    self._client_text(), id="filter-client", placeholder=_("ИНН, code or number")
                )
                yield Label(_("Priority"))
                yield Select(
                    [(f"{p.label} {p.title}", str(int(p))) for p in Priority],
                    value=str(int(queue.priority)) if queue.priority else Select.NULL,
                    prompt=_("any"),
                    id="filter-priority",
                )
                yield Label(_("Channel"))
                yield Select(
                    [(c.label, c.value) for c in ChannelKind],
                    value=queue.channel.value if queue.channel else Select.NULL,
                    prompt=_("any"),
                    id="filter-channel",
                )
                yield Label(_("Team"))
                yield Select(
                    [(team, team) for team in self._teams],
                    value=queue.teams[0] if len(queue.teams) == 1 else Select.NULL,
                    prompt=_("any"),
                    id="filter-team",
                )
                yield Label(_("Category"))
                yield Input(
                    queue.category or "",
                    id="filter-category",
                    placeholder="kkt.atol",
                    suggester=SuggestFromList(self._categories, case_sensitive=False),
                )
            yield Static(id="filter-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Clear"), id="filter-clear")
                yield Button(_("Cancel"), id="filter-cancel")
                yield Button(_("Apply"), id="filter-apply", variant="primary")

    def _client_text(self) -> str:
        if self._queue.client_id is None:
            return ""
        return str(self._queue.client_id)

    @on(Input.Submitted)
    @on(Button.Pressed, "#filter-apply")
    def apply(self) -> None:
        def value(widget_id: str) -> str:
            return self.query_one(widget_id, Input).value.strip()

        def chosen(widget_id: str) -> str | None:
            selected = self.query_one(widget_id, Select).value
            return None if selected is Select.NULL else str(selected)

        client_id = None
        if reference := value("#filter-client"):
            with self._store.reader() as session:
                client = repositories.client_by_ref(session=session, ref=reference)
            if client is None:
                error = _("No client with the ИНН, code or number {ref}.").format(ref=reference)
                self.query_one("#filter-error", Static).update(Text(error))
                return
            client_id = client.id
        priority = chosen("#filter-priority")
        channel = chosen("#filter-channel")
        team = chosen("#filter-team")
        keep_teams = self._queue.teams if len(self._queue.teams) > 1 else ()
        self.dismiss(
            replace(
                self._queue,
                search=value("#filter-search"),
                client_id=client_id,
                priority=Priority(int(priority)) if priority else None,
                channel=ChannelKind(channel) if channel else None,
                teams=(team,) if team else keep_teams,
                category=value("#filter-category") or None,
            )
        )

    @on(Button.Pressed, "#filter-clear")
    def clear(self) -> None:
        self.dismiss(
            replace(
                self._queue,
                search="",
                client_id=None,
                priority=None,
                channel=None,
                category=None,
            )
        )

    @on(Button.Pressed, "#filter-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a `FormDialog`."""

    name: str
    label: str
    kind: str = "text"
    """``text`` (one line), ``area`` (several lines) or ``select``."""
    options: tuple[tuple[str, str], ...] = ()
    """(shown, value) pairs of a ``select``."""
    value: str = ""
    required: bool = False
    suggestions: tuple[str, ...] = ()
    """Completions offered while typing a ``text``."""


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A small form: the ticket's actions ask for what they need with it.

    Ctrl+S (or the button) submits; a required field left empty is named and the form stays.
    Returns the values by field name, or None when cancelled.
    """

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    FormDialog .dialog { width: 90; max-width: 100%; }
    FormDialog .fields { height: auto; max-height: 45vh; }
    FormDialog .field-label { margin-top: 1; color: $text-muted; }
    FormDialog TextArea { height: 10; }
    """
    )
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="form.cancel"),
        Binding("ctrl+s", "submit", N_("Submit"), id="form.submit", priority=True),
    ]

    def __init__(
        self, title: str, fields: list[Field], *, submit: str | None = None, error: str = ""
    ) -> None:
        """
        Args:
            error: a message to show from the start (the form opened again after a refusal).
        """
        super().__init__()
        translate_bindings(self)
        self._title = title
        self._fields = fields
        self._submit = submit or _("Submit")
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title", markup=False)
            yield from self._inputs() if len(self._fields) <= 4 else self._scrolled()
            error = Static(Text(self._error), id="form-error", classes="error")
            error.display = bool(self._error)  # an empty line only once there is something to say
            yield error
            with Horizontal(classes="buttons"):
                yield Button(_("Cancel"), id="form-cancel")
                yield Button(self._submit, id="form-submit", variant="primary")

    def _scrolled(self) -> ComposeResult:
        """A long form scrolls between its title and its buttons."""
        with VerticalScroll(classes="fields"):
            yield from self._inputs()

    def _inputs(self) -> ComposeResult:
        for field in self._fields:
            label = field.label + (" *" if field.required else "")
            yield Label(label, classes="field-label", markup=False)
            widget_id = f"field-{field.name}"
            if field.kind == "area":
                yield TextArea(field.value, id=widget_id, soft_wrap=True)
            elif field.kind == "select":
                yield Select(
                    list(field.options),
                    value=field.value or Select.NULL,
                    prompt="—",
                    id=widget_id,
                )
            else:
                suggester = (
                    SuggestFromList(field.suggestions, case_sensitive=False)
                    if field.suggestions
                    else None
                )
                yield Input(field.value, id=widget_id, suggester=suggester)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in self._fields:
            widget = self.query_one(f"#field-{field.name}")
            if isinstance(widget, TextArea):
                out[field.name] = widget.text.strip()
            elif isinstance(widget, Select):
                out[field.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                out[field.name] = widget.value.strip()
        return out

    @on(Button.Pressed, "#form-submit")
    def action_submit(self) -> None:
        values = self.values()
        missing = [f.label for f in self._fields if f.required and not values.get(f.name)]
        if missing:
            self.query_one("#form-error", Static).display = True
            self.query_one("#form-error", Static).update(
                Text(_("Required: {fields}.").format(fields=", ".join(missing)))
            )
            return
        self.dismiss(values)

    @on(Input.Submitted)
    def submitted(self) -> None:
        if not any(f.kind == "area" for f in self._fields):
            self.action_submit()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A question with two answers; Enter or y says yes, Escape or n says no."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", N_("No"), id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str) -> None:
        super().__init__()
        translate_bindings(self)
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._question, classes="title", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Cancel"), id="confirm-no")
                yield Button(self._yes, id="confirm-yes", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextViewer(ModalScreen[None]):
    """A text shown as it is (no markup, no control sequences), scrollable; Escape closes."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    TextViewer .dialog { width: 90%; height: 90%; }
    TextViewer VerticalScroll { height: 1fr; }
    """
    )
    BINDINGS = [Binding("escape,q", "close", N_("Close"), id="viewer.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        translate_bindings(self)
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title", markup=False)
            with VerticalScroll():
                yield Static(Text(self._text), id="viewer-text")

    def action_close(self) -> None:
        self.dismiss(None)
