"""Provides read models the UI and CLI show: queue rows, a ticket with its thread and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sdconsole.domain.model import ChannelKind, MessageKind, Priority, Status, ticket_number


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open tickets a queue shows; all fields combine with AND."""

    assignee_id: int | None = None
    unassigned: bool = False
    line: int | None = None
    client_id: int | None = None


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

    @property
    def number(self) -> str:
        return ticket_number(self.id)


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

    @property
    def number(self) -> str:
        return ticket_number(self.id)
