"""Provides billing use cases: judging a ticket's coverage, and gathering a month's bill.

`judge_coverage` is called wherever a ticket's contract or category changes (intake, category
edits, binding a sender, monitoring, history import); it stores `Coverage` on the ticket and
records a ``coverage`` field event when it changes, so the engineer sees that a request will be
billed as a one-off work. `month_bills` reads a month's time and requests per contract and prices
them with `domain.billing` (docs/billing.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from sdconsole.config import BillingSettings
from sdconsole.domain.billing import (
    ZERO,
    Bill,
    Coverage,
    Rates,
    Terms,
    Work,
    add_months,
    bill_month,
    billed_minutes,
    coverage,
    days_in_force,
    money,
    price_for,
)
from sdconsole.domain.model import OPEN_STATUSES, ChannelKind, ContractKind, EventKind, Status
from sdconsole.storage.tables import Category, Client, Contract, Engineer, Event, Ticket, TimeEntry


def terms_of(contract: Contract) -> Terms:
    """The billing terms of a stored contract."""
    try:
        kind: ContractKind | None = ContractKind(contract.kind)
    except ValueError:
        kind = None  # an odd stored value never stops intake or a report
    return Terms(
        kind=kind,
        valid_from=contract.valid_from,
        valid_to=contract.valid_to,
        is_active=contract.is_active,
        categories=tuple(contract.categories or ()),
        price=contract.price,
        hours_per_month=contract.hours_per_month,
        carry_over_months=contract.carry_over_months,
        hourly_rate=contract.hourly_rate,
        request_price=contract.request_price
        if contract.request_price is not None or contract.kind != ContractKind.PER_REQUEST.value
        else contract.price,
        price_list={k: Decimal(str(v)) for k, v in (contract.price_list or {}).items()},
        rounding_minutes=contract.rounding_minutes,
        minimum_minutes=contract.minimum_minutes,
    )


def rates_of(settings: BillingSettings) -> Rates:
    """The one-off rates of the config's ``[billing]``."""
    return Rates(
        hourly_rate=settings.hourly_rate,
        price_list=dict(settings.price_list),
        rounding_minutes=settings.rounding_minutes,
        minimum_minutes=settings.minimum_minutes,
    )


def coverage_of(
    contract: Contract | None, category: Category | None, received: datetime
) -> Coverage:
    """Whether `contract` covers a request of `category` received at `received`."""
    return coverage(
        terms_of(contract) if contract else None,
        category.code if category else None,
        received.astimezone(UTC).date(),
    )


def coverage_event(
    ticket: Ticket, before: str | None, after: Coverage, now: datetime, actor_id: int | None = None
) -> Event:
    """The ``coverage`` field event of a change (or of a new request no contract covers)."""
    return Event(
        ticket_id=ticket.id,
        at=now,
        actor_id=actor_id,
        kind=EventKind.FIELD.value,
        before=before,
        after=after.value,
        details={"field": "coverage"},
    )


def judge_coverage(
    session: Session, ticket: Ticket, now: datetime, actor_id: int | None = None
) -> Coverage:
    """Store whether the ticket's contract covers it; a change is recorded as an event."""
    contract = session.get(Contract, ticket.contract_id) if ticket.contract_id else None
    category = session.get(Category, ticket.category_id) if ticket.category_id else None
    judged = coverage_of(contract, category, ticket.received_at or now)
    if ticket.coverage != judged.value:
        if ticket.coverage is not None or judged is not Coverage.COVERED:
            session.add(coverage_event(ticket, ticket.coverage, judged, now, actor_id))
        ticket.coverage = judged.value
    return judged


REJUDGE_DAYS = 400
"""A contract edit judges again the requests received this long ago or less (and open ones):
the months a bill is still made for."""


