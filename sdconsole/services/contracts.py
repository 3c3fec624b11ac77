"""Provides contract use cases: a lead's edits, and expiry notices to the client's contacts.

`notify_expiring` is a periodic job of ``sdconsole workers run``. For each active contract with an
end date it sends, once per contract and end date (`ContractNotice`):

* **ahead**: ``notify_days`` days before the end (the contract's; 30 by default);
* **expired**: on the days after the end, unless another contract of the client is in force
  (it was renewed), and only within `EXPIRED_GRACE` of the end (an old store's first run does
  not write to clients about contracts that ended long ago).

A notice is a ticket of the desk's own (channel ``internal``: no client SLA) for the client's
manager, holding one letter per contact with an email address, sent through the outbox with its
retries; a client's answer continues that ticket like any reply. A client without such a contact
still gets the ticket, so its manager can call.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sdconsole.config import Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput, NotFound, PermissionDenied
from sdconsole.domain.identifiers import parse_date, parse_decimal
from sdconsole.domain.model import (
    Actor,
    ChannelKind,
    ContractKind,
    DeliveryState,
    EventKind,
    MessageKind,
    Status,
)
from sdconsole.i18n import N_, _, translate_to
from sdconsole.services.billing import rejudge_contract
from sdconsole.storage import Store
from sdconsole.storage.reports import client_subtree
from sdconsole.storage.tables import (
    Client,
    Contact,
    Contract,
    ContractNotice,
    Event,
    Message,
    SlaPlan,
    Ticket,
)

log = logging.getLogger(__name__)

EXPIRED_GRACE = timedelta(days=14)
AHEAD, EXPIRED = "ahead", "expired"

_SUBJECTS = {
    AHEAD: N_("Contract {number} ends on {date}"),
    EXPIRED: N_("Contract {number} ended on {date}"),
}
_BODIES = {
    AHEAD: N_(
        "Good day!\n\nYour support contract {number} ends on {date}. To keep your shops "
        "covered without a break, please reply to this letter and we will prepare its renewal."
    ),
    EXPIRED: N_(
        "Good day!\n\nYour support contract {number} ended on {date}. Requests are now served "
        "as one-off works at the price list. Reply to this letter to renew the contract."
    ),
}


def due_notice(contract: Contract, today: date, renewed: bool) -> str | None:
    """Which notice the contract is due today, if any (`AHEAD`, `EXPIRED` or None)."""
    end = contract.valid_to
    if end is None or not contract.is_active:
        return None
    if end - timedelta(days=contract.notify_days) <= today <= end:
        return AHEAD
    if end < today <= end + EXPIRED_GRACE and not renewed:
        return EXPIRED
    return None


def notify_expiring(store: Store, clock: Clock, settings: Settings) -> int:
    """Send the notices due now; returns how many contracts were noticed."""
    if not settings.billing.expiry_notices:
        return 0
    now = clock.now()
    today = now.date()
    with store.reader() as session:
        candidates = [
            c.id
            for c in session.execute(
                select(Contract).where(
                    Contract.is_active.is_(True),
                    Contract.valid_to.is_not(None),
                    Contract.valid_to >= today - EXPIRED_GRACE,
                )
            ).scalars()
        ]
    sent = 0
    for contract_id in candidates:
        try:
            with store.transaction() as session:
                sent += _notify(session, contract_id, now, today, settings)
        except IntegrityError:
            log.info("contract %s: its notice was sent by another worker", contract_id)
    return sent


def _renewed(session: Session, contract: Contract, today: date) -> bool:
    return (
        session.execute(
            select(Contract.id).where(
                Contract.client_id == contract.client_id,
                Contract.id != contract.id,
                Contract.is_active.is_(True),
                Contract.valid_from <= today,
                or_(Contract.valid_to.is_(None), Contract.valid_to >= today),
            )
        ).first()
        is not None
    )


def _notify(
    session: Session, contract_id: int, now: datetime, today: date, settings: Settings
) -> int:
    contract = session.get(Contract, contract_id)
    if contract is None or contract.valid_to is None:
        return 0
    kind = due_notice(contract, today, _renewed(session, contract, today))
    if kind is None:
        return 0
    done = session.execute(
        select(ContractNotice.id).where(
            ContractNotice.contract_id == contract.id,
            ContractNotice.kind == kind,
            ContractNotice.valid_to == contract.valid_to,
        )
    ).first()
    if done is not None:
        return 0
    client = session.get(Client, contract.client_id)
    assert client is not None
    assert contract.id is not None
    ids = client_subtree(session=session, client_id=client.id or 0)
    contacts = [
        c
        for c in session.execute(
            select(Contact)
            .where(Contact.client_id.in_(list(ids)), Contact.is_active.is_(True))
            .where(Contact.email.is_not(None))
            .order_by(Contact.id)
        ).scalars()
        if c.email
    ]
    language = settings.mail.client_language
    words = {"number": contract.number, "date": contract.valid_to.strftime("%d.%m.%Y")}
    subject = translate_to(language, _SUBJECTS[kind]).format(**words)
    body = translate_to(language, _BODIES[kind]).format(**words)
    ticket = Ticket(
        subject=subject,
        client_id=client.id,
        contract_id=contract.id,
        channel=ChannelKind.INTERNAL.value,
        assignee_id=client.manager_id,
        status=Status.NEW.value,
        received_at=now,
        created_at=now,
        updated_at=now,
        # Ahead: due by the end; expired: a day to call the client.
        due_at=max(datetime.combine(contract.valid_to, now.timetz()), now + timedelta(days=1)),
        tags=["contract-" + kind],
    )
    session.add(ticket)
    session.flush()
    session.add(
        Event(
            ticket_id=ticket.id,
            at=now,
            actor_id=None,
            kind=EventKind.CREATED.value,
            after=Status.NEW.value,
            details={"channel": ChannelKind.INTERNAL.value, "contract": contract.number},
        )
    )
    for contact in contacts:
        session.add(
            Message(
                ticket_id=ticket.id,
                kind=MessageKind.OUTBOUND.value,
                channel=ChannelKind.EMAIL.value,
                author_name=settings.mail.display_name,
                author_contact_id=None,
                body=body,
                created_at=now,
                address=contact.email,
                delivery_state=DeliveryState.QUEUED.value,
                channel_data={"notice": kind},
            )
        )
    session.add(
        ContractNotice(
            contract_id=contract.id,
            kind=kind,
            valid_to=contract.valid_to,
            sent_at=now,
            recipients=len(contacts),
        )
    )
    session.flush()
    return 1


# -- editing contracts -----------------------------------------------------------------------------

CONTRACT_FIELDS = (
    "number",
    "kind",
    "valid_from",
    "valid_to",
    "sla_plan",
    "categories",
    "hours_per_month",
    "price",
    "hourly_rate",
    "request_price",
    "price_list",
    "rounding_minutes",
    "minimum_minutes",
    "carry_over_months",
    "notify_days",
    "notes",
)
"""What the contract form edits, as text (the contract screen's fields)."""


def contract_values(contract: Contract, plan_code: str) -> dict[str, str]:
    """A stored contract as the form's text values."""

    def amount(value: Decimal | None) -> str:
        return "" if value is None else f"{value:f}"

    return {
        "number": contract.number,
        "kind": contract.kind,
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat() if contract.valid_to else "",
        "sla_plan": plan_code,
        "categories": "|".join(contract.categories or ()),
        "hours_per_month": amount(contract.hours_per_month),
        "price": amount(contract.price),
        "hourly_rate": amount(contract.hourly_rate),
        "request_price": amount(contract.request_price),
        "price_list": "|".join(f"{k}={v}" for k, v in (contract.price_list or {}).items()),
        "rounding_minutes": str(contract.rounding_minutes),
        "minimum_minutes": str(contract.minimum_minutes),
        "carry_over_months": str(contract.carry_over_months),
        "notify_days": str(contract.notify_days),
        "notes": contract.notes,
    }


def _day(value: str, what: str, *, required: bool = False) -> date | None:
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput(N_("{what}: a value is required."), what=what)
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise InvalidInput(
            N_("{what}: {value} is not a date (YYYY-MM-DD or DD.MM.YYYY)."), what=what, value=text
        ) from None


def _amount(value: str, what: str) -> Decimal | None:
    if not value.strip():
        return None
    try:
        amount = parse_decimal(value)
    except ValueError:
        amount = Decimal(-1)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(
            N_("{what}: {value} is not an amount (0 or more, two decimals at most)."),
            what=what,
            value=value,
        )
    return amount


def _whole(value: str, what: str, low: int, high: int) -> int:
    text = value.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(
            N_("{what}: {value} is not a whole number from {low} to {high}."),
            what=what,
            value=value,
            low=low,
            high=high,
        )
    return int(text)


def _prices(value: str) -> dict[str, str]:
    prices: dict[str, str] = {}
    for part in (p.strip() for p in value.replace(";", "|").split("|")):
        if not part:
            continue
        code, _equals, amount = part.partition("=")
        price = _amount(amount, code.strip() or part) if _equals else None
        if not code.strip() or price is None:
            raise InvalidInput(
                N_("Price list: {value} is not code=price (kkt.fn.replace=3500|ofd=1500)."),
                value=part,
            )
        prices[code.strip()] = f"{price:f}"
    return prices


class ContractService:
    """A lead's edits of contracts: create one for a client, change one (every field checked)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def plans(self) -> list[tuple[str, str]]:
        """Every SLA plan as (code, name), by code: what a contract may name."""
        with self.store.reader() as session:
            return [
                (p.code, p.name)
                for p in session.execute(select(SlaPlan).order_by(SlaPlan.code)).scalars()
            ]

    def values_of(self, contract_id: int) -> dict[str, str] | None:
        """A stored contract as the form's text values; None when it is gone."""
        with self.store.reader() as session:
            contract = session.get(Contract, contract_id)
            if contract is None:
                return None
            plan = session.get(SlaPlan, contract.sla_plan_id)
            return contract_values(contract, plan.code if plan else "")

    def save(
        self, values: dict[str, str], *, actor: Actor, client_id: int | None = None,
        contract_id: int | None = None,
    ) -> int:  # fmt: skip
        """Create a contract for `client_id`, or change `contract_id`; returns its id.

        Raises:
            PermissionDenied: the actor is not a lead or an administrator.
            InvalidInput: a value is wrong (the message names the field).
            NotFound: no such client, contract or SLA plan.
        """
        if not actor.role.can_manage:
            raise PermissionDenied(N_("Only a lead can create or change contracts."))
        number = values.get("number", "").strip()
        if not number or len(number) > 64:
            raise InvalidInput(N_("Number: 1 to 64 characters."))
        try:
            kind = ContractKind(values.get("kind", "").strip())
        except ValueError:
            raise InvalidInput(
                N_("Kind: {value} is not a kind of contract."), value=values.get("kind", "")
            ) from None
        start = _day(values.get("valid_from", ""), _("Valid from"), required=True)
        end = _day(values.get("valid_to", ""), _("Valid to"))
        assert start is not None
        if end is not None and end < start:
            raise InvalidInput(
                N_("Valid to: {end} is before the start {start}."),
                end=end.isoformat(),
                start=start.isoformat(),
            )
        changes: dict[str, Any] = {
            "number": number,
            "kind": kind.value,
            "valid_from": start,
            "valid_to": end,
            "categories": [
                c.strip()
                for c in values.get("categories", "").replace(";", "|").split("|")
                if c.strip()
            ],
            "hours_per_month": _amount(values.get("hours_per_month", ""), _("Hours a month")),
            "price": _amount(values.get("price", ""), _("Price")),
            "hourly_rate": _amount(values.get("hourly_rate", ""), _("Hourly rate")),
            "request_price": _amount(values.get("request_price", ""), _("Price of a request")),
            "price_list": _prices(values.get("price_list", "")),
            "rounding_minutes": _whole(
                values.get("rounding_minutes", "") or "1", _("Rounding, minutes"), 1, 1440
            ),
            "minimum_minutes": _whole(
                values.get("minimum_minutes", "") or "0", _("Minimum, minutes"), 0, 1440
            ),
            "carry_over_months": _whole(
                values.get("carry_over_months", "") or "0", _("Carry-over, months"), 0, 24
            ),
            "notify_days": _whole(values.get("notify_days", "") or "30", _("Notice, days"), 0, 365),
            "notes": values.get("notes", "").strip(),
        }
        if kind is ContractKind.HOURS_PACKAGE and not changes["hours_per_month"]:
            raise InvalidInput(N_("Hours a month: an hours package needs them."))
        with self.store.transaction() as session:
            plan = session.execute(
                select(SlaPlan).where(SlaPlan.code == values.get("sla_plan", "").strip())
            ).scalar_one_or_none()
            if plan is None:
                raise NotFound(N_("No SLA plan {code}."), code=values.get("sla_plan", ""))
            changes["sla_plan_id"] = plan.id
            if contract_id is not None:
                contract = session.get(Contract, contract_id)
                if contract is None:
                    raise NotFound(N_("No contract {ref}."), ref=str(contract_id))
            else:
                if client_id is None or session.get(Client, client_id) is None:
                    raise NotFound(N_("No client {ref}."), ref=str(client_id))
                contract = Contract(client_id=client_id, **changes)
                session.add(contract)
            for name, value in changes.items():
                setattr(contract, name, value)
            session.flush()
            if contract_id is not None:
                rejudge_contract(session, contract, self.clock.now(), actor.engineer_id)
            assert contract.id is not None
            log.info("contract %s saved by %s", contract.number, actor.login)
            return contract.id
