"""The contract screen's read model: the client tree by search, and one node's card."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Priority
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import Contract, Device
from tests.conftest import add_engineer
from tests.services.helpers import MANUAL, email, make_world


def test_search_keeps_each_match_in_its_place(store: Store, clock: FixedClock) -> None:
    make_world(store, clock.now())
    with store.reader() as session:
        everything = repositories.client_nodes(session=session)
        found = repositories.client_nodes(session=session, search="магазин")
    assert [n.name for n in everything] == ["Магазин №7", "Продукты Урала"]
    assert {n.name for n in found} == {"Магазин №7", "Продукты Урала"}  # the shop and its chain
    with store.reader() as session:
        assert repositories.client_nodes(session=session, search="нет такого") == []


def test_card_shows_contracts_hours_successor_contacts_devices(
    store: Store, clock: FixedClock
) -> None:
    world = make_world(store, clock.now())
    today = clock.now().date()
    with store.transaction() as session:
        current = session.get(Contract, world.contract_id)
        assert current is not None
        current.valid_to = today + timedelta(days=20)
        current.kind = "hours"
        current.hours_per_month = Decimal("10")
        session.add(
            Contract(
                number="Д-2027/7",
                client_id=world.chain_id,
                kind="subscription",
                valid_from=today + timedelta(days=21),
                sla_plan_id=current.sla_plan_id,
            )
        )
        session.add(
            Device(
                site_id=world.site_id,
                model="АТОЛ 30Ф",
                serial="00106709123456",
                fn_valid_until=date(2026, 12, 1),
            )
        )
    result = IntakeService(store, clock, routing=MANUAL).ingest(email("<h@shop>", clock.now()))
    assert result.ticket_id is not None
    engineer = add_engineer(store, "ivanov")
    TicketService(store, clock).log_time(result.ticket_id, 90, actor=engineer)
    TicketService(store, clock).log_time(result.ticket_id, 30, actor=engineer, billable=False)
    with store.reader() as session:
        card = repositories.client_card(session=session, client_id=world.site_id, now=clock.now())
    assert card is not None
    assert card.path == ("Продукты Урала", "Магазин №7")
    assert card.timezone == "Asia/Yekaterinburg" and card.open_tickets == 1
    first, second = card.contracts
    assert (first.number, first.holder, first.successor) == (
        "Д-2026/7",
        "Продукты Урала",
        "Д-2027/7",
    )
    assert first.hours_per_month == 10 and first.minutes_this_month == 90  # billable only
    assert first.days_left(today) == 20 and first.in_force(today)
    assert not second.in_force(today) and second.successor is None
    assert [t.priority for t in first.targets] == list(Priority)
    assert first.targets[0].response_minutes == 15 and first.targets[0].calendar == "24/7"
    assert [c.name for c in card.contacts] == ["Ольга Петрова"]
    assert [d.serial for d in card.devices] == ["00106709123456"]


def test_the_contract_in_force_is_remembered_until_a_contract_changes(
    store: Store, clock: FixedClock
) -> None:
    now = clock.now()
    world = make_world(store, now)
    yesterday = now.date() - timedelta(days=1)
    with store.transaction() as session:
        tree = [c.id for c in repositories.client_chain(session=session, client_id=world.site_id)]
        found = repositories.active_contract(session=session, client_ids=tree, on=now)
        assert found is not None
        number = found.number
        found.valid_to = yesterday  # pending: the answer is read again, not remembered
        assert repositories.active_contract(session=session, client_ids=tree, on=now) is None
        session.flush()
        assert repositories.active_contract(session=session, client_ids=tree, on=now) is None
        found.valid_to = None
        session.flush()
        again = repositories.active_contract(session=session, client_ids=tree, on=now)
        assert again is not None and again.number == number
