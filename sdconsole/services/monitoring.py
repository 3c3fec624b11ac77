"""Provides `Monitoring`: health reports into the device registry and into tickets.

A batch of reports (JSON lines) is one transaction. For each report: find the register (РН, ЗН
ККТ, ЗН ФН), or register it under its shop (``store.id``) or its owner (ИНН) and flag it; skip it
when it is not newer than what the registry already has (a replayed batch changes nothing);
update the registry (model, firmware, fiscal drive and its expiry, last seen, health); run the
checks (`domain.health.evaluate`). A problem opens one ticket per (device, check), through intake
(category ``monitoring.<check>.<level>``, its diagnostic card, the shop's only till → P1), with
the report attached; later reports add their value to the ticket's history and raise its
category and priority when the problem gets worse, never a second ticket; two ok reports in a
row resolve it with a system note. A line that cannot be read is reported with its number and
kept as a dead letter; it never stops the batch.

Reading a line (JSON, identifiers, the checks) is most of the work a report costs. With
``parse_process``, a file of more than one batch has each next batch read in a process of its
own (`ParseProcess`) while this one stores the last, and what crosses over is a small
`ReportRead` a report; the few reports that need more (a problem, a register to register, a
contract's own thresholds) are read again here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import Session

from sdconsole.config import Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.health import (
    Check,
    CheckResult,
    HealthReport,
    Level,
    ReportRead,
    Thresholds,
    as_check,
    evaluate,
    read_line,
    read_lines,
    register_facts,
    store_open,
    thresholds_with,
    worst_level,
)
from sdconsole.domain.intake import InboundAttachment, InboundMessage, Sender
from sdconsole.domain.model import ChannelKind, EventKind, Status
from sdconsole.domain.priority import priority_for
from sdconsole.domain.workflow import check_transition
from sdconsole.i18n import N_, translate_to
from sdconsole.services import sla as sla_service
from sdconsole.services.billing import judge_coverage
from sdconsole.services.intake import IntakeService
from sdconsole.services.parse_process import ParseProcess
from sdconsole.storage import Store, repositories
from sdconsole.storage.bulk import execute_many
from sdconsole.storage.tables import Client, Contract, Device, DeviceCheck, Event, Message, Ticket

log = logging.getLogger(__name__)

BATCH = 5_000
"""Reports per transaction."""

RESOLVED_CODE = "monitoring.recovered"
UNVERIFIED_NOTE = "registered by monitoring: check the register's data"


@dataclass
class IngestSummary:
    """What one ingest did."""

    lines: int = 0
    taken: int = 0
    replays: int = 0
    """Reports not newer than the registry's (a batch sent again)."""
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(line number, reason) of every line that was not taken."""
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    registered: int = 0
    """Devices the registry did not know, registered and flagged."""

    def as_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "taken": self.taken,
            "replays": self.replays,
            "errors": len(self.errors),
            "tickets_opened": self.opened,
            "tickets_updated": self.updated,
            "tickets_resolved": self.resolved,
            "devices_registered": self.registered,
        }


@dataclass(frozen=True)
class _Policy:
    """What a shop's checks are judged by."""

    thresholds: Thresholds
    store_hours: str | None
    zone: str | None


@dataclass
class _Known:
    """A register as the registry has it (a row read with Core, not an ORM object)."""

    id: int
    site_id: int
    health_at: datetime | None


