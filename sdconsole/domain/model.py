"""Provides the domain vocabulary: ticket statuses, priorities, lines, channels, roles and kinds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from sdconsole.i18n import N_, _


class Status(StrEnum):
    """Where a ticket is in its life (see `domain.workflow` for the allowed moves)."""

    NEW = "new"
    OPEN = "open"
    WAITING_CLIENT = "waiting_client"
    WAITING_VENDOR = "waiting_vendor"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _(_STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        """Whether the ticket still needs work (it belongs in the queue)."""
        return self in OPEN_STATUSES


_STATUS_LABELS = {
    Status.NEW: N_("new"),
    Status.OPEN: N_("open"),
    Status.WAITING_CLIENT: N_("waiting for client"),
    Status.WAITING_VENDOR: N_("waiting for vendor"),
    Status.RESOLVED: N_("resolved"),
    Status.CLOSED: N_("closed"),
    Status.CANCELLED: N_("cancelled"),
}

OPEN_STATUSES: tuple[Status, ...] = (
    Status.NEW,
    Status.OPEN,
    Status.WAITING_CLIENT,
    Status.WAITING_VENDOR,
)
"""Statuses of tickets that are in the queue; the queue indexes are partial on exactly these."""


class Priority(IntEnum):
    """P1 (store cannot sell) … P4 (planned work); lower is more urgent."""

    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4

    @property
    def label(self) -> str:
        return f"P{self.value}"

    @property
    def title(self) -> str:
        return _(_PRIORITY_TITLES[self])


_PRIORITY_TITLES = {
    Priority.P1: N_("critical"),
    Priority.P2: N_("high"),
    Priority.P3: N_("normal"),
    Priority.P4: N_("low"),
}


class SupportLine(IntEnum):
    """Support lines: 1 consultants, 2 product engineers, 3 experts, 4 vendor."""

    L1 = 1
    L2 = 2
    L3 = 3
    L4 = 4

    @property
    def title(self) -> str:
        return _(_LINE_TITLES[self])


_LINE_TITLES = {
    SupportLine.L1: N_("line 1: consultants"),
    SupportLine.L2: N_("line 2: product engineers"),
    SupportLine.L3: N_("line 3: experts"),
    SupportLine.L4: N_("line 4: vendor"),
}


class ChannelKind(StrEnum):
    """Where a request came from, and where the answer goes."""

    EMAIL = "email"
    TELEGRAM = "telegram"
    PHONE = "phone"
    MONITORING = "monitoring"
    IMPORT = "import"
    PORTAL = "portal"
    INTERNAL = "internal"
    """Opened by the desk itself (a problem ticket of quality control): no client SLA."""

    @property
    def label(self) -> str:
        return _(_CHANNEL_LABELS[self])

    @property
    def is_communication(self) -> bool:
        """Whether a reply on this channel reaches the client (and so can be a first response)."""
        return self in (
            ChannelKind.EMAIL,
            ChannelKind.TELEGRAM,
            ChannelKind.PHONE,
            ChannelKind.PORTAL,
        )


_CHANNEL_LABELS = {
    ChannelKind.EMAIL: N_("email"),
    ChannelKind.TELEGRAM: N_("Telegram"),
    ChannelKind.PHONE: N_("phone"),
    ChannelKind.MONITORING: N_("monitoring"),
    ChannelKind.IMPORT: N_("import"),
    ChannelKind.PORTAL: N_("portal"),
    ChannelKind.INTERNAL: N_("internal"),
}


class Role(StrEnum):
    """What an engineer's account may do."""

    ENGINEER = "engineer"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def can_manage(self) -> bool:
        """Leads and administrators may reassign other engineers' tickets and reopen closed ones."""
        return self in (Role.LEAD, Role.ADMIN)


class MessageKind(StrEnum):
    """A ticket thread entry."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"
    SYSTEM = "system"


class DeliveryState(StrEnum):
    """Outbox state of an outbound message."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ClientKind(StrEnum):
    """Levels of the client tree: chain → legal entity → site (shop)."""

    CHAIN = "chain"
    LEGAL_ENTITY = "legal_entity"
    SITE = "site"


class ContractKind(StrEnum):
    """Commercial shape of a support contract."""

    SUBSCRIPTION = "subscription"
    HOURS_PACKAGE = "hours_package"
    PER_REQUEST = "per_request"
    ONE_OFF = "one_off"


class DeviceKind(StrEnum):
    """Equipment we support at a site."""

    KKT = "kkt"
    POS = "pos"
    UTM = "utm"
    SERVER = "server"
    SCALE = "scale"
    SCANNER = "scanner"
    TERMINAL = "terminal"


class LinkKind(StrEnum):
    """How two tickets relate."""

    RELATED = "related"
    DUPLICATE = "duplicate"
    PARENT = "parent"
    PROBLEM = "problem"
    """The ticket is an incident of the other, a problem ticket (quality control)."""


class EventKind(StrEnum):
    """What an audit event records; the event trail is the source of truth for SLA history."""

    CREATED = "created"
    MESSAGE = "message"
    STATUS = "status"
    ASSIGNEE = "assignee"
    PRIORITY = "priority"
    CATEGORY = "category"
    LINE = "line"
    ESCALATED = "escalated"
    TIME_LOGGED = "time_logged"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    LINKED = "linked"
    MERGED = "merged"
    FIRST_RESPONSE = "first_response"
    SLA = "sla"
    FIELD = "field"
    CARD = "card"
    ROUTED = "routed"
    DELIVERY_FAILED = "delivery_failed"


TICKET_NUMBER_RE = re.compile(r"\bSD-(\d{1,9})\b", re.IGNORECASE)


def ticket_number(ticket_id: int) -> str:
    """Format a ticket id as its public number, e.g. 123 → ``SD-000123``."""
    return f"SD-{ticket_id:06d}"


def parse_ticket_number(text: str) -> int | None:
    """Read ``SD-000123``, ``sd-123`` or ``123`` as a ticket id; `None` when it is neither."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    match = TICKET_NUMBER_RE.fullmatch(text)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a use case: an engineer with a role, or the system itself."""

    engineer_id: int | None
    login: str
    role: Role = Role.ENGINEER
    lines: tuple[int, ...] = ()
    teams: tuple[str, ...] = ()

    @property
    def is_system(self) -> bool:
        return self.engineer_id is None


SYSTEM = Actor(engineer_id=None, login="system", role=Role.ADMIN)
"""The actor of intake, workers and migrations."""
