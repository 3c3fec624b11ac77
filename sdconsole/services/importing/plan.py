"""Provides the checking half of CSV import that needs the store and the whole file.

Each planner takes the drafts of one file (see `rows`), resolves their references (parent
client, client, site, SLA plan, manager) against the store and the file, checks what only the
merged record can show (a site's time zone and address, a contract's dates, the РН check digits
against the owner's ИНН) and returns one `Step` per row: create, update or leave alone. Planners
only read; problems go to the `IssueLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sdconsole.domain.identifiers import IdProblem, check_reg_number
from sdconsole.domain.model import ClientKind
from sdconsole.i18n import N_
from sdconsole.services.importing.csv_table import IssueLog, Table
from sdconsole.services.importing.rows import Draft
from sdconsole.storage import repositories
from sdconsole.storage.tables import Client, Contract, Device, Engineer, SlaPlan

_CHUNK = 500
"""Keys per ``IN (...)`` look-up: well under SQLite's and PostgreSQL's parameter limits."""
LEVEL = {ClientKind.CHAIN.value: 0, ClientKind.LEGAL_ENTITY.value: 1, ClientKind.SITE.value: 2}
"""A client's parent must be of a lower level: chain → legal entity → site."""


class Pending:
    """A parent that this import creates: its id is known only once it is written."""


PENDING = Pending()


@dataclass(slots=True)
class Step:
    """One row's planned write: a new record (`row` None), an update, or nothing."""

    draft: Draft
    row: Any
    changes: dict[str, Any]
    parent_key: str | None = None


def _step(draft: Draft, row: Any, parent_key: str | None = None) -> Step:
    changes = {
        attr: value
        for attr, value in draft.values.items()
        if row is None or getattr(row, attr) != value
    }
    return Step(draft, row, changes, parent_key)


def _merged(values: dict[str, Any], row: Any, attr: str) -> Any:
    """The value a record will have: the file's when its column is present, else the stored one."""
    return values[attr] if attr in values else getattr(row, attr, None)


def drop_repeats(
    drafts: list[Draft], header: str, log: IssueLog, *, fold_case: bool = False
) -> list[Draft]:
    """Report a key given twice and keep its first row.

    Args:
        fold_case: compare keys case-insensitively (logins); external ids compare exactly.
    """
    first: dict[str, int] = {}
    kept: list[Draft] = []
    for draft in drafts:
        folded = draft.key.casefold() if fold_case else draft.key
        if folded in first:
            log.add(
                draft.line,
                header,
                N_("{value} repeats line {first}"),
                value=draft.key,
                first=first[folded],
            )
            continue
        first[folded] = draft.line
        kept.append(draft)
    return kept


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _by_key(session: Session, model: type[Any], attr: str, keys: Iterable[str]) -> dict[str, Any]:
    """Stored records whose `attr` is one of `keys`, by that key."""
    column = getattr(model, attr)
    found: dict[str, Any] = {}
    for part in _chunks(keys):
        for record in session.exec(select(model).where(col(column).in_(part))):
            found[getattr(record, attr)] = record
    return found


def _engineers(session: Session, logins: Iterable[str]) -> dict[str, Engineer]:
    """Stored engineers by lower-case login (logins are ASCII)."""
    found: dict[str, Engineer] = {}
    for part in _chunks(login.lower() for login in logins):
        stmt = select(Engineer).where(func.lower(col(Engineer.login)).in_(part))
        for engineer in session.exec(stmt):
            found[engineer.login.lower()] = engineer
    return found


def _refs(drafts: Sequence[Draft], column: str) -> set[str]:
    return {ref for d in drafts if (ref := d.refs.get(column))}


def _resolve_manager(
    draft: Draft, managers: dict[str, Engineer], table: Table, log: IssueLog
) -> None:
    if "manager" not in draft.refs:
        return
    login = draft.refs["manager"]
    engineer = managers.get(login.lower()) if login else None
    if login and engineer is None:
        log.add(
            draft.line, table.header("manager"), N_("no engineer with login {value}"), value=login
        )
    draft.values["manager_id"] = engineer.id if engineer else None


def plan_clients(session: Session, table: Table, drafts: list[Draft], log: IssueLog) -> list[Step]:
    """Resolve parents (stored or anywhere in the file) and managers; check the tree's levels and
    that every site has a time zone and an address."""
    in_file = {d.key: d for d in drafts}
    keys_in_file = {key for row in table.rows if (key := row.cells.get("external_id"))}
    stored = _by_key(session, Client, "external_id", set(in_file) | _refs(drafts, "parent"))
    managers = _engineers(session, _refs(drafts, "manager"))
    steps: list[Step] = []
    for draft in drafts:
        values = draft.values
        kind = values.get("kind")
        row = stored.get(draft.key)
        parent_key: str | None = None
        if "parent" in draft.refs:
            ref = draft.refs["parent"]
            values["parent_id"] = None
            parent_kind: str | None = None
            if ref is None:
                pass
            elif ref == draft.key:
                log.add(draft.line, table.header("parent"), N_("a client cannot be its own parent"))
            elif ref in in_file:
                parent_kind = in_file[ref].values.get("kind")
            elif ref in stored:
                parent_kind = stored[ref].kind
            elif ref not in keys_in_file:  # a bad row of this file is reported already
                log.add(
                    draft.line,
                    table.header("parent"),
                    N_("no client with external id {value} in the store or this file"),
                    value=ref,
                )
            if kind and parent_kind and LEVEL[parent_kind] >= LEVEL[kind]:
                log.add(
                    draft.line,
                    table.header("parent"),
                    N_("a {kind} cannot belong to {value}, which is a {parent_kind}"),
                    kind=kind,
                    value=ref,
                    parent_kind=parent_kind,
                )
            if ref is not None and ref in stored:
                values["parent_id"] = stored[ref].id
            elif ref is not None:
                values["parent_id"] = PENDING
                parent_key = ref
        if kind == ClientKind.SITE.value:
            for attr, template in (
                ("timezone", N_("a site needs a time zone (IANA name)")),
                ("address", N_("a site needs an address")),
            ):
                value = _merged(values, row, attr)
                if not value and attr not in draft.bad:
                    log.add(draft.line, table.header(attr), template)
        _resolve_manager(draft, managers, table, log)
        steps.append(_step(draft, row, parent_key))
    return steps