def rejudge_contract(
    session: Session, contract: Contract, now: datetime, actor_id: int | None = None
) -> int:
    """Judge again the coverage of the contract's requests after an edit; returns how many
    changed. Read as plain rows and written with one update per outcome: a chain's contract
    has tens of thousands of requests."""
    terms = terms_of(contract)
    rows = session.execute(
        select(Ticket.id, Ticket.coverage, Ticket.received_at, Category.code)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .where(
            Ticket.contract_id == contract.id,
            Ticket.channel != ChannelKind.INTERNAL.value,
            or_(
                Ticket.received_at >= now - timedelta(days=REJUDGE_DAYS),
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            ),
        )
    ).all()
    changed: dict[Coverage, list[tuple[int, str | None]]] = defaultdict(list)
    for ticket_id, stored, received, code in rows:
        judged = coverage(terms, code, (received or now).astimezone(UTC).date())
        if stored != judged.value:
            changed[judged].append((ticket_id, stored))
    for judged, tickets in changed.items():
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_([t for t, _before in tickets]))
            .values(coverage=judged.value)
            .execution_options(synchronize_session=False)
        )
        session.add_all(
            Event(
                ticket_id=ticket_id,
                at=now,
                actor_id=actor_id,
                kind=EventKind.FIELD.value,
                before=before,
                after=judged.value,
                details={"field": "coverage", "by": "contract"},
            )
            for ticket_id, before in tickets
        )
    return sum(len(t) for t in changed.values())


# -- a month's bill ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractBill:
    """A row of the billing report: a client's contract (or its work without one) in a month."""

    client_id: int | None
    client: str
    contract_id: int | None
    contract: str | None
    kind: str | None
    currency: str
    bill: Bill
    tickets: int
    minutes: int
    """Every minute logged in the month on these requests (billable or not)."""
    uncovered: tuple[int, ...] = field(default=())
    """Tickets billed as one-off works because no contract covers them."""


def _month_range(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(), UTC)
    return start, datetime.combine(add_months(month, 1), time(), UTC)


def _months_used(session: Session, contract: Contract, month: date) -> list[int]:
    """Billed package minutes of each month from the contract's first up to `month` (excluded).

    What carries into a month depends on every earlier month (the oldest hours are used first),
    so the whole life of the contract is read: one query, bucketed here."""
    first = contract.valid_from.replace(day=1)
    start, _ = _month_range(first)
    end, _ = _month_range(month)
    count = (month.year - first.year) * 12 + month.month - first.month
    used = [0] * max(0, count)
    if not used:
        return used
    rows = session.execute(
        select(TimeEntry.spent_at, TimeEntry.minutes)
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .where(
            TimeEntry.spent_at >= start,
            TimeEntry.spent_at < end,
            TimeEntry.billable.is_(True),
            Ticket.contract_id == contract.id,
            Ticket.status != Status.CANCELLED.value,
            Ticket.channel != ChannelKind.INTERNAL.value,
            or_(Ticket.coverage.is_(None), Ticket.coverage == Coverage.COVERED.value),
        )
    )
    for spent_at, minutes in rows:
        at = spent_at.astimezone(UTC)
        index = (at.year - first.year) * 12 + at.month - first.month
        used[index] += billed_minutes(minutes, contract.rounding_minutes, contract.minimum_minutes)
    return used


