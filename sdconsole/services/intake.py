"""Provides the single intake pipeline every channel feeds (DESIGN.md "One window").

``ingest(message)``: 1. dedupe by the channel's idempotency key; 2. find the ticket it continues;
3. identify client, site, contact and device; 4. classify; 5. start or update the SLA clocks;
6. acknowledge. The raw payload is written in the same transaction as the ticket, before
anything else; an input that fails is kept as a dead letter with the reason, never dropped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sdconsole.classifier import Classifier, KeywordClassifier, Suggestion
from sdconsole.classifier.features import Entities, extract_entities
from sdconsole.config import RoutingSettings, Settings
from sdconsole.domain.billing import Coverage
from sdconsole.domain.clock import Clock
from sdconsole.domain.intake import InboundMessage, ticket_id_from_subject, ticket_tag
from sdconsole.domain.model import (
    SYSTEM,
    ChannelKind,
    ClientKind,
    DeliveryState,
    EventKind,
    LinkKind,
    MessageKind,
    Priority,
    Status,
)
from sdconsole.domain.priority import assess
from sdconsole.domain.text import clean_body, clean_line, safe_filename
from sdconsole.i18n import N_, _, translate_to
from sdconsole.services import routing as routing_service
from sdconsole.services import sla as sla_service
from sdconsole.services.billing import coverage_event, coverage_of
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import (
    Attachment,
    Category,
    Client,
    Contact,
    Contract,
    DeadLetter,
    Device,
    Event,
    Inbound,
    Message,
    Ticket,
    TicketLink,
)

log = logging.getLogger(__name__)

KEYWORDS_TTL = 30.0
"""Seconds a read of the categories' keyword rules is reused."""

CLASSIFY_CHARS = 4000
"""How much of a body classification, entity linking and priority read: what a request is
about is said at its start; a long letter's tail is quoted history, signatures or a newsletter."""

UNKNOWN_SENDER_TAG = "unknown-sender"
"""The tag on a ticket whose sender is no known contact: an engineer binds it."""

_FINISHED = (Status.CLOSED, Status.CANCELLED)

TILL_AREAS = frozenset({"kkt", "fn", "ofd", "pos", "payments", "peripherals", "chz", "egais"})
"""Catalogue areas whose incidents stop the till they happen on."""


