"""Provides contract expiry notices: a client's contacts are told before and when a contract ends.

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

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sdconsole.config import Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.model import ChannelKind, DeliveryState, EventKind, MessageKind, Status
from sdconsole.i18n import N_, translate_to
from sdconsole.storage import Store
from sdconsole.storage.reports import client_subtree
from sdconsole.storage.tables import (
    Client,
    Contact,
    Contract,
    ContractNotice,
    Event,
    Message,
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
        due_at=datetime.combine(contract.valid_to, now.timetz()),
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
