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
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sdconsole.classifier import Classifier, KeywordClassifier, Suggestion
from sdconsole.classifier.features import Entities, extract_entities, extract_phones
from sdconsole.config import RoutingSettings, Settings
from sdconsole.domain.billing import Coverage
from sdconsole.domain.clock import Clock
from sdconsole.domain.intake import (
    InboundAttachment,
    InboundMessage,
    Sender,
    ticket_id_from_subject,
    ticket_tag,
)
from sdconsole.domain.model import (
    OPEN_STATUSES,
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
from sdconsole.domain.routing import RouteRequest, RoutingPolicy, route
from sdconsole.domain.text import clean_body, clean_line, safe_filename
from sdconsole.i18n import N_, _, translate_to
from sdconsole.services import routing as routing_service
from sdconsole.services import sla as sla_service
from sdconsole.services.billing import coverage_event, coverage_of
from sdconsole.storage import Store, repositories, search
from sdconsole.storage.bulk import execute_many
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
_OPEN_VALUES = [s.value for s in OPEN_STATUSES]

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

    def open_many(self, messages: Sequence[InboundMessage]) -> list[IngestResult]:
        """Take many inputs at once: for each, in order, the outcome `ingest` would give it.

        The new requests among them (no ticket or thread to continue, not an automatic reply,
        nothing in the text to link one by one) and the replies that only join an open
        ticket's thread (of the store or of the batch; not waiting for the client, not
        resolved) are decided from a few reads a run and written with one statement per table,
        a run of consecutive ones in a savepoint; each other input goes through `ingest` in
        its place, so the order of things (the engineers' loads, the acknowledgements an hour,
        the thread a reply joins) is the order of the inputs. A run whose savepoint fails goes
        through `ingest` too, one input at a time.
        """
        results: dict[int, IngestResult] = {}
        with self.store.transaction() as session:
            try:
                with session.begin_nested():
                    chosen = {c.index: c for c in self._batchable(session, messages)}
            except Exception:  # noqa: BLE001 - every input is taken one by one instead
                log.exception("batch intake of %d inputs failed; one by one", len(messages))
                chosen = {}
            run: list[_Batched] = []
            reads = _Reads()
            for index in range(len(messages) + 1):
                if index in chosen:
                    run.append(chosen[index])
                    continue
                if run:
                    results.update(self._write_run(session, messages, run, reads, results))
                    run = []
                if index < len(messages):
                    results[index] = self.ingest(messages[index])
        return [results[i] for i in range(len(messages))]

    def _write_run(
        self,
        session: Session,
        messages: Sequence[InboundMessage],
        run: list[_Batched],
        reads: _Reads,
        done: dict[int, IngestResult],
    ) -> dict[int, IngestResult]:
        """A run of consecutive batched inputs, in a savepoint; one by one if it fails."""
        try:
            with session.begin_nested():
                created = self._open_batch(session, messages, run, reads, done)
        except _Changed as change:
            log.info("batch intake of %d inputs: %s; one by one", len(run), change)
            return {c.index: self.ingest(messages[c.index]) for c in run}
        except Exception:  # noqa: BLE001 - the run is taken one by one instead
            log.exception("batch intake of %d inputs failed; one by one", len(run))
            return {c.index: self.ingest(messages[c.index]) for c in run}
        return dict(zip((c.index for c in run), created, strict=True))

    def _batchable(self, session: Session, messages: Sequence[InboundMessage]) -> list[_Batched]:
        """The inputs `_open_batch` decides exactly as `ingest` would, with their contacts:
        of those neither in the ledger nor repeated in the batch, that name no ticket, continue
        no open thread and are no automatic reply,
        - the new requests whose text `ingest` would not link one by one (a register's number,
          or an ИНН to look up);
        - the replies that join a ticket's thread and change nothing else (`_answered`): of a
          ticket in the store, or of an earlier input of the batch that is batched too."""
        repeats: Counter[tuple[str, str]] = Counter(
            (m.channel.value, m.idempotency_key) for m in messages
        )
        threads: Counter[str] = Counter(m.thread_key for m in messages if m.thread_key)
        refs: Counter[str] = Counter(m.source_ref for m in messages if m.source_ref)
        candidates: dict[tuple[str, str], int] = {}
        for index, message in enumerate(messages):
            key = (message.channel.value, message.idempotency_key)
            if (
                repeats[key] > 1  # the first is taken, the rest are its duplicates: in order
                or (message.thread_key and threads[message.thread_key] > 1)  # they continue it
                or (message.source_ref and refs[message.source_ref] > 1)
                or message.contact_id is not None
                or (message.device_id is not None and message.site_id is None)
                or message.ticket_id is not None
                or message.is_auto
                or message.failure is not None
                or ticket_id_from_subject(message.subject) is not None
            ):
                continue
            candidates[key] = index
        by_channel: dict[str, list[str]] = {}
        for channel, known in candidates:
            by_channel.setdefault(channel, []).append(known)
        for channel, keys in by_channel.items():
            for chunk in _chunks(sorted(keys)):
                for known in session.execute(
                    select(Inbound.idempotency_key).where(
                        Inbound.channel == channel, Inbound.idempotency_key.in_(chunk)
                    )
                ).scalars():
                    candidates.pop((channel, known), None)
        wanted = {messages[i].source_ref for i in candidates.values()} - {None}
        fetched: set[str | None] = set()
        for chunk in _chunks(sorted(r for r in wanted if r)):
            fetched.update(
                session.execute(select(Inbound.source_ref).where(Inbound.source_ref.in_(chunk)))
                .scalars()
                .all()
            )
        wanted = {messages[i].thread_key for i in candidates.values()} - {None}
        continued: set[str | None] = set()
        for chunk in _chunks(sorted(t for t in wanted if t)):
            continued.update(
                session.execute(
                    select(Ticket.source_key).where(
                        Ticket.source_key.in_(chunk), Ticket.status.in_(_OPEN_VALUES)
                    )
                ).scalars()
            )
        kept = [
            i
            for i in sorted(candidates.values())
            if messages[i].thread_key not in continued and messages[i].source_ref not in fetched
        ]
        answered = _answered(session, messages, kept)
        contacts = _contacts_for(session, [messages[i].sender for i in kept])
        found = [_text_entities(messages[i]) if i not in answered else None for i in kept]
        # A stranger's text may give a phone of a known contact: the ticket is theirs.
        by_phone = _contacts_by_phone(
            session,
            {
                p
                for c, e in zip(contacts, found, strict=True)
                if c is None and e is not None
                for p in e.phones
            },
        )
        chosen: list[_Batched] = []
        taken: set[int] = set()
        for index, contact, entities in zip(kept, contacts, found, strict=True):
            message = messages[index]
            if entities is None:  # a follow-up: of a ticket in the store or of one of the batch
                target = answered[index]
                if isinstance(target, _Stored):
                    chosen.append(_Batched(index, contact, None, follows=target.ticket_id))
                    taken.add(index)
                elif target in taken:
                    chosen.append(_Batched(index, contact, None, after=target))
                    taken.add(index)
                continue  # answering an input taken one by one: one by one too
            linked = (
                next((by_phone[p] for p in entities.phones if p in by_phone), None)
                if contact is None
                else None
            )
            if (
                message.device_id is None
                and (
                    entities.reg_numbers
                    or entities.numbers16
                    or entities.fn_serials
                    or entities.kkt_serials
                )
            ) or (
                message.site_id is None
                and message.client_id is None
                and (contact or linked) is None
                and entities.inns
            ):
                continue
            chosen.append(_Batched(index, contact, linked))
            taken.add(index)
        return chosen

    def _open_batch(
        self,
        session: Session,
        inputs: Sequence[InboundMessage],
        chosen: list[_Batched],
        reads: _Reads,
        done: dict[int, IngestResult],
    ) -> list[IngestResult]:
        """New tickets and follow-ups for `_batchable` inputs: the reads once for the run, the
        decisions in memory (the same `_plan_ticket`, routing and SLA replay as `ingest`), one
        write a table, the rows in the inputs' order.

        Raises:
            _Changed: a follow-up's ticket changed since the batch was read (by nothing of
                this batch: `ingest` moves no open ticket out of `_APPENDING`).
        """
        now = self.clock.now()
        follow_ups = [c for c in chosen if not c.fresh]
        chosen = [c for c in chosen if c.fresh]
        messages = [inputs[c.index] for c in chosen]
        people_clients = {
            person.client_id
            for c in chosen
            for person in (c.contact, c.linked)
            if person is not None and person.client_id is not None
        }
        wanted = (
            {m.site_id for m in messages if m.site_id is not None}
            | {m.client_id for m in messages if m.client_id is not None}
            | people_clients
        ) - reads.client_ids
        reads.clients.extend(_load_clients(session, wanted, reads.client_ids))
        held_ids = sorted(reads.client_ids)
        for day in sorted({m.received_at.date() for m in messages}):
            # Fills the session's memo of each client's contract in force that day.
            repositories.active_contract(
                session=session,
                client_ids=held_ids,
                on=next(m.received_at for m in messages if m.received_at.date() == day),
            )
        if reads.policy is None:
            reads.policy = routing_service.policy_from(session, self.routing)
        policy = reads.policy
        people = routing_service.candidates(session, now) if policy.assign and chosen else []
        categories = reads.categories
        acknowledged = _acknowledgements(
            session, [_ack_address(m) for m in messages], now - timedelta(hours=1)
        )

        # Who and where first: the shops' register counts are read for all of them at once.
        firsts: list[tuple[int | None, int | None, Contract | None]] = []
        for message, batched in zip(messages, chosen, strict=True):
            site_id = message.site_id
            contact = batched.contact or batched.linked
            if site_id is None and contact is not None:
                owner = session.get(Client, contact.client_id)  # in the session: no read
                if owner is not None and owner.kind == ClientKind.SITE:
                    site_id = owner.id
            anchor = site_id or message.client_id or (contact.client_id if contact else None)
            holder, contract = contract_holder(session, anchor, message.received_at)
            firsts.append((site_id, message.client_id or (holder.id if holder else None), contract))
        unread = {site for site, _c, _k in firsts if site is not None} - reads.registers_read
        reads.registers.update(_registers_at(session, unread))
        reads.registers_read |= unread
        registers = reads.registers
        paths = [
            routing_service.client_path(session, site_id or client_id)
            for site_id, client_id, _contract in firsts
        ]
        unread = {c for path, _manager in paths for c in path} - reads.raising_read
        reads.raising |= routing_service.raising_clients(session, self.routing, unread)
        reads.raising_read |= unread
        raising = reads.raising

        tickets: list[dict[str, Any]] = []
        trails: list[list[dict[str, Any]]] = []
        acks: list[str | None] = []
        for batched, (site_id, client_id, contract), clients in zip(
            chosen, firsts, paths, strict=True
        ):
            message, contact = inputs[batched.index], batched.contact
            category, suggestions = self._category(session, message, categories)
            area = category.code.partition(".")[0] if category is not None else None
            person = contact or batched.linked
            found = _Found(
                site_id=site_id,
                device_id=message.device_id,
                client_id=client_id,
                contact_id=person.id if person else None,
                contract=contract,
                category=category,
                suggestions=suggestions,
                linked={"contact": "phone"} if batched.linked is not None else {},
                clients=clients,
                only_till=site_id is not None
                and registers.get(site_id, 0) == 1
                and (message.device_id is not None or area in TILL_AREAS),
                raise_impact=any(c in raising for c in clients[0]),
            )
            values, covered, details = _plan_ticket(message, found, now)
            unknown = contact is None and message.channel in (
                ChannelKind.EMAIL,
                ChannelKind.TELEGRAM,
            )
            values["tags"] = [UNKNOWN_SENDER_TAG] if unknown else []
            trail: list[dict[str, Any]] = []
            if covered is not Coverage.COVERED:
                coverage = {"field": "coverage"}
                trail.append(_event(now, EventKind.FIELD, None, covered.value, coverage))
            trail.append(_event(now, EventKind.CREATED, None, Status.NEW.value, details))
            decision = route(
                RouteRequest(
                    category=category.code if category else None,
                    line=values["line"],
                    team=values["team"],
                    priority=values["priority"],
                    channel=values["channel"],
                    clients=clients[0],
                    manager_id=clients[1],
                ),
                people,
                policy,
            )
            values["line"], values["team"] = decision.line, decision.team
            values["assignee_id"] = decision.assignee_id
            if decision.assignee_id is not None:
                people = [
                    replace(c, open_tickets=c.open_tickets + 1)
                    if c.engineer_id == decision.assignee_id
                    else c
                    for c in people
                ]
            trail.append(routing_service.routed_event(None, decision, now))
            reading = sla_service.replay(
                message.received_at,
                Priority(values["priority"]),
                sla_service.facts_for([SimpleNamespace(**e) for e in trail]),
                sla_service.contract_policy(session, values["contract_id"], site_id),
                now,
            )
            values.update(sla_service.reading_fields(Status.NEW, reading))
            alerts, values["sla_alerts"], values["sla_next_alert_at"] = sla_service.alerts_reached(
                None, 0, reading, now
            )
            trail.extend(alerts)
            tickets.append(values)
            trails.append(trail)
            address = _ack_address(message)
            sent = acknowledged.get(address or "", 0)
            if address is not None and sent >= self.ack_limit_per_hour:
                log.info("acknowledgement to %s suppressed: %d this hour", address, sent)
                address = None
            if address is not None:
                acknowledged[address] = sent + 1
            acks.append(address)

        # The follow-ups, in the inputs' order among the new ones: each continues a ticket of
        # the store, of this run or of an earlier run of the batch.
        plans = {
            c.index: (values, trail, address)
            for c, values, trail, address in zip(chosen, tickets, trails, acks, strict=True)
        }
        order = sorted([*chosen, *follow_ups], key=lambda c: c.index)
        in_run = {c.index for c in order}
        ticket_of: dict[int, int] = {}
        for batched in follow_ups:  # in order: what a run opens is known after its insert
            if batched.after not in in_run:
                ticket_of[batched.index] = self._continued(session, batched, done, now)
            elif batched.after in ticket_of:
                ticket_of[batched.index] = ticket_of[batched.after]
        ticket_ids = _insert_returning(session, Ticket, _same_columns(tickets)) if tickets else []
        ticket_of.update(zip((c.index for c in chosen), ticket_ids, strict=True))
        for batched in follow_ups:
            if batched.index not in ticket_of:
                assert batched.after is not None
                ticket_of[batched.index] = ticket_of[batched.after]
        entries: list[dict[str, Any]] = []
        for batched in order:
            message, contact = inputs[batched.index], batched.contact
            ticket_id = ticket_of[batched.index]
            entries.append(_message_values(ticket_id, message, contact.id if contact else None))
            address = plans[batched.index][2] if batched.fresh else None
            if address is not None:
                entries.append(self._ack_values(ticket_id, message, address))
        entry_ids = iter(_insert_returning(session, Message, _same_columns(entries)))
        message_of: dict[int, int] = {}
        for batched in order:
            message_of[batched.index] = next(entry_ids)
            if batched.fresh and plans[batched.index][2] is not None:
                next(entry_ids)
        events: list[dict[str, Any]] = []
        for batched in order:
            ticket_id = ticket_of[batched.index]
            if batched.fresh:
                trail = plans[batched.index][1]
                events.extend({**event, "ticket_id": ticket_id} for event in trail)
            else:
                details = {
                    "message_kind": MessageKind.INBOUND.value,
                    "channel": inputs[batched.index].channel.value,
                }
                event = _event(now, EventKind.MESSAGE, None, message_of[batched.index], details)
                events.append({**event, "ticket_id": ticket_id})
        execute_many(session, insert(_core(Event)), events)
        messages = [inputs[c.index] for c in order]
        ticket_ids = [ticket_of[c.index] for c in order]
        message_ids = [message_of[c.index] for c in order]
        files = [
            (message_id, item)
            for message_id, message in zip(message_ids, messages, strict=True)
            for item in message.attachments
        ]
        if files:
            digests = self.store.blobs.put_many([item.data for _id, item in files])
            execute_many(
                session,
                insert(_core(Attachment)),
                [
                    _attachment_values(message_id, item, digest)
                    for (message_id, item), digest in zip(files, digests, strict=True)
                ],
            )
        execute_many(
            session,
            insert(_core(Inbound)),
            [
                {
                    "channel": message.channel.value,
                    "idempotency_key": message.idempotency_key,
                    "received_at": message.received_at,
                    "raw": message.raw,
                    "source_ref": message.source_ref,
                    "ticket_id": ticket_id,
                    "message_id": message_id,
                }
                for message, ticket_id, message_id in zip(
                    messages, ticket_ids, message_ids, strict=True
                )
            ],
        )
        search.mark_changed(session, ticket_ids)
        return [
            IngestResult(
                Outcome.CREATED if batched.fresh else Outcome.APPENDED, ticket_id, message_id
            )
            for batched, ticket_id, message_id in zip(order, ticket_ids, message_ids, strict=True)
        ]

    def _continued(
        self, session: Session, batched: _Batched, done: dict[int, IngestResult], now: datetime
    ) -> int:
        """The ticket of the store a batched follow-up joins, or one an earlier run of the
        batch opened or continued; its last change now (`_follow_up`).

        Raises:
            _Changed: it takes no plain follow-up now (changed since the batch was read).
        """
        ticket_id = batched.follows
        if ticket_id is None:
            earlier = done.get(batched.after) if batched.after is not None else None
            ticket_id = earlier.ticket_id if earlier is not None else None
        ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is None or ticket.status not in _APPENDING:
            raise _Changed(f"ticket {ticket_id} takes no plain follow-up now")
        ticket.updated_at = now
        assert ticket.id is not None
        return ticket.id

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
        clients = routing_service.client_path(session, site_id or client_id)
        found = _Found(
            site_id=site_id,
            device_id=device_id,
            client_id=client_id,
            contact_id=contact.id if contact else None,
            contract=contract,
            category=category,
            suggestions=suggestions,
            linked=linked,
            clients=clients,
            only_till=_only_till(session, site_id, device_id, category),
            raise_impact=routing_service.raises_impact(session, self.routing, clients[0]),
        )
        values, covered, details = _plan_ticket(message, found, now)
        ticket = Ticket(**values)
        session.add(ticket)
        session.flush()
        if covered is not Coverage.COVERED:
            session.add(coverage_event(ticket, None, covered, now))
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
        self,
        session: Session,
        message: InboundMessage,
        memo: dict[str, Category | None] | None = None,
    ) -> tuple[Category | None, list[Suggestion]]:
        """The category to apply (None when not confident) and the classifier's suggestions.

        Args:
            memo: categories by code already read (a batch's), filled as they are read.
        """

        def by_code(code: str) -> Category | None:
            if memo is None:
                return repositories.category_by_code(session=session, code=code)
            if code not in memo:
                memo[code] = repositories.category_by_code(session=session, code=code)
            return memo[code]

        if message.category_code:
            return by_code(message.category_code), []
        classifier = self._classifier or self._keywords(session)
        suggestions = classifier.classify(f"{message.subject}\n{message.body[:CLASSIFY_CHARS]}")
        if suggestions and suggestions[0].confidence >= self.routing.classify_threshold:
            found = by_code(suggestions[0].code)
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
        entry = Message(**_message_values(ticket.id, message, contact.id if contact else None))
        session.add(entry)
        session.flush()
        for item in message.attachments:
            digest = self.store.blobs.put(item.data)
            session.add(Attachment(**_attachment_values(entry.id, item, digest)))
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
        address = _ack_address(message)
        if address is None:
            return
        assert ticket.id is not None
        now = self.clock.now()
        recent = _acknowledgements(session, [address], now - timedelta(hours=1)).get(address, 0)
        if recent >= self.ack_limit_per_hour:
            log.info("acknowledgement to %s suppressed: %d this hour", address, recent)
            return
        session.add(Message(**self._ack_values(ticket.id, message, address)))

    def _ack_values(self, ticket_id: int, message: InboundMessage, address: str) -> dict[str, Any]:
        """The automatic "registered as SD-…" answer, as column values."""
        return {
            **_message_columns(),
            "ticket_id": ticket_id,
            "kind": MessageKind.OUTBOUND.value,
            "channel": message.channel.value,
            "author_name": SYSTEM.login,
            "body": translate_to(
                self.client_language,
                N_("Your request is registered as {tag}. An engineer will answer soon."),
            ).format(tag=ticket_tag(ticket_id)),
            "created_at": self.clock.now(),
            "is_auto": True,
            "address": address,
            "delivery_state": DeliveryState.QUEUED.value,
        }

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


