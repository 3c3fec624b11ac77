"""Provides the store's queries: the queue, ticket views, look-ups; every function takes `session`.

The queue query reads its first page from the partial indexes on open tickets (``ix_ticket_queue*``
in `tables`), ordered by ``(due_at, id)`` and continued by keyset, so its cost does not grow with
closed history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, event, func, or_, select, text, tuple_
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased
from sqlmodel import Session

from sdconsole.domain.model import (
    OPEN_STATUSES,
    ChannelKind,
    EventKind,
    MessageKind,
    Priority,
    Status,
    ticket_number,
)
from sdconsole.domain.sla import (
    DEFAULT_TARGETS,
    PAUSED_DUE,
    AlertLevel,
    SlaClock,
    Targets,
    alert_bit,
)
from sdconsole.domain.views import (
    CheckItem,
    ClientCard,
    ClientNode,
    ContactView,
    ContractView,
    DeviceView,
    EngineerLoad,
    EventView,
    FileView,
    Jump,
    JumpKind,
    MessageView,
    QueueFilter,
    QueueRow,
    SlaTerms,
    TargetView,
    TicketView,
    WallSummary,
    WorkerView,
)
from sdconsole.storage import search
from sdconsole.storage.tables import (
    OPEN_TICKETS_SQL,
    Attachment,
    BusinessCalendar,
    Category,
    Client,
    Contact,
    Contract,
    DeadLetter,
    Device,
    Engineer,
    Event,
    Message,
    SlaPlan,
    SlaTarget,
    Ticket,
    TimeEntry,
    WorkerBeat,
)

_OPEN = [s.value for s in OPEN_STATUSES]


_WAITING = [s.value for s in (Status.WAITING_CLIENT, Status.WAITING_VENDOR)]


@dataclass(frozen=True, slots=True)
class QueueScope:
    """What a `QueueFilter` needs from the store before it becomes SQL (see `queue_scope`)."""

    now: datetime | None = None
    """The breached filter's "past due" instant; None: only recorded breaches."""
    client_ids: tuple[int, ...] | None = None
    """The filter's client and the clients under it (sites apart)."""
    site_ids: tuple[int, ...] = ()
    """Sites under the filter's client (or the client itself, if it is a site)."""
    dialect: str = "sqlite"
    """The store's SQL dialect: full-text search differs."""


def queue_scope(*, session: Session, queue: QueueFilter, now: datetime | None) -> QueueScope:
    """Resolve the filter's client to its subtree: a chain's queue holds its entities' and
    shops' tickets too."""
    dialect = session.get_bind().dialect.name
    if queue.client_id is None:
        return QueueScope(now=now, dialect=dialect)
    kinds: dict[int, str] = {}
    level = [queue.client_id]
    while level and len(kinds) < 100_000:
        rows = session.execute(select(Client.id, Client.kind).where(Client.id.in_(level))).all()
        kinds.update({row[0]: row[1] for row in rows})
        level = list(
            session.execute(select(Client.id).where(Client.parent_id.in_(level))).scalars()
        )
    sites = tuple(sorted(i for i, kind in kinds.items() if kind == "site"))
    others = tuple(sorted(i for i, kind in kinds.items() if kind != "site"))
    return QueueScope(now=now, client_ids=others or None, site_ids=sites, dialect=dialect)


