"""Contract expiry notices: a letter to each contact through the outbox, once per end date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from sdconsole.config import Settings
from sdconsole.domain.clock import FixedClock
from sdconsole.services.contracts import notify_expiring
from sdconsole.storage import Store
from sdconsole.storage.tables import Contact, Contract, ContractNotice, Ticket
from tests.channels.smtp_server import SmtpServer
from tests.channels.test_outbox import mail_settings, outbox_for
from tests.conftest import NOW
from tests.services.helpers import make_world


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_contacts_are_told_before_and_when_a_contract_ends(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    world = make_world(store, NOW)
    with store.transaction() as session:
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.valid_to = NOW.date() + timedelta(days=20)
        session.add(
            Contact(
                client_id=world.chain_id,
                name="Бухгалтерия",
                email="buh@ural.example",
                created_at=NOW,
            )
        )
        session.add(Contact(client_id=world.chain_id, name="Без почты", created_at=NOW))
    mail = mail_settings(smtp)
    settings = Settings(mail=mail)
    outbox = outbox_for(store, clock, mail)

    assert notify_expiring(store, clock, settings) == 1
    assert notify_expiring(store, clock, settings) == 0  # once per contract and end date
    assert outbox.deliver_due() == 2
    sent = sorted(smtp.messages, key=lambda m: str(m["To"]))
    assert [m["To"] for m in sent] == ["buh@ural.example", "olga@shop7.example"]
    subject = str(sent[0]["Subject"])
    end = (NOW.date() + timedelta(days=20)).strftime("%d.%m.%Y")
    assert subject.startswith(f"Contract Д-2026/7 ends on {end} [SD-")
    assert sent[0]["Auto-Submitted"] == "auto-generated"
    with store.reader() as session:
        (ticket,) = session.execute(select(Ticket)).scalars()
    assert ticket.channel == "internal" and ticket.tags == ["contract-ahead"]

    # Past its end, unrenewed: the second notice; renewed: none.
    clock.set(NOW + timedelta(days=22))
    assert notify_expiring(store, clock, settings) == 1
    assert outbox.deliver_due() == 2
    assert "ended on" in str(smtp.messages[-1]["Subject"])
    with store.reader() as session:
        kinds = sorted(n.kind for n in session.execute(select(ContractNotice)).scalars())
    assert kinds == ["ahead", "expired"]
    outbox.close()


def test_a_renewed_contract_gets_no_expired_notice(store: Store, clock: FixedClock) -> None:
    world = make_world(store, NOW)
    with store.transaction() as session:
        old = session.get(Contract, world.contract_id)
        assert old is not None
        old.valid_to = NOW.date() - timedelta(days=2)
        session.add(
            Contract(
                number="Д-2027/7",
                client_id=world.chain_id,
                kind="subscription",
                valid_from=NOW.date() - timedelta(days=1),
                sla_plan_id=old.sla_plan_id,
            )
        )
    assert notify_expiring(store, clock, Settings()) == 0
    assert notify_expiring(store, clock, Settings(billing={"expiry_notices": False})) == 0