class Outcome(StrEnum):
    """What intake did with one input."""

    CREATED = "created"
    APPENDED = "appended"
    DUPLICATE = "duplicate"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of one `ingest` call."""

    outcome: Outcome
    ticket_id: int | None = None
    message_id: int | None = None
    reason: str = ""
    conflicting: bool = False
    """A duplicate key whose payload differs from the one first received under it."""


class IntakeService:
    """Turns `InboundMessage`s into tickets and thread entries."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        classifier: Classifier | None = None,
        *,
        client_language: str = "ru",
        routing: RoutingSettings | None = None,
        ack_limit_per_hour: int = 3,
    ) -> None:
        """
        Args:
            store: where tickets are kept.
            clock: the time source.
            classifier: suggests a category; default: keyword rules from the category table.
            client_language: the language of automatic answers to clients (not the UI's).
            routing: classification threshold, priority and routing settings (the config's
                ``[routing]``; defaults when None).
            ack_limit_per_hour: at most this many acknowledgements to one sender an hour.
        """
        self.store = store
        self.clock = clock
        self.client_language = client_language
        self.routing = routing or RoutingSettings()
        self.ack_limit_per_hour = ack_limit_per_hour
        self._classifier = classifier
        self._keyword_rules: tuple[tuple[str, tuple[str, ...], str | None], ...] = ()
        self._keyword_classifier: Classifier | None = None
        self._keywords_read_at = float("-inf")

    @classmethod
    def from_settings(cls, store: Store, clock: Clock, settings: Settings) -> IntakeService:
        """Intake as configured: the trained classifier if there is one, and the routing."""
        from sdconsole.services.classifier import model_path, trained_classifier

        return cls(
            store,
            clock,
            trained_classifier(model_path(settings.classifier_model)),
            client_language=settings.mail.client_language,
            routing=settings.routing,
            ack_limit_per_hour=settings.mail.ack_limit_per_hour,
        )

    def ingest(self, message: InboundMessage) -> IngestResult:
        """Run one input through the pipeline; idempotent per (channel, idempotency key)."""
        try:
            with self.store.transaction() as session:
                return self._ingest(session, message)
        except IntegrityError:
            # A concurrent intake of the same input won the unique (channel, key) race.
            with self.store.reader() as session:
                existing = _inbound(session, message)
            if existing is not None:
                return IngestResult(Outcome.DUPLICATE, existing.ticket_id, existing.message_id)
            raise
        except Exception as error:  # noqa: BLE001 - anything else is kept, never lost
            log.exception("intake failed for %s %s", message.channel, message.idempotency_key)
            self.dead_letter(
                message.channel,
                message.idempotency_key,
                message.raw,
                f"{type(error).__name__}: {error}",
            )
            return IngestResult(Outcome.DEAD_LETTER, reason=str(error))

    def reject(
        self,
        channel: ChannelKind,
        raw: bytes,
        error: str,
        *,
        received_at: datetime,
        source_ref: str | None = None,
    ) -> IngestResult:
        """Keep an input that cannot be parsed: in the ledger (so a replay is recognised) and as
        a dead letter with the reason, in one transaction. Idempotent by source and content."""
        key = "sha256:" + hashlib.sha256(raw).hexdigest()
        try:
            with self.store.transaction() as session:
                if _known(session, channel, key, source_ref):
                    return IngestResult(Outcome.DUPLICATE, reason=error)
                session.add(
                    Inbound(
                        channel=channel.value,
                        idempotency_key=key,
                        received_at=received_at,
                        raw=raw,
                        source_ref=source_ref,
                    )
                )
                self._dead_letter(session, channel, source_ref or key, raw, error)
        except IntegrityError:
            return IngestResult(Outcome.DUPLICATE, reason=error)
        return IngestResult(Outcome.DEAD_LETTER, reason=error)

    def dead_letter(self, channel: ChannelKind, key: str, raw: bytes, error: str) -> None:
        """Keep an input that could not be parsed or ingested, with the reason (upsert by key)."""
        with self.store.transaction() as session:
            self._dead_letter(session, channel, key, raw, error)

    def _dead_letter(
        self, session: Session, channel: ChannelKind, key: str, raw: bytes, error: str
    ) -> None:
        now = self.clock.now()
        row = session.execute(
            select(DeadLetter).where(
                DeadLetter.channel == channel.value,
                DeadLetter.key == key,
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                DeadLetter(
                    channel=channel.value,
                    key=key,
                    raw=raw,
                    error=error,
                    first_seen=now,
                    last_seen=now,
                )
            )
        else:
            row.error = error
            row.last_seen = now
            row.retries += 1
            row.resolved_at = None

    # -- the pipeline ------------------------------------------------------------------------

    def _ingest(self, session: Session, message: InboundMessage) -> IngestResult:
        existing = _inbound(session, message)
        if existing is None and message.source_ref is not None:
            existing = session.execute(
                select(Inbound).where(Inbound.source_ref == message.source_ref)
            ).scalar_one_or_none()
        if existing is not None:
            return IngestResult(
                Outcome.DUPLICATE,
                existing.ticket_id,
                existing.message_id,
                conflicting=bytes(existing.raw) != message.raw,
            )
        inbound = Inbound(
            channel=message.channel.value,
            idempotency_key=message.idempotency_key,
            received_at=message.received_at,
            raw=message.raw,
            source_ref=message.source_ref,
        )
        session.add(inbound)
        session.flush()

        ticket = self._continued_ticket(session, message)
        if message.is_auto and (ticket is None or ticket.status in _FINISHED):
            # An out-of-office or a bounce answers a letter of ours; with no ticket to attach
            # it to, it must not open one (no clock, no acknowledgement): kept for a look.
            reason = (
                "bounce that answers no letter of ours"
                if message.failure
                else "automatic reply that answers no open ticket"
            )
            self._dead_letter(
                session, message.channel, message.idempotency_key, message.raw, reason
            )
            return IngestResult(Outcome.DEAD_LETTER, reason=reason)
        related: Ticket | None = None
        if ticket is not None and ticket.status in _FINISHED:
            related, ticket = ticket, None
        contact = self._contact(session, message)
        outcome = Outcome.APPENDED
        if ticket is None:
            ticket = self._new_ticket(session, message, contact)
            outcome = Outcome.CREATED
        assert ticket.id is not None
        entry = self._add_message(session, ticket, message, contact)
        if message.failure is not None:
            self._delivery_failed(session, ticket, message)
        if outcome == Outcome.CREATED:
            if related is not None:
                session.add(
                    TicketLink(
                        ticket_id=ticket.id,
                        other_id=related.id,
                        kind=LinkKind.RELATED.value,
                        created_at=self.clock.now(),
                    )
                )
            if contact is None and message.channel in (ChannelKind.EMAIL, ChannelKind.TELEGRAM):
                ticket.tags = [*ticket.tags, UNKNOWN_SENDER_TAG]
            self._acknowledge(session, ticket, message)
        else:
            self._follow_up(session, ticket, message, entry)
        inbound.ticket_id = ticket.id
        inbound.message_id = entry.id
        return IngestResult(outcome, ticket.id, entry.id)

    def _continued_ticket(self, session: Session, message: InboundMessage) -> Ticket | None:
        candidates: list[int | None] = [message.ticket_id, ticket_id_from_subject(message.subject)]
        candidates.append(
            repositories.ticket_for_channel_ids(session=session, ids=message.in_reply_to)
        )
        if message.thread_key:
            candidates.append(
                repositories.open_ticket_for_source(session=session, source_key=message.thread_key)
            )
        for ticket_id in candidates:
            if ticket_id is not None:
                ticket = session.get(Ticket, ticket_id)
                if ticket is not None:
                    return ticket
        return None

    def _new_ticket(
        self, session: Session, message: InboundMessage, contact: Contact | None
    ) -> Ticket:
        now = self.clock.now()
        text = f"{message.subject}\n{message.body[:CLASSIFY_CHARS]}"
        entities = extract_entities(text)
        linked: dict[str, str] = {}
        site_id = message.site_id
        if site_id is None and contact is not None:
            owner = session.get(Client, contact.client_id)
            if owner is not None and owner.kind == ClientKind.SITE:
                site_id = owner.id
        device_id = message.device_id
        client_hint = message.client_id
        if entities:
            if contact is None and entities.phones:
                contact = _contact_by_phone(session, entities.phones)
                if contact is not None:
                    linked["contact"] = "phone"
                    owner = session.get(Client, contact.client_id)
                    if site_id is None and owner is not None and owner.kind == ClientKind.SITE:
                        site_id = owner.id
            if device_id is None:
                device, how = _device_by_entities(session, entities, site_id)
                if device is not None:
                    device_id = device.id
                    linked["device"] = how
            if site_id is None and client_hint is None and contact is None and entities.inns:
                client = _client_by_inn(session, entities.inns)
                if client is not None:
                    client_hint = client.id
                    linked["client"] = "inn"
        if device_id is not None and site_id is None:
            device_row = session.get(Device, device_id)
            site_id = device_row.site_id if device_row else None
        anchor = site_id or client_hint or (contact.client_id if contact else None)
        holder, contract = contract_holder(session, anchor, message.received_at)
        client_id = client_hint or (holder.id if holder else None)

        category, suggestions = self._category(session, message)
        impact = message.impact or (category.default_impact if category else 2)
        urgency = message.urgency or (category.default_urgency if category else 2)
        clients = routing_service.client_path(session, site_id or client_id)
        assessment = assess(
            impact,
            urgency,
            text,
            only_till=_only_till(session, site_id, device_id, category),
            raise_impact=routing_service.raises_impact(session, self.routing, clients[0]),
        )
        impact = message.impact or assessment.impact
        urgency = message.urgency or assessment.urgency
        priority = message.priority or assessment.priority
        subject = (
            clean_line(message.subject)
            or clean_line(message.body, max_length=80)
            or _("(no subject)")
        )
        covered = coverage_of(contract, category, message.received_at)
        ticket = Ticket(
            subject=subject,
            client_id=client_id,
            site_id=site_id,
            contact_id=contact.id if contact else None,
            device_id=device_id,
            contract_id=contract.id if contract else None,
            channel=message.channel.value,
            category_id=category.id if category else None,
            impact=impact,
            urgency=urgency,
            priority=int(priority),
            line=category.line if category else 1,
            team=category.team if category else None,
            status=Status.NEW.value,
            received_at=message.received_at,
            created_at=now,
            updated_at=now,
            source_key=message.thread_key,
            coverage=covered.value,
            due_at=now,
        )
        session.add(ticket)
        session.flush()
        if covered is not Coverage.COVERED:
            session.add(coverage_event(ticket, None, covered, now))
        details: dict[str, Any] = {
            "channel": message.channel.value,
            "priority": Priority(priority).label,
            "category": category.code if category else None,
            "contract": contract.number if contract else None,
        }
        if suggestions and category is None:
            details["suggestions"] = [
                {"code": s.code, "confidence": s.confidence} for s in suggestions
            ]
        if linked:
            details["linked"] = linked
        if assessment.reasons and message.priority is None:
            details["priority_reasons"] = [
                {"template": t, "params": dict(p)} for t, p in assessment.reasons
            ]
        session.add(
            Event(
                ticket_id=ticket.id,
                at=now,
                actor_id=None,
                kind=EventKind.CREATED.value,
                after=Status.NEW.value,
                details=details,
            )
        )
        routing_service.route_ticket(
            session,
            ticket,
            category=category.code if category else None,
            policy=routing_service.policy_from(session, self.routing),
            now=now,
            clients=clients,
        )
        session.flush()
        sla_service.refresh(session, ticket, now)
        return ticket

    def _contact(self, session: Session, message: InboundMessage) -> Contact | None:
        if message.contact_id is not None:
            return session.get(Contact, message.contact_id)
        sender = message.sender
        return repositories.contact_for(
            session=session, email=sender.email, phone=sender.phone, telegram_id=sender.telegram_id
        )

    def _category(
        self, session: Session, message: InboundMessage
    ) -> tuple[Category | None, list[Suggestion]]:
        """The category to apply (None when not confident) and the classifier's suggestions."""
        if message.category_code:
            found = repositories.category_by_code(session=session, code=message.category_code)
            return found, []
        classifier = self._classifier or self._keywords(session)
        suggestions = classifier.classify(f"{message.subject}\n{message.body[:CLASSIFY_CHARS]}")
        if suggestions and suggestions[0].confidence >= self.routing.classify_threshold:
            found = repositories.category_by_code(session=session, code=suggestions[0].code)
            if found is not None and found.is_active:
                return found, suggestions
        return None, suggestions

    def _keywords(self, session: Session) -> Classifier:
        """The category table's keyword rules, read again at most every `KEYWORDS_TTL`
        seconds and rebuilt only when the table changed (a catalogue has thousands of nodes:
        reading them for every letter would cost more than the letter)."""
        fresh = time.monotonic() - self._keywords_read_at < KEYWORDS_TTL
        if self._keyword_classifier is not None and fresh:
            return self._keyword_classifier
        rows = session.execute(
            select(Category.id, Category.code, Category.keywords, Category.parent_id).where(
                Category.is_active.is_(True)
            )
        ).all()
        codes = {row[0]: row[1] for row in rows}
        rules = tuple(
            sorted(
                (code, tuple(keywords or ()), codes.get(parent_id) if parent_id else None)
                for _id, code, keywords, parent_id in rows
            )
        )
        self._keywords_read_at = time.monotonic()
        if self._keyword_classifier is None or rules != self._keyword_rules:
            self._keyword_classifier = KeywordClassifier.from_rows(rules)
            self._keyword_rules = rules
        return self._keyword_classifier

    def _add_message(
        self, session: Session, ticket: Ticket, message: InboundMessage, contact: Contact | None
    ) -> Message:
        sender = message.sender
        author = clean_line(sender.name) or sender.email or sender.phone or sender.telegram_id
        entry = Message(
            ticket_id=ticket.id,
            kind=MessageKind.INBOUND.value,
            channel=message.channel.value,
            author_contact_id=contact.id if contact else None,
            author_name=clean_line(author, max_length=200),
            body=clean_body(message.body),
            body_html=message.body_html,
            created_at=message.received_at,
            channel_message_id=message.channel_message_id,
            is_auto=message.is_auto,
            address=(sender.email or sender.telegram_id or sender.phone or None),
            notes=[note.as_json() for note in message.notes],
        )
        session.add(entry)
        session.flush()
        for item in message.attachments:
            digest = self.store.blobs.put(item.data)
            session.add(
                Attachment(
                    message_id=entry.id,
                    filename=safe_filename(item.filename),
                    content_type=clean_line(item.content_type, max_length=200)
                    or "application/octet-stream",
                    size=len(item.data),
                    sha256=digest,
                )
            )
        return entry

    def _follow_up(
        self, session: Session, ticket: Ticket, message: InboundMessage, entry: Message
    ) -> None:
        now = self.clock.now()
        session.add(
            Event(
                ticket_id=ticket.id,
                at=now,
                actor_id=None,
                kind=EventKind.MESSAGE.value,
                after=entry.id,
                details={
                    "message_kind": MessageKind.INBOUND.value,
                    "channel": message.channel.value,
                },
            )
        )
        if message.is_auto:
            return
        status = Status(ticket.status)
        if status in (Status.WAITING_CLIENT, Status.RESOLVED):
            # The client answered: the ball is back with us. An answer to a resolved ticket
            # says the fix did not hold, so it reopens, as an engineer's reopen would.
            ticket.status = Status.OPEN.value
            session.add(
                Event(
                    ticket_id=ticket.id,
                    at=now,
                    actor_id=None,
                    kind=EventKind.STATUS.value,
                    before=status.value,
                    after=Status.OPEN.value,
                    details={"by": "client"},
                )
            )
            if status == Status.RESOLVED:
                session.add(
                    Event(
                        ticket_id=ticket.id,
                        at=now,
                        actor_id=None,
                        kind=EventKind.REOPENED.value,
                        before=status.value,
                        after=Status.OPEN.value,
                        details={"by": "client", "message": entry.id},
                    )
                )
                ticket.resolved_at = None
                ticket.resolution_code = None
                ticket.resolution_text = None
            sla_service.refresh(session, ticket, now)
        ticket.updated_at = now

    def _acknowledge(self, session: Session, ticket: Ticket, message: InboundMessage) -> None:
        """Queue the automatic "registered as SD-…" answer; it never counts as a response."""
        if (
            message.is_auto
            or message.no_ack
            or message.channel not in (ChannelKind.EMAIL, ChannelKind.TELEGRAM)
        ):
            return
        assert ticket.id is not None
        sender = message.sender
        address = sender.email if message.channel == ChannelKind.EMAIL else sender.telegram_id
        if not address:
            return
        now = self.clock.now()
        earlier = session.execute(
            select(Message.channel_data).where(
                Message.address == address,
                Message.kind == MessageKind.OUTBOUND.value,
                Message.is_auto.is_(True),
                Message.created_at > now - timedelta(hours=1),
            )
        ).scalars()
        # Notices (taken, resolved) are automatic too, but only acknowledgements count here.
        recent = sum(1 for data in earlier if not (isinstance(data, dict) and "notice" in data))
        if int(recent) >= self.ack_limit_per_hour:
            log.info("acknowledgement to %s suppressed: %d this hour", address, recent)
            return
        session.add(
            Message(
                ticket_id=ticket.id,
                kind=MessageKind.OUTBOUND.value,
                channel=message.channel.value,
                author_name=SYSTEM.login,
                body=translate_to(
                    self.client_language,
                    N_("Your request is registered as {tag}. An engineer will answer soon."),
                ).format(tag=ticket_tag(ticket.id)),
                created_at=self.clock.now(),
                is_auto=True,
                address=address,
                delivery_state=DeliveryState.QUEUED.value,
            )
        )

    def _delivery_failed(self, session: Session, ticket: Ticket, message: InboundMessage) -> None:
        """A bounce of our letter: the letter is marked undelivered, with the server's reason."""
        failure = message.failure
        assert failure is not None
        letters = (
            session.execute(
                select(Message).where(
                    Message.ticket_id == ticket.id,
                    Message.kind == MessageKind.OUTBOUND.value,
                    Message.channel_message_id.in_(list(failure.original_ids)),
                )
            )
            .scalars()
            .all()
            if failure.original_ids
            else []
        )
        reason = clean_line(failure.reason, max_length=500) or "—"
        for letter in letters:
            letter.delivery_state = DeliveryState.FAILED.value
            letter.delivery_error = reason
        session.add(
            Event(
                ticket_id=ticket.id,
                at=self.clock.now(),
                actor_id=None,
                kind=EventKind.DELIVERY_FAILED.value,
                after=letters[0].id if letters else None,
                details={
                    "recipients": list(failure.recipients),
                    "reason": reason,
                },
            )
        )


def contract_holder(
    session: Session, client_id: int | None, on: datetime
) -> tuple[Client | None, Contract | None]:
    """The contract in force on `on` for a client or shop (nearest first, then up its tree),
    and the client that holds it: the ticket's client. Without a contract, the top of the tree.
    """
    if client_id is None:
        return None, None
    tree = repositories.client_chain(session=session, client_id=client_id)
    contract = repositories.active_contract(
        session=session, client_ids=[c.id for c in tree if c.id], on=on
    )
    holder = next((c for c in tree if contract and c.id == contract.client_id), None)
    return holder or (tree[-1] if tree else None), contract


def _contact_by_phone(session: Session, phones: tuple[str, ...]) -> Contact | None:
    for phone in phones:
        contact = repositories.contact_for(
            session=session, email=None, phone=phone, telegram_id=None
        )
        if contact is not None:
            return contact
    return None


def _client_by_inn(session: Session, inns: tuple[str, ...]) -> Client | None:
    """The client with one of these ИНН (the highest in its tree when a chain shares it)."""
    rows = (
        session.execute(select(Client).where(Client.inn.in_(list(inns))).order_by(Client.id))
        .scalars()
        .all()
    )
    legal = [c for c in rows if c.kind != ClientKind.SITE]
    return (legal or list(rows) or [None])[0]


def _device_by_entities(
    session: Session, entities: Entities, site_id: int | None
) -> tuple[Device | None, str]:
    """The register the text names: by РН ККТ, ЗН ФН, then ЗН ККТ; at the ticket's shop when it
    is known. A bare 16-digit number is tried as both a РН and a ЗН ФН."""
    lookups = (
        ("reg_number", Device.reg_number, (*entities.reg_numbers, *entities.numbers16)),
        ("fn_serial", Device.fn_serial, (*entities.fn_serials, *entities.numbers16)),
        ("serial", Device.serial, entities.kkt_serials),
    )
    for how, column, values in lookups:
        if not values:
            continue
        stmt = select(Device).where(column.in_(list(values)), Device.is_active.is_(True))
        if site_id is not None:
            stmt = stmt.where(Device.site_id == site_id)
        found = session.execute(stmt.order_by(Device.id)).scalars().all()
        if len(found) == 1:
            return found[0], how
    return None, ""


def _only_till(
    session: Session, site_id: int | None, device_id: int | None, category: Category | None
) -> bool:
    """Whether the request is about a till and the shop has no other register."""
    if site_id is None:
        return False
    area = category.code.partition(".")[0] if category is not None else None
    if device_id is None and area not in TILL_AREAS:
        return False
    registers = session.execute(
        select(func.count())
        .select_from(Device)
        .where(Device.site_id == site_id, Device.kind == "kkt", Device.is_active.is_(True))
    ).scalar_one()
    return int(registers) == 1


def _known(session: Session, channel: ChannelKind, key: str, source_ref: str | None) -> bool:
    condition = and_(Inbound.channel == channel.value, Inbound.idempotency_key == key)
    if source_ref is not None:
        condition = or_(condition, Inbound.source_ref == source_ref)
    return session.execute(select(Inbound.id).where(condition).limit(1)).first() is not None


def _inbound(session: Session, message: InboundMessage) -> Inbound | None:
    return session.execute(
        select(Inbound).where(
            Inbound.channel == message.channel.value,
            Inbound.idempotency_key == message.idempotency_key,
        )
    ).scalar_one_or_none()