def plan_contracts(
    session: Session, table: Table, drafts: list[Draft], log: IssueLog
) -> list[Step]:
    """Resolve each contract's client and SLA plan; check that it does not end before it starts."""
    stored = _by_key(session, Contract, "external_id", (d.key for d in drafts))
    clients = _by_key(session, Client, "external_id", _refs(drafts, "client"))
    plans = _by_key(session, SlaPlan, "code", _refs(drafts, "sla_plan"))
    steps: list[Step] = []
    for draft in drafts:
        row = stored.get(draft.key)
        values = draft.values
        client = clients.get(draft.refs["client"] or "")
        if client is None and draft.refs["client"] is not None:
            log.add(
                draft.line,
                table.header("client"),
                N_("no client with external id {value}"),
                value=draft.refs["client"],
            )
        elif client is not None:
            values["client_id"] = client.id
        plan = plans.get(draft.refs["sla_plan"] or "")
        if plan is None and draft.refs["sla_plan"] is not None:
            log.add(
                draft.line,
                table.header("sla_plan"),
                N_("no SLA plan with code {value}"),
                value=draft.refs["sla_plan"],
            )
        elif plan is not None:
            values["sla_plan_id"] = plan.id
        start = values.get("valid_from")
        end = _merged(values, row, "valid_to")
        if start is not None and end is not None and end < start:
            log.add(
                draft.line,
                table.header("valid_to"),
                N_("{end} is before the start date {start}"),
                end=end,
                start=start,
            )
        steps.append(_step(draft, row))
    return steps


def plan_devices(session: Session, table: Table, drafts: list[Draft], log: IssueLog) -> list[Step]:
    """Resolve each device's site; check the РН check digits when the owner's ИНН is known."""
    stored = _by_key(session, Device, "external_id", (d.key for d in drafts))
    sites = _by_key(session, Client, "external_id", _refs(drafts, "site"))
    owner_inn: dict[int, str | None] = {}
    steps: list[Step] = []
    for draft in drafts:
        row = stored.get(draft.key)
        values = draft.values
        ref = draft.refs["site"]
        site = sites.get(ref) if ref is not None else None
        if ref is None:
            pass  # reported as a missing value already
        elif site is None or site.id is None:
            log.add(
                draft.line, table.header("site"), N_("no site with external id {value}"), value=ref
            )
        elif site.kind != ClientKind.SITE.value:
            log.add(
                draft.line,
                table.header("site"),
                N_("{value} is a {kind}, not a site"),
                value=ref,
                kind=site.kind,
            )
        else:
            values["site_id"] = site.id
            if site.id not in owner_inn:
                owner_inn[site.id] = _owner_inn(session, site.id)
            reg = _merged(values, row, "reg_number")
            serial = _merged(values, row, "serial")
            inn = owner_inn[site.id]
            if reg and serial and inn and check_reg_number(reg, inn, serial) is IdProblem.CHECKSUM:
                log.add(
                    draft.line,
                    table.header("reg_number"),
                    N_("{value} does not match INN {inn} and serial {serial} (check digits)"),
                    value=reg,
                    inn=inn,
                    serial=serial,
                )
        steps.append(_step(draft, row))
    return steps


def _owner_inn(session: Session, site_id: int) -> str | None:
    """The ИНН a register at this site is registered to: the site's own, else its legal entity's."""
    for client in repositories.client_chain(session=session, client_id=site_id):
        if client.inn and client.kind != ClientKind.CHAIN.value:
            return client.inn
    return None


def plan_engineers(
    session: Session, table: Table, drafts: list[Draft], log: IssueLog
) -> list[Step]:
    """Match engineers by login; check that an external id is not someone else's."""
    stored = _engineers(session, (d.key for d in drafts))
    owners = _by_key(
        session,
        Engineer,
        "external_id",
        {ext for d in drafts if (ext := d.values.get("external_id"))},
    )
    first_line: dict[str, int] = {}
    steps: list[Step] = []
    for draft in drafts:
        row = stored.get(draft.key.lower())
        ext = draft.values.get("external_id")
        if ext:
            owner = owners.get(ext)
            if ext in first_line:
                log.add(
                    draft.line,
                    table.header("external_id"),
                    N_("{value} repeats line {first}"),
                    value=ext,
                    first=first_line[ext],
                )
            elif owner is not None and (row is None or owner.id != row.id):
                log.add(
                    draft.line,
                    table.header("external_id"),
                    N_("{value} already belongs to engineer {login}"),
                    value=ext,
                    login=owner.login,
                )
            first_line.setdefault(ext, draft.line)
        steps.append(_step(draft, row))
    return steps


Planner = Callable[[Session, Table, list[Draft], IssueLog], list[Step]]
"""Resolve and check one file's drafts; one step per draft, in file order."""