@dataclass
class _Reads:
    """What the runs of one `open_many` read that the inputs taken between them do not change:
    the clients (held, so the session keeps them), the shops' register counts, the categories,
    the clients whose requests count higher, the routing rules. The engineers' loads and the
    acknowledgements of the hour are read again for each run."""

    clients: list[Client] = field(default_factory=list)
    client_ids: set[int] = field(default_factory=set)
    registers: dict[int, int] = field(default_factory=dict)
    registers_read: set[int] = field(default_factory=set)
    categories: dict[str, Category | None] = field(default_factory=dict)
    raising: frozenset[int] = frozenset()
    raising_read: set[int] = field(default_factory=set)
    policy: RoutingPolicy | None = None


@dataclass(frozen=True, slots=True)
class _Batched:
    """An input `open_many` writes in its batch: a new ticket, or a follow-up (`follows` or
    `after`) of an open ticket that only takes the message (not waiting for the client, not
    resolved, not finished: no status to change, no clock to restart)."""

    index: int
    """Its position among the batch's inputs."""
    contact: Contact | None
    """The sender's contact."""
    linked: Contact | None
    """For a stranger, the contact whose phone the text gives."""
    follows: int | None = None
    """The ticket in the store it continues (its id: the ticket is read again on writing,
    as inputs taken one by one in between may change it)."""
    after: int | None = None
    """The earlier input of the batch it answers: it continues that one's ticket."""

    @property
    def fresh(self) -> bool:
        """Whether it opens a ticket."""
        return self.follows is None and self.after is None


