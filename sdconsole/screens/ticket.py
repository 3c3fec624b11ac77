"""Provides `TicketScreen`: one ticket's details, thread and history, and every action on it.

Actions (take, assign, reply, note, status, priority, category, escalate, log time, resolve,
reopen, link, merge) ask for what they need in a `FormDialog` and go through `TicketService`
with the version the engineer saw: when someone else changed the ticket meanwhile, the service
refuses (`Conflict`) and the screen says so and offers to reload.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.errors import Conflict, SdError
from sdconsole.domain.model import (
    Actor,
    ChannelKind,
    LinkKind,
    MessageKind,
    Priority,
    Status,
    SupportLine,
    ticket_number,
)
from sdconsole.domain.quoting import fold
from sdconsole.domain.text import safe_filename, strip_control
from sdconsole.domain.views import MessageView, TicketView
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreChanged, StoreFailed, TicketLoaded
from sdconsole.reports.history import COVERAGE_WORDS, history_lines, notice_text
from sdconsole.reports.ticket import mark_breach, sla_summary
from sdconsole.screens.dialogs import ConfirmDialog, Field, FormDialog, HelpScreen, TextViewer
from sdconsole.services.intake import UNKNOWN_SENDER_TAG
from sdconsole.services.tickets import TicketService
from sdconsole.storage import repositories

_DELIVERY = {
    "queued": (N_("waiting to be sent"), "yellow"),
    "sending": (N_("sending"), "yellow"),
    "sent": (N_("sent"), "green"),
    "failed": (N_("not delivered"), "bold red"),
}


def _delivery(entry: MessageView) -> Text | None:
    """An outbound entry's delivery state, with the reason when it failed."""
    if entry.kind != MessageKind.OUTBOUND or entry.delivery_state not in _DELIVERY:
        return None
    label, style = _DELIVERY[entry.delivery_state]
    text = Text(f"[{_(label)}]", style=style)
    if entry.delivery_error and entry.delivery_state in ("failed", "queued"):
        text.append(
            f" {entry.delivery_error}", style=style if entry.delivery_state == "failed" else "dim"
        )
    return text


