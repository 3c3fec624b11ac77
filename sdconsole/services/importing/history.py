"""Provides the history import: tickets with their threads and events from another service desk.

`sdconsole import tickets FILE.jsonl` reads one JSON object per line (format 1, documented in
docs/import-formats.md): a ticket's identity and first classification, its messages, and its
status, assignment, priority, category and escalation events with their times. Every line is
checked first, with its line number and the field; one bad line and nothing is imported. Lines
whose `external_id` is already stored are skipped, so importing the same file again changes
nothing. Each ticket's SLA clocks are then replayed from the imported history by the same engine
that keeps live tickets (`services.sla.refresh`), so reports cover migrated and live tickets alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import ImportFailed
from sdconsole.domain.model import (
    ChannelKind,
    ClientKind,
    EventKind,
    MessageKind,
    Priority,
    Status,
)
from sdconsole.domain.priority import priority_for
from sdconsole.domain.text import clean_body, clean_line
from sdconsole.i18n import N_
from sdconsole.services import sla as sla_service
from sdconsole.services.billing import judge_coverage
from sdconsole.services.importing.csv_table import IssueLog
from sdconsole.services.intake import contract_holder
from sdconsole.services.tickets import RESOLUTION_CODE_RE
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import Category, Client, Engineer, Event, Message, Ticket

FORMAT_VERSION = 1
MAX_LINE_BYTES = 10_000_000
"""A ticket with a long thread is big, but a line of more than 10 MB is not a ticket."""

EVENT_KINDS = ("status", "assign", "priority", "category", "escalate")
_REPLY_CHANNELS = {ChannelKind.EMAIL, ChannelKind.TELEGRAM, ChannelKind.PHONE, ChannelKind.PORTAL}


@dataclass(frozen=True, slots=True)
class HistoryImportSummary:
    """What a history import did."""

    created: int
    unchanged: int
    """Lines whose `external_id` was imported before: skipped."""


@dataclass(slots=True)
class _Step:
    """One checked event of a ticket's history."""

    at: datetime
    kind: str
    to: Any
    by: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Record:
    """One checked line: a ticket to write."""

    line: int
    external_id: str
    subject: str
    received_at: datetime
    channel: ChannelKind
    priority: Priority
    client: Client | None
    category: Category | None
    line_no: int | None
    messages: list[dict[str, Any]]
    steps: list[_Step]


def import_history(store: Store, clock: Clock, path: Path) -> HistoryImportSummary:
    """Check every line of a JSON-lines history file, then write its new tickets at once.

    Raises:
        ImportFailed: the file cannot be read.
        ImportRowsFailed: problems, each with its line and field; nothing was written.
    """
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFailed(
            N_("Cannot read {path}: {detail}"), path=str(path), detail=error.strerror or str(error)
        ) from None
    log = IssueLog(source)
    with store.reader() as session:
        stored = set(
            session.execute(
                select(Ticket.external_id).where(Ticket.external_id.is_not(None))
            ).scalars()
        )
        checker = _Checker(session, log)
        records: list[_Record] = []
        skipped = 0
        seen: dict[str, int] = {}
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            record = checker.line(number, raw)
            if record is None:
                continue
            if record.external_id in seen:
                log.add(
                    number,
                    "external_id",
                    N_("{value} repeats line {first}"),
                    value=record.external_id,
                    first=seen[record.external_id],
                )
                continue
            seen[record.external_id] = number
            if record.external_id in stored:
                skipped += 1
            else:
                records.append(record)
    log.raise_if_any()
    now = clock.now()
    with store.transaction() as session:
        for record in records:
            _write(session, record, now)
    return HistoryImportSummary(created=len(records), unchanged=skipped)