@dataclass(frozen=True, slots=True)
class _Stored:
    """A ticket in the store that a reply of the batch continues."""

    ticket_id: int


class _Changed(Exception):
    """A ticket a batched follow-up continues changed since the batch was read."""


@dataclass(frozen=True, slots=True)
class _Found:
    """What a new ticket's fields are decided from: looked up in the store one message at a
    time by `ingest`, a batch at a time by `open_many`."""

    site_id: int | None
    device_id: int | None
    client_id: int | None
    contact_id: int | None
    contract: Contract | None
    category: Category | None
    suggestions: list[Suggestion]
    linked: dict[str, str]
    clients: tuple[tuple[int, ...], int | None]
    """The `routing.client_path` of the ticket's shop or client."""
    only_till: bool
    raise_impact: bool


def _plan_ticket(
    message: InboundMessage, found: _Found, now: datetime
) -> tuple[dict[str, Any], Coverage, dict[str, Any]]:
    """A new ticket's column values (before routing and the SLA clocks), whether its contract
    covers it, and the details of its ``created`` event."""
    category, contract = found.category, found.contract
    text = f"{message.subject}\n{message.body[:CLASSIFY_CHARS]}"
    impact = message.impact or (category.default_impact if category else 2)
    urgency = message.urgency or (category.default_urgency if category else 2)
    assessment = assess(
        impact, urgency, text, only_till=found.only_till, raise_impact=found.raise_impact
    )
    impact = message.impact or assessment.impact
    urgency = message.urgency or assessment.urgency
    priority = message.priority or assessment.priority
    subject = (
        clean_line(message.subject) or clean_line(message.body, max_length=80) or _("(no subject)")
    )
    covered = coverage_of(contract, category, message.received_at)
    values: dict[str, Any] = {
        "subject": subject,
        "client_id": found.client_id,
        "site_id": found.site_id,
        "contact_id": found.contact_id,
        "device_id": found.device_id,
        "contract_id": contract.id if contract else None,
        "channel": message.channel.value,
        "category_id": category.id if category else None,
        "impact": impact,
        "urgency": urgency,
        "priority": int(priority),
        "line": category.line if category else 1,
        "team": category.team if category else None,
        "status": Status.NEW.value,
        "received_at": message.received_at,
        "created_at": now,
        "updated_at": now,
        "source_key": message.thread_key,
        "coverage": covered.value,
        "due_at": now,
    }
    details: dict[str, Any] = {
        "channel": message.channel.value,
        "priority": Priority(priority).label,
        "category": category.code if category else None,
        "contract": contract.number if contract else None,
    }
    if found.suggestions and category is None:
        details["suggestions"] = [
            {"code": s.code, "confidence": s.confidence} for s in found.suggestions
        ]
    if found.linked:
        details["linked"] = found.linked
    if assessment.reasons and message.priority is None:
        details["priority_reasons"] = [
            {"template": t, "params": dict(p)} for t, p in assessment.reasons
        ]
    return values, covered, details