def _queue_conditions(queue: QueueFilter, scope: QueueScope | None = None) -> list[Any]:
    t = Ticket.__table__.c
    scope = scope or QueueScope()
    # The literal predicate of the partial indexes: SQLite uses a partial index only when it can
    # prove the query implies the index's WHERE, which a bound `status IN (?, ?, ...)` hides.
    conditions: list[Any] = [text(OPEN_TICKETS_SQL)]
    if queue.assignee_id is not None:
        conditions.append(t.assignee_id == queue.assignee_id)
    if queue.unassigned:
        conditions.append(t.assignee_id.is_(None))
    if queue.line is not None:
        conditions.append(t.line == queue.line)
    if queue.lines:
        conditions.append(t.line.in_(queue.lines))
    if queue.client_id is not None:
        if scope.client_ids is None and not scope.site_ids:
            conditions.append(t.client_id == queue.client_id)
        elif scope.client_ids is None:
            conditions.append(t.site_id.in_(scope.site_ids))
        elif len(scope.client_ids) == 1 and not scope.site_ids:
            conditions.append(t.client_id == scope.client_ids[0])
        else:
            conditions.append(or_(t.client_id.in_(scope.client_ids), t.site_id.in_(scope.site_ids)))
    if queue.teams:
        conditions.append(t.team.in_(queue.teams))
    if queue.waiting:
        conditions.append(t.status.in_(_WAITING))
    if queue.breached:
        breached = [t.registration_breached, t.response_breached, t.resolution_breached]
        if scope.now is not None:
            breached.append(t.due_at <= scope.now)
        conditions.append(or_(*breached))
    if queue.priority is not None:
        conditions.append(t.priority == int(queue.priority))
    if queue.channel is not None:
        conditions.append(t.channel == queue.channel.value)
    if queue.category:
        code = Category.__table__.c.code
        codes = select(Category.__table__.c.id).where(
            or_(code == queue.category, code.startswith(queue.category + ".", autoescape=True))
        )
        conditions.append(t.category_id.in_(codes))
    if search.query_terms(queue.search):
        conditions.append(search.condition(scope.dialect, queue.search, t.id))
    return conditions


def queue_page_statement(
    *,
    queue: QueueFilter,
    limit: int,
    after: tuple[datetime, int] | None = None,
    scope: QueueScope | None = None,
) -> Select[Any]:
    """The queue page query: pick the page's ids from an index, then join the names."""
    site = aliased(Client)
    client = aliased(Client)
    t = Ticket.__table__.c
    conditions = _queue_conditions(queue, scope)
    if after is not None:
        conditions.append(tuple_(t.due_at, t.id) > tuple_(after[0], after[1]))
    page = select(t.id).where(and_(*conditions)).order_by(t.due_at, t.id).limit(limit).subquery()
    return (
        select(
            t.id,
            t.subject,
            t.status,
            t.priority,
            t.line,
            t.channel,
            t.received_at,
            t.due_at,
            t.version,
            client.name,
            site.name,
            Engineer.login,
            t.team,
            t.registration_breached,
            t.response_breached,
            t.resolution_breached,
            t.sla_next_alert_at,
            t.sla_alerts,
            t.registration_due_at,
            t.response_due_at,
            t.resolution_due_at,
        )
        .join(page, page.c.id == t.id)
        .outerjoin(client, client.id == t.client_id)
        .outerjoin(site, site.id == t.site_id)
        .outerjoin(Engineer, Engineer.id == t.assignee_id)
        .order_by(t.due_at, t.id)
    )


def _warned(due_at: datetime, alerts: int, dues: tuple[datetime | None, ...]) -> bool:
    """Whether the warning of the clock that sets `due_at` was recorded."""
    for clock, due in zip(SlaClock, dues, strict=True):
        if due is not None and _aware(due) == due_at:
            return bool(alerts & alert_bit(clock, AlertLevel.WARNING))
    return False


def queue_page(
    *,
    session: Session,
    queue: QueueFilter,
    limit: int = 50,
    after: tuple[datetime, int] | None = None,
    now: datetime | None = None,
) -> list[QueueRow]:
    """Open tickets, most urgent (nearest due) first.

    Args:
        queue: which tickets.
        limit: page size.
        after: the ``(due_at, id)`` of the last row of the previous page.
        now: the instant the breached filter compares deadlines with.
    """
    scope = queue_scope(session=session, queue=queue, now=now)
    stmt = queue_page_statement(queue=queue, limit=limit, after=after, scope=scope)
    rows = []
    for row in session.execute(stmt):
        due_at = _aware(row[7])
        rows.append(
            QueueRow(
                id=row[0],
                subject=row[1],
                status=Status(row[2]),
                priority=Priority(row[3]),
                line=row[4],
                channel=ChannelKind(row[5]),
                received_at=_aware(row[6]),
                due_at=due_at,
                version=row[8],
                client_name=row[9] or "",
                site_name=row[10] or "",
                assignee_login=row[11],
                team=row[12],
                breached=bool(row[13] or row[14] or row[15]),
                next_alert_at=_aware(row[16]) if row[16] is not None else None,
                warned=_warned(due_at, row[17] or 0, (row[18], row[19], row[20])),
            )
        )
    return rows