class _Checker:
    """Checks lines against the format and the store, reporting each problem to the log."""

    def __init__(self, session: Session, log: IssueLog) -> None:
        self.session = session
        self.log = log
        self.clients: dict[str, Client | None] = {}
        self.categories: dict[str, Category | None] = {}
        self.engineers: dict[str, Engineer | None] = {}

    def line(self, number: int, raw: bytes) -> _Record | None:
        bad = len(self.log.issues)
        if len(raw) > MAX_LINE_BYTES:
            self.log.add(number, None, N_("longer than {limit} bytes"), limit=MAX_LINE_BYTES)
            return None
        try:
            item = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.log.add(number, None, N_("not a JSON object: {detail}"), detail=str(error))
            return None
        if not isinstance(item, dict):
            self.log.add(
                number, None, N_("not a JSON object: {detail}"), detail=type(item).__name__
            )
            return None
        if item.get("format") != FORMAT_VERSION:
            self.log.add(
                number,
                "format",
                N_("{value} is not a format this sdconsole reads; use {version}"),
                value=json.dumps(item.get("format")),
                version=FORMAT_VERSION,
            )
            return None
        external_id = self.text(number, item, "external_id", 64, required=True)
        subject = clean_line(self.text(number, item, "subject", 500, required=True) or "")
        received = self.time(number, item, "received_at", required=True)
        channel = self.choice(number, item, "channel", ChannelKind, ChannelKind.IMPORT)
        priority = self.priority(number, item.get("priority"), "priority")
        client = self.ref(
            number, item, "client", self.clients, self._client, N_("no client {value}")
        )
        category = self.ref(
            number,
            item,
            "category",
            self.categories,
            self._category,
            N_("no category with code {value}"),
        )
        line_no = item.get("line")
        if line_no is not None and line_no not in (1, 2, 3, 4):
            self.log.add(number, "line", N_("{value} is not a support line 1-4"), value=line_no)
        messages = self.messages(number, item.get("messages", []))
        steps = self.steps(number, item.get("events", []))
        if len(self.log.issues) > bad or external_id is None or received is None:
            return None
        if priority is None and category is not None:
            priority = priority_for(category.default_impact, category.default_urgency)
        return _Record(
            number,
            external_id,
            subject,
            received,
            channel or ChannelKind.IMPORT,
            priority or Priority.P3,
            client,
            category,
            line_no,
            messages,
            steps,
        )

    # -- fields ------------------------------------------------------------------------------

    def text(
        self, number: int, item: Mapping[str, Any], name: str, limit: int, *, required: bool = False
    ) -> str | None:
        value = item.get(name)
        if value is None or value == "":
            if required:
                self.log.add(number, name, N_("a value is required"))
            return None
        if not isinstance(value, str):
            self.log.add(number, name, N_("{value} is not text"), value=json.dumps(value))
            return None
        if len(value) > limit:
            self.log.add(number, name, N_("longer than {limit} characters"), limit=limit)
            return None
        return value

    def time(
        self, number: int, item: Mapping[str, Any], name: str, *, required: bool = False
    ) -> datetime | None:
        value = item.get(name)
        if value is None:
            if required:
                self.log.add(number, name, N_("a value is required"))
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.log.add(
                number,
                name,
                N_("{value} is not a time with an offset, such as 2026-11-23T09:30:00+03:00"),
                value=value,
            )
            return None
        return moment

    def choice(
        self, number: int, item: Mapping[str, Any], name: str, enum: Any, default: Any
    ) -> Any:
        value = item.get(name)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            self.log.add(
                number,
                name,
                N_("{value} is not one of: {choices}"),
                value=value,
                choices=", ".join(member.value for member in enum),
            )
            return None

    def priority(self, number: int, value: Any, name: str) -> Priority | None:
        if value is None:
            return None
        try:
            return Priority[str(value).strip().upper()]
        except KeyError:
            self.log.add(
                number,
                name,
                N_("{value} is not one of: {choices}"),
                value=value,
                choices="P1, P2, P3, P4",
            )
            return None

    def ref(
        self,
        number: int,
        item: Mapping[str, Any],
        name: str,
        cache: dict[str, Any],
        find: Any,
        template: str,
    ) -> Any:
        value = item.get(name)
        if value is None or value == "":
            return None
        key = str(value)
        if key not in cache:
            cache[key] = find(key)
        if cache[key] is None:
            self.log.add(number, name, template, value=key)
        return cache[key]

    def _client(self, ref: str) -> Client | None:
        return repositories.client_by_ref(session=self.session, ref=ref)

    def _category(self, code: str) -> Category | None:
        return repositories.category_by_code(session=self.session, code=code)

    def _engineer(self, login: str) -> Engineer | None:
        return repositories.engineer_by_login(session=self.session, login=login)

    def messages(self, number: int, items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            self.log.add(number, "messages", N_("must be a list"))
            return []
        out: list[dict[str, Any]] = []
        for i, entry in enumerate(items):
            where = f"messages[{i}]"
            if not isinstance(entry, dict):
                self.log.add(number, where, N_("must be an object"))
                continue
            at = self.time(number, {f"{where}.at": entry.get("at")}, f"{where}.at", required=True)
            field = f"{where}.kind"
            kind = self.choice(number, {field: entry.get("kind")}, field, MessageKind, None)
            if kind is None and entry.get("kind") is None:
                self.log.add(number, field, N_("a value is required"))
            field = f"{where}.channel"
            channel = self.choice(number, {field: entry.get("channel")}, field, ChannelKind, None)
            author = entry.get("author") or ""
            login = entry.get("by")
            engineer = None
            if login:
                engineer = self.ref(
                    number,
                    {f"{where}.by": login},
                    f"{where}.by",
                    self.engineers,
                    self._engineer,
                    N_("no engineer with login {value}; import engineers first"),
                )
            if at is None or kind is None:
                continue
            out.append(
                {
                    "at": at,
                    "kind": kind,
                    "channel": channel,
                    "author": str(author),
                    "engineer": engineer,
                    "body": str(entry.get("body") or ""),
                    "auto": bool(entry.get("auto", False)),
                }
            )
        return out

    def steps(self, number: int, items: Any) -> list[_Step]:
        if not isinstance(items, list):
            self.log.add(number, "events", N_("must be a list"))
            return []
        out: list[_Step] = []
        for i, entry in enumerate(items):
            where = f"events[{i}]"
            if not isinstance(entry, dict):
                self.log.add(number, where, N_("must be an object"))
                continue
            at = self.time(number, {f"{where}.at": entry.get("at")}, f"{where}.at", required=True)
            kind = entry.get("kind")
            if kind not in EVENT_KINDS:
                self.log.add(
                    number,
                    f"{where}.kind",
                    N_("{value} is not one of: {choices}"),
                    value=kind,
                    choices=", ".join(EVENT_KINDS),
                )
                continue
            to = entry.get("to")
            target = f"{where}.to"
            if kind == "status":
                to = self.choice(number, {target: to}, target, Status, None)
                code = entry.get("code")
                if (
                    to is Status.RESOLVED
                    and code is not None
                    and not RESOLUTION_CODE_RE.match(str(code))
                ):
                    self.log.add(
                        number, f"{where}.code", N_("{value} is not a resolution code"), value=code
                    )
            elif kind == "assign" and to is not None:
                to = self.ref(
                    number,
                    {target: to},
                    target,
                    self.engineers,
                    self._engineer,
                    N_("no engineer with login {value}; import engineers first"),
                )
            elif kind == "priority":
                to = self.priority(number, to, target)
            elif kind == "category":
                to = self.ref(
                    number,
                    {target: to},
                    target,
                    self.categories,
                    self._category,
                    N_("no category with code {value}"),
                )
            elif kind == "escalate" and to not in (1, 2, 3, 4):
                self.log.add(number, target, N_("{value} is not a support line 1-4"), value=to)
                to = None
            if at is None or (to is None and kind != "assign"):
                continue
            details = {
                k: v for k, v in entry.items() if k in ("reason", "code", "text") and v is not None
            }
            out.append(_Step(at, kind, to, entry.get("by"), details))
        return out


def _write(session: Session, record: _Record, now: datetime) -> None:
    """Write one checked ticket with its thread and events, then replay its SLA clocks."""
    client = record.client
    site_id = client.id if client is not None and client.kind == ClientKind.SITE else None
    holder, contract = contract_holder(session, client.id if client else None, record.received_at)
    category = record.category
    ticket = Ticket(
        external_id=record.external_id,
        subject=record.subject or "—",
        client_id=holder.id if holder else None,
        site_id=site_id,
        contract_id=contract.id if contract else None,
        channel=record.channel.value,
        category_id=category.id if category else None,
        priority=int(record.priority),
        line=record.line_no or (category.line if category else 1),
        team=category.team if category else None,
        status=Status.NEW.value,
        received_at=record.received_at,
        created_at=record.received_at,
        updated_at=now,
        due_at=now,
    )
    session.add(ticket)
    session.flush()

    def event(
        at: datetime, kind: EventKind, before: Any = None, after: Any = None, **details: Any
    ) -> None:
        session.add(
            Event(
                ticket_id=ticket.id,
                at=at,
                actor_id=details.pop("actor_id", None),
                kind=kind.value,
                before=before,
                after=after,
                details=details,
            )
        )

    event(
        record.received_at,
        EventKind.CREATED,
        after=Status.NEW.value,
        channel=record.channel.value,
        priority=record.priority.label,
        category=category.code if category else None,
        contract=contract.number if contract else None,
        imported=True,
    )
    for entry in sorted(record.messages, key=lambda m: m["at"]):
        engineer: Engineer | None = entry["engineer"]
        channel = entry["channel"] or record.channel
        message = Message(
            ticket_id=ticket.id,
            kind=entry["kind"].value,
            channel=channel.value,
            author_engineer_id=engineer.id if engineer else None,
            author_name=clean_line(
                entry["author"] or (engineer.login if engineer else ""), max_length=200
            ),
            body=clean_body(entry["body"]),
            created_at=entry["at"],
            is_auto=entry["auto"],
        )
        session.add(message)
        session.flush()
        event(
            entry["at"],
            EventKind.MESSAGE,
            after=message.id,
            message_kind=message.kind,
            channel=channel.value,
        )
        public_reply = (
            entry["kind"] is MessageKind.OUTBOUND
            and not entry["auto"]
            and channel in _REPLY_CHANNELS
        )
        if public_reply and ticket.first_response_at is None:
            ticket.first_response_at = entry["at"]
            event(
                entry["at"], EventKind.FIRST_RESPONSE, after=entry["at"].isoformat(), imported=True
            )
    status = Status.NEW
    for step in sorted(record.steps, key=lambda s: s.at):
        actor = repositories.engineer_by_login(session=session, login=step.by) if step.by else None
        who: dict[str, Any] = {"actor_id": actor.id if actor else None}
        if step.by and actor is None:
            who["by"] = step.by
        if step.kind == "status":
            target: Status = step.to
            event(step.at, EventKind.STATUS, status.value, target.value, **who)
            if target is Status.RESOLVED:
                ticket.resolved_at = step.at
                ticket.resolution_code = step.details.get("code")
                ticket.resolution_text = clean_body(str(step.details.get("text", ""))) or None
                event(step.at, EventKind.RESOLVED, after=ticket.resolution_code, **who)
            elif target is Status.CLOSED:
                ticket.closed_at = step.at
            elif target.is_open and status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
                ticket.resolved_at = ticket.closed_at = None
                event(step.at, EventKind.REOPENED, status.value, target.value, **who)
            status = target
        elif step.kind == "assign":
            engineer_to: Engineer | None = step.to
            event(
                step.at, EventKind.ASSIGNEE, None, engineer_to.login if engineer_to else None, **who
            )
            ticket.assignee_id = engineer_to.id if engineer_to else None
        elif step.kind == "priority":
            event(
                step.at,
                EventKind.PRIORITY,
                ticket.priority,
                int(step.to),
                reason=step.details.get("reason", ""),
                **who,
            )
            ticket.priority = int(step.to)
        elif step.kind == "category":
            new_category: Category = step.to
            event(
                step.at,
                EventKind.CATEGORY,
                category.code if category else None,
                new_category.code,
                **who,
            )
            category = new_category
            ticket.category_id = new_category.id
        elif step.kind == "escalate":
            event(
                step.at,
                EventKind.ESCALATED,
                ticket.line,
                int(step.to),
                reason=step.details.get("reason", ""),
                **who,
            )
            ticket.line = int(step.to)
    ticket.status = status.value
    session.flush()
    judge_coverage(session, ticket, now)
    sla_service.refresh(session, ticket, now)
