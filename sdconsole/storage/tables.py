"""Provides the SQLModel tables of the store: the first-cut data model of DESIGN.md.

Every timestamp is `UTCDateTime` (aware, stored in UTC). Enumerations are stored as their string
or integer values. Constraint names follow one naming convention so that Alembic migrations can
refer to them on SQLite (batch mode) and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from sdconsole.domain.model import OPEN_STATUSES
from sdconsole.storage.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OPEN_TICKETS_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")"
"""The partial-index predicate; queue queries filter with exactly this list."""


REPORT_COLUMNS = (
    "received_at",
    "status",
    "channel",
    "client_id",
    "site_id",
    "contract_id",
    "priority",
    "line",
    "assignee_id",
    "category_id",
    "paused_at",
    "registered_at",
    "registration_breached",
    "registration_due_at",
    "response_minutes",
    "response_breached",
    "response_due_at",
    "resolution_minutes",
    "resolution_breached",
    "resolution_due_at",
)
"""The ticket columns the SLA report reads, in the order of its covering index."""


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: default.copy(), sa_type=JSON, nullable=False)


def _fk(
    target: str, *, nullable: bool = True, index: bool = True, ondelete: str | None = None
) -> Any:
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
        index=index,
    )


class Client(SQLModel, table=True):
    """A node of the client tree: chain → legal entity → site (shop)."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    parent_id: int | None = _fk("client.id")
    kind: str = Field(max_length=16)
    name: str = Field(max_length=300)
    inn: str | None = Field(default=None, max_length=12, index=True)
    kpp: str | None = Field(default=None, max_length=9)
    address: str | None = Field(default=None, max_length=500)
    timezone: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    manager_id: int | None = _fk("engineer.id")
    notes: str = Field(default="", sa_type=Text)
    is_active: bool = True
    created_at: datetime | None = _ts(nullable=False)
    updated_at: datetime | None = _ts(nullable=False)