def _classes(entry: MessageView) -> str:
    return f"message -{entry.kind.value}" + (" -auto" if entry.is_auto else "")


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
        Binding("t", "take", N_("Take"), id="ticket.take"),
        Binding("d", "card", N_("Card"), id="ticket.card"),
        Binding("r", "reply", N_("Reply"), id="ticket.reply"),
        Binding("n", "note", N_("Note"), id="ticket.note"),
        Binding("a", "assign", N_("Assign"), id="ticket.assign"),
        Binding("s", "status", N_("Status"), id="ticket.status", show=False),
        Binding("e", "escalate", N_("Escalate"), id="ticket.escalate"),
        Binding("x", "resolve", N_("Resolve"), id="ticket.resolve"),
        Binding("p", "priority", N_("Priority"), id="ticket.priority", show=False),
        Binding("c", "category", N_("Category"), id="ticket.category", show=False),
        Binding("l", "log_time", N_("Log time"), id="ticket.log_time", show=False),
        Binding("T", "timer", N_("Start or stop the timer"), id="ticket.timer", show=False),
        Binding("o", "reopen", N_("Reopen"), id="ticket.reopen", show=False),
        Binding("k", "link", N_("Link to a ticket"), id="ticket.link", show=False),
        Binding("i", "checklist", N_("Checklist"), id="ticket.checklist", show=False),
        Binding("w", "save_file", N_("Save an attachment"), id="ticket.save_file", show=False),
        Binding("v", "view_file", N_("View an attachment"), id="ticket.view_file", show=False),
        Binding("m", "merge", N_("Merge into a ticket"), id="ticket.merge", show=False),
        Binding("b", "bind_sender", N_("Bind the sender"), id="ticket.bind", show=False),
        Binding("g", "telegram_code", N_("Telegram code"), id="ticket.telegram", show=False),
        Binding("z", "toggle_quotes", N_("Show quoted text"), id="ticket.quotes", show=False),
        Binding("ctrl+r", "reload", N_("Refresh"), id="ticket.refresh", show=False),
        Binding("question_mark", "help", N_("Help"), id="ticket.help"),
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
        #ticket-device { margin-top: 1; padding: 0 1; border-left: thick $secondary; }
        #ticket-checklist { margin-top: 1; }
    }
    """

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.ticket_id = ticket_id
        self.view: TicketView | None = None
        self.show_quotes = False
        """Whether quoted history and signatures are shown in full."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="ticket-header")
        yield VerticalScroll(id="ticket-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ticket-body").focus()
        self._load()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """The running timer counts in the header."""
        if self.ticket_id in self._work_timers:
            self._show_timer()

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

    @on(StoreChanged)
    def store_changed(self) -> None:
        self._load()

    @on(TicketLoaded)
    async def show_ticket(self, message: TicketLoaded) -> None:
        view = message.view
        self.view = view
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
            widgets.append(
                Static(self._entry(entry, kinds, view.site_timezone), classes=_classes(entry))
            )
        if view.device_info is not None:
            widgets.insert(0, Static(self._device_panel(view), id="ticket-device"))
        if view.checklist:
            widgets.append(Static(self._checklist(view), id="ticket-checklist"))
        zone = view.site_timezone
        history = Text()
        history.append(_("History"), style="bold")
        for line in history_lines(view.events, lambda at: _when(at, zone)):
            history.append("\n")
            history.append_text(line)
        widgets.append(Static(history, id="ticket-history"))
        await body.mount_all(widgets)

    def _entry(self, entry: MessageView, kinds: dict[MessageKind, str], zone: str | None) -> Text:
        """One thread entry: who and when, the text (quoted history and signatures folded
        unless shown), attachments, the channel's notices and the delivery state."""
        head = Text(f"{_when(entry.created_at, zone)}  ", style="dim")
        head.append(f"{kinds[entry.kind]} · ", style="bold")
        head.append(entry.author or "—")
        if entry.address and entry.address != entry.author:
            head.append(f" <{entry.address}>", style="dim")
        if entry.is_auto:
            head.append(f"  ({_('automatic')})", style="dim")
        state = _delivery(entry)
        if state is not None:
            head.append("  ")
            head.append_text(state)
        content = Text.assemble(head, "\n")
        folded = fold(entry.body) if entry.kind == MessageKind.INBOUND else None
        if folded is not None and folded.folded and not self.show_quotes:
            content.append(folded.reply.rstrip())
            hidden = len((folded.signature + folded.quoted).splitlines())
            content.append(
                "\n"
                + _("… {n} lines of quoted text and signature hidden (z shows)").format(n=hidden),
                style="dim italic",
            )
        else:
            content.append(entry.body)
        for name in entry.attachments:
            content.append(f"\n📎 {name}", style="dim")
        for note in entry.notes:
            content.append("\n⚠ " + notice_text(note), style="yellow")
        return content

    def action_bind_sender(self) -> None:
        view = self.view
        if view is None:
            return
        sender = next(
            (m for m in view.messages if m.kind == MessageKind.INBOUND and m.address), None
        )
        if sender is None:
            self.notify(_("This ticket's sender left no address to bind."), severity="warning")
            return

        def bind(values: dict[str, str]) -> None:
            self._act(
                lambda version: self._service.bind_sender(
                    self.ticket_id,
                    values["client"],
                    name=values["name"],
                    actor=self._actor,
                    expected_version=version,
                ),
                _("{address} is now a contact of {client}.").format(
                    address=sender.address, client=values["client"]
                ),
            )

        self._ask(
            _("Bind {address} to a client").format(address=sender.address),
            [
                Field("client", _("Shop or client: code, ИНН or exact name"), required=True),
                Field("name", _("Contact's name"), value=sender.author, required=True),
            ],
            bind,
        )

    def action_telegram_code(self) -> None:
        """A one-time code that binds the contact's Telegram chat to the bot."""
        from sdconsole.services.telegram import issue_code

        view = self.view
        if view is None or view.contact_id is None:
            self.notify(_("This ticket has no contact to give a code to."), severity="warning")
            return
        settings = self.app.settings.telegram  # type: ignore[attr-defined]
        code = issue_code(
            self.app.store,  # type: ignore[attr-defined]
            self.app.clock,  # type: ignore[attr-defined]
            view.contact_id,
            engineer_id=self._actor.engineer_id,
            hours=settings.code_hours if settings is not None else 72,
        )
        self.app.push_screen(
            TextViewer(
                _("Telegram code for {name}").format(name=view.contact_name or "—"),
                _(
                    "Ask the contact to send the bot:\n\n    /start {code}\n\n"
                    "The code works once and for {hours} hours."
                ).format(code=code, hours=settings.code_hours if settings is not None else 72),
            )
        )

    def action_toggle_quotes(self) -> None:
        self.show_quotes = not self.show_quotes
        self._load()

    def _device_panel(self, view: TicketView) -> Text:
        device = view.device_info
        assert device is not None
        today = self.app.clock.now().date()  # type: ignore[attr-defined]
        out = Text(_("Device") + ": ", style="bold")
        out.append(
            " ".join(x for x in (device.model, device.serial and f"ЗН {device.serial}") if x)
        )
        if device.reg_number:
            out.append(f" · РН {device.reg_number}")
        if device.firmware:
            out.append(" · " + _("firmware {version}").format(version=device.firmware))
        out.append("\n")
        if device.fn_serial:
            out.append(f"ФН {device.fn_serial}")
        days = device.fn_days_left(today)
        if days is not None:
            style = "bold red" if days < 0 else "bold yellow" if days <= 30 else ""
            until = device.fn_valid_until.strftime("%d.%m.%Y") if device.fn_valid_until else ""
            left = (
                _("expired {n} days ago").format(n=-days)
                if days < 0
                else _("{n} days left").format(n=days)
            )
            out.append(" · " + _("keys valid until {date}").format(date=until) + " (")
            out.append(left, style=style)
            out.append(")")
        if device.fn_memory_used_pct is not None:
            out.append(" · " + _("memory {pct:.0f} % used").format(pct=device.fn_memory_used_pct))
        if device.ofd_name:
            out.append(f" · ОФД {device.ofd_name}")
        if device.health_state:
            state_style = {"ok": "green", "warning": "yellow", "critical": "bold red"}.get(
                device.health_state, ""
            )
            out.append(" · " + _("health") + ": ")
            out.append(device.health_state, style=state_style)
            if device.health_at is not None:
                out.append(" " + _when(device.health_at, view.site_timezone), style="dim")
        return out

    def _checklist(self, view: TicketView) -> Text:
        out = Text(_("Checklist"), style="bold")
        for number, item in enumerate(view.checklist, start=1):
            out.append(f"\n{number}. " + ("☑ " if item.done else "☐ "))
            out.append(item.text, style="dim" if item.done else "")
            if item.done and item.by:
                out.append(f"  ({item.by})", style="dim")
        return out

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
            (
                pair(_("Contact"), view.contact_name)
                if view.contact_name
                else Text(_("unknown sender (b binds)"), style="bold yellow")
                if UNKNOWN_SENDER_TAG in view.tags
                else pair(_("Contact"), "—")
            ),
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
        lines: list[RenderableType] = [title, grid]
        if sla is not None and view.channel is not ChannelKind.INTERNAL:
            # The desk's own tickets (problems, notices) run no client SLA.
            lines.append(pair(_("SLA"), sla_summary(sla)))
        timer = self._timer_text()
        if timer is not None:
            lines.append(timer)
        if view.billable_one_off:
            word = COVERAGE_WORDS[view.coverage or ""]
            lines.append(Text(_("Billing: {what}").format(what=_(word)), style="bold yellow"))
        return Group(*lines)

    # -- actions -----------------------------------------------------------------------------

    @property
    def _service(self) -> TicketService:
        return TicketService(self.app.store, self.app.clock)  # type: ignore[attr-defined]

    @property
    def _actor(self) -> Actor:
        return self.app.actor  # type: ignore[attr-defined, no-any-return]

    def _act(self, change: Callable[[int | None], object], done: str) -> bool:
        """Run one change with the version shown; say what happened, reload either way.

        Returns:
            Whether the change was made."""
        version = self.view.version if self.view is not None else None
        try:
            change(version)
        except Conflict as error:
            self._offer_reload(str(error))
            return False
        except SdError as error:
            self.notify(str(error), severity="error")
            return False
        self.notify(done)
        self._load()
        return True

    def _offer_reload(self, error: str) -> None:
        def answered(reload: bool | None) -> None:
            if reload:
                self._load()

        question = _(
            "Someone else changed this ticket meanwhile ({error}). Reload it to see the "
            "change, then try again?"
        ).format(error=error)
        self.app.push_screen(ConfirmDialog(question, _("Reload")), answered)

    def _ask(
        self,
        title: str,
        fields: list[Field],
        then: Callable[[dict[str, str]], None],
        *,
        submit: str | None = None,
    ) -> None:
        def answered(values: dict[str, str] | None) -> None:
            if values is not None:
                then(values)

        self.app.push_screen(FormDialog(title, fields, submit=submit), answered)

    def action_take(self) -> None:
        self._act(
            lambda _v: self._service.take(self.ticket_id, actor=self._actor),
            _("You took the ticket."),
        )

    def action_reply(self) -> None:
        def send(values: dict[str, str]) -> None:
            self._act(
                lambda v: self._service.reply(
                    self.ticket_id, values["body"], actor=self._actor, expected_version=v
                ),
                _("The reply is queued for sending."),
            )

        channel = self.view.channel.label if self.view else ""
        self._ask(
            _("Reply to the client ({channel})").format(channel=channel),
            [Field("body", _("Text"), kind="area", required=True)],
            send,
            submit=_("Send"),
        )

    def action_note(self) -> None:
        def save(values: dict[str, str]) -> None:
            self._act(
                lambda v: self._service.note(
                    self.ticket_id, values["body"], actor=self._actor, expected_version=v
                ),
                _("Internal note added."),
            )

        self._ask(
            _("Internal note (the client does not see it)"),
            [Field("body", _("Text"), kind="area", required=True)],
            save,
        )

    def action_assign(self) -> None:
        with self.app.store.reader() as session:  # type: ignore[attr-defined]
            loads = repositories.engineer_loads(session=session)
        options = [("— " + _("nobody") + " —", "-")]
        for load in loads:
            duty = "" if load.on_duty else " · " + _("off duty")
            lines = ",".join(str(line) for line in load.lines) or "—"
            teams = ",".join(load.teams) or "—"
            label = _("{login} ({name}) · {n} open · lines {lines} · {teams}{duty}").format(
                login=load.login,
                name=load.name,
                n=load.open_tickets,
                lines=lines,
                teams=teams,
                duty=duty,
            )
            options.append((label, load.login))

        def assign(values: dict[str, str]) -> None:
            login = None if values["engineer"] == "-" else values["engineer"]
            self._act(
                lambda v: self._service.assign(
                    self.ticket_id, login, actor=self._actor, expected_version=v
                ),
                _("Assigned to {login}.").format(login=login) if login else _("Unassigned."),
            )

        self._ask(
            _("Assign the ticket (least loaded first)"),
            [
                Field(
                    "engineer", _("Engineer"), kind="select", options=tuple(options), required=True
                )
            ],
            assign,
        )

    def action_status(self) -> None:
        choices = (Status.OPEN, Status.WAITING_CLIENT, Status.WAITING_VENDOR)
        current = self.view.status.value if self.view else ""

        def change(values: dict[str, str]) -> None:
            status = Status(values["status"])
            self._act(
                lambda v: self._service.set_status(
                    self.ticket_id, status, actor=self._actor, expected_version=v
                ),
                _("Status: {status}.").format(status=status.label),
            )

        self._ask(
            _("Status"),
            [
                Field(
                    "status",
                    _("Status"),
                    kind="select",
                    options=tuple((s.label, s.value) for s in choices),
                    value=current if current in {s.value for s in choices} else "",
                    required=True,
                )
            ],
            change,
        )

    def action_priority(self) -> None:
        def change(values: dict[str, str]) -> None:
            priority = Priority(int(values["priority"]))
            self._act(
                lambda v: self._service.set_priority(
                    self.ticket_id,
                    priority,
                    actor=self._actor,
                    reason=values["reason"],
                    expected_version=v,
                ),
                _("Priority: {priority}.").format(priority=priority.label),
            )

        self._ask(
            _("Priority"),
            [
                Field(
                    "priority",
                    _("Priority"),
                    kind="select",
                    options=tuple((f"{p.label} {p.title}", str(int(p))) for p in Priority),
                    value=str(int(self.view.priority)) if self.view else "",
                    required=True,
                ),
                Field("reason", _("Why"), required=True),
            ],
            change,
        )

    def action_category(self) -> None:
        with self.app.store.reader() as session:  # type: ignore[attr-defined]
            codes = repositories.category_codes(session=session)
        suggested = self._suggestions()
        options = tuple((f"{code} · {p:.0%}", code) for code, p in suggested)

        def change(values: dict[str, str]) -> None:
            code = values["code"] or values["suggested"]
            if not code:
                self.notify(_("Choose a suggestion or type a category code."), severity="error")
                return
            self._act(
                lambda v: self._service.set_category(
                    self.ticket_id, code, actor=self._actor, expected_version=v
                ),
                _("Category: {code}.").format(code=code),
            )

        fields = [
            Field("suggested", _("Classifier suggests"), "select", options),
            Field("code", _("Or a category code"), suggestions=tuple(codes)),
        ]
        self._ask(_("Category"), fields, change)

    def _suggestions(self) -> list[tuple[str, float]]:
        """The classifier's suggestions recorded when the ticket was registered."""
        if self.view is None:
            return []
        for event in self.view.events:
            if event.kind == "created":
                found = (event.details or {}).get("suggestions") or []
                return [
                    (str(item["code"]), float(item.get("confidence", 0.0)))
                    for item in found
                    if isinstance(item, dict) and item.get("code")
                ]
        return []

    def action_escalate(self) -> None:
        current = self.view.line if self.view else 1

        def escalate(values: dict[str, str]) -> None:
            line = SupportLine(int(values["line"]))
            self._act(
                lambda v: self._service.escalate(
                    self.ticket_id,
                    line,
                    values["reason"],
                    actor=self._actor,
                    team=values["team"] or None,
                    expected_version=v,
                ),
                _("Escalated to line {line}.").format(line=int(line)),
            )

        lines = tuple((line.title, str(int(line))) for line in SupportLine if line > current)
        self._ask(
            _("Escalate"),
            [
                Field("line", _("To line"), "select", lines, lines[0][1] if lines else "", True),
                Field(
                    "team", _("Team (optional)"), value=self.view.team or "" if self.view else ""
                ),
                Field("reason", _("Why, and what was already done"), "area", required=True),
            ],
            escalate,
        )

    # -- the work timer ------------------------------------------------------------------------

    @property
    def _work_timers(self) -> dict[int, datetime]:
        return self.app.work_timers  # type: ignore[attr-defined, no-any-return]

    def action_timer(self) -> None:
        """Start the timer; stopped, its minutes (rounded up) fill the log-time form. The
        timer ends only once that time is logged: a cancelled form keeps it running."""
        now = self.app.clock.now()  # type: ignore[attr-defined]
        started = self._work_timers.get(self.ticket_id)
        if started is None:
            self._work_timers[self.ticket_id] = now
            self.notify(_("Timer started; T stops it and logs the time."))
            self._show_timer()
            return
        minutes = max(1, -(-int((now - started).total_seconds()) // 60))

        def logged() -> None:
            self._work_timers.pop(self.ticket_id, None)
            self._show_timer()

        self.action_log_time(minutes, then=logged)

    def _show_timer(self) -> None:
        if self.view is not None:
            self.query_one("#ticket-header", Static).update(self._header(self.view))

    def _timer_text(self) -> Text | None:
        started = self._work_timers.get(self.ticket_id)
        if started is None:
            return None
        seconds = max(0, int((self.app.clock.now() - started).total_seconds()))  # type: ignore[attr-defined]
        hours, rest = divmod(seconds, 3600)
        return Text(
            _("timer {time} (T stops and logs it)").format(
                time=f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
            ),
            style="bold green",
        )

    def action_log_time(
        self, minutes: int | None = None, then: Callable[[], None] | None = None
    ) -> None:
        def log(values: dict[str, str]) -> None:
            try:
                entered = int(values["minutes"])
            except ValueError:
                self.notify(_("Minutes are a whole number."), severity="error")
                return
            done = self._act(
                lambda _v: self._service.log_time(
                    self.ticket_id,
                    entered,
                    actor=self._actor,
                    billable=values["billable"] != "no",
                    note=values["note"],
                ),
                _("{n} min logged.").format(n=entered),
            )
            if done and then is not None:
                then()

        self._ask(
            _("Log time"),
            [
                Field("minutes", _("Minutes"), value=str(minutes or ""), required=True),
                Field(
                    "billable",
                    _("Billable"),
                    "select",
                    ((_("yes"), "yes"), (_("no"), "no")),
                    "yes",
                    True,
                ),
                Field("note", _("What was done")),
            ],
            log,
        )

    def action_resolve(self) -> None:
        def resolve(values: dict[str, str]) -> None:
            self._act(
                lambda v: self._service.resolve(
                    self.ticket_id,
                    values["code"],
                    values["text"],
                    actor=self._actor,
                    expected_version=v,
                ),
                _("Resolved."),
            )

        self._ask(
            _("Resolve"),
            [
                Field(
                    "code",
                    _("Resolution code"),
                    required=True,
                    suggestions=RESOLUTION_SUGGESTIONS,
                ),
                Field("text", _("What was done"), "area", required=True),
            ],
            resolve,
            submit=_("Resolve"),
        )

    def action_reopen(self) -> None:
        def reopen(values: dict[str, str]) -> None:
            self._act(
                lambda v: self._service.reopen(
                    self.ticket_id, values["reason"], actor=self._actor, expected_version=v
                ),
                _("Reopened."),
            )

        self._ask(_("Reopen"), [Field("reason", _("Why"), required=True)], reopen)

    def _other_ticket(self, value: str) -> int | None:
        match = re.fullmatch(r"(?:sd-?)?0*(\d{1,9})", value.strip(), re.IGNORECASE)
        if match is None:
            self.notify(_("A ticket number looks like SD-000123."), severity="error")
            return None
        return int(match.group(1))

    def action_link(self) -> None:
        def link(values: dict[str, str]) -> None:
            other = self._other_ticket(values["other"])
            if other is not None:
                kind = LinkKind(values["kind"])
                self._act(
                    lambda _v: self._service.link(self.ticket_id, other, kind, actor=self._actor),
                    _("Linked to {number}.").format(number=ticket_number(other)),
                )

        self._ask(
            _("Link to a ticket"),
            [
                Field("other", _("Ticket number"), required=True),
                Field(
                    "kind",
                    _("How they relate"),
                    "select",
                    tuple((_(LINK_LABELS[kind]), kind.value) for kind in LinkKind),
                    LinkKind.RELATED.value,
                    True,
                ),
            ],
            link,
        )

    def action_merge(self) -> None:
        def merge(values: dict[str, str]) -> None:
            other = self._other_ticket(values["other"])
            if other is None:
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._act(
                        lambda _v: self._service.merge(self.ticket_id, other, actor=self._actor),
                        _("Merged into {number}.").format(number=ticket_number(other)),
                    )

            question = _("Merge {this} into {other}? Its thread moves there and it closes.").format(
                this=ticket_number(self.ticket_id), other=ticket_number(other)
            )
            self.app.push_screen(ConfirmDialog(question, _("Merge")), confirmed)

        self._ask(
            _("Merge into a ticket"), [Field("other", _("Ticket number"), required=True)], merge
        )

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def action_checklist(self) -> None:
        items = self.view.checklist if self.view else ()
        options = tuple(
            (f"{n}. {'☑' if item.done else '☐'} {item.text}", str(n - 1))
            for n, item in enumerate(items, start=1)
        )

        def change(values: dict[str, str]) -> None:
            if values["add"]:
                self._act(
                    lambda v: self._service.add_check(
                        self.ticket_id, values["add"], actor=self._actor, expected_version=v
                    ),
                    _("Added to the checklist."),
                )
            elif values["toggle"]:
                index = int(values["toggle"])
                self._act(
                    lambda v: self._service.toggle_check(
                        self.ticket_id, index, actor=self._actor, expected_version=v
                    ),
                    _("Checklist updated."),
                )

        self._ask(
            _("Checklist"),
            [
                Field("toggle", _("Tick or untick"), "select", options),
                Field("add", _("Or add an item")),
            ],
            change,
        )

    def action_view_file(self) -> None:
        files = self.view.files if self.view else ()
        if not files:
            self.notify(_("This ticket has no attachments."))
            return
        options = tuple(
            (f"{file.filename} · {file.content_type} · {_size(file.size)}", str(index))
            for index, file in enumerate(files)
        )

        def show(values: dict[str, str]) -> None:
            file = files[int(values["file"])]
            text = _readable(file.content_type, file.size, self.app.store.blobs.get, file.sha256)  # type: ignore[attr-defined]
            if text is None:
                self.notify(
                    _("{name} is not text ({type}); save it with w and open it there.").format(
                        name=file.filename, type=file.content_type
                    ),
                    severity="warning",
                )
                return
            self.app.push_screen(TextViewer(file.filename, text))

        self._ask(
            _("View an attachment"),
            [Field("file", _("File"), "select", options, "0", True)],
            show,
            submit=_("View"),
        )

    def action_save_file(self) -> None:
        files = self.view.files if self.view else ()
        if not files:
            self.notify(_("This ticket has no attachments."))
            return
        downloads = Path.home() / "Downloads"
        folder = downloads if downloads.is_dir() else Path.cwd()
        options = tuple(
            (f"{file.filename} · {_size(file.size)}", str(index))
            for index, file in enumerate(files)
        )

        def save(values: dict[str, str]) -> None:
            file = files[int(values["file"])]
            target_dir = Path(values["folder"]).expanduser()
            try:
                data = self.app.store.blobs.get(file.sha256)  # type: ignore[attr-defined]
                target = _free_path(target_dir, safe_filename(file.filename))
                target.write_bytes(data)
            except OSError as error:
                self.notify(
                    _("Could not save the file: {error}").format(error=error), severity="error"
                )
                return
            self.notify(_("Saved {path}.").format(path=target))

        self._ask(
            _("Save an attachment"),
            [
                Field("file", _("File"), "select", options, "0", True),
                Field("folder", _("Folder"), value=str(folder), required=True),
            ],
            save,
            submit=_("Save"),
        )

    def action_card(self) -> None:
        from sdconsole.screens.card import CardScreen

        self.app.push_screen(CardScreen(self.ticket_id))

    def on_screen_resume(self) -> None:
        if self.view is not None:
            self._load()


LINK_LABELS = {
    LinkKind.RELATED: N_("related"),
    LinkKind.DUPLICATE: N_("duplicate of"),
    LinkKind.PARENT: N_("part of (parent)"),
    LinkKind.PROBLEM: N_("an incident of problem"),
}


VIEWABLE_BYTES = 512 * 1024
"""Larger attachments are saved, not shown."""


def _readable(
    content_type: str, size: int, read: Callable[[str], bytes], sha256: str
) -> str | None:
    """The attachment as safe text, or None when it is not text (or too big to show)."""
    textual_type = content_type.startswith("text/") or content_type in (
        "application/json",
        "application/xml",
        "message/rfc822",
    )
    if not textual_type or size > VIEWABLE_BYTES:
        return None
    data = read(sha256)
    for encoding in ("utf-8", "cp1251"):
        try:
            return strip_control(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return None


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size} {unit}"
        size //= 1024
    return f"{size} GB"


def _free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name (2)`, `name (3)`… when taken: saving never overwrites a file."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    for number in range(2, 1000):
        if not target.exists():
            return target
        target = folder / f"{stem} ({number}){suffix}"
    raise OSError(f"too many files named {name} in {folder}")


RESOLUTION_SUGGESTIONS = (
    "consulted",
    "fixed.settings",
    "fixed.remote",
    "fixed.onsite",
    "fn.replaced",
    "ofd.resent",
    "driver.reinstalled",
    "device.replaced",
    "vendor.fixed",
    "duplicate",
    "no-reply",
    "not-our-side",
)
"""Common resolution codes offered while typing; any code of the right shape is accepted."""