class Monitoring:
    """Health reports in, registry and tickets out."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        intake: IntakeService,
        thresholds: Thresholds | None = None,
        *,
        store_hours: str | None = None,
        batch: int = BATCH,
        parse_process: bool = False,
    ) -> None:
        """
        Args:
            thresholds: the defaults; a contract's ``monitoring`` sets its own over them.
            store_hours: ``HH:MM-HH:MM`` shops trade (a contract's ``store_hours`` wins).
            batch: reports a transaction.
            parse_process: read the next batch in a process of its own while this one is
                stored (for input of more than one batch).
        """
        self.store = store
        self.clock = clock
        self.intake = intake
        self.thresholds = thresholds or Thresholds()
        self.store_hours = store_hours
        self.batch = batch
        self.parse_process = parse_process

    @classmethod
    def from_settings(cls, store: Store, clock: Clock, settings: Settings) -> Monitoring:
        """As configured: thresholds and store hours from ``[monitoring]``, intake's routing."""
        config = settings.monitoring
        return cls(
            store,
            clock,
            IntakeService.from_settings(store, clock, settings),
            thresholds_with(Thresholds(), config.thresholds),
            store_hours=config.store_hours,
            parse_process=config.parse_process,
        )

    # -- the entry point -------------------------------------------------------------------

    def ingest_lines(self, lines: Iterable[bytes | str]) -> IngestSummary:
        """Take JSON lines (``sdconsole.health/1``); blank lines are skipped."""
        summary = IngestSummary()
        parser = ParseProcess("sdconsole.domain.health") if self.parse_process else None
        try:
            # A pipeline of two stages: while a batch is stored here, the next ones are read
            # in the parser's process. That process starts with the second batch, while the
            # first is read here; a batch that came while it started goes to it once the
            # batch before it is read.
            waiting: _Batch | None = None
            for batch in self._batches(lines, summary):
                if parser is not None and waiting is not None:
                    parser.start()  # there is more than one batch: worth a process
                batch = self._reading(parser, batch)
                if waiting is not None:
                    reads = self._read(waiting)
                    if batch.read is None:
                        batch = self._reading(parser, batch)
                    self._take(waiting, reads, summary)
                waiting = batch
            if waiting is not None:
                self._take(waiting, self._read(waiting), summary)
        finally:
            if parser is not None:
                parser.close()
        summary.errors.sort()
        return summary

    def _batches(self, lines: Iterable[bytes | str], summary: IngestSummary) -> Iterator[_Batch]:
        numbers: list[int] = []
        raws: list[bytes] = []
        for number, line in enumerate(lines, start=1):
            raw = line.encode() if isinstance(line, str) else line
            if not raw.strip():
                continue
            summary.lines += 1
            numbers.append(number)
            raws.append(raw)
            if len(raws) >= self.batch:
                yield _Batch(numbers, raws, self.clock.now())
                numbers, raws = [], []
        if raws:
            yield _Batch(numbers, raws, self.clock.now())

    def _reading(self, parser: ParseProcess | None, batch: _Batch) -> _Batch:
        """The batch, its reading begun in the parser's process if that is ready."""
        if parser is None:
            return batch
        read = parser.submit(read_lines, batch.raws, self.thresholds, batch.now)
        return _Batch(batch.numbers, batch.raws, batch.now, read)

    def _read(self, batch: _Batch) -> list[ReportRead | str]:
        """The batch's lines read: by the parser's process, or here."""
        if batch.read is not None:
            try:
                return batch.read.result()
            except Exception as error:  # noqa: BLE001 - the lines are read here instead
                log.warning("the reports' parser failed (%s); reading here", error)
        return read_lines(batch.raws, self.thresholds, batch.now)

    def _reject(self, summary: IngestSummary, number: int, raw: bytes, reason: str) -> None:
        summary.errors.append((number, reason))
        self.intake.dead_letter(
            ChannelKind.MONITORING,
            "health:" + hashlib.sha256(raw).hexdigest(),
            raw,
            f"line {number}: {reason}",
        )

    # -- the registry scan -----------------------------------------------------------------

    def scan(self) -> IngestSummary:
        """The periodic look at the registry, with no fresh report needed: fiscal drives that
        end within the planning horizon, and registers whose agent has gone silent (its last
        report older than `SILENT_WARNING`). A report from the agent clears the latter."""
        now = self.clock.now()
        limits = self.thresholds
        horizon = now.date() + timedelta(days=limits.fn_expiry_plan_days)
        contract_horizon = now.date() + timedelta(days=limits.ofd_contract_warning_days)
        summary = IngestSummary()
        with self.store.transaction() as session:
            rows = session.execute(
                select(
                    Device.id,
                    Device.site_id,
                    Device.health_at,
                    Device.fn_valid_until,
                    Device.ofd_contract_end,
                    Device.reg_number,
                    Device.serial,
                    Device.fn_serial,
                ).where(
                    Device.is_active.is_(True),
                    or_(
                        Device.fn_valid_until <= horizon,
                        Device.ofd_contract_end <= contract_horizon,
                        Device.health_at < now - SILENT_WARNING,
                    ),
                )
            ).all()
            items: list[tuple[_Known, HealthReport, bytes, list[CheckResult]]] = []
            policies = self._policies(session, {row.site_id for row in rows})
            for row in rows:
                policy = policies.get(row.site_id) or self._default_policy
                limits = policy.thresholds
                facts: dict[str, Any] = {
                    "source": "registry",
                    "observed_at": now.isoformat(),
                    "kkt": {"reg_number": row.reg_number, "serial": row.serial},
                    "fn": {"serial": row.fn_serial},
                }
                if row.fn_valid_until is not None:
                    facts["fn"]["valid_until"] = row.fn_valid_until.isoformat()
                report = _registry_report(row, now)
                scanned = {"fn-expiry", "ofd-contract"}
                results = [r for r in evaluate(report, limits, now) if r.check in scanned]
                silent = _silence(row.health_at, now)
                # A closed shop's till is off: its agent's silence is no news.
                if silent is not None and store_open(policy.store_hours, now, policy.zone):
                    results.append(silent)
                if results:
                    raw = json.dumps(facts, ensure_ascii=False).encode()
                    items.append((_Known(row.id, row.site_id, row.health_at), report, raw, results))
            self._checks(session, items, summary)
        return summary

    # -- a batch ---------------------------------------------------------------------------

    def _take(self, batch: _Batch, reads: list[ReportRead | str], summary: IngestSummary) -> None:
        now = batch.now  # the checks of a batch, wherever they are made, are of one instant
        items: list[tuple[int, bytes, ReportRead]] = []
        for number, raw, read in zip(batch.numbers, batch.raws, reads, strict=True):
            if isinstance(read, str):
                self._reject(summary, number, raw, read)
            else:
                items.append((number, raw, read))
        with self.store.transaction() as session:
            good = [read for _n, _raw, read in items]
            known = self._registry(session, good)
            sites = self._sites(session, good)
            policies = self._policies(
                session, {k.site_id for k in known.values()} | set(sites.values())
            )
            default = self._default_policy
            changes: dict[int, dict[str, Any]] = {}
            taken: list[tuple[_Known, bytes, ReportRead, _Policy, tuple[Check, ...], int]] = []
            for number, raw, read in items:
                device = _match(known, read)
                if device is None:
                    site_id = sites.get(read.store_id or "") or sites.get(read.inn or "")
                    if site_id is None:
                        key = read.reg_number or read.kkt_serial or read.fn_serial
                        self._reject(
                            summary,
                            number,
                            raw,
                            f"unknown register {key} at an unknown shop"
                            f" ({read.store_id or '-'}, ИНН {read.inn or '-'})",
                        )
                        continue
                    device = self._register(session, read_line(raw), site_id)
                    summary.registered += 1
                    for key in (read.reg_number, read.kkt_serial, read.fn_serial):
                        if key:
                            known[key] = device
                if device.health_at is not None and read.observed_at <= device.health_at:
                    summary.replays += 1
                    continue
                checks, worst = read.checks, read.worst
                policy = policies.get(device.site_id) or default
                if policies:  # contracts' own thresholds, or shops' hours
                    checks, worst = self._judged(policy, read, raw, now)
                device.health_at = read.observed_at
                changes[device.id] = {
                    "id": device.id,
                    "health_at": read.observed_at,
                    "health_state": _STATES[worst],
                    **read.facts,
                }
                summary.taken += 1
                taken.append((device, raw, read, policy, checks, worst))
            # One statement per column set (each report may carry different fields), run for
            # all its rows at once, its parameters made for the driver in a tight loop
            # (`execute_many`: a third of the cost of SQLAlchemy's own executemany).
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in changes.values():
                row["_id"] = row.pop("id")
                by_keys.setdefault(tuple(row), []).append(row)
            table = Device.__table__
            for rows in by_keys.values():
                execute_many(session, update(table).where(table.c.id == bindparam("_id")), rows)
            states = self._states(session, [device.id for device, *_rest in taken])
            # Only a report with a problem, or of a register with one open (in the store or
            # earlier in the batch), has anything to do with tickets: those are read again
            # whole, for the tickets' text.
            involved = {device_id for (device_id, _check), s in states.items() if s.level}
            problems: list[tuple[_Known, HealthReport, bytes, list[CheckResult]]] = []
            for device, raw, read, policy, checks, worst in taken:
                if worst or device.id in involved:
                    involved.add(device.id)
                    if not worst:  # an all-ok report: its checks did not come with it
                        checks, worst = self._judged(policy, read, raw, now, whole=True)
                    results = [CheckResult(c, Level(lv), v, i, h) for c, lv, v, i, h in checks]
                    results.append(_SPOKE)
                    problems.append((device, read_line(raw), raw, results))
            self._checks(session, problems, summary, states)

    def _judged(
        self, policy: _Policy, read: ReportRead, raw: bytes, now: datetime, *, whole: bool = False
    ) -> tuple[tuple[Check, ...], int]:
        """A report's checks (and the worst of their levels) by its shop's own policy: its
        contract's thresholds (the report read again and checked with them), its hours (the
        checks that wait for a closed shop to open left out). `whole`: every check, an all-ok
        report's too (read again: they do not come with it)."""
        checks, worst = read.checks, read.worst
        if policy.thresholds is not self.thresholds or (whole and not checks):
            checks = tuple(as_check(r) for r in evaluate(read_line(raw), policy.thresholds, now))
            worst = worst_level(checks)
        if policy.store_hours and any(check[_HOURS_ONLY] for check in checks):
            if not store_open(policy.store_hours, read.observed_at, policy.zone):
                checks = tuple(check for check in checks if not check[_HOURS_ONLY])
                worst = worst_level(checks)
        return checks, worst

    @property
    def _default_policy(self) -> _Policy:
        return _Policy(self.thresholds, self.store_hours, None)

    def _policies(self, session: Session, site_ids: set[int]) -> dict[int, _Policy]:
        """Each shop's thresholds and hours: its contract's (the nearest up the client tree),
        over the defaults. A shop left out has the defaults (without contracts that set any and
        without default hours, every shop is left out)."""
        today = self.clock.now().date()
        rows = session.execute(
            select(Contract.client_id, Contract.monitoring).where(
                Contract.is_active.is_(True),
                Contract.valid_from <= today,
                or_(Contract.valid_to.is_(None), Contract.valid_to >= today),
            )
        ).all()
        overrides = {client: data for client, data in rows if isinstance(data, dict) and data}
        if not overrides and not self.store_hours:
            return {}  # every shop has the defaults, and no hours to need its time zone for
        zones: dict[int, str | None] = {}
        parents: dict[int, int | None] = {}
        wanted = set(site_ids)
        for _depth in range(4):  # shop → legal entity → chain
            missing = sorted(wanted - set(parents))
            if not missing:
                break
            for chunk in _batched(missing, 500):
                for client_id, parent_id, zone in session.execute(
                    select(Client.id, Client.parent_id, Client.timezone).where(Client.id.in_(chunk))
                ):
                    parents[client_id] = parent_id
                    zones[client_id] = zone
            if not overrides:
                break
            wanted |= {p for p in parents.values() if p is not None}
        found: dict[int, _Policy] = {}
        for site_id in site_ids:
            chosen: dict[str, Any] = {}
            node: int | None = site_id
            for _depth in range(4):
                if node is None:
                    break
                if node in overrides:
                    chosen = overrides[node]
                    break
                node = parents.get(node)
            try:
                limits = thresholds_with(self.thresholds, chosen)
            except ValueError as error:
                log.warning("contract thresholds of client %s ignored: %s", node, error)
                limits = self.thresholds
            hours = (
                chosen.get("store_hours") if isinstance(chosen.get("store_hours"), str) else None
            )
            found[site_id] = _Policy(limits, hours or self.store_hours, zones.get(site_id))
        return found

    def _registry(self, session: Session, reports: list[ReportRead]) -> dict[str, _Known]:
        """The registers these reports are from, by the keys the reports name them by.

        By РН first, one indexed look-up per key (nearly every report has one the registry
        knows); by ЗН ККТ and ЗН ФН only for the reports it did not find (`_match` prefers the
        РН, so those keys would not be used). A register found by two keys is one `_Known`, so
        that a second report of it in the batch sees the first's time.
        """
        found: dict[str, _Known] = {}
        by_id: dict[int, _Known] = {}
        regs = sorted({r.reg_number for r in reports if r.reg_number})
        self._registry_by(session, Device.reg_number, regs, found, by_id)
        rest = [r for r in reports if not (r.reg_number and r.reg_number in found)]
        serials = sorted({r.kkt_serial for r in rest if r.kkt_serial})
        self._registry_by(session, Device.serial, serials, found, by_id)
        drives = sorted({r.fn_serial for r in rest if r.fn_serial})
        self._registry_by(session, Device.fn_serial, drives, found, by_id)
        return found

    @staticmethod
    def _registry_by(
        session: Session,
        column: Any,
        keys: list[str],
        found: dict[str, _Known],
        by_id: dict[int, _Known],
    ) -> None:
        # One statement for every chunk, its keys a parameter (not 500 literals to coerce).
        statement = (
            select(Device.id, Device.site_id, Device.health_at, column)
            .where(Device.is_active.is_(True), column.in_(bindparam("keys", expanding=True)))
            .order_by(Device.id)
        )
        for chunk in _batched(keys, 500):
            rows = session.execute(statement, {"keys": chunk})
            for device_id, site_id, health_at, key in rows:
                device = by_id.get(device_id)
                if device is None:
                    device = by_id[device_id] = _Known(device_id, site_id, health_at)
                found.setdefault(key, device)  # two registers of one key: the first's

    def _sites(self, session: Session, reports: list[ReportRead]) -> dict[str, int]:
        """Shops by code and owners by ИНН, for registering unknown registers."""
        codes = {r.store_id for r in reports if r.store_id}
        inns = {r.inn for r in reports if r.inn}
        found: dict[str, int] = {}
        for chunk in _batched(sorted(codes), 500):
            for code, client_id in session.execute(
                select(Client.external_id, Client.id).where(Client.external_id.in_(chunk))
            ):
                found[code] = client_id
        for chunk in _batched(sorted(inns), 500):
            for inn, client_id in session.execute(
                select(Client.inn, Client.id).where(Client.inn.in_(chunk)).order_by(Client.id)
            ):
                found.setdefault(inn, client_id)
        return found

    def _register(self, session: Session, report: HealthReport, site_id: int) -> _Known:
        device = Device(
            site_id=site_id,
            kind="kkt",
            serial=report.kkt_serial,
            reg_number=report.reg_number,
            fn_serial=report.fn_serial,
            notes=UNVERIFIED_NOTE,
            **{k: v for k, v in register_facts(report).items() if k != "fn_serial"},
        )
        session.add(device)
        session.flush()
        assert device.id is not None
        log.info("monitoring registered an unknown register %s", report.device_key)
        return _Known(device.id, site_id, None)

    # -- checks and tickets ----------------------------------------------------------------

    def _checks(
        self,
        session: Session,
        items: list[tuple[_Known, HealthReport, bytes, list[CheckResult]]],
        summary: IngestSummary,
        states: dict[tuple[int, str], DeviceCheck] | None = None,
    ) -> None:
        """The tickets of these reports' results; `states` (of their registers, by (device,
        check)) when the caller has read them already."""
        if states is None:
            states = self._states(session, [device.id for device, _r, _raw, _res in items])
        opening: dict[int, tuple[DeviceCheck, InboundMessage]] = {}
        new: list[DeviceCheck] = []  # added once their tickets are open: one write a row
        for device, report, raw, results in items:
            for result in results:
                state = states.get((device.id, result.check))
                if state is not None and id(state) in opening:
                    # A second report of the batch on a problem whose ticket is not yet written.
                    self._open(opening)
                if result.level == Level.OK:
                    if state is not None and state.level > Level.OK:
                        self._recovering(session, state, result, report, summary)
                    continue
                if state is None:
                    state = DeviceCheck(
                        device_id=device.id, check=result.check, observed_at=report.observed_at
                    )
                    new.append(state)
                    states[(device.id, result.check)] = state
                self._problem(session, state, device, report, raw, result, summary, opening)
        self._open(opening)
        session.add_all(new)

    @staticmethod
    def _states(session: Session, device_ids: list[int]) -> dict[tuple[int, str], DeviceCheck]:
        """The checks' states of these registers, by (device, check)."""
        states: dict[tuple[int, str], DeviceCheck] = {}
        statement = select(DeviceCheck).where(
            DeviceCheck.device_id.in_(bindparam("ids", expanding=True))
        )
        for chunk in _batched(sorted(set(device_ids)), 500):
            for state in session.execute(statement, {"ids": chunk}).scalars():
                states[(state.device_id, state.check)] = state
        return states

    def _open(self, opening: dict[int, tuple[DeviceCheck, InboundMessage]]) -> None:
        """Open the tickets of the problems found so far, in one intake batch."""
        if not opening:
            return
        pairs = list(opening.values())
        opening.clear()
        outcomes = self.intake.open_many([message for _state, message in pairs])
        for (state, _message), outcome in zip(pairs, outcomes, strict=True):
            state.ticket_id = outcome.ticket_id

    def _problem(
        self,
        session: Session,
        state: DeviceCheck,
        device: _Known,
        report: HealthReport,
        raw: bytes,
        result: CheckResult,
        summary: IngestSummary,
        opening: dict[int, tuple[DeviceCheck, InboundMessage]],
    ) -> None:
        ticket = session.get(Ticket, state.ticket_id) if state.ticket_id else None
        if ticket is not None and not Status(ticket.status).is_open:
            ticket = None
        if ticket is None:
            opening[id(state)] = (
                state,
                InboundMessage(
                    channel=ChannelKind.MONITORING,
                    idempotency_key=f"health:{device.id}:{result.check}:"
                    f"{report.observed_at.isoformat()}",
                    received_at=min(report.observed_at, self.clock.now()),
                    sender=Sender(name=f"monitoring ({report.source})"),
                    subject=_subject(result, report, self.intake.client_language),
                    body=_body(result, report, self.intake.client_language),
                    raw=raw,
                    thread_key=f"health:{device.id}:{result.check}",
                    device_id=device.id,
                    site_id=device.site_id,
                    category_code=result.incident,
                    attachments=(InboundAttachment("health-report.json", "application/json", raw),),
                ),
            )
            summary.opened += 1
        else:
            summary.updated += 1
            self._worse(session, ticket, state, result)
            session.add(
                Event(
                    ticket_id=ticket.id,
                    at=self.clock.now(),
                    actor_id=None,
                    kind=EventKind.FIELD.value,
                    before=state.value or None,
                    after=str(result.value),
                    details={"field": result.check, "level": result.level.name.lower()},
                )
            )
        state.level = int(result.level)
        state.value = str(result.value)[:64]
        state.ok_streak = 0
        state.observed_at = report.observed_at

    def _worse(
        self, session: Session, ticket: Ticket, state: DeviceCheck, result: CheckResult
    ) -> None:
        """The problem got worse: the ticket takes the graver incident type and priority."""
        if result.level <= state.level or result.incident is None:
            return
        category = repositories.category_by_code(session=session, code=result.incident)
        if category is None:
            return
        now = self.clock.now()
        before = ticket.category_id
        ticket.category_id = category.id
        judge_coverage(session, ticket, now)
        session.add(
            Event(
                ticket_id=ticket.id,
                at=now,
                actor_id=None,
                kind=EventKind.CATEGORY.value,
                before=before,
                after=category.code,
                details={"by": "monitoring"},
            )
        )
        graver = priority_for(category.default_impact, category.default_urgency)
        if int(graver) < ticket.priority:
            session.add(
                Event(
                    ticket_id=ticket.id,
                    at=now,
                    actor_id=None,
                    kind=EventKind.PRIORITY.value,
                    before=ticket.priority,
                    after=int(graver),
                    details={"by": "monitoring"},
                )
            )
            ticket.priority = int(graver)
            sla_service.refresh(session, ticket, now)
        ticket.updated_at = now

    def _recovering(
        self,
        session: Session,
        state: DeviceCheck,
        result: CheckResult,
        report: HealthReport,
        summary: IngestSummary,
    ) -> None:
        state.ok_streak += 1
        state.observed_at = report.observed_at
        if state.ok_streak < 2:
            return
        state.level = int(Level.OK)
        state.value = str(result.value)[:64]
        ticket = session.get(Ticket, state.ticket_id) if state.ticket_id else None
        state.ticket_id = None
        if ticket is None or not Status(ticket.status).is_open:
            return
        now = self.clock.now()
        current = Status(ticket.status)
        check_transition(current, Status.RESOLVED)
        ticket.status = Status.RESOLVED.value
        ticket.resolved_at = now
        ticket.resolution_code = RESOLVED_CODE
        ticket.resolution_text = (
            f"{result.check}: back to normal ({result.value}) in two reports in a row"
        )
        ticket.updated_at = now
        session.add(
            Message(
                ticket_id=ticket.id,
                kind="system",
                channel=ChannelKind.MONITORING.value,
                author_name="monitoring",
                body=ticket.resolution_text,
                created_at=now,
            )
        )
        for kind, before, after in (
            (EventKind.STATUS, current.value, Status.RESOLVED.value),
            (EventKind.RESOLVED, None, RESOLVED_CODE),
        ):
            session.add(
                Event(
                    ticket_id=ticket.id,
                    at=now,
                    actor_id=None,
                    kind=kind.value,
                    before=before,
                    after=after,
                    details={"by": "monitoring"},
                )
            )
        sla_service.refresh(session, ticket, now)
        summary.resolved += 1


@dataclass(frozen=True, slots=True)
class _Batch:
    """A batch of lines: their numbers in the input, their bytes, the instant they are checked
    at, and their reading under way."""

    numbers: list[int]
    raws: list[bytes]
    now: datetime
    read: Future[list[ReportRead | str]] | None = None


_HOURS_ONLY: Final = 4
"""Where a `Check` says whether it is quiet while the shop is closed."""

_SPOKE = CheckResult("agent-silent", Level.OK, 0, None, False)
"""A report is the agent speaking: its silence is over."""

_STATES = {int(level): level.name.lower() for level in Level}


SILENT_WARNING = timedelta(minutes=30)
SILENT_CRITICAL = timedelta(hours=4)


def _silence(last: datetime | None, now: datetime) -> CheckResult | None:
    """The agent-silent check: minutes since the register's last report."""
    if last is None or now - last < SILENT_WARNING:
        return None
    minutes = int((now - last).total_seconds() // 60)
    level = Level.CRITICAL if now - last >= SILENT_CRITICAL else Level.WARNING
    name = "critical" if level == Level.CRITICAL else "warning"
    return CheckResult("agent-silent", level, minutes, f"monitoring.agent-silent.{name}")


def _registry_report(row: Any, now: datetime) -> HealthReport:
    """What the registry knows of a register, as a report observed now."""
    return HealthReport(
        source="registry",
        observed_at=now,
        store_id=None,
        store_tz=None,
        inn=None,
        kkt_serial=row.serial,
        reg_number=row.reg_number,
        model=None,
        firmware=None,
        ffd=None,
        fn_serial=row.fn_serial,
        fn_valid_until=row.fn_valid_until,
        fn_registrations_left=None,
        fn_memory_used_pct=None,
        fn_warnings={},
        ofd_unsent_count=None,
        ofd_first_unsent_at=None,
        ofd_contract_end=row.ofd_contract_end,
        shift_state=None,
        shift_opened_at=None,
        ism_unsent_count=None,
        ism_first_unsent_at=None,
        utm_rsa_expires=None,
        utm_gost_expires=None,
        utm_reachable=None,
        utm_down_since=None,
        lm_last_sync_at=None,
        disk_used_pct=None,
        clock=None,
    )


def scan_registry(store: Store, clock: Clock, settings: Settings) -> int:
    """The periodic job: the registry scan; returns the tickets it opened or resolved."""
    summary = Monitoring.from_settings(store, clock, settings).scan()
    return summary.opened + summary.resolved


def _match(known: dict[str, _Known], report: ReportRead) -> _Known | None:
    """The register a report is from: by its РН, else its ЗН ККТ, else its ЗН ФН."""
    return (
        known.get(report.reg_number or "")
        or known.get(report.kkt_serial or "")
        or known.get(report.fn_serial or "")
    )


_CHECK_TITLES = {
    "fn-expiry": N_("Fiscal drive: {value} days to key expiry"),
    "fn-memory": N_("Fiscal drive: memory {value} % full"),
    "fn-critical": N_("Fiscal drive: critical error"),
    "fn-rereg-left": N_("Fiscal drive: {value} re-registrations left"),
    "ofd-backlog-age": N_("OFD: documents not sent for {value} h"),
    "ofd-backlog-count": N_("OFD: {value} documents not sent"),
    "ofd-contract": N_("OFD: {value} days to the contract's end"),
    "shift-long": N_("Shift open for {value} h"),
    "utm-rsa-expiry": N_("УТМ: {value} days to the RSA certificate's end"),
    "utm-gost-expiry": N_("УТМ: {value} days to the GOST certificate's end"),
    "utm-down": N_("УТМ unreachable for {value} min"),
    "lm-chz-sync": N_("ЛМ ЧЗ: not synchronised for {value} h"),
    "ism-backlog": N_("Marking notices not sent for {value} h"),
    "disk-fill": N_("Disk {value} % full"),
    "clock-drift": N_("Clock off by {value} min"),
    "agent-silent": N_("Monitoring agent silent for {value} min"),
    "sw-version": N_("Firmware {value}: below the contract's baseline or known bad"),
}


def _subject(result: CheckResult, report: HealthReport, language: str) -> str:
    template = _CHECK_TITLES.get(result.check)
    title = (
        translate_to(language, template).format(value=result.value) if template else result.check
    )
    return f"{title} · ККТ {report.device_key}"


def _body(result: CheckResult, report: HealthReport, language: str) -> str:
    lines = [
        translate_to(language, N_("Check {check}: {level}, value {value}.")).format(
            check=result.check, level=result.level.name.lower(), value=result.value
        ),
        translate_to(language, N_("Source: {source}, observed {at}.")).format(
            source=report.source, at=report.observed_at.isoformat()
        ),
    ]
    if report.reg_number or report.kkt_serial:
        lines.append(
            f"ККТ: {report.model or '—'}, РН {report.reg_number or '—'},"
            f" ЗН {report.kkt_serial or '—'}"
        )
    if report.fn_serial:
        lines.append(f"ФН: {report.fn_serial}, {report.fn_valid_until or '—'}")
    return "\n".join(lines)


def _batched(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def take_spool(store: Store, clock: Clock, folder: Path, settings: Settings | None = None) -> int:
    """One pass over the spool folder: each file is taken, then moved to ``done/`` (or
    ``failed/`` when a line was refused). A crash before the move takes the file again, and
    its reports are replays then. Returns the reports taken."""
    from sdconsole.channels.healthchecks import finish, spool_files

    monitoring = (
        Monitoring.from_settings(store, clock, settings)
        if settings is not None
        else Monitoring(store, clock, IntakeService(store, clock))
    )
    taken = 0
    for path in spool_files(folder):
        with path.open("rb") as handle:
            summary = monitoring.ingest_lines(handle)
        for number, reason in summary.errors:
            log.warning("%s line %d: %s", path.name, number, reason)
        finish(path, failed=bool(summary.errors))
        taken += summary.taken
    return taken