def _message_values(
    ticket_id: int | None, message: InboundMessage, contact_id: int | None
) -> dict[str, Any]:
    """The thread entry of an input, as column values."""
    sender = message.sender
    author = clean_line(sender.name) or sender.email or sender.phone or sender.telegram_id
    return {
        **_message_columns(),
        "ticket_id": ticket_id,
        "kind": MessageKind.INBOUND.value,
        "channel": message.channel.value,
        "author_contact_id": contact_id,
        "author_name": clean_line(author, max_length=200),
        "body": clean_body(message.body),
        "body_html": message.body_html,
        "created_at": message.received_at,
        "channel_message_id": message.channel_message_id,
        "is_auto": message.is_auto,
        "address": (sender.email or sender.telegram_id or sender.phone or None),
        "notes": [note.as_json() for note in message.notes],
    }


def _attachment_values(
    message_id: int | None, item: InboundAttachment, digest: str
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "filename": safe_filename(item.filename),
        "content_type": clean_line(item.content_type, max_length=200) or "application/octet-stream",
        "size": len(item.data),
        "sha256": digest,
    }


def _event(
    at: datetime, kind: EventKind, before: Any, after: Any, details: dict[str, Any]
) -> dict[str, Any]:
    """A system event of a new ticket, as column values (its ticket id set on writing)."""
    return {
        "ticket_id": None,
        "at": at,
        "actor_id": None,
        "kind": kind.value,
        "before": before,
        "after": after,
        "details": details,
    }