class Contact(SQLModel, table=True):
    """A person at a client or site who writes or calls."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    client_id: int = _fk("client.id", nullable=False)
    name: str = Field(max_length=200)
    position: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)
    telegram_id: str | None = Field(default=None, max_length=32, index=True)
    is_active: bool = True
    created_at: datetime | None = _ts(nullable=False)


class BusinessCalendar(SQLModel, table=True):
    """Working time: weekly intervals, holidays, a time zone (or the site's); or round the clock."""

    __tablename__ = "business_calendar"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    """IANA zone; None means the ticket site's zone."""
    is_24x7: bool = False
    weekly: dict[str, list[list[str]]] = _json({})
    """ISO weekday ("1".."7") → list of ["09:00", "18:00"] intervals."""
    holidays: str | None = Field(default="RU", max_length=8)
    """Production calendar country code, or None for none."""
    overrides: dict[str, Any] = _json({})
    """Extra days off, working days and short days on top of the production calendar."""


class SlaPlan(SQLModel, table=True):
    """Targets per priority and the calendar they are measured on."""

    __tablename__ = "sla_plan"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    calendar_id: int = _fk("business_calendar.id", nullable=False)
    warning_pct: int = 80
    pause_on_vendor: bool = False


class SlaTarget(SQLModel, table=True):
    """One priority's targets within a plan, in minutes on the target's calendar."""

    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("plan_id", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = _fk("sla_plan.id", nullable=False, ondelete="CASCADE")
    priority: int
    registration_minutes: int = 15
    response_minutes: int
    resolution_minutes: int
    calendar_id: int | None = _fk("business_calendar.id", index=False)
    """None: the plan's calendar (P1 is often on a 24/7 one)."""


class Contract(SQLModel, table=True):
    """What a client bought: kind, validity, SLA plan, covered categories and hours."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    number: str = Field(max_length=64)
    client_id: int = _fk("client.id", nullable=False)
    kind: str = Field(max_length=16)
    valid_from: date
    valid_to: date | None = None
    sla_plan_id: int = _fk("sla_plan.id", nullable=False)
    categories: list[str] = _json([])
    """Category code prefixes covered; empty means every category."""
    monitoring: dict[str, Any] = _json({})
    """Health-check thresholds this contract sets (``Thresholds`` field → value), over the
    config's defaults."""
    hours_per_month: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    price: Decimal | None = Field(default=None, sa_type=Numeric(14, 2))
    currency: str = Field(default="RUB", max_length=3)
    carry_over_months: int = 0
    """How many months unused package hours stay available (0: they lapse at month end)."""
    rounding_minutes: int = 1
    """Each time entry is billed rounded up to a multiple of this (1: per minute)."""
    minimum_minutes: int = 0
    """Each time entry is billed at least this long."""
    hourly_rate: Decimal | None = Field(default=None, sa_type=Numeric(14, 2))
    """The price of an hour over the package, and of work the contract does not cover."""
    request_price: Decimal | None = Field(default=None, sa_type=Numeric(14, 2))
    """The price of one request on a per-request contract."""
    price_list: dict[str, Any] = _json({})
    """One-off works: category code prefix → price of a request (the longest prefix wins)."""
    notify_days: int = 30
    """Contacts are told this many days before the contract ends (and again when it ends)."""
    notes: str = Field(default="", sa_type=Text)
    is_active: bool = True


class ContractNotice(SQLModel, table=True):
    """An expiry notice sent to a contract's contacts: once per contract, kind and end date."""

    __tablename__ = "contract_notice"
    __table_args__ = (UniqueConstraint("contract_id", "kind", "valid_to"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = _fk("contract.id", nullable=False, index=False, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    """``ahead`` (N days before the end) or ``expired``."""
    valid_to: date
    sent_at: datetime | None = _ts(nullable=False)
    recipients: int


class Engineer(SQLModel, table=True):
    """A person who works tickets."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    role: str = Field(default="engineer", max_length=16)
    lines: list[int] = _json([])
    teams: list[str] = _json([])
    skills: list[str] = _json([])
    telegram_id: str | None = Field(default=None, max_length=32)
    timezone: str | None = Field(default=None, max_length=64)
    shift_calendar_id: int | None = _fk("business_calendar.id", index=False)
    """The engineer's working hours; None: always on shift while on duty."""
    on_duty: bool = True
    """Whether the engineer takes new tickets now (the console's availability switch)."""
    cost_per_hour: Decimal | None = Field(default=None, sa_type=Numeric(10, 2))
    """What an hour of this engineer costs the company (the billing report's cost and margin)."""
    is_active: bool = True


class Device(SQLModel, table=True):
    """Equipment at a site; cash registers carry their fiscal-drive data."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    site_id: int = _fk("client.id", nullable=False)
    kind: str = Field(default="kkt", max_length=16)
    model: str | None = Field(default=None, max_length=100)
    serial: str | None = Field(default=None, max_length=20, index=True)
    """ЗН ККТ: factory serial, up to 20 characters."""
    reg_number: str | None = Field(default=None, max_length=16, index=True)
    """РН ККТ: 16-digit registration number."""
    firmware: str | None = Field(default=None, max_length=64)
    ffd: str | None = Field(default=None, max_length=8)
    fn_serial: str | None = Field(default=None, max_length=16, index=True)
    fn_model: str | None = Field(default=None, max_length=100)
    fn_valid_until: date | None = Field(default=None, index=True)
    fn_registrations_left: int | None = None
    fn_memory_used_pct: float | None = None
    ofd_name: str | None = Field(default=None, max_length=100)
    health_state: str | None = Field(default=None, max_length=16)
    health_at: datetime | None = _ts()
    ofd_contract_end: date | None = None
    """When the register's OFD contract ends (from the reports): the registry scan warns."""
    notes: str = Field(default="", sa_type=Text)
    is_active: bool = True


class Category(SQLModel, table=True):
    """A node of the incident catalogue."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=128, unique=True)
    parent_id: int | None = _fk("category.id")
    name_ru: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    default_impact: int = 2
    default_urgency: int = 2
    line: int = 1
    team: str | None = Field(default=None, max_length=64)
    card_id: str | None = Field(default=None, max_length=128)
    keywords: list[str] = _json([])
    is_active: bool = True


class Ticket(SQLModel, table=True):
    """A support request and everything needed to queue, route and measure it.

    `due_at` is the nearest deadline of a running SLA clock; the queue sorts by it through
    partial indexes on open tickets, so the first page never scans closed history.
    """

    __table_args__ = (
        Index(
            "ix_ticket_queue",
            "due_at",
            "id",
            sqlite_where=text(OPEN_TICKETS_SQL),
            postgresql_where=text(OPEN_TICKETS_SQL),
        ),
        Index(
            "ix_ticket_queue_assignee",
            "assignee_id",
            "due_at",
            "id",
            sqlite_where=text(OPEN_TICKETS_SQL),
            postgresql_where=text(OPEN_TICKETS_SQL),
        ),
        Index(
            "ix_ticket_queue_line",
            "line",
            "due_at",
            "id",
            sqlite_where=text(OPEN_TICKETS_SQL),
            postgresql_where=text(OPEN_TICKETS_SQL),
        ),
        Index(
            "ix_ticket_queue_client",
            "client_id",
            "due_at",
            "id",
            sqlite_where=text(OPEN_TICKETS_SQL),
            postgresql_where=text(OPEN_TICKETS_SQL),
        ),
        Index(
            "ix_ticket_queue_unassigned",
            "due_at",
            "id",
            sqlite_where=text(f"{OPEN_TICKETS_SQL} AND assignee_id IS NULL"),
            postgresql_where=text(f"{OPEN_TICKETS_SQL} AND assignee_id IS NULL"),
        ),
        Index("ix_ticket_created", "created_at"),
        # The SLA report reads this index alone (migration 0014): the period, then every
        # column of `storage.reports`' conditions, groupings and clock states.
        Index("ix_ticket_report", *REPORT_COLUMNS),
        Index("ix_ticket_client_created", "client_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    subject: str = Field(max_length=500)
    client_id: int | None = _fk("client.id", index=False)
    """The client the contract is with (chain or legal entity)."""
    site_id: int | None = _fk("client.id")
    contact_id: int | None = _fk("contact.id")
    device_id: int | None = _fk("device.id")
    contract_id: int | None = _fk("contract.id")
    channel: str = Field(max_length=16)
    category_id: int | None = _fk("category.id")
    impact: int = 2
    urgency: int = 2
    priority: int = 3
    line: int = 1
    team: str | None = Field(default=None, max_length=64)
    assignee_id: int | None = _fk("engineer.id", index=False)
    status: str = Field(default="new", max_length=16)
    received_at: datetime | None = _ts(nullable=False)
    created_at: datetime | None = _ts(nullable=False)
    updated_at: datetime | None = _ts(nullable=False)
    first_response_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    registration_due_at: datetime | None = _ts()
    response_due_at: datetime | None = _ts()
    resolution_due_at: datetime | None = _ts()
    due_at: datetime | None = _ts(nullable=False)
    paused_at: datetime | None = _ts()
    paused_minutes: int = 0
    """Working minutes the resolution clock stood paused."""
    registered_at: datetime | None = _ts()
    """When the request was registered and classified: the registration clock's stop."""
    registration_breached: bool = False
    response_breached: bool = False
    resolution_breached: bool = False
    response_minutes: int | None = None
    """Working minutes from receipt to the first response, pauses excluded (once responded)."""
    resolution_minutes: int | None = None
    """Working minutes from receipt to resolution, pauses excluded (once resolved)."""
    sla_alerts: int = 0
    """Warning and breach events already recorded, as `domain.sla.Alert` bits: once per clock."""
    sla_next_alert_at: datetime | None = _ts(index=True)
    """When the next warning or breach falls due: what the periodic SLA job looks for."""
    resolution_code: str | None = Field(default=None, max_length=64)
    resolution_text: str | None = Field(default=None, sa_type=Text)
    merged_into_id: int | None = _fk("ticket.id", index=False)
    source_key: str | None = Field(default=None, max_length=200, index=True)
    """Channel-level thread key (Telegram chat, health-check key) for continuing a ticket."""
    coverage: str | None = Field(default=None, max_length=16)
    """Whether the contract covers the request (`domain.billing.Coverage`); None: not judged."""
    tags: list[str] = _json([])
    checklist: list[dict[str, Any]] = _json([])
    version: int = 1
    """Optimistic lock: every ORM update checks and bumps it (a stale edit raises)."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


class Inbound(SQLModel, table=True):
    """Every payload a channel delivered, stored raw before it is parsed: the idempotency ledger."""

    __table_args__ = (UniqueConstraint("channel", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=500)
    received_at: datetime | None = _ts(nullable=False)
    raw: bytes = Field(sa_type=LargeBinary)
    ticket_id: int | None = _fk("ticket.id")
    message_id: int | None = _fk("message.id", index=False)
    source_ref: str | None = Field(default=None, max_length=300, unique=True)
    """Where it was fetched (``imap:box:uidvalidity:uid``): taken once, whatever its key."""


class Message(SQLModel, table=True):
    """An entry of a ticket's thread; outbound ones double as the outbox."""

    __table_args__ = (
        Index("ix_message_ticket", "ticket_id", "id"),
        Index(
            "ix_message_outbox",
            "delivery_state",
            "id",
            sqlite_where=text("delivery_state IN ('queued', 'sending')"),
            postgresql_where=text("delivery_state IN ('queued', 'sending')"),
        ),
        Index("ix_message_address", "address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("ticket.id", nullable=False, index=False)
    kind: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    author_engineer_id: int | None = _fk("engineer.id", index=False)
    author_contact_id: int | None = _fk("contact.id", index=False)
    author_name: str = Field(default="", max_length=200)
    body: str = Field(default="", sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    created_at: datetime | None = _ts(nullable=False)
    channel_message_id: str | None = Field(default=None, max_length=500, index=True)
    is_auto: bool = False
    """An automatic acknowledgement or notice: never a first response."""
    address: str | None = Field(default=None, max_length=254)
    """The other end: an inbound message's sender, an outbound one's recipient (email address
    or Telegram chat id)."""
    delivery_state: str | None = Field(default=None, max_length=16)
    sent_at: datetime | None = _ts()
    delivery_error: str | None = Field(default=None, sa_type=Text)
    channel_data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """What the channel needs besides the text (Telegram: the rating buttons of a resolution
    notice, ``{"rate": ticket_id}``)."""
    notes: list[dict[str, Any]] = _json([])
    """Remarks for the engineer (an attachment over the size limit, a lossy decode, a failed
    delivery): ``{"template", "params"}``, translated when shown."""
    attempts: int = 0
    """Delivery attempts made so far."""
    next_attempt_at: datetime | None = _ts()
    """When the outbox may try again (queued) or when a sender's claim lapses (sending)."""


class Attachment(SQLModel, table=True):
    """A file on a message; the bytes live content-addressed (sha256) in the blob folder."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = _fk("message.id", nullable=False)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64, index=True)


class Event(SQLModel, table=True):
    """One change of one ticket: who, when, what, before and after. The audit trail."""

    __table_args__ = (Index("ix_event_ticket", "ticket_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("ticket.id", nullable=False, index=False)
    at: datetime | None = _ts(nullable=False, index=True)
    actor_id: int | None = _fk("engineer.id", index=False)
    """The engineer; None for the system, a client or a worker."""
    kind: str = Field(max_length=32)
    before: Any = Field(default=None, sa_type=JSON, nullable=True)
    after: Any = Field(default=None, sa_type=JSON, nullable=True)
    details: dict[str, Any] = _json({})


class CardRun(SQLModel, table=True):
    """A run of a diagnostic card on a ticket: the card version and every answer given.

    ``answers`` holds ``{"step", "answer", "actor", "at", "comment"}`` records in order; each is
    also an internal note on the ticket. Replaying them on the card gives the current step.
    """

    __tablename__ = "card_run"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("ticket.id", nullable=False)
    card_id: str = Field(max_length=128)
    card_version: int
    started_by_id: int | None = _fk("engineer.id", index=False)
    started_at: datetime | None = _ts(nullable=False)
    updated_at: datetime | None = _ts(nullable=False)
    current_step: str = Field(max_length=128)
    outcome: str | None = Field(default=None, max_length=16)
    finished_at: datetime | None = _ts()
    answers: list[dict[str, Any]] = _json([])


class TimeEntry(SQLModel, table=True):
    """Minutes an engineer spent on a ticket."""

    __tablename__ = "time_entry"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("ticket.id", nullable=False)
    engineer_id: int = _fk("engineer.id", nullable=False)
    minutes: int
    billable: bool = True
    note: str = Field(default="", sa_type=Text)
    spent_at: datetime | None = _ts(nullable=False, index=True)


class Rating(SQLModel, table=True):
    """The client's score (1–5) of a resolved ticket."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(sa_column_args=[ForeignKey("ticket.id")], unique=True)
    score: int
    comment: str = Field(default="", sa_type=Text)
    channel: str | None = Field(default=None, max_length=16)
    created_at: datetime | None = _ts(nullable=False, index=True)
    follow_up: str | None = Field(default=None, max_length=16)
    """``open`` for a low rating the team lead has to act on, ``done`` once they did."""
    follow_up_note: str | None = Field(default=None, sa_type=Text)
    follow_up_at: datetime | None = _ts()
    follow_up_by_id: int | None = _fk("engineer.id", index=False)


class TicketLink(SQLModel, table=True):
    """A relation between two tickets (stored once per pair and kind)."""

    __tablename__ = "ticket_link"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _fk("ticket.id", nullable=False)
    other_id: int = _fk("ticket.id", nullable=False)
    kind: str = Field(max_length=16)
    created_at: datetime | None = _ts(nullable=False)


class DeadLetter(SQLModel, table=True):
    """A payload that could not be turned into a ticket: kept with the reason, never dropped."""

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("channel", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    key: str = Field(max_length=500)
    raw: bytes = Field(sa_type=LargeBinary)
    error: str = Field(sa_type=Text)
    first_seen: datetime | None = _ts(nullable=False)
    last_seen: datetime | None = _ts(nullable=False)
    retries: int = Field(default=0, sa_type=Integer)
    resolved_at: datetime | None = _ts()


ALL_TABLES = [
    Client,
    Contact,
    BusinessCalendar,
    SlaPlan,
    SlaTarget,
    Contract,
    Engineer,
    Device,
    Category,
    Ticket,
    Inbound,
    Message,
    Attachment,
    Event,
    TimeEntry,
    Rating,
    TicketLink,
    DeadLetter,
]


class SavedView(SQLModel, table=True):
    """A queue filter an engineer saved under a name (engineer None: shared with the team)."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("engineer_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    engineer_id: int | None = _fk("engineer.id", index=False)
    name: str = Field(max_length=100)
    filter: dict[str, Any] = _json({})
    position: int = 0
    created_at: datetime | None = _ts(nullable=False)


class MailboxState(SQLModel, table=True):
    """How far IMAP intake has read a mailbox: its UIDVALIDITY and the last UID taken."""

    __tablename__ = "mailbox_state"

    name: str = Field(primary_key=True, max_length=64)
    uidvalidity: int = Field(default=0, sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime | None = _ts(nullable=False)


class DeviceCheck(SQLModel, table=True):
    """The last result of one health check on one device, and the ticket it keeps open."""

    __tablename__ = "device_check"

    device_id: int = Field(sa_column_args=[ForeignKey("device.id")], primary_key=True)
    check: str = Field(primary_key=True, max_length=32)
    level: int = 0
    """0 ok, 1 warning, 2 critical."""
    value: str = Field(default="", max_length=64)
    ok_streak: int = 0
    """Consecutive ok reports since the last problem: two resolve the ticket."""
    ticket_id: int | None = _fk("ticket.id", index=False)
    observed_at: datetime | None = _ts(nullable=False)


class TelegramChat(SQLModel, table=True):
    """A Telegram private chat with the support bot: whose it is and how it is going."""

    __tablename__ = "telegram_chat"

    chat_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(max_length=32)
    contact_id: int | None = _fk("contact.id")
    """The contact the chat is bound to (by a shared phone number or a one-time code)."""
    name: str = Field(default="", max_length=200)
    username: str | None = Field(default=None, max_length=64)
    blocked: bool = False
    """Messages from a blocked chat are ignored (kept in the ledger only)."""
    thread: int = 0
    """Bumped by /new: the chat's next message opens a ticket of its own."""
    window_start: datetime | None = _ts()
    window_count: int = 0
    """Messages in the current flood window (a minute)."""
    rating_ticket_id: int | None = _fk("ticket.id", index=False)
    rating_prompt_id: str | None = Field(default=None, max_length=32)
    """The bot's "add a comment?" message after a rating: a reply to it is the comment."""
    created_at: datetime | None = _ts(nullable=False)
    updated_at: datetime | None = _ts(nullable=False)


class TelegramCode(SQLModel, table=True):
    """A one-time code an engineer gives a contact to bind their Telegram chat."""

    __tablename__ = "telegram_code"

    code: str = Field(primary_key=True, max_length=16)
    contact_id: int = _fk("contact.id", nullable=False)
    issued_by: int | None = _fk("engineer.id", index=False)
    created_at: datetime | None = _ts(nullable=False)
    expires_at: datetime | None = _ts(nullable=False)
    used_at: datetime | None = _ts()


class WorkerBeat(SQLModel, table=True):
    """The last sign of life of a background worker or job (the wall shows who is alive)."""

    __tablename__ = "worker_beat"

    name: str = Field(primary_key=True, max_length=64)
    host: str = Field(default="", max_length=200)
    pid: int = 0
    interval_seconds: float = 60.0
    """How often the worker beats: the wall judges lateness by it."""
    started_at: datetime | None = _ts(nullable=False)
    beat_at: datetime | None = _ts(nullable=False)
    last_ok_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_type=Text)
    handled: int = Field(default=0, sa_type=BigInteger)
