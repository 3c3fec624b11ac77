"""Provides `CardScreen`: runs a ticket's diagnostic card step by step.

The screen shows the card's title, the path answered so far, the ticket data the card reads
(its ``inputs`` and the field a check step looks at, with the answer the rule suggests), and the
current step with one key per answer. Every answer goes through `DiagnosticsService`, which
writes it on the ticket as an internal note; a run left half-way is resumed where it stopped.
At the end, a *resolved* step opens the resolve form with the card's resolution code, an
*escalate* step the escalate form with the line, the reason and the collected data filled in.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.diagnostics import FIELDS, Step, StepKind
from sdconsole.domain.errors import Conflict, SdError
from sdconsole.domain.model import Actor, SupportLine, ticket_number
from sdconsole.i18n import N_, _, current_language
from sdconsole.screens.dialogs import ConfirmDialog, Field, FormDialog, HelpScreen
from sdconsole.services.diagnostics import DiagnosticsService, RunState, answer_label
from sdconsole.services.tickets import TicketService

_KIND_LABELS = {
    StepKind.QUESTION: N_("Question"),
    StepKind.ACTION: N_("Do this"),
    StepKind.CHECK: N_("Check"),
    StepKind.VERIFY: N_("Verify"),
    StepKind.RESOLVE_WITH: N_("Fix"),
    StepKind.RESOLVED: N_("Resolved"),
    StepKind.ESCALATE: N_("Escalate"),
}


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


class CardScreen(Screen[None]):
    """One ticket's diagnostic card run."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back to the ticket"), id="card.back"),
        Binding("1", "choose(0)", N_("Answer 1"), id="card.answer1", show=False),
        Binding("2", "choose(1)", N_("Answer 2"), id="card.answer2", show=False),
        Binding("3", "choose(2)", N_("Answer 3"), id="card.answer3", show=False),
        Binding("4", "choose(3)", N_("Answer 4"), id="card.answer4", show=False),
        Binding("5", "choose(4)", N_("Answer 5"), id="card.answer5", show=False),
        Binding("6", "choose(5)", N_("Answer 6"), id="card.answer6", show=False),
        Binding("s", "start", N_("Start the card"), id="card.start"),
        Binding("f", "finish", N_("Resolve or escalate"), id="card.finish"),
        Binding("question_mark", "help", N_("Help"), id="card.help"),
    ]

    DEFAULT_CSS = """
    CardScreen {
        #card-body { padding: 0 1; }
        #card-step { margin: 1 0; padding: 1 2; border: round $accent; height: auto; }
        #card-data { color: $text-muted; height: auto; }
        #card-path { color: $text-muted; height: auto; margin-top: 1; }
        #card-comment { margin: 0 0 1 0; }
    }
    """

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.ticket_id = ticket_id
        self.state: RunState | None = None
        self.choices: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="card-body"):
            yield Static(id="card-title")
            yield Static(id="card-data")
            yield Static(id="card-step")
            yield Input(id="card-comment", placeholder=_("Comment to the answer (optional)"))
            yield Static(id="card-path")
        yield Footer()

    @property
    def _service(self) -> DiagnosticsService:
        app = self.app
        service = getattr(app, "diagnostics", None)
        if service is None:
            service = DiagnosticsService(app.store, app.clock)  # type: ignore[attr-defined]
            app.diagnostics = service  # type: ignore[attr-defined]  # cards are read once
        return service

    @property
    def _actor(self) -> Actor:
        return self.app.actor  # type: ignore[attr-defined, no-any-return]

    def on_mount(self) -> None:
        self.sub_title = ticket_number(self.ticket_id)
        self.reload()

    def reload(self) -> None:
        try:
            state = self._service.current(self.ticket_id)
        except SdError as error:
            self.notify(str(error), severity="error")
            return
        if state is None and self._service.card_for(self.ticket_id) is None:
            self._show_nothing()
            return
        self.state = state
        self._show()

    def _show_nothing(self) -> None:
        self.state = None
        self.choices = []
        self.query_one("#card-title", Static).update(
            Text(
                _(
                    "This ticket's category has no diagnostic card. Set a category with one "
                    "(c on the ticket), or work the ticket without a card."
                )
            )
        )
        for widget_id in ("#card-data", "#card-step", "#card-path"):
            self.query_one(widget_id, Static).update("")

    def _show(self) -> None:
        state = self.state
        language = current_language()
        if state is None:
            card = self._service.card_for(self.ticket_id)
            assert card is not None
            self.choices = []
            title = Text(card.title.get(language), style="bold")
            title.append(f"  ({card.id}, v{card.version})", style="dim")
            self.query_one("#card-title", Static).update(title)
            self.query_one("#card-step", Static).update(
                Text(_("Press s to start the card."), style="italic")
            )
            self.query_one("#card-data", Static).update(
                self._data(card.inputs, self._service.values(self.ticket_id), None)
            )
            self.query_one("#card-path", Static).update("")
            return
        card, step = state.card, state.step
        title = Text(card.title.get(language), style="bold")
        title.append(f"  ({card.id}, v{card.version})", style="dim")
        if state.progress.finished:
            title.append("  ·  " + _("finished"), style="bold")
        self.query_one("#card-title", Static).update(title)
        fields = tuple(dict.fromkeys([*card.inputs, *([step.field] if step.field else [])]))
        self.query_one("#card-data", Static).update(self._data(fields, state.values, step))
        self.choices = [] if state.progress.finished else state.progress.choices()
        self.query_one("#card-step", Static).update(self._step(step, state, language))
        self.query_one("#card-path", Static).update(self._path(state, language))

    def _data(self, fields: tuple[str, ...], values: Any, step: Step | None) -> Table | Text:
        if not fields:
            return Text("")
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        for name in fields:
            label = _(FIELDS.get(name, name))
            value = Text(_value(values.get(name)))
            if step is not None and name == step.field:
                value.stylize("bold")
            table.add_row(label, value)
        return table

    def _step(self, step: Step, state: RunState, language: str) -> Text:
        head = Text(_(_KIND_LABELS[step.kind]), style="bold")
        parts: list[Text] = [head]
        if step.text is not None:
            parts.append(Text(step.text.get(language)))
        if step.expect is not None:
            parts.append(Text(_("Expected: {text}").format(text=step.expect.get(language))))
        if step.kind is StepKind.RESOLVED:
            parts.append(
                Text(
                    _(
                        "The card ends here: resolved ({code}). Press f to resolve the ticket."
                    ).format(code=step.resolution or "—"),
                    style="bold",
                )
            )
        elif step.kind is StepKind.ESCALATE:
            reason = step.reason.get(language) if step.reason else ""
            parts.append(
                Text(
                    _(
                        "The card ends here: escalate ({target}). {reason} Press f to escalate."
                    ).format(target=step.to or "—", reason=reason),
                    style="bold",
                )
            )
        if state.suggestion is not None:
            parts.append(
                Text(
                    _("The ticket's data suggests: {answer}").format(
                        answer=answer_label(state.suggestion, language)
                    ),
                    style="italic",
                )
            )
        if self.choices:
            keys = Text()
            for number, choice in enumerate(self.choices, start=1):
                keys.append(f" {number} ", style="reverse bold")
                keys.append(f" {answer_label(choice, language)}   ")
            parts.append(keys)
        return Text("\n").join(parts)

    def _path(self, state: RunState, language: str) -> Text:
        path = Text(_("Answered so far"), style="bold")
        if not state.progress.answers:
            path.append("\n" + _("nothing yet"))
        for record in state.progress.answers:
            step = state.card.steps[record.step]
            question = step.text.get(language) if step.text else step.id
            path.append(f"\n{record.at:%H:%M} {record.actor}  ")
            path.append(question)
            path.append(f" → {answer_label(record.answer, language)}", style="bold")
            if record.comment:
                path.append(f" ({record.comment})")
        return path

    # -- actions -----------------------------------------------------------------------------

    def action_start(self) -> None:
        if self.state is not None and not self.state.progress.finished:
            self.notify(_("The card is already running; answer its step."))
            return
        try:
            self.state = self._service.start(self.ticket_id, actor=self._actor)
        except SdError as error:
            self.notify(str(error), severity="error")
            return
        self._show()

    def action_choose(self, index: int) -> None:
        if self.state is None or index >= len(self.choices):
            return
        comment = self.query_one("#card-comment", Input)
        try:
            self.state = self._service.answer(
                self.state.run_id,
                self.state.progress.current,
                self.choices[index],
                actor=self._actor,
                comment=comment.value,
            )
        except Conflict as error:
            self.notify(str(error), severity="warning")
            self.reload()
            return
        except SdError as error:
            self.notify(str(error), severity="error")
            return
        comment.value = ""
        self._show()
        if self.state.progress.finished:
            self.action_finish()

    @on(Input.Submitted, "#card-comment")
    def comment_done(self) -> None:
        self.set_focus(None)

    def action_finish(self) -> None:
        state = self.state
        if state is None or not state.progress.finished:
            self.notify(_("The card has not reached its end yet."))
            return
        step = state.step
        if step.kind is StepKind.RESOLVED:
            self._resolve(step)
        else:
            self._escalate(step, state)

    def _resolve(self, step: Step) -> None:
        service = TicketService(self.app.store, self.app.clock)  # type: ignore[attr-defined]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                service.resolve(self.ticket_id, values["code"], values["text"], actor=self._actor)
            except SdError as error:
                self.notify(str(error), severity="error")
                return
            self.notify(_("Resolved."))
            self.app.pop_screen()

        self.app.push_screen(
            FormDialog(
                _("Resolve"),
                [
                    Field("code", _("Resolution code"), value=step.resolution or "", required=True),
                    Field("text", _("What was done"), "area", required=True),
                ],
                submit=_("Resolve"),
            ),
            done,
        )

    def _escalate(self, step: Step, state: RunState) -> None:
        language = current_language()
        line = step.escalation_line
        if line is None:
            reason = step.reason.get(language) if step.reason else ""
            self.app.push_screen(
                ConfirmDialog(
                    _("The card hands this to the client's own IT: {reason}").format(reason=reason),
                    _("OK"),
                )
            )
            return
        lines = [(f"{SupportLine(n).title}", str(n)) for n in (2, 3, 4) if n >= line]
        collected = [step.reason.get(language) if step.reason else ""]
        for name in step.attach:
            collected.append(f"{_(FIELDS.get(name, name))}: {_value(state.values.get(name))}")
        collected.append(
            _("Card {card}: {answers}").format(
                card=state.card.id,
                answers="; ".join(
                    f"{a.step} → {answer_label(a.answer, language)}" for a in state.progress.answers
                ),
            )
        )
        service = TicketService(self.app.store, self.app.clock)  # type: ignore[attr-defined]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                service.escalate(
                    self.ticket_id,
                    SupportLine(int(values["line"])),
                    values["reason"],
                    actor=self._actor,
                    team=values["team"] or None,
                )
            except SdError as error:
                self.notify(str(error), severity="error")
                return
            self.notify(_("Escalated to line {line}.").format(line=values["line"]))
            self.app.pop_screen()

        self.app.push_screen(
            FormDialog(
                _("Escalate"),
                [
                    Field("line", _("To line"), "select", tuple(lines), str(line), True),
                    Field("team", _("Team (optional)")),
                    Field(
                        "reason",
                        _("Why, and what was already done"),
                        "area",
                        value="\n".join(x for x in collected if x),
                        required=True,
                    ),
                ],
            ),
            done,
        )

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))