def _text_entities(message: InboundMessage) -> Entities:
    """What `_new_ticket` uses of a new request's text: its phones (for a contact), and its
    identifiers unless the register and the shop are known already (a health report's)."""
    text = f"{message.subject}\n{message.body[:CLASSIFY_CHARS]}"
    if message.device_id is not None and message.site_id is not None:
        return Entities(phones=extract_phones(text))
    return extract_entities(text)


def _insert_returning(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with one statement and return their ids, in the rows' order."""
    core = _core(table)
    if session.get_bind().dialect.name == "sqlite":
        # SQLAlchemy has no way to match SQLite's RETURNING rows to the parameters but to
        # insert them one statement each. There is no need: within the write lock a
        # transaction holds, SQLite numbers the rows of a multi-row VALUES in their order
        # (the largest rowid plus one, row after row), so the ids sorted are the rows' ids.
        found = sorted(
            int(row_id)
            for row_id in session.execute(insert(core).returning(core.c.id), rows).scalars()
        )
        if len(found) != len(rows):
            raise RuntimeError(f"{core.name}: {len(rows)} rows inserted, {len(found)} ids back")
        return found
    statement = insert(core).returning(core.c.id, sort_by_parameter_order=True)
    return [int(row_id) for row_id in session.execute(statement, rows).scalars()]


def _core(model: Any) -> Table:
    """A table class's Core table: rows written through it skip the ORM's bulk machinery (a
    third of the cost), with the same column types and defaults."""
    table: Table = model.__table__
    return table


def _load_clients(session: Session, site_ids: set[int], seen: set[int]) -> list[Client]:
    """The shops and everything above them not yet `seen` (which grows with them), read into
    the session a level at a time (so `client_chain` and the SLA's shop zone find them there);
    returned to keep them held."""
    held: list[Client] = []
    wanted = sorted(site_ids - seen)
    for _depth in range(6):  # shop → legal entity → chain, and a margin
        if not wanted:
            break
        seen.update(wanted)
        level = [
            client
            for chunk in _chunks(wanted)
            for client in session.execute(select(Client).where(Client.id.in_(chunk))).scalars()
        ]
        held.extend(level)
        wanted = sorted({c.parent_id for c in level if c.parent_id} - seen)
    return held


def _registers_at(session: Session, site_ids: set[int]) -> dict[int, int]:
    """The active cash registers of each shop (what `_only_till` counts), by shop."""
    counts: dict[int, int] = {}
    for chunk in _chunks(sorted(site_ids)):
        rows = session.execute(
            select(Device.site_id, func.count())
            .where(Device.site_id.in_(chunk), Device.kind == "kkt", Device.is_active.is_(True))
            .group_by(Device.site_id)
        ).all()
        counts.update((int(site), int(count)) for site, count in rows)
    return counts


_APPENDING = frozenset(
    s.value for s in OPEN_STATUSES if s not in (Status.WAITING_CLIENT, Status.RESOLVED)
)
"""Statuses in which a client's message only joins the thread (`IntakeService._follow_up`)."""


def _answered(
    session: Session, messages: Sequence[InboundMessage], kept: list[int]
) -> dict[int, _Stored | int | None]:
    """The replies among `kept` and what `_continued_ticket` would continue for each: the
    ticket in the store (only one that merely takes the message), the index of the batch's
    input it answers (the newest of the thread: written after every stored one), or None for
    one that `ingest` would take otherwise (a ticket waiting or finished, a gone one). A reply
    to nothing known is no reply: a new request."""
    earlier: dict[str, int] = {}
    answered: dict[int, _Stored | int | None] = {}
    for index, message in enumerate(messages):
        if message.in_reply_to:
            matches = [earlier[i] for i in message.in_reply_to if i in earlier]
            if matches:
                answered[index] = max(matches)
        if message.channel_message_id:
            earlier[message.channel_message_id] = index
    wanted = {i for index in kept if index not in answered for i in messages[index].in_reply_to}
    newest: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(sorted(wanted)):
        for row_id, ticket_id, channel_id in session.execute(
            select(Message.id, Message.ticket_id, Message.channel_message_id).where(
                Message.channel_message_id.in_(chunk)
            )
        ):
            if channel_id not in newest or row_id > newest[channel_id][0]:
                newest[channel_id] = (row_id, ticket_id)
    stored: dict[int, int] = {}
    for index in kept:
        if index not in answered:
            rows = [newest[i] for i in messages[index].in_reply_to if i in newest]
            if rows:
                stored[index] = max(rows)[1]
    statuses = {
        ticket_id: status
        for chunk in _chunks(sorted(set(stored.values())))
        for ticket_id, status in session.execute(
            select(Ticket.id, Ticket.status).where(Ticket.id.in_(chunk))
        )
    }
    for index, ticket_id in stored.items():
        if ticket_id in statuses:
            answered[index] = _Stored(ticket_id) if statuses[ticket_id] in _APPENDING else None
    return {index: answered[index] for index in kept if index in answered}


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ack_address(message: InboundMessage) -> str | None:
    """Where an acknowledgement of this input would go; None when it gets none."""
    if (
        message.is_auto
        or message.no_ack
        or message.channel not in (ChannelKind.EMAIL, ChannelKind.TELEGRAM)
    ):
        return None
    sender = message.sender
    address = sender.email if message.channel == ChannelKind.EMAIL else sender.telegram_id
    return address or None


def _acknowledgements(
    session: Session, addresses: Sequence[str | None], since: datetime
) -> dict[str, int]:
    """How many acknowledgements each address was sent since `since` (the rate limit's count;
    notices such as "taken" and "resolved" are automatic too, but do not count)."""
    counts: dict[str, int] = {}
    for chunk in _chunks(sorted({a for a in addresses if a})):
        for address, data in session.execute(
            select(Message.address, Message.channel_data).where(
                Message.address.in_(chunk),
                Message.kind == MessageKind.OUTBOUND.value,
                Message.is_auto.is_(True),
                Message.created_at > since,
            )
        ):
            if not (isinstance(data, dict) and "notice" in data):
                counts[address] = counts.get(address, 0) + 1
    return counts


def _contacts_for(session: Session, senders: Sequence[Sender]) -> list[Contact | None]:
    """`repositories.contact_for` of each sender, from one read per chunk of addresses: the
    active contact with the lowest id matching any of the sender's addresses."""
    emails = sorted({s.email.lower() for s in senders if s.email})
    phones = sorted({s.phone for s in senders if s.phone})
    chats = sorted({s.telegram_id for s in senders if s.telegram_id})
    found: dict[int, Contact] = {}
    for column, values in (
        (func.lower(Contact.email), emails),
        (Contact.phone, phones),
        (Contact.telegram_id, chats),
    ):
        for chunk in _chunks(values):
            for contact in session.execute(
                select(Contact).where(column.in_(chunk), Contact.is_active)
            ).scalars():
                found[contact.id or 0] = contact
    by_email: dict[str, Contact] = {}
    by_phone: dict[str, Contact] = {}
    by_chat: dict[str, Contact] = {}
    for contact_id in sorted(found, reverse=True):  # the lowest id is set last and wins
        contact = found[contact_id]
        if contact.email:
            by_email[contact.email.lower()] = contact
        if contact.phone:
            by_phone[contact.phone] = contact
        if contact.telegram_id:
            by_chat[contact.telegram_id] = contact
    chosen: list[Contact | None] = []
    for sender in senders:
        matches = [
            c
            for c in (
                by_email.get(sender.email.lower()) if sender.email else None,
                by_phone.get(sender.phone) if sender.phone else None,
                by_chat.get(sender.telegram_id) if sender.telegram_id else None,
            )
            if c is not None
        ]
        chosen.append(min(matches, key=lambda c: c.id or 0) if matches else None)
    return chosen


def _contacts_by_phone(session: Session, phones: set[str]) -> dict[str, Contact]:
    """The active contact with the lowest id for each of these phones that has one."""
    found: dict[str, Contact] = {}
    for chunk in _chunks(sorted(phones)):
        for contact in session.execute(
            select(Contact)
            .where(Contact.phone.in_(chunk), Contact.is_active)
            .order_by(Contact.id.desc())
        ).scalars():
            found[contact.phone or ""] = contact  # the lowest id comes last and wins
    return found


def _message_columns() -> dict[str, Any]:
    """Every column of a thread entry that intake writes, at its default: rows written in one
    statement must all name the same columns."""
    return {
        "author_contact_id": None,
        "author_name": "",
        "body": "",
        "body_html": None,
        "channel_message_id": None,
        "is_auto": False,
        "address": None,
        "delivery_state": None,
        "channel_data": None,
        "notes": [],
    }


def _same_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check that rows to be written in one statement name the same columns."""
    if rows:
        first = set(rows[0])
        odd = next((set(r) ^ first for r in rows if set(r) != first), None)
        if odd:
            raise ValueError(f"rows of one statement differ in columns {sorted(odd)}")
    return rows


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
