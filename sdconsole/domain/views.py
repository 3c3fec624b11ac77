"""Provides read models the UI and CLI show: queue rows, a ticket with its thread and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sdconsole.domain.model import Actor, ChannelKind, MessageKind, Priority, Status, ticket_number
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.i18n import _


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open tickets a queue shows; all fields combine with AND."""

    assignee_id: int | None = None
    unassigned: bool = False
    line: int | None = None
    lines: tuple[int, ...] = ()
    """Any of these support lines (an engineer's own)."""
    client_id: int | None = None
    """The client, or any site or entity under it."""
    teams: tuple[str, ...] = ()
    """Any of these teams."""
    breached: bool = False
    """A clock past its deadline, or one that ran past it before it stopped."""
    waiting: bool = False
    """Waiting for the client or the vendor (paused clocks)."""
    priority: Priority | None = None
    category: str | None = None
    """A catalogue code: that category and everything under it."""
    channel: ChannelKind | None = None
    search: str = ""
    """Words that must all appear in the subject, a message, the client's name, ИНН or a
    device's serial or registration number."""

    @property
    def is_default(self) -> bool:
        return self == QueueFilter()

    def to_json(self) -> dict[str, Any]:
        """The set fields, for a saved view (`from_json` reads it back)."""
        default = QueueFilter()
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value != getattr(default, name):
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueueFilter:
        """A filter from `to_json`'s output; unknown keys (a newer version's) are ignored."""
        values: dict[str, Any] = {}
        for name in cls.__slots__:
            if name not in data or data[name] is None:
                continue
            value = data[name]
            if name == "teams":
                value = tuple(str(v) for v in value)
            elif name == "lines":
                value = tuple(int(v) for v in value)
            elif name == "priority":
                value = Priority(int(value))
            elif name == "channel":
                value = ChannelKind(value)
            values[name] = value
        return cls(**values)


class SlaState(StrEnum):
    """How a ticket's SLA stands, at a glance."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue."""

    id: int
    subject: str
    status: Status
    priority: Priority
    line: int
    client_name: str
    site_name: str
    assignee_login: str | None
    channel: ChannelKind
    received_at: datetime
    due_at: datetime
    version: int
    team: str | None = None
    breached: bool = False
    """A clock already recorded as breached (it may have stopped since)."""
    next_alert_at: datetime | None = None
    """When the next warning or breach of a running clock falls due."""
    warned: bool = False
    """The running clock's warning was recorded."""

    @property
    def number(self) -> str:
        return ticket_number(self.id)

    def sla_state(self, now: datetime) -> SlaState:
        """Paused, breached (past due now, or recorded), warning (past the threshold), or ok.

        The warning needs no periodic job: the next alert of a clock that is not yet due is
        its warning, so a `next_alert_at` already past means the threshold was crossed.
        """
        if self.due_at >= PAUSED_DUE:
            return SlaState.BREACHED if self.breached else SlaState.PAUSED
        if self.breached or now >= self.due_at:
            return SlaState.BREACHED
        if self.warned or (self.next_alert_at is not None and now >= self.next_alert_at):
            return SlaState.WARNING
        return SlaState.OK


@dataclass(frozen=True, slots=True)
class MessageView:
    """A thread entry as shown."""

    id: int
    kind: MessageKind
    channel: ChannelKind
    author: str
    body: str
    created_at: datetime
    is_auto: bool
    delivery_state: str | None
    attachments: tuple[str, ...] = ()
    delivery_error: str | None = None
    address: str | None = None
    """The sender (inbound) or recipient (outbound): an email address or a chat id."""
    notes: tuple[dict[str, Any], ...] = ()
    """Channel notices (``{"template", "params"}``), translated when shown."""


@dataclass(frozen=True, slots=True)
class EventView:
    """An audit entry as shown."""

    at: datetime
    actor: str
    kind: str
    before: Any
    after: Any
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """The SLA a ticket is measured against, and how its clocks stand."""

    plan: str
    """The plan's code and name, or "" when the ticket has no contract (default targets)."""
    calendar: str
    """The name of the calendar the ticket's priority is measured on ("" for round the clock,
    the default when there is no contract)."""
    registration_minutes: int
    response_minutes: int
    resolution_minutes: int
    paused_minutes: int
    registration_breached: bool
    response_breached: bool
    resolution_breached: bool


