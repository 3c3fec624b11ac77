"""Provides `TicketService`: the engineer's use cases, one transaction and audit events each.

Every change goes through the ticket's optimistic version: an update whose version moved since it
was read is refused with `Conflict` (or `AlreadyTaken` for a take), never silently overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import (
    AlreadyTaken,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from sdconsole.domain.model import (
    SYSTEM,
    Actor,
    ChannelKind,
    ClientKind,
    DeliveryState,
    EventKind,
    LinkKind,
    MessageKind,
    Priority,
    Status,
    SupportLine,
    ticket_number,
)
from sdconsole.domain.text import clean_body
from sdconsole.domain.workflow import check_transition
from sdconsole.i18n import N_, translate_to
from sdconsole.services import sla as sla_service
from sdconsole.services.billing import judge_coverage
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import (
    Category,
    Client,
    Contact,
    Engineer,
    Event,
    Message,
    TelegramChat,
    Ticket,
    TicketLink,
    TimeEntry,
)

RESOLUTION_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_LOGGED_MINUTES = 24 * 60


MAX_CHECKS = 50
MAX_CHECK_TEXT = 300


class TicketService:
    """Use cases on existing tickets. Stateless apart from the store and the clock."""

    def __init__(self, store: Store, clock: Clock, *, client_language: str = "ru") -> None:
        """
        Args:
            store: where tickets are kept.
            clock: the time source.
            client_language: the language of notices to clients (Telegram: taken, waiting,
                resolved).
        """
        self.store = store
        self.clock = clock
        self.client_language = client_language

    # -- helpers -----------------------------------------------------------------------------

    @contextmanager
    def _edit(
        self, ticket_id: int, actor: Actor, expected_version: int | None
    ) -> Iterator[tuple[Session, Ticket]]:
        """Open a transaction on one ticket, check its version, and map a lost race to Conflict."""
        try:
            with self.store.transaction() as session:
                ticket = _get_ticket(session, ticket_id)
                if expected_version is not None and ticket.version != expected_version:
                    raise Conflict(
                        N_("Ticket {number} was changed by someone else; reload it and try again."),
                        number=_number(ticket_id),
                    )
                yield session, ticket
                now = self.clock.now()
                ticket.updated_at = now
                # Every edit is a new version, even within one clock tick: a note or a reply
                # someone added is a change another engineer's stale edit must not pass over.
                flag_modified(ticket, "updated_at")
                sla_service.refresh(session, ticket, now)
                session.flush()
        except StaleDataError:
            raise Conflict(
                N_("Ticket {number} was changed by someone else; reload it and try again."),
                number=_number(ticket_id),
            ) from None

    def _event(
        self,
        session: Session,
        ticket: Ticket,
        actor: Actor,
        kind: EventKind,
        before: Any = None,
        after: Any = None,
        **details: Any,
    ) -> None:
        session.add(
            Event(
                ticket_id=ticket.id,
                at=self.clock.now(),
                actor_id=actor.engineer_id,
                kind=kind.value,
                before=before,
                after=after,
                details=details,
            )
        )

    def _set_status(self, session: Session, ticket: Ticket, actor: Actor, target: Status) -> None:
        """Move through the state machine (the SLA clocks follow in `_edit`)."""
        current = Status(ticket.status)
        check_transition(current, target)
        now = self.clock.now()
        ticket.status = target.value
        if target == Status.RESOLVED:
            ticket.resolved_at = now
        if target == Status.CLOSED:
            ticket.closed_at = now
        if target == Status.OPEN and current in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
            ticket.resolved_at = None
            ticket.closed_at = None
        self._event(session, ticket, actor, EventKind.STATUS, current.value, target.value)
        self._notify(session, ticket, current, target)

    def _notify(self, session: Session, ticket: Ticket, current: Status, target: Status) -> None:
        """Tell a Telegram contact that their request was taken, waits for them, or is
        resolved (with the rating buttons); the notice goes through the outbox and is never a
        response."""
        if ticket.channel != ChannelKind.TELEGRAM.value:
            return
        if target == Status.OPEN and current == Status.NEW:
            kind, text = (
                "taken",
                N_("Your request {number} is taken: an engineer is working on it."),
            )
        elif target == Status.WAITING_CLIENT:
            kind = "waiting"
            text = N_("Your request {number} waits for your answer: please reply here.")
        elif target == Status.RESOLVED:
            kind = "resolved"
            text = N_("Your request {number} is resolved. How did we do? Rate us from 1 to 5:")
        else:
            return
        assert ticket.id is not None
        session.add(
            Message(
                ticket_id=ticket.id,
                kind=MessageKind.OUTBOUND.value,
                channel=ChannelKind.TELEGRAM.value,
                author_name=SYSTEM.login,
                body=translate_to(self.client_language, text).format(number=_number(ticket.id)),
                created_at=self.clock.now(),
                is_auto=True,
                delivery_state=DeliveryState.QUEUED.value,
                channel_data={"notice": kind, "rate": ticket.id}
                if target == Status.RESOLVED
                else {"notice": kind},
            )
        )

    def _first_response(
        self, session: Session, ticket: Ticket, actor: Actor, **details: Any
    ) -> None:
        """Stop the first-response clock now (once per ticket)."""
        if ticket.first_response_at is not None:
            return
        now = self.clock.now()
        ticket.first_response_at = now
        self._event(
            session, ticket, actor, EventKind.FIRST_RESPONSE, after=now.isoformat(), **details
        )

    def _react(self, session: Session, ticket: Ticket, actor: Actor, how: str) -> None:
        """On a monitoring ticket no client wrote to us, so the first human action on it (take,
        assign to oneself, a status change) is the reaction; the robot's own notes never are."""
        if actor.is_system or ticket.channel != ChannelKind.MONITORING.value:
            return
        self._first_response(session, ticket, actor, reaction=how)

    def _start_work(self, session: Session, ticket: Ticket, actor: Actor) -> None:
        """An engineer's first action moves a new ticket to open."""
        if ticket.status == Status.NEW and not actor.is_system:
            self._set_status(session, ticket, actor, Status.OPEN)

    # -- ownership ---------------------------------------------------------------------------

    def take(self, ticket_id: int, *, actor: Actor) -> int:
        """Make `actor` the owner of an unowned ticket; returns the new version.

        Taking a ticket routing already gave to `actor` accepts it: a new ticket opens, and on a
        monitoring ticket it is the reaction, as a take would be.

        Raises:
            AlreadyTaken: another engineer owns it (also when they won a simultaneous take).
        """
        _require_engineer(actor)
        try:
            with self._edit(ticket_id, actor, None) as (session, ticket):
                if ticket.assignee_id == actor.engineer_id:
                    if ticket.status != Status.NEW:
                        return ticket.version
                elif ticket.assignee_id is not None:
                    raise AlreadyTaken(
                        N_("Ticket {number} is already taken by {login}."),
                        number=_number(ticket_id),
                        login=_login(session, ticket.assignee_id),
                    )
                else:
                    _require_open(ticket)
                    ticket.assignee_id = actor.engineer_id
                    self._event(session, ticket, actor, EventKind.ASSIGNEE, None, actor.login)
                self._react(session, ticket, actor, "take")
                self._start_work(session, ticket, actor)
            return ticket.version
        except Conflict as error:
            if isinstance(error, AlreadyTaken):
                raise
            with self.store.reader() as session:
                owner = session.get(Ticket, ticket_id)
                login = _login(session, owner.assignee_id) if owner and owner.assignee_id else "?"
            raise AlreadyTaken(
                N_("Ticket {number} is already taken by {login}."),
                number=_number(ticket_id),
                login=login,
            ) from None

    def assign(
        self,
        ticket_id: int,
        login: str | None,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> int:
        """Give the ticket to an engineer (None: back to the line's queue).

        Only a lead or an administrator may take a ticket away from another engineer.
        """
        _require_engineer(actor)
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            _require_open(ticket)
            if (
                ticket.assignee_id is not None
                and ticket.assignee_id != actor.engineer_id
                and not actor.role.can_manage
            ):
                raise PermissionDenied(
                    N_("Only a lead can reassign a ticket owned by {login}."),
                    login=_login(session, ticket.assignee_id),
                )
            target: Engineer | None = None
            if login is not None:
                target = repositories.engineer_by_login(session=session, login=login)
                if target is None or not target.is_active:
                    raise NotFound(N_("No active engineer with login {login}."), login=login)
            before = _login(session, ticket.assignee_id) if ticket.assignee_id else None
            ticket.assignee_id = target.id if target else None
            self._event(
                session, ticket, actor, EventKind.ASSIGNEE, before, target.login if target else None
            )
            if target is not None and target.id == actor.engineer_id:
                self._react(session, ticket, actor, "take")
            self._start_work(session, ticket, actor)
        return ticket.version

    # -- thread ------------------------------------------------------------------------------

    def reply(
        self, ticket_id: int, body: str, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Answer the client on the ticket's channel; the message waits in the outbox.

        A phone ticket's reply is the record of a call made, so it is sent at once. The first
        public reply by an engineer on a communication channel stops the first-response clock.

        Returns:
            The new message's id.
        """
        _require_engineer(actor)
        text = clean_body(body)
        if not text:
            raise InvalidInput(N_("A reply cannot be empty."))
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            channel = self._reply_channel(session, ticket)
            now = self.clock.now()
            immediate = channel == ChannelKind.PHONE
            message = Message(
                ticket_id=ticket_id,
                kind=MessageKind.OUTBOUND.value,
                channel=channel.value,
                author_engineer_id=actor.engineer_id,
                author_name=actor.login,
                body=text,
                created_at=now,
                delivery_state=(DeliveryState.SENT if immediate else DeliveryState.QUEUED).value,
                sent_at=now if immediate else None,
            )
            session.add(message)
            session.flush()
            self._event(
                session,
                ticket,
                actor,
                EventKind.MESSAGE,
                after=message.id,
                message_kind=MessageKind.OUTBOUND.value,
                channel=channel.value,
            )
            if channel.is_communication:
                self._first_response(session, ticket, actor)
            self._start_work(session, ticket, actor)
            assert message.id is not None
            return message.id

    def _reply_channel(self, session: Session, ticket: Ticket) -> ChannelKind:
        channel = ChannelKind(ticket.channel)
        if channel.is_communication:
            return channel
        contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
        if contact is not None and contact.email:
            return ChannelKind.EMAIL
        if contact is not None and contact.telegram_id:
            return ChannelKind.TELEGRAM
        if contact is not None and contact.phone:
            return ChannelKind.PHONE
        raise InvalidInput(
            N_("Ticket {number} has no contact to answer; add a note or set a contact."),
            number=_number(ticket.id or 0),
        )

    def note(
        self, ticket_id: int, body: str, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Add an internal note (never seen by the client, never a first response)."""
        text = clean_body(body)
        if not text:
            raise InvalidInput(N_("A note cannot be empty."))
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            message = Message(
                ticket_id=ticket_id,
                kind=MessageKind.NOTE.value,
                channel=ticket.channel,
                author_engineer_id=actor.engineer_id,
                author_name=actor.login,
                body=text,
                created_at=self.clock.now(),
            )
            session.add(message)
            session.flush()
            self._event(
                session,
                ticket,
                actor,
                EventKind.MESSAGE,
                after=message.id,
                message_kind=MessageKind.NOTE.value,
            )
            assert message.id is not None
            return message.id

    # -- status ------------------------------------------------------------------------------

    def set_status(
        self, ticket_id: int, status: Status, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Move to open, waiting for client, waiting for vendor, or cancelled.

        Resolving, closing and reopening have their own use cases (they need more than a status).
        """
        if status in (Status.RESOLVED, Status.CLOSED, Status.NEW):
            raise IllegalTransition(
                N_("Use resolve or close for that; a ticket cannot be set to {status} directly."),
                status=status.label,
            )
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            if Status(ticket.status) in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED) and (
                status == Status.OPEN
            ):
                raise IllegalTransition(N_("Use reopen to bring a finished ticket back."))
            self._set_status(session, ticket, actor, status)
            self._react(session, ticket, actor, "status")
        return ticket.version

    def resolve(
        self,
        ticket_id: int,
        code: str,
        text: str = "",
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> int:
        """Resolve with a resolution code (``[a-z0-9._-]``, e.g. ``fn.replaced``) and a summary."""
        _require_engineer(actor)
        code = code.strip().lower()
        if not RESOLUTION_CODE_RE.match(code):
            raise InvalidInput(
                N_("A resolution code is required: lower-case letters, digits, '.', '_' or '-'.")
            )
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            self._set_status(session, ticket, actor, Status.RESOLVED)
            ticket.resolution_code = code
            ticket.resolution_text = clean_body(text) or None
            self._event(
                session, ticket, actor, EventKind.RESOLVED, after=code, text=ticket.resolution_text
            )
        return ticket.version

    def close(self, ticket_id: int, *, actor: Actor, expected_version: int | None = None) -> int:
        """Close a resolved ticket."""
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            if ticket.status != Status.RESOLVED:
                raise IllegalTransition(
                    N_("Only a resolved ticket can be closed; ticket {number} is {status}."),
                    number=_number(ticket_id),
                    status=Status(ticket.status).label,
                )
            self._set_status(session, ticket, actor, Status.CLOSED)
            self._event(session, ticket, actor, EventKind.CLOSED)
        return ticket.version

    def reopen(
        self, ticket_id: int, reason: str, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Bring a resolved, closed or cancelled ticket back to open; closed ones need a lead."""
        reason = clean_body(reason)
        if not reason:
            raise InvalidInput(N_("Say why the ticket is reopened."))
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            current = Status(ticket.status)
            if current not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
                raise IllegalTransition(
                    N_("Ticket {number} is {status}, not finished; nothing to reopen."),
                    number=_number(ticket_id),
                    status=current.label,
                )
            if current == Status.CLOSED and not actor.role.can_manage:
                raise PermissionDenied(N_("Only a lead can reopen a closed ticket."))
            self._set_status(session, ticket, actor, Status.OPEN)
            ticket.resolution_code = None
            ticket.resolution_text = None
            self._event(
                session,
                ticket,
                actor,
                EventKind.REOPENED,
                current.value,
                Status.OPEN.value,
                reason=reason,
            )
        return ticket.version

    # -- classification ----------------------------------------------------------------------

    def set_priority(
        self,
        ticket_id: int,
        priority: Priority,
        *,
        actor: Actor,
        reason: str = "",
        expected_version: int | None = None,
    ) -> int:
        """Change the priority; the SLA clocks re-target from the change."""
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            _require_open(ticket)
            before = ticket.priority
            if before == priority:
                return ticket.version
            ticket.priority = int(priority)
            self._event(
                session,
                ticket,
                actor,
                EventKind.PRIORITY,
                before,
                int(priority),
                reason=clean_body(reason),
            )
        return ticket.version

    def set_category(
        self, ticket_id: int, code: str, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Set the incident category by its catalogue code."""
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            category = repositories.category_by_code(session=session, code=code)
            if category is None:
                raise NotFound(N_("No category with code {code}."), code=code)
            before = session.get(Category, ticket.category_id).code if ticket.category_id else None
            ticket.category_id = category.id
            self._event(session, ticket, actor, EventKind.CATEGORY, before, category.code)
            judge_coverage(session, ticket, self.clock.now(), actor.engineer_id)
        return ticket.version

    def escalate(
        self,
        ticket_id: int,
        line: SupportLine,
        reason: str,
        *,
        actor: Actor,
        team: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Hand the ticket to a higher line with a reason; it goes to that line's queue, unowned.

        Escalating to line 4 (the vendor) also sets the status to waiting for vendor.
        """
        _require_engineer(actor)
        reason = clean_body(reason)
        if not reason:
            raise InvalidInput(N_("An escalation needs a reason."))
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            _require_open(ticket)
            if int(line) <= ticket.line:
                raise InvalidInput(
                    N_("Ticket {number} is on line {current}; escalate to a higher line."),
                    number=_number(ticket_id),
                    current=ticket.line,
                )
            before = ticket.line
            ticket.line = int(line)
            if team is not None:
                ticket.team = team
            previous_owner = _login(session, ticket.assignee_id) if ticket.assignee_id else None
            ticket.assignee_id = None
            session.add(
                Message(
                    ticket_id=ticket_id,
                    kind=MessageKind.NOTE.value,
                    channel=ticket.channel,
                    author_engineer_id=actor.engineer_id,
                    author_name=actor.login,
                    body=reason,
                    created_at=self.clock.now(),
                )
            )
            self._event(
                session,
                ticket,
                actor,
                EventKind.ESCALATED,
                before,
                int(line),
                reason=reason,
                previous_owner=previous_owner,
                team=ticket.team,
            )
            self._start_work(session, ticket, actor)
            if line == SupportLine.L4 and ticket.status != Status.WAITING_VENDOR:
                self._set_status(session, ticket, actor, Status.WAITING_VENDOR)
        return ticket.version

    # -- time, links, merge ------------------------------------------------------------------

    def log_time(
        self,
        ticket_id: int,
        minutes: int,
        *,
        actor: Actor,
        billable: bool = True,
        note: str = "",
        spent_at: datetime | None = None,
    ) -> int:
        """Record minutes spent on the ticket by the acting engineer; returns the entry id."""
        _require_engineer(actor)
        if not 0 < minutes <= MAX_LOGGED_MINUTES:
            raise InvalidInput(N_("Minutes must be between 1 and {max}."), max=MAX_LOGGED_MINUTES)
        when = spent_at or self.clock.now()
        with self._edit(ticket_id, actor, None) as (session, ticket):
            _check_day(session, actor, when, minutes)
            entry = TimeEntry(
                ticket_id=ticket_id,
                engineer_id=actor.engineer_id,
                minutes=minutes,
                billable=billable,
                note=clean_body(note),
                spent_at=when,
            )
            session.add(entry)
            session.flush()
            self._event(
                session, ticket, actor, EventKind.TIME_LOGGED, after=minutes, billable=billable
            )
            assert entry.id is not None
            return entry.id

    # -- the sender --------------------------------------------------------------------------

    def bind_sender(
        self,
        ticket_id: int,
        client: str,
        *,
        name: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> int:
        """Bind a ticket from an unknown sender to a client or shop: the sender becomes (or is
        found as) a contact there, and the ticket takes that client, shop and contract.

        Args:
            client: the client or shop by code, ИНН or exact name.
            name: the contact's name.

        Returns:
            The contact's id.

        Raises:
            NotFound: no such client, or several match.
            InvalidInput: the ticket's sender has no address to bind.
        """
        from sdconsole.services.intake import UNKNOWN_SENDER_TAG, contract_holder

        _require_engineer(actor)
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            target = _client_by_ref(session, client)
            address = session.execute(
                select(Message.address, Message.channel)
                .where(Message.ticket_id == ticket_id, Message.kind == MessageKind.INBOUND.value)
                .where(Message.address.is_not(None))
                .order_by(Message.id)
                .limit(1)
            ).first()
            if address is None:
                raise InvalidInput(N_("This ticket's sender left no address to bind."))
            value, channel = address
            field = {"email": "email", "telegram": "telegram_id"}.get(channel, "phone")
            contact = repositories.contact_for(session=session, **{field: value})
            if contact is None:
                contact = Contact(
                    client_id=target.id,
                    name=name.strip() or value,
                    created_at=self.clock.now(),
                    **{field: value},
                )
                session.add(contact)
                session.flush()
            if field == "telegram_id":
                chats = session.execute(
                    select(TelegramChat).where(TelegramChat.user_id == value)
                ).scalars()
                for chat in chats:
                    chat.contact_id = contact.id  # the bot knows the chat from now on
            before = ticket.contact_id
            ticket.contact_id = contact.id
            if target.kind == ClientKind.SITE.value:
                ticket.site_id = target.id
            holder, contract = contract_holder(
                session, target.id, ticket.received_at or self.clock.now()
            )
            ticket.client_id = holder.id if holder else target.id
            ticket.contract_id = contract.id if contract else None
            ticket.tags = [t for t in ticket.tags if t != UNKNOWN_SENDER_TAG]
            judge_coverage(session, ticket, self.clock.now(), actor.engineer_id)
            self._event(
                session,
                ticket,
                actor,
                EventKind.FIELD,
                before=before,
                after=f"{contact.name} <{value}> → {target.name}",
                field="contact",
            )
            sla_service.refresh(session, ticket, self.clock.now())
            assert contact.id is not None
            return contact.id

    # -- checklist ---------------------------------------------------------------------------

    def add_check(
        self, ticket_id: int, text: str, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Add an open item to the ticket's checklist; returns the new version."""
        item = " ".join(clean_body(text).split())
        if not item:
            raise InvalidInput(N_("A checklist item needs text."))
        if len(item) > MAX_CHECK_TEXT:
            raise InvalidInput(N_("A checklist item is at most {n} characters."), n=MAX_CHECK_TEXT)
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            if len(ticket.checklist) >= MAX_CHECKS:
                raise InvalidInput(N_("A checklist holds at most {n} items."), n=MAX_CHECKS)
            ticket.checklist = [*ticket.checklist, {"text": item, "done": False}]
            self._event(
                session, ticket, actor, EventKind.FIELD, after=f"+ {item}", field="checklist"
            )
        return ticket.version

    def toggle_check(
        self, ticket_id: int, index: int, *, actor: Actor, expected_version: int | None = None
    ) -> int:
        """Tick an open item (or open a ticked one again); returns the new version."""
        with self._edit(ticket_id, actor, expected_version) as (session, ticket):
            items = [dict(item) for item in ticket.checklist]
            if not 0 <= index < len(items):
                raise NotFound(N_("The checklist has no item {n}."), n=index + 1)
            done = not items[index].get("done")
            items[index].update(done=done, by=actor.login if done else "")
            ticket.checklist = items
            mark = "☑" if done else "☐"
            self._event(
                session,
                ticket,
                actor,
                EventKind.FIELD,
                after=f"{mark} {items[index].get('text', '')}",
                field="checklist",
            )
        return ticket.version

    def link(
        self, ticket_id: int, other_id: int, kind: LinkKind = LinkKind.RELATED, *, actor: Actor
    ) -> None:
        """Relate two tickets (recorded on both)."""
        if ticket_id == other_id:
            raise InvalidInput(N_("A ticket cannot be linked to itself."))
        with self.store.transaction() as session:
            ticket = _get_ticket(session, ticket_id)
            other = _get_ticket(session, other_id)
            exists = session.execute(
                select(TicketLink.id).where(
                    TicketLink.ticket_id == ticket_id,
                    TicketLink.other_id == other_id,
                    TicketLink.kind == kind.value,
                )
            ).first()
            if exists:
                return
            session.add(
                TicketLink(
                    ticket_id=ticket_id,
                    other_id=other_id,
                    kind=kind.value,
                    created_at=self.clock.now(),
                )
            )
            self._event(
                session, ticket, actor, EventKind.LINKED, after=_number(other_id), link=kind.value
            )
            self._event(
                session,
                other,
                actor,
                EventKind.LINKED,
                after=_number(ticket_id),
                link=kind.value,
                inverse=True,
            )

    def merge(self, source_id: int, target_id: int, *, actor: Actor) -> None:
        """Merge a duplicate into another ticket: its thread moves, and it closes as merged."""
        _require_engineer(actor)
        if source_id == target_id:
            raise InvalidInput(N_("A ticket cannot be merged into itself."))
        try:
            with self.store.transaction() as session:
                source = _get_ticket(session, source_id)
                target = _get_ticket(session, target_id)
                _require_open(source)
                _require_open(target)
                moved = session.execute(
                    update(Message)
                    .where(Message.ticket_id == source_id)
                    .values(ticket_id=target_id)
                ).rowcount
                now = self.clock.now()
                before = source.status
                source.status = Status.CLOSED.value
                source.resolved_at = source.resolved_at or now
                source.closed_at = now
                source.resolution_code = "merged"
                source.merged_into_id = target_id
                source.updated_at = now
                target.updated_at = now
                if source.first_response_at and not target.first_response_at:
                    # The client was answered on the duplicate: that answers the request.
                    target.first_response_at = source.first_response_at
                    session.add(
                        Event(
                            ticket_id=target_id,
                            at=source.first_response_at,
                            actor_id=actor.engineer_id,
                            kind=EventKind.FIRST_RESPONSE.value,
                            after=source.first_response_at.isoformat(),
                            details={"from": _number(source_id)},
                        )
                    )
                session.add(
                    TicketLink(
                        ticket_id=source_id,
                        other_id=target_id,
                        kind=LinkKind.DUPLICATE.value,
                        created_at=now,
                    )
                )
                self._event(session, source, actor, EventKind.STATUS, before, source.status)
                self._event(
                    session,
                    source,
                    actor,
                    EventKind.MERGED,
                    after=_number(target_id),
                    messages=moved,
                )
                self._event(
                    session,
                    target,
                    actor,
                    EventKind.MERGED,
                    before=_number(source_id),
                    messages=moved,
                    inverse=True,
                )
                sla_service.refresh(session, source, now)
                sla_service.refresh(session, target, now)
                session.flush()
        except StaleDataError:
            raise Conflict(N_("One of the tickets was changed meanwhile; try again.")) from None


def _get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(N_("No ticket {number}."), number=_number(ticket_id))
    return ticket


def _require_open(ticket: Ticket) -> None:
    if not Status(ticket.status).is_open:
        raise IllegalTransition(
            N_("Ticket {number} is {status}; reopen it first."),
            number=_number(ticket.id or 0),
            status=Status(ticket.status).label,
        )


def _client_by_ref(session: Session, ref: str) -> Client:
    """A client or shop by code, ИНН or exact name (case-insensitive); exactly one."""
    from sqlalchemy import func, or_

    text = ref.strip()
    found = (
        session.execute(
            select(Client)
            .where(
                Client.is_active,
                or_(
                    Client.external_id == text,
                    Client.inn == text,
                    func.lower(Client.name) == text.lower(),
                ),
            )
            .order_by(Client.id)
            .limit(5)
        )
        .scalars()
        .all()
    )
    if len(found) != 1:
        raise NotFound(N_("No single client or shop is {ref}: give its code or ИНН."), ref=text)
    return found[0]


def _check_day(session: Session, actor: Actor, when: datetime, minutes: int) -> None:
    """No one logs more than a day's minutes in one day (UTC), whatever the tickets."""
    from datetime import UTC, time, timedelta

    from sqlalchemy import func

    start = datetime.combine(when.astimezone(UTC).date(), time(), UTC)
    logged = session.execute(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
            TimeEntry.engineer_id == actor.engineer_id,
            TimeEntry.spent_at >= start,
            TimeEntry.spent_at < start + timedelta(days=1),
        )
    ).scalar_one()
    if logged + minutes > MAX_LOGGED_MINUTES:
        raise InvalidInput(
            N_("{login} has {logged} min logged on {day} already: a day has {max}."),
            login=actor.login,
            logged=int(logged),
            day=start.date().isoformat(),
            max=MAX_LOGGED_MINUTES,
        )


def _require_engineer(actor: Actor) -> None:
    if actor.is_system:
        raise PermissionDenied(N_("This action needs an engineer; say who you are with --as."))


def _login(session: Session, engineer_id: int | None) -> str:
    if engineer_id is None:
        return ""
    engineer = session.get(Engineer, engineer_id)
    return engineer.login if engineer else f"#{engineer_id}"


def _number(ticket_id: int) -> str:
    return ticket_number(ticket_id)
