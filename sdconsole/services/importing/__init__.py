"""Provides `ImportService`: CSV import of the directory (1C exports) and of SLA data.

Kinds: clients, contracts, devices, engineers, business calendars and SLA plans.

An import is all or nothing. Every row is checked first, on its own (`rows`) and then
against the store and the rest of the file (references, duplicates, a site's time zone, the РН
check digits); if anything is wrong, `ImportRowsFailed` lists every problem with its line and
column, and nothing is written. Otherwise the rows are written in one transaction. Rows are matched
by external id (engineers by login, case-insensitively), so importing the same file again updates
what changed and never duplicates. A file may list children before their parents.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session, SQLModel

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import ImportFailed
from sdconsole.i18n import N_
from sdconsole.services.importing.columns import (
    CALENDAR_COLUMNS,
    CLIENT_COLUMNS,
    CONTRACT_COLUMNS,
    DEVICE_COLUMNS,
    ENGINEER_COLUMNS,
    SLA_PLAN_COLUMNS,
)
from sdconsole.services.importing.csv_table import (
    Columns,
    ImportRowsFailed,
    Issue,
    IssueLog,
    read_table,
)
from sdconsole.services.importing.plan import (
    LEVEL,
    Planner,
    Step,
    drop_repeats,
    plan_clients,
    plan_contracts,
    plan_devices,
    plan_engineers,
)
from sdconsole.services.importing.rows import (
    Draft,
    RowReader,
    client_row,
    contract_row,
    device_row,
    engineer_row,
)
from sdconsole.services.importing.sla import (
    calendar_row,
    plan_calendars,
    plan_sla_plans,
    sla_plan_row,
    write_calendars,
    write_sla_plans,
)
from sdconsole.storage import Store
from sdconsole.storage.tables import Client, Contract, Device, Engineer

__all__ = [
    "ImportFailed",
    "ImportKind",
    "ImportRowsFailed",
    "ImportService",
    "ImportSummary",
    "Issue",
]


class ImportKind(StrEnum):
    """What a file holds."""

    CLIENTS = "clients"
    CONTRACTS = "contracts"
    DEVICES = "devices"
    ENGINEERS = "engineers"
    CALENDARS = "calendars"
    SLA_PLANS = "sla-plans"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (or, on a dry run, would do)."""

    kind: ImportKind
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        """The stable JSON summary of ``sdconsole import … --format json``."""
        return {
            "kind": self.kind.value,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


class ImportService:
    """Checks and writes import files. Stateless apart from the store and the clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def import_file(self, kind: ImportKind, path: Path, *, dry_run: bool = False) -> ImportSummary:
        """Import a CSV file (see `import_bytes`).

        Raises:
            ImportFailed: the file cannot be read.
            ImportRowsFailed: the file has problems; nothing was written.
        """
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImportFailed(
                N_("Cannot read {path}: {detail}"),
                path=str(path),
                detail=error.strerror or str(error),
            ) from None
        return self.import_bytes(kind, data, source=path.name, dry_run=dry_run)

    def import_bytes(
        self, kind: ImportKind, data: bytes, *, source: str = "-", dry_run: bool = False
    ) -> ImportSummary:
        """Check every row of a CSV file and, unless `dry_run`, write them in one transaction.

        Args:
            kind: what the file holds.
            data: the file's bytes (UTF-8 or Windows-1251; ``;`` or ``,`` delimited).
            source: the file's name, for messages.
            dry_run: check and count only; write nothing.

        Raises:
            ImportRowsFailed: the file has problems (all of them, up to a cap); nothing was written.
            ImportFailed: the file is not readable text or has no header.
        """
        columns, check_row, plan = _KINDS[kind]
        table = read_table(data, columns, source)
        log = IssueLog(source, list(table.headers.values()))
        drafts = [d for row in table.rows if (d := check_row(RowReader(table, row, log)))]
        by_login = kind is ImportKind.ENGINEERS
        key_column = _KEY_COLUMNS.get(kind, "external_id")
        drafts = drop_repeats(drafts, table.header(key_column), log, fold_case=by_login)
        session_scope: AbstractContextManager[Session] = (
            self.store.reader() if dry_run else self.store.transaction()
        )
        with session_scope as session:
            steps = plan(session, table, drafts, log)
            log.raise_if_any()
            if not dry_run:
                now = self.clock.now()
                if kind is ImportKind.CLIENTS:
                    _write_clients(session, steps, now)
                elif kind is ImportKind.CALENDARS:
                    write_calendars(session, steps)
                elif kind is ImportKind.SLA_PLANS:
                    write_sla_plans(session, steps)
                else:
                    _write(session, _MODELS[kind], key_column, steps)
        created = sum(1 for s in steps if s.row is None)
        updated = sum(1 for s in steps if s.row is not None and s.changes)
        return ImportSummary(kind, created, updated, len(steps) - created - updated, dry_run)


def _write(session: Session, model: type[SQLModel], key_attr: str, steps: list[Step]) -> None:
    for step in steps:
        if step.row is None:
            session.add(model(**{key_attr: step.draft.key, **step.draft.values}))
        elif step.changes:
            for attr, value in step.changes.items():
                setattr(step.row, attr, value)
            session.add(step.row)
    session.flush()


def _write_clients(session: Session, steps: list[Step], now: datetime) -> None:
    """Write parents before children (a parent's level is always lower), then link them."""
    ids: dict[str, int] = {}
    for level in sorted(set(LEVEL.values())):
        written: list[tuple[str, Client]] = []
        for step in steps:
            if LEVEL[step.draft.values["kind"]] != level:
                continue
            if step.parent_key is not None:
                step.changes["parent_id"] = ids[step.parent_key]
            if step.row is None:
                client = Client(
                    external_id=step.draft.key, created_at=now, updated_at=now, **step.changes
                )
            elif step.changes:
                client = step.row
                for attr, value in step.changes.items():
                    setattr(client, attr, value)
                client.updated_at = now
            else:
                continue
            session.add(client)
            written.append((step.draft.key, client))
        session.flush()
        ids.update((key, client.id) for key, client in written if client.id is not None)


_KINDS: dict[ImportKind, tuple[Columns, Callable[[RowReader], Draft | None], Planner]] = {
    ImportKind.CLIENTS: (CLIENT_COLUMNS, client_row, plan_clients),
    ImportKind.CONTRACTS: (CONTRACT_COLUMNS, contract_row, plan_contracts),
    ImportKind.DEVICES: (DEVICE_COLUMNS, device_row, plan_devices),
    ImportKind.ENGINEERS: (ENGINEER_COLUMNS, engineer_row, plan_engineers),
    ImportKind.CALENDARS: (CALENDAR_COLUMNS, calendar_row, plan_calendars),
    ImportKind.SLA_PLANS: (SLA_PLAN_COLUMNS, sla_plan_row, plan_sla_plans),
}
_KEY_COLUMNS = {
    ImportKind.ENGINEERS: "login",
    ImportKind.CALENDARS: "code",
    ImportKind.SLA_PLANS: "code",
}
_MODELS: dict[ImportKind, type[SQLModel]] = {
    ImportKind.CONTRACTS: Contract,
    ImportKind.DEVICES: Device,
    ImportKind.ENGINEERS: Engineer,
}