@dataclass(frozen=True, slots=True)
class DeviceView:
    """The ticket's cash register as the device panel shows it."""

    id: int
    model: str
    serial: str
    reg_number: str
    firmware: str
    fn_serial: str
    fn_valid_until: date | None
    fn_memory_used_pct: float | None
    ofd_name: str
    health_state: str | None
    health_at: datetime | None

    def fn_days_left(self, today: date) -> int | None:
        """Days until the fiscal drive's keys expire (negative: expired), None if unknown."""
        return None if self.fn_valid_until is None else (self.fn_valid_until - today).days


@dataclass(frozen=True, slots=True)
class FileView:
    """An attachment of the ticket's thread."""

    id: int
    message_id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of a ticket's checklist."""

    text: str
    done: bool = False
    by: str = ""
    """Who ticked it (empty while open)."""


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with everything the ticket screen and `ticket show` print."""

    id: int
    subject: str
    status: Status
    priority: Priority
    impact: int
    urgency: int
    line: int
    team: str | None
    channel: ChannelKind
    client_name: str
    site_name: str
    site_timezone: str | None
    contact_name: str
    device: str
    category: str
    assignee_login: str | None
    contract_number: str
    created_at: datetime
    updated_at: datetime
    received_at: datetime
    first_response_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    resolved_at: datetime | None
    resolution_code: str | None
    resolution_text: str | None
    merged_into_id: int | None
    version: int
    sla: SlaTerms | None = None
    messages: tuple[MessageView, ...] = ()
    events: tuple[EventView, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    device_info: DeviceView | None = None
    files: tuple[FileView, ...] = ()
    checklist: tuple[CheckItem, ...] = ()
    coverage: str | None = None
    """``covered``, ``no_contract`` or ``not_included`` (`domain.billing.Coverage`)."""

    @property
    def number(self) -> str:
        return ticket_number(self.id)

    @property
    def billable_one_off(self) -> bool:
        """Whether no contract covers the request: it is billed as a one-off work."""
        return self.coverage in ("no_contract", "not_included")

    contact_id: int | None = None
    """The ticket's contact (for binding their Telegram chat)."""


@dataclass(frozen=True, slots=True)
class QueueView:
    """A named queue: one of the built-in views, or a filter someone saved."""

    key: str
    """``all``, ``mine``, … or ``saved:<id>``."""
    title: str
    queue: QueueFilter
    saved_id: int | None = None
    shared: bool = False
    """A saved view the whole team sees (saved by no one in particular)."""


def builtin_views(actor: Actor) -> list[QueueView]:
    """The views every engineer has, in the order the views panel lists them."""
    views = [QueueView("all", _("All open"), QueueFilter())]
    if actor.engineer_id is not None:
        views.append(QueueView("mine", _("Mine"), QueueFilter(assignee_id=actor.engineer_id)))
    if actor.lines:
        views.append(QueueView("myline", _("My line"), QueueFilter(lines=actor.lines)))
    if actor.teams:
        views.append(QueueView("team", _("My team"), QueueFilter(teams=actor.teams)))
    views += [
        QueueView("unassigned", _("Unassigned"), QueueFilter(unassigned=True)),
        QueueView("breached", _("Breached"), QueueFilter(breached=True)),
        QueueView("waiting", _("Waiting"), QueueFilter(waiting=True)),
    ]
    views += [
        QueueView(f"line{line}", _("Line {line}").format(line=line), QueueFilter(line=line))
        for line in (1, 2, 3, 4)
    ]
    return views


class JumpKind(StrEnum):
    """What a command-palette match leads to."""

    TICKET = "ticket"
    CLIENT = "client"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Jump:
    """A place the command palette can take the engineer: a ticket, a client's queue, a device's
    latest ticket."""

    kind: JumpKind
    id: int
    """The ticket's, client's or device's id."""
    label: str
    detail: str = ""
    ticket_id: int | None = None
    """For a device: its most recent open ticket (None: it has none)."""


@dataclass(frozen=True, slots=True)
class EngineerLoad:
    """An engineer as the assign dialog shows them: who, where, and how busy."""

    login: str
    name: str
    open_tickets: int
    lines: tuple[int, ...]
    teams: tuple[str, ...]
    on_duty: bool