def count_queue(*, session: Session, queue: QueueFilter, now: datetime | None = None) -> int:
    """How many open tickets a queue holds."""
    scope = queue_scope(session=session, queue=queue, now=now)
    stmt = select(func.count()).select_from(Ticket).where(and_(*_queue_conditions(queue, scope)))
    return int(session.execute(stmt).scalar_one())


def list_tickets(
    *,
    session: Session,
    statuses: Sequence[Status] = (),
    client_id: int | None = None,
    assignee_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Tickets newest first, as plain records (the CLI's ``ticket list``)."""
    site = aliased(Client)
    client = aliased(Client)
    t = Ticket.__table__.c
    stmt = (
        select(
            t.id,
            t.status,
            t.priority,
            client.name,
            site.name,
            t.subject,
            t.line,
            Engineer.login,
            t.channel,
            t.created_at,
            t.due_at,
        )
        .outerjoin(client, client.id == t.client_id)
        .outerjoin(site, site.id == t.site_id)
        .outerjoin(Engineer, Engineer.id == t.assignee_id)
        .order_by(t.created_at.desc(), t.id.desc())
        .limit(limit)
    )
    if statuses:
        stmt = stmt.where(t.status.in_([s.value for s in statuses]))
    if client_id is not None:
        stmt = stmt.where(or_(t.client_id == client_id, t.site_id == client_id))
    if assignee_id is not None:
        stmt = stmt.where(t.assignee_id == assignee_id)
    keys = (
        "id",
        "status",
        "priority",
        "client",
        "site",
        "subject",
        "line",
        "assignee",
        "channel",
        "created_at",
        "due_at",
    )
    return [dict(zip(keys, row, strict=True)) for row in session.execute(stmt)]


def _sla_terms(session: Session, ticket: Ticket) -> SlaTerms:
    """The plan, calendar and targets of the ticket's priority, as `services.sla` applies them."""
    priority = Priority(ticket.priority)
    targets = DEFAULT_TARGETS[priority]
    plan_label, calendar_label = "", ""
    row = None
    if ticket.contract_id is not None:
        row = session.execute(
            select(SlaPlan, SlaTarget)
            .join(Contract, Contract.sla_plan_id == SlaPlan.id)
            .outerjoin(
                SlaTarget,
                (SlaTarget.plan_id == SlaPlan.id) & (SlaTarget.priority == int(priority)),
            )
            .where(Contract.id == ticket.contract_id)
        ).first()
    if row is not None:
        plan, target = row
        plan_label = f"{plan.code} {plan.name}"
        calendar_id = plan.calendar_id
        if target is not None:
            targets = Targets(
                target.registration_minutes, target.response_minutes, target.resolution_minutes
            )
            calendar_id = target.calendar_id or plan.calendar_id
        calendar = session.get(BusinessCalendar, calendar_id)
        calendar_label = calendar.name if calendar is not None else ""
    return SlaTerms(
        plan=plan_label,
        calendar=calendar_label,
        registration_minutes=targets.registration_minutes,
        response_minutes=targets.response_minutes,
        resolution_minutes=targets.resolution_minutes,
        paused_minutes=ticket.paused_minutes,
        registration_breached=ticket.registration_breached,
        response_breached=ticket.response_breached,
        resolution_breached=ticket.resolution_breached,
    )


def ticket_view(*, session: Session, ticket_id: int) -> TicketView | None:
    """A ticket with its thread and history, or None."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    assert ticket.id is not None

    def name_of(model: Any, key: int | None, attr: str = "name") -> str:
        if key is None:
            return ""
        obj = session.get(model, key)
        return str(getattr(obj, attr)) if obj is not None else ""

    site = session.get(Client, ticket.site_id) if ticket.site_id else None
    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    device_label = ""
    if device is not None:
        device_label = " ".join(
            x for x in (device.model, device.serial and f"ЗН {device.serial}") if x
        )
    messages = (
        session.execute(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
        .scalars()
        .all()
    )
    files: dict[int, list[str]] = {}
    file_views: list[FileView] = []
    if messages:
        for attachment in session.execute(
            select(Attachment)
            .where(Attachment.message_id.in_([m.id for m in messages]))
            .order_by(Attachment.id)
        ).scalars():
            files.setdefault(attachment.message_id, []).append(attachment.filename)
            file_views.append(
                FileView(
                    id=attachment.id or 0,
                    message_id=attachment.message_id,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                    sha256=attachment.sha256,
                )
            )
    events = (
        session.execute(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id))
        .scalars()
        .all()
    )
    wanted = {e.actor_id for e in events} | {ticket.assignee_id}
    engineers: dict[int, str] = {
        row[0]: row[1]
        for row in session.execute(
            select(Engineer.id, Engineer.login).where(
                Engineer.id.in_([i for i in wanted if i is not None])
            )
        )
    }
    return TicketView(
        sla=_sla_terms(session, ticket),
        id=ticket.id,
        subject=ticket.subject,
        status=Status(ticket.status),
        priority=Priority(ticket.priority),
        impact=ticket.impact,
        urgency=ticket.urgency,
        line=ticket.line,
        team=ticket.team,
        channel=ChannelKind(ticket.channel),
        client_name=name_of(Client, ticket.client_id),
        site_name=site.name if site else "",
        site_timezone=site.timezone if site else None,
        contact_name=name_of(Contact, ticket.contact_id),
        contact_id=ticket.contact_id,
        device=device_label,
        category=name_of(Category, ticket.category_id, "code"),
        assignee_login=engineers.get(ticket.assignee_id) if ticket.assignee_id else None,
        contract_number=name_of(Contract, ticket.contract_id, "number"),
        created_at=_aware(ticket.created_at),
        updated_at=_aware(ticket.updated_at),
        received_at=_aware(ticket.received_at),
        first_response_at=ticket.first_response_at,
        response_due_at=ticket.response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        resolved_at=ticket.resolved_at,
        resolution_code=ticket.resolution_code,
        resolution_text=ticket.resolution_text,
        merged_into_id=ticket.merged_into_id,
        version=ticket.version,
        tags=tuple(ticket.tags),
        coverage=ticket.coverage,
        device_info=_device_view(device),
        files=tuple(file_views),
        checklist=tuple(
            CheckItem(str(item.get("text", "")), bool(item.get("done")), str(item.get("by", "")))
            for item in ticket.checklist or ()
            if isinstance(item, dict)
        ),
        messages=tuple(
            MessageView(
                id=m.id or 0,
                kind=MessageKind(m.kind),
                channel=ChannelKind(m.channel),
                author=m.author_name,
                body=m.body,
                created_at=_aware(m.created_at),
                is_auto=m.is_auto,
                delivery_state=m.delivery_state,
                attachments=tuple(files.get(m.id or 0, ())),
                delivery_error=m.delivery_error,
                address=m.address,
                notes=tuple(n for n in m.notes or () if isinstance(n, dict)),
            )
            for m in messages
        ),
        events=tuple(
            EventView(
                at=_aware(e.at),
                actor=engineers.get(e.actor_id, "") if e.actor_id else "system",
                kind=e.kind,
                before=e.before,
                after=e.after,
                details=e.details,
            )
            for e in events
        ),
    )


def _device_view(device: Device | None) -> DeviceView | None:
    if device is None or device.id is None:
        return None
    return DeviceView(
        id=device.id,
        model=device.model or "",
        serial=device.serial or "",
        reg_number=device.reg_number or "",
        firmware=device.firmware or "",
        fn_serial=device.fn_serial or "",
        fn_valid_until=device.fn_valid_until,
        fn_memory_used_pct=device.fn_memory_used_pct,
        ofd_name=device.ofd_name or "",
        health_state=device.health_state,
        health_at=device.health_at,
    )


def _aware(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError("a required timestamp is missing")
    return value


def engineer_by_login(*, session: Session, login: str) -> Engineer | None:
    """The engineer with this login (case-insensitive), or None."""
    return session.execute(
        select(Engineer).where(func.lower(Engineer.login) == login.lower())
    ).scalar_one_or_none()


def category_by_code(*, session: Session, code: str) -> Category | None:
    """The catalogue node with this code, or None."""
    return session.execute(select(Category).where(Category.code == code)).scalar_one_or_none()


def contact_for(
    *, session: Session, email: str = "", phone: str = "", telegram_id: str = ""
) -> Contact | None:
    """The active contact matching any given address, or None."""
    conditions: list[Any] = []
    if email:
        conditions.append(func.lower(Contact.email) == email.lower())
    if phone:
        conditions.append(Contact.phone == phone)
    if telegram_id:
        conditions.append(Contact.telegram_id == telegram_id)
    if not conditions:
        return None
    return session.execute(
        select(Contact).where(or_(*conditions), Contact.is_active).order_by(Contact.id).limit(1)
    ).scalar_one_or_none()


def ticket_for_channel_ids(*, session: Session, ids: Sequence[str]) -> int | None:
    """The ticket holding a message with any of these channel ids (newest match), or None."""
    if not ids:
        return None
    return session.execute(
        select(Message.ticket_id)
        .where(Message.channel_message_id.in_(list(ids)))
        .order_by(Message.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def open_ticket_for_source(*, session: Session, source_key: str) -> int | None:
    """The open ticket continuing a channel thread key, or None."""
    return session.execute(
        select(Ticket.id)
        .where(Ticket.source_key == source_key, Ticket.status.in_(_OPEN))
        .order_by(Ticket.id.desc())
        .limit(1)
    ).scalar_one_or_none()


_CONTRACTS = "sdconsole.active_contracts"
"""``session.info`` key: each client's contract in force on a day, as this session read it."""


def active_contract(
    *, session: Session, client_ids: Sequence[int], on: datetime
) -> Contract | None:
    """The contract in force on `on` for the nearest of `client_ids` (site first, then up).

    Each client's answer is remembered for the session (a batch of intake asks about every shop
    of a chain) and forgotten when a contract of the session is added, changed or deleted; the
    clients not yet asked about are read in one query. Sessions last one transaction, so a
    contract another process commits meanwhile is seen by the next batch.
    """
    day = on.date()
    pending = any(isinstance(o, Contract) for o in (*session.new, *session.dirty, *session.deleted))
    memo: dict[tuple[int, date], Contract | None] = (
        {} if pending else session.info.setdefault(_CONTRACTS, {})
    )
    missing = [c for c in client_ids if (c, day) not in memo]
    if missing:
        newest: dict[int, Contract] = {}
        for contract in session.execute(
            select(Contract)
            .where(
                Contract.client_id.in_(missing),
                Contract.is_active,
                Contract.valid_from <= day,
                or_(Contract.valid_to.is_(None), Contract.valid_to >= day),
            )
            .order_by(Contract.valid_from.desc(), Contract.id)
        ).scalars():
            newest.setdefault(contract.client_id, contract)
        for client_id in missing:
            memo[(client_id, day)] = newest.get(client_id)
    return next(
        (found for c in client_ids if (found := memo[(c, day)]) is not None),
        None,
    )


@event.listens_for(OrmSession, "after_flush")
def _forget_contracts(session: OrmSession, _context: Any) -> None:
    if any(isinstance(o, Contract) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_CONTRACTS, None)


@event.listens_for(OrmSession, "after_rollback")
def _forget_contracts_on_rollback(session: OrmSession) -> None:
    session.info.pop(_CONTRACTS, None)


def client_chain(*, session: Session, client_id: int) -> list[Client]:
    """The client and its ancestors, nearest first (site → legal entity → chain)."""
    chain: list[Client] = []
    seen: set[int] = set()
    current = session.get(Client, client_id)
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = session.get(Client, current.parent_id) if current.parent_id else None
    return chain


def client_by_ref(*, session: Session, ref: str) -> Client | None:
    """A client by external id, INN, or numeric id (in that order)."""
    ref = ref.strip()
    found = session.execute(select(Client).where(Client.external_id == ref)).scalar_one_or_none()
    if found is None:
        found = session.execute(
            select(Client).where(Client.inn == ref).order_by(Client.id).limit(1)
        ).scalar_one_or_none()
    if found is None and ref.isdigit():
        found = session.get(Client, int(ref))
    return found


_NUMBER = re.compile(r"^(?:sd-?)?0*(\d{1,9})$", re.IGNORECASE)


def find_jumps(*, session: Session, text_: str, limit: int = 8) -> list[Jump]:
    """Tickets by number, clients by name, ИНН or external id, devices by serial, registration
    or fiscal-drive number: what the command palette offers for what the engineer typed."""
    query = text_.strip()
    if len(query) < 2:
        return []
    jumps: list[Jump] = []
    number = _NUMBER.match(query)
    if number:
        ticket = session.get(Ticket, int(number.group(1)))
        if ticket is not None and ticket.id is not None:
            jumps.append(Jump(JumpKind.TICKET, ticket.id, ticket_number(ticket.id), ticket.subject))
    pattern = f"%{_escape_like(query)}%"
    prefix = f"{_escape_like(query)}%"
    clients = session.execute(
        select(Client)
        .where(
            or_(
                Client.name.ilike(pattern, escape="\\"),
                Client.inn.like(prefix, escape="\\"),
                Client.external_id == query,
            )
        )
        .order_by(Client.name)
        .limit(limit)
    ).scalars()
    for client in clients:
        assert client.id is not None
        detail = " · ".join(x for x in (client.inn and f"ИНН {client.inn}", client.address) if x)
        jumps.append(Jump(JumpKind.CLIENT, client.id, client.name, detail))
    if any(ch.isdigit() for ch in query):
        devices = session.execute(
            select(Device)
            .where(
                or_(
                    Device.serial.like(prefix, escape="\\"),
                    Device.reg_number.like(prefix, escape="\\"),
                    Device.fn_serial.like(prefix, escape="\\"),
                )
            )
            .order_by(Device.serial)
            .limit(limit)
        ).scalars()
        for device in devices:
            assert device.id is not None
            latest = session.execute(
                select(Ticket.id)
                .where(Ticket.device_id == device.id, text(OPEN_TICKETS_SQL))
                .order_by(Ticket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            label = " ".join(x for x in (device.model, device.serial) if x)
            jumps.append(Jump(JumpKind.DEVICE, device.id, label, device.reg_number or "", latest))
    return jumps[: limit * 2]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def known_teams(*, session: Session) -> list[str]:
    """Every team the catalogue routes to or an engineer belongs to, sorted."""
    teams = {
        str(team)
        for team in session.execute(
            select(Category.team).where(Category.team.is_not(None)).distinct()
        ).scalars()
    }
    for engineer_teams in session.execute(select(Engineer.teams)).scalars():
        teams.update(str(team) for team in engineer_teams or ())
    return sorted(teams)


def category_codes(*, session: Session) -> list[str]:
    """The codes of the catalogue's active categories, sorted."""
    return list(
        session.execute(
            select(Category.code).where(Category.is_active).order_by(Category.code)
        ).scalars()
    )


def engineer_loads(*, session: Session) -> list[EngineerLoad]:
    """Active engineers with their open tickets, least loaded first (then by login)."""
    t = Ticket.__table__.c
    counts = dict(
        session.execute(
            select(t.assignee_id, func.count())
            .where(text(OPEN_TICKETS_SQL), t.assignee_id.is_not(None))
            .group_by(t.assignee_id)
        ).all()
    )
    loads = [
        EngineerLoad(
            login=engineer.login,
            name=engineer.name,
            open_tickets=int(counts.get(engineer.id, 0)),
            lines=tuple(engineer.lines or ()),
            teams=tuple(engineer.teams or ()),
            on_duty=engineer.on_duty,
        )
        for engineer in session.execute(select(Engineer).where(Engineer.is_active)).scalars()
    ]
    return sorted(loads, key=lambda load: (not load.on_duty, load.open_tickets, load.login))


def client_nodes(*, session: Session, search: str = "", limit: int = 5_000) -> list[ClientNode]:
    """The client tree's nodes, by name; with `search`, the matches (name, ИНН, code) and their
    ancestors, so each match shows in its place."""
    columns = (
        Client.id,
        Client.parent_id,
        Client.kind,
        Client.name,
        Client.inn,
        Client.external_id,
    )
    stmt = select(*columns).where(Client.is_active).order_by(Client.name).limit(limit)
    words = search.strip()
    if words:
        like = f"%{_escape_like(words)}%"
        stmt = stmt.where(
            or_(
                Client.name.ilike(like, escape="\\"),
                Client.inn.like(f"{_escape_like(words)}%", escape="\\"),
                Client.external_id == words,
            )
        )
    rows = {row[0]: row for row in session.execute(stmt)}
    missing = {row[1] for row in rows.values() if row[1] is not None} - set(rows)
    for _depth in range(5):  # the tree is three levels deep; ancestors of the matches
        if not missing:
            break
        for row in session.execute(select(*columns).where(Client.id.in_(missing))):
            rows[row[0]] = row
        missing = {row[1] for row in rows.values() if row[1] is not None} - set(rows)
    return [
        ClientNode(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "")
        for r in sorted(rows.values(), key=lambda r: (r[3].lower(), r[0]))
    ]


def client_card(*, session: Session, client_id: int, now: datetime) -> ClientCard | None:
    """A client node with its contracts (its own and its ancestors'), contacts and devices."""
    client = session.get(Client, client_id)
    if client is None or client.id is None:
        return None
    chain = client_chain(session=session, client_id=client_id)  # the node up to the chain
    holders = {c.id: c.name for c in chain}
    contracts = (
        session.execute(
            select(Contract)
            .where(Contract.client_id.in_(list(holders)))
            .order_by(Contract.valid_from, Contract.id)
        )
        .scalars()
        .all()
    )
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used: dict[int, int] = dict(
        session.execute(
            select(Ticket.contract_id, func.sum(TimeEntry.minutes))
            .join(TimeEntry, TimeEntry.ticket_id == Ticket.id)
            .where(
                Ticket.contract_id.in_([c.id for c in contracts]),
                TimeEntry.billable,
                TimeEntry.spent_at >= month_start,
            )
            .group_by(Ticket.contract_id)
        ).all()
    )
    calendars: dict[int | None, str] = {
        c.id: c.name for c in session.execute(select(BusinessCalendar)).scalars()
    }
    views = []
    for contract in contracts:
        assert contract.id is not None
        plan = session.get(SlaPlan, contract.sla_plan_id)
        successor = next(
            (
                other.number
                for other in contracts
                if other.id != contract.id
                and contract.valid_to is not None
                and other.client_id == contract.client_id
                and other.valid_from > contract.valid_from
                and other.valid_from <= contract.valid_to + timedelta(days=1)
            ),
            None,
        )
        views.append(
            ContractView(
                id=contract.id,
                number=contract.number,
                kind=contract.kind,
                holder=holders.get(contract.client_id, ""),
                valid_from=contract.valid_from,
                valid_to=contract.valid_to,
                plan=f"{plan.code} · {plan.name}" if plan else "",
                plan_warning_pct=plan.warning_pct if plan else 80,
                targets=_targets(session, plan, calendars) if plan else (),
                categories=tuple(contract.categories or ()),
                hours_per_month=(
                    float(contract.hours_per_month)
                    if contract.hours_per_month is not None
                    else None
                ),
                minutes_this_month=int(used.get(contract.id) or 0),
                successor=successor,
                is_active=contract.is_active,
                price=contract.price,
                hourly_rate=contract.hourly_rate,
                request_price=contract.request_price,
                rounding_minutes=contract.rounding_minutes,
                minimum_minutes=contract.minimum_minutes,
                carry_over_months=contract.carry_over_months,
                notify_days=contract.notify_days,
                price_list=tuple((k, str(v)) for k, v in (contract.price_list or {}).items()),
            )
        )
    sites = [client.id]
    level = [client.id]
    for _depth in range(3):
        level = list(
            session.execute(select(Client.id).where(Client.parent_id.in_(level))).scalars()
        )
        sites += level
    contacts = session.execute(
        select(Contact)
        .where(Contact.client_id == client.id, Contact.is_active)
        .order_by(Contact.name)
    ).scalars()
    devices = session.execute(
        select(Device)
        .where(Device.site_id.in_(sites), Device.is_active)
        .order_by(Device.fn_valid_until.is_(None), Device.fn_valid_until, Device.id)
        .limit(500)
    ).scalars()
    manager = session.get(Engineer, client.manager_id) if client.manager_id else None
    open_count = count_queue(session=session, queue=QueueFilter(client_id=client.id))
    return ClientCard(
        node=ClientNode(
            client.id,
            client.parent_id,
            client.kind,
            client.name,
            client.inn or "",
            client.external_id or "",
        ),
        path=tuple(c.name for c in reversed(chain)),
        address=client.address or "",
        timezone=client.timezone or "",
        manager=f"{manager.name} ({manager.login})" if manager else "",
        contracts=tuple(views),
        contacts=tuple(
            ContactView(
                c.name,
                c.position or "",
                c.email or "",
                c.phone or "",
                c.telegram_id or "",
                c.id or 0,
            )
            for c in contacts
        ),
        devices=tuple(v for v in (_device_view(d) for d in devices) if v is not None),
        open_tickets=open_count,
    )


def _targets(
    session: Session, plan: SlaPlan, calendars: dict[int | None, str]
) -> tuple[TargetView, ...]:
    rows = session.execute(
        select(SlaTarget).where(SlaTarget.plan_id == plan.id).order_by(SlaTarget.priority)
    ).scalars()
    return tuple(
        TargetView(
            Priority(row.priority),
            row.registration_minutes,
            row.response_minutes,
            row.resolution_minutes,
            calendars.get(row.calendar_id or plan.calendar_id, ""),
        )
        for row in rows
    )


SOON = timedelta(hours=1)


def wall_summary(
    *, session: Session, now: datetime, rows: int = 12, day_start: datetime | None = None
) -> WallSummary:
    """The wall monitor's figures, its most urgent running tickets and the workers' beats.

    Args:
        day_start: where "today" begins (the wall's local midnight); default UTC midnight.
    """
    t = Ticket.__table__.c
    if day_start is None:
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    by_line = dict(
        session.execute(
            select(t.line, func.count()).where(text(OPEN_TICKETS_SQL)).group_by(t.line)
        ).all()
    )
    breached_today = session.execute(
        select(func.count(func.distinct(Event.ticket_id))).where(
            Event.kind == EventKind.SLA.value,
            Event.after == AlertLevel.BREACH.value,
            Event.at >= day_start,
        )
    ).scalar_one()
    resolved = session.execute(
        select(
            func.count(),
            func.count().filter(
                and_(
                    t.registration_breached.is_(False),
                    t.response_breached.is_(False),
                    t.resolution_breached.is_(False),
                )
            ),
        ).where(t.resolved_at >= day_start)
    ).one()

    def count(*conditions: Any) -> int:
        stmt = select(func.count()).select_from(Ticket).where(text(OPEN_TICKETS_SQL), *conditions)
        return int(session.execute(stmt).scalar_one())

    nearest = [
        row
        for row in queue_page(session=session, queue=QueueFilter(), limit=rows, now=now)
        if row.due_at < PAUSED_DUE
    ]
    return WallSummary(
        unassigned=count(t.assignee_id.is_(None)),
        breached=count_queue(session=session, queue=QueueFilter(breached=True), now=now),
        due_soon=count(t.due_at > now, t.due_at <= now + SOON),
        waiting=count(t.status.in_(_WAITING)),
        monitoring=count(t.channel == ChannelKind.MONITORING.value),
        dead_letters=int(
            session.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
        ),
        nearest=tuple(nearest),
        workers=worker_states(session=session),
        open_by_line=tuple((line, int(by_line.get(line, 0))) for line in (1, 2, 3, 4)),
        breached_today=int(breached_today),
        resolved_today=int(resolved[0]),
        met_today=int(resolved[1]),
    )


def worker_states(*, session: Session) -> tuple[WorkerView, ...]:
    """Every worker that ever beat, by name."""
    return tuple(
        WorkerView(
            name=row.name,
            host=row.host,
            beat_at=_aware(row.beat_at),
            interval_seconds=row.interval_seconds,
            last_error=row.last_error,
            handled=row.handled,
        )
        for row in session.execute(select(WorkerBeat).order_by(WorkerBeat.name)).scalars()
    )
