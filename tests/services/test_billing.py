"""Coverage judged on tickets, and a month's bill gathered from the store (both back ends)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from sdconsole.config import BillingSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import EventKind
from sdconsole.services.billing import month_bills
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Category, Client, Contact, Contract, Engineer, Event, Ticket
from tests.conftest import NOW, add_engineer
from tests.services.helpers import MANUAL, email, make_world

ONE_C = {"subject": "Не выгружается в 1С", "body": "Обмен с 1С: ошибка выгрузки чеков."}
SETTINGS = BillingSettings(
    hourly_rate=Decimal(3000),
    price_list={"ofd": Decimal(1500)},
    rounding_minutes=30,
    cost_per_hour=Decimal(600),
)


def _world(store: Store, clock: FixedClock) -> dict[str, int]:
    """CH-1 with a kkt-only hours package (10 h, carried one month); CH-2 without a contract."""
    world = make_world(store, NOW - timedelta(days=60))
    with store.transaction() as session:
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.kind = "hours_package"
        contract.valid_from = date(2026, 10, 1)
        contract.categories = ["kkt"]
        contract.hours_per_month = Decimal(2)
        contract.carry_over_months = 1
        contract.price = Decimal(12000)
        contract.hourly_rate = Decimal(2400)
        contract.rounding_minutes = 15
        session.add(
            Category(code="1c.exchange", name_ru="Обмен с 1С", name_en="1C exchange", line=2)
        )
        session.add(Category(code="ofd.send", name_ru="ОФД", name_en="OFD", line=1))
        other = Client(
            kind="chain", name="Северный берег", external_id="CH-2", created_at=NOW, updated_at=NOW
        )
        session.add(other)
        session.flush()
        session.add(
            Contact(client_id=other.id, name="Пётр", email="petr@north.example", created_at=NOW)
        )
    return {"contract": world.contract_id}


def _ticket(store: Store, ticket_id: int) -> Ticket:
    with store.reader() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def test_coverage_is_judged_at_intake_and_on_every_category_change(
    store: Store, clock: FixedClock
) -> None:
    _world(store, clock)
    engineer = add_engineer(store, "ivanov")
    intake = IntakeService(store, clock, routing=MANUAL)
    tickets = TicketService(store, clock)
    covered = intake.ingest(email("<a@shop>", NOW)).ticket_id
    outside = intake.ingest(email("<b@shop>", NOW, **ONE_C)).ticket_id
    stranger = intake.ingest(email("<c@north>", NOW, sender="petr@north.example")).ticket_id
    assert covered and outside and stranger
    assert _ticket(store, covered).coverage == "covered"
    assert _ticket(store, stranger).coverage == "no_contract"
    tickets.set_category(outside, "1c.exchange", actor=engineer)
    assert _ticket(store, outside).coverage == "not_included"
    tickets.set_category(outside, "kkt.print", actor=engineer)
    assert _ticket(store, outside).coverage == "covered"
    with store.reader() as session:
        changes = [
            (e.before, e.after)
            for e in session.execute(
                select(Event).where(Event.ticket_id == outside, Event.kind == EventKind.FIELD.value)
            ).scalars()
            if e.details.get("field") == "coverage"
        ]
        first = session.execute(
            select(Event).where(Event.ticket_id == covered, Event.kind == EventKind.FIELD.value)
        ).all()
    assert changes[-2:] == [("covered", "not_included"), ("not_included", "covered")]
    assert first == []  # a request covered from the start needs no word on it


def test_a_month_bills_package_hours_carried_overage_and_one_off_works(
    store: Store, clock: FixedClock
) -> None:
    _world(store, clock)
    engineer = add_engineer(store, "ivanov")
    with store.transaction() as session:
        row = session.get(Engineer, engineer.engineer_id)
        assert row is not None
        row.cost_per_hour = Decimal(900)
    intake = IntakeService(store, clock, routing=MANUAL)
    tickets = TicketService(store, clock)
    october = NOW.replace(day=10, month=10)
    # October: 30 minutes of the 2 hours are used, so 90 minutes carry into November.
    clock.set(october)
    old = intake.ingest(email("<oct@shop>", october)).ticket_id
    assert old
    tickets.log_time(old, 30, actor=engineer)
    clock.set(NOW)
    package = intake.ingest(email("<nov@shop>", NOW)).ticket_id
    outside = intake.ingest(email("<1c@shop>", NOW, **ONE_C)).ticket_id
    stranger = intake.ingest(email("<n@north>", NOW, sender="petr@north.example")).ticket_id
    assert package and outside and stranger
    tickets.set_category(outside, "1c.exchange", actor=engineer)
    tickets.log_time(package, 200, actor=engineer)  # billed 210 of 120 + 90 available
    tickets.log_time(package, 25, actor=engineer)  # billed 30: 30 minutes over
    tickets.log_time(package, 60, actor=engineer, billable=False)  # cost only
    tickets.log_time(outside, 20, actor=engineer)  # one-off: 15-minute rounding, 2,400 an hour
    tickets.set_category(stranger, "ofd.send", actor=engineer)  # priced 1,500 by the config
    with store.reader() as session:
        bills = month_bills(session, date(2026, 11, 1), SETTINGS)
    by_contract = {(b.client, b.contract): b for b in bills}
    ours = by_contract[("Продукты Урала", "Д-2026/7")]
    bill = ours.bill
    assert (bill.included_minutes, bill.carried_minutes) == (120, 90)
    assert (bill.used_minutes, bill.overage_minutes) == (240, 30)
    assert bill.overage_amount == Decimal("1200.00")
    # 20 minutes rounded to 30, at the contract's 2,400 an hour.
    assert (bill.one_off_works, bill.one_off_amount) == (1, Decimal("1200.00"))
    assert bill.fee == Decimal("12000.00")
    assert bill.amount == Decimal("14400.00")
    # 305 minutes at 900 an hour; the October ticket had no November time.
    assert bill.cost == Decimal("4575.00")
    assert ours.uncovered == (outside,)
    assert ours.minutes == 305
    north = by_contract[("Северный берег", None)]
    assert (north.bill.one_off_works, north.bill.one_off_amount) == (1, Decimal("1500.00"))
    assert north.uncovered == (stranger,)
    with store.reader() as session:
        october_bills = month_bills(session, date(2026, 10, 1), SETTINGS)
    (only,) = [b for b in october_bills if b.contract]
    assert (only.bill.used_minutes, only.bill.overage_minutes) == (30, 0)


def test_the_desks_own_tickets_cost_but_are_never_billed_and_a_shop_sees_its_share(
    store: Store, clock: FixedClock
) -> None:
    _world(store, clock)
    engineer = add_engineer(store, "ivanov")
    with store.transaction() as session:
        contract = session.execute(select(Contract)).scalar_one()
        contract.kind = "per_request"
        contract.request_price = Decimal(500)
        row = session.get(Engineer, engineer.engineer_id)
        assert row is not None
        row.cost_per_hour = Decimal(600)
    intake = IntakeService(store, clock, routing=MANUAL)
    tickets = TicketService(store, clock)
    request = intake.ingest(email("<r@shop>", NOW)).ticket_id
    assert request
    with store.transaction() as session:
        base = session.get(Ticket, request)
        assert base is not None
        problem = Ticket(
            subject="Повторяющийся инцидент",
            client_id=base.client_id,
            contract_id=base.contract_id,
            channel="internal",
            received_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            due_at=NOW,
        )
        session.add(problem)
        session.flush()
        problem_id = problem.id
    assert problem_id
    tickets.log_time(problem_id, 60, actor=engineer)
    with store.reader() as session:
        (bill,) = [b for b in month_bills(session, date(2026, 11, 1), SETTINGS) if b.contract]
        # One request at 500; the problem's hour is cost, not a request.
        assert (bill.tickets, bill.bill.requests, bill.bill.requests_amount) == (
            1,
            1,
            Decimal("500.00"),
        )
        assert bill.bill.cost == Decimal("600.00")
        site = session.execute(select(Client).where(Client.external_id == "S-7")).scalar_one()
        assert site.id is not None
        (share,) = month_bills(session, date(2026, 11, 1), SETTINGS, client_ids=[site.id])
    assert share.bill.fee == 0 and share.bill.requests == 1


def test_a_contract_edit_judges_its_requests_again(store: Store, clock: FixedClock) -> None:
    from sdconsole.domain.model import Role
    from sdconsole.services.contracts import ContractService

    ids = _world(store, clock)
    lead = add_engineer(store, "lead", Role.LEAD)
    intake = IntakeService(store, clock, routing=MANUAL)
    covered = intake.ingest(email("<k@shop>", NOW)).ticket_id
    assert covered and _ticket(store, covered).coverage == "covered"
    service = ContractService(store, clock)
    values = service.values_of(ids["contract"])
    assert values is not None
    service.save({**values, "categories": "ofd"}, actor=lead, contract_id=ids["contract"])
    assert _ticket(store, covered).coverage == "not_included"
    service.save({**values, "categories": ""}, actor=lead, contract_id=ids["contract"])
    assert _ticket(store, covered).coverage == "covered"