@dataclass(frozen=True, slots=True)
class ClientNode:
    """A node of the client tree as the contract screen lists it."""

    id: int
    parent_id: int | None
    kind: str
    """``chain``, ``entity`` or ``site``."""
    name: str
    inn: str = ""
    external_id: str = ""


@dataclass(frozen=True, slots=True)
class TargetView:
    """One priority's targets in a plan, with the calendar they run on."""

    priority: Priority
    registration_minutes: int
    response_minutes: int
    resolution_minutes: int
    calendar: str


@dataclass(frozen=True, slots=True)
class ContractView:
    """A contract as the contract screen shows it."""

    id: int
    number: str
    kind: str
    holder: str
    """The client the contract is with (it may be an ancestor of the node looked at)."""
    valid_from: date
    valid_to: date | None
    plan: str
    plan_warning_pct: int
    targets: tuple[TargetView, ...]
    categories: tuple[str, ...]
    hours_per_month: float | None
    minutes_this_month: int
    """Billable minutes logged this calendar month (UTC) on the contract's tickets."""
    successor: str | None
    """The number of the contract that takes over when this one ends, if any."""
    is_active: bool
    price: Decimal | None = None
    hourly_rate: Decimal | None = None
    request_price: Decimal | None = None
    rounding_minutes: int = 1
    minimum_minutes: int = 0
    carry_over_months: int = 0
    notify_days: int = 30
    price_list: tuple[tuple[str, str], ...] = ()

    def days_left(self, today: date) -> int | None:
        return None if self.valid_to is None else (self.valid_to - today).days

    def in_force(self, today: date) -> bool:
        return (
            self.is_active
            and self.valid_from <= today
            and (self.valid_to is None or today <= self.valid_to)
        )


@dataclass(frozen=True, slots=True)
class ContactView:
    name: str
    position: str
    email: str
    phone: str
    telegram: str
    id: int = 0


@dataclass(frozen=True, slots=True)
class ClientCard:
    """Everything the contract screen shows for one node of the client tree."""

    node: ClientNode
    path: tuple[str, ...]
    """Names from the chain down to this node."""
    address: str
    timezone: str
    manager: str
    contracts: tuple[ContractView, ...]
    contacts: tuple[ContactView, ...]
    devices: tuple[DeviceView, ...]
    open_tickets: int


class WorkerHealth(StrEnum):
    """Whether a background worker is doing its job, as the wall shows it."""

    ALIVE = "alive"
    FAILING = "failing"
    """It beats, but its last pass failed."""
    LATE = "late"
    DOWN = "down"


LATE_AFTER = 2.0
DOWN_AFTER = 5.0
"""A worker is late after this many of its intervals without a beat (plus a minute's grace),
and down after that many."""


@dataclass(frozen=True, slots=True)
class WorkerView:
    name: str
    host: str
    beat_at: datetime
    interval_seconds: float
    last_error: str | None
    handled: int

    def health(self, now: datetime) -> WorkerHealth:
        silent = (now - self.beat_at).total_seconds() - 60.0
        if silent > DOWN_AFTER * self.interval_seconds:
            return WorkerHealth.DOWN
        if silent > LATE_AFTER * self.interval_seconds:
            return WorkerHealth.LATE
        return WorkerHealth.FAILING if self.last_error else WorkerHealth.ALIVE


@dataclass(frozen=True, slots=True)
class WallSummary:
    """What the night shift sees on the wall."""

    unassigned: int
    breached: int
    due_soon: int
    """Running clocks that run out within the hour."""
    waiting: int
    monitoring: int
    """Open tickets raised by monitoring."""
    dead_letters: int
    nearest: tuple[QueueRow, ...]
    workers: tuple[WorkerView, ...]
    open_by_line: tuple[tuple[int, int], ...] = ()
    """(line, open tickets), lines 1–4."""
    breached_today: int = 0
    """Tickets with a clock that ran out since local midnight."""
    resolved_today: int = 0
    met_today: int = 0
    """Of the tickets resolved since local midnight, those with no clock breached."""

    @property
    def met_pct_today(self) -> float | None:
        return None if not self.resolved_today else 100.0 * self.met_today / self.resolved_today