def month_bills(
    session: Session,
    month: date,
    settings: BillingSettings,
    *,
    client_ids: Sequence[int] | None = None,
) -> list[ContractBill]:
    """Every contract in force in the month, and each client's work without a contract.

    A request belongs to the month by the time spent on it in the month and, for per-request
    and price-list prices, by being received in it; months are calendar months in UTC.
    """
    start, end = _month_range(month)
    first = month.replace(day=1)
    rates = rates_of(settings)
    costs = {
        e.id: e.cost_per_hour if e.cost_per_hour is not None else settings.cost_per_hour
        for e in session.execute(select(Engineer)).scalars()
    }
    entries: dict[int, list[tuple[int, bool, int]]] = defaultdict(list)
    for ticket_id, minutes, billable, engineer_id in session.execute(
        select(
            TimeEntry.ticket_id, TimeEntry.minutes, TimeEntry.billable, TimeEntry.engineer_id
        ).where(TimeEntry.spent_at >= start, TimeEntry.spent_at < end)
    ):
        entries[ticket_id].append((minutes, billable, engineer_id))
    conditions: list[Any] = [
        Ticket.status != Status.CANCELLED.value,
        or_(
            Ticket.id.in_(list(entries)) if entries else False,
            and_(Ticket.received_at >= start, Ticket.received_at < end),
        ),
    ]
    if client_ids is not None:
        conditions.append(
            or_(Ticket.client_id.in_(list(client_ids)), Ticket.site_id.in_(list(client_ids)))
        )
    tickets = session.execute(
        select(
            Ticket.id,
            Ticket.client_id,
            Ticket.contract_id,
            Ticket.coverage,
            Ticket.received_at,
            Ticket.channel,
            Ticket.merged_into_id,
            Category.code,
        )
        .outerjoin(Category, Category.id == Ticket.category_id)
        .where(*conditions)
    ).all()
    contract_query = select(Contract).where(
        Contract.is_active.is_(True),
        Contract.valid_from < add_months(first, 1),
        or_(Contract.valid_to.is_(None), Contract.valid_to >= first),
    )
    if client_ids is not None:
        contract_query = contract_query.where(Contract.client_id.in_(list(client_ids)))
    contracts = {c.id: c for c in session.execute(contract_query).scalars()}
    missing = {t.contract_id for t in tickets if t.contract_id and t.contract_id not in contracts}
    if missing:
        contracts.update(
            {
                c.id: c
                for c in session.execute(select(Contract).where(Contract.id.in_(missing))).scalars()
            }
        )
    work: dict[tuple[int | None, int | None], list[Work]] = defaultdict(list)
    minutes_of: dict[tuple[int | None, int | None], int] = defaultdict(int)
    tickets_of: dict[tuple[int | None, int | None], int] = defaultdict(int)
    uncovered: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for row in tickets:
        logged = entries.get(row.id, [])
        judged = (
            Coverage(row.coverage)
            if row.coverage
            else (Coverage.COVERED if row.contract_id else Coverage.NO_CONTRACT)
        )
        cost = sum((Decimal(m) * (costs.get(e) or ZERO) / 60 for m, _, e in logged), ZERO)
        # The desk's own tickets (problems, notices) cost what their time costs, and are
        # never billed; a merged duplicate is its target's request, not one of its own.
        internal = row.channel == ChannelKind.INTERNAL.value
        request = not internal and row.merged_into_id is None
        received = request and row.received_at is not None and start <= row.received_at < end
        key = (row.client_id, row.contract_id if row.contract_id in contracts else None)
        work[key].append(
            Work(
                ticket_id=row.id,
                category=row.code,
                coverage=(judged if key[1] is not None else Coverage.NO_CONTRACT)
                if not internal
                else Coverage.COVERED,
                received_in_month=received,
                minutes=() if internal else tuple(m for m, billable, _ in logged if billable),
                cost=money(cost),
            )
        )
        tickets_of[key] += request
        minutes_of[key] += sum(m for m, _, _ in logged)
        if judged is not Coverage.COVERED and request:
            # Listed when it is billed this month: a priced work in the month it came in,
            # else when time was spent on it (as `domain.billing` bills one-off works).
            held = contracts.get(key[1]) if key[1] is not None else None
            prices = {**rates.price_list, **(terms_of(held).price_list if held else {})}
            priced = price_for(row.code, prices) is not None
            if received if priced else any(billable for _m, billable, _e in logged):
                uncovered[key].append(row.id)
    for contract in contracts.values():
        if days_in_force(terms_of(contract), first) > 0:
            work.setdefault((contract.client_id, contract.id), [])
    carried = [
        c.id
        for c in contracts.values()
        if c.id is not None and c.kind == ContractKind.HOURS_PACKAGE.value and c.carry_over_months
    ]
    history = {
        contract_id: _months_used(session, contracts[contract_id], first) for contract_id in carried
    }
    names = {
        c.id: c.name
        for c in session.execute(
            select(Client.id, Client.name).where(
                Client.id.in_([k[0] for k in work if k[0] is not None])
            )
        )
    }
    result = []
    for (client_id, contract_id), items in work.items():
        contract = contracts.get(contract_id) if contract_id else None
        bill = bill_month(
            terms_of(contract) if contract else None,
            first,
            items,
            rates,
            earlier_used=history.get(contract_id or 0, ()),
            share=contract is not None
            and client_ids is not None
            and contract.client_id not in client_ids,
        )
        result.append(
            ContractBill(
                client_id=client_id,
                client=names.get(client_id, "—") if client_id else "—",
                contract_id=contract_id,
                contract=contract.number if contract else None,
                kind=contract.kind if contract else None,
                currency=contract.currency if contract else settings.currency,
                bill=bill,
                tickets=tickets_of[(client_id, contract_id)],
                minutes=minutes_of[(client_id, contract_id)],
                uncovered=tuple(sorted(uncovered[(client_id, contract_id)])),
            )
        )
    result.sort(key=lambda r: (r.client.casefold(), r.contract is None, r.contract or ""))
    return result
