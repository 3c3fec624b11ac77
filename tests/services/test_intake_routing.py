"""Intake's classification, entities, priority and routing, on both back ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from sdconsole.config import RoutingRuleSettings, RoutingSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Priority, Role, Status
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import BusinessCalendar, Client, Device, Engineer, Event, Ticket
from tests.conftest import NOW, add_engineer
from tests.services.helpers import email, make_world

INN, SERIAL, RN = "7701234560", "00106109661742", "0001234567052923"


def engineer(store: Store, login: str, **values: Any) -> int:
    with store.transaction() as session:
        fields: dict[str, Any] = {"lines": [1], "teams": ["kkt"], **values}
        row = Engineer(login=login, name=login, **fields)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def ticket(store: Store, ticket_id: int | None) -> Ticket:
    assert ticket_id is not None
    with store.reader() as session:
        row = session.get(Ticket, ticket_id)
        assert row is not None
        return row


def event(store: Store, ticket_id: int | None, kind: str) -> Event:
    with store.reader() as session:
        return session.exec(
            select(Event).where(Event.ticket_id == ticket_id, Event.kind == kind)
        ).one()


def test_the_least_loaded_engineer_on_shift_gets_the_ticket(
    store: Store, clock: FixedClock
) -> None:
    make_world(store, NOW)
    busy = engineer(store, "a.busy")
    engineer(store, "b.free")
    engineer(store, "c.away", on_duty=False)
    engineer(store, "d.other", teams=["egais"])
    with store.transaction() as session:
        night = BusinessCalendar(
            code="night",
            name="Ночь",
            timezone="Europe/Moscow",
            weekly={str(d): [["22:00", "23:59"]] for d in range(1, 8)},
        )
        session.add(night)
        session.flush()
        session.add(
            Engineer(
                login="e.night", name="e", lines=[1], teams=["kkt"], shift_calendar_id=night.id
            )
        )
    intake = IntakeService(store, clock)
    first = intake.ingest(email("<r1@shop>", NOW))
    assert ticket(store, first.ticket_id).assignee_id is not None
    TicketService(store, clock).assign(
        first.ticket_id or 0,
        "a.busy",
        actor=add_engineer(store, "lead", Role.LEAD, lines=(1, 2, 3)),
    )

    second = intake.ingest(email("<r2@shop>", NOW, subject="Касса снова не печатает"))
    routed = ticket(store, second.ticket_id)
    with store.reader() as session:
        free = session.exec(select(Engineer).where(Engineer.login == "b.free")).one()
    assert routed.assignee_id == free.id != busy
    assert (routed.line, routed.team, routed.status) == (1, "kkt", Status.NEW.value)
    why = event(store, second.ticket_id, "routed")
    assert why.after == "b.free"
    assert [r["template"] for r in why.details["reasons"]] == [
        "category {category}",
        "{login} has the fewest open tickets ({count}) on shift",
    ]


def test_the_client_manager_and_rules_from_the_config(store: Store, clock: FixedClock) -> None:
    world = make_world(store, NOW)
    manager = engineer(store, "m.manager", lines=[1, 2])
    engineer(store, "x.expert", lines=[2], skills=["atol"])
    with store.transaction() as session:
        chain = session.get(Client, world.chain_id)
        assert chain is not None
        chain.manager_id = manager
    result = IntakeService(store, clock).ingest(email("<m1@shop>", NOW))
    assert ticket(store, result.ticket_id).assignee_id == manager

    rules = RoutingSettings(
        rules=[RoutingRuleSettings(name="АТОЛ", clients=["CH-1"], line=2, skills=["atol"])],
        prefer_manager=False,
    )
    result = IntakeService(store, clock, routing=rules).ingest(email("<m2@shop>", NOW))
    routed = ticket(store, result.ticket_id)
    assert routed.line == 2
    assert event(store, result.ticket_id, "routed").after == "x.expert"


def test_entities_link_client_and_register(store: Store, clock: FixedClock) -> None:
    make_world(store, NOW)
    with store.transaction() as session:
        entity = Client(kind="entity", name="ООО Ромашка", inn=INN, created_at=NOW, updated_at=NOW)
        session.add(entity)
        session.flush()
        shop = Client(
            kind="site", name="Ромашка-1", parent_id=entity.id, created_at=NOW, updated_at=NOW
        )
        session.add(shop)
        session.flush()
        session.add(Device(site_id=shop.id, model="АТОЛ 30Ф", serial=SERIAL, reg_number=RN))
    intake = IntakeService(store, clock, routing=RoutingSettings(assign=False))

    found = intake.ingest(
        email(
            "<e1@unknown>",
            NOW,
            sender="someone@unknown.example",
            body=f"Касса РН {RN} не печатает чек",
        )
    )
    row = ticket(store, found.ticket_id)
    assert row.device_id is not None and row.site_id == shop.id and row.client_id == entity.id
    assert event(store, found.ticket_id, "created").details["linked"] == {"device": "reg_number"}

    by_inn = intake.ingest(
        email("<e2@unknown>", NOW, sender="other@unknown.example", body=f"Наш ИНН {INN}")
    )
    assert ticket(store, by_inn.ticket_id).client_id == entity.id
    assert event(store, by_inn.ticket_id, "created").details["linked"] == {"client": "inn"}


def test_priority_from_the_text_and_the_only_till(store: Store, clock: FixedClock) -> None:
    world = make_world(store, NOW)
    intake = IntakeService(store, clock, routing=RoutingSettings(assign=False))
    calm = intake.ingest(email("<p1@shop>", NOW, body="Касса не печатает чек"))
    assert ticket(store, calm.ticket_id).priority == Priority.P2

    with store.transaction() as session:
        session.add(Device(site_id=world.site_id, model="АТОЛ 30Ф", serial="1"))
    only = intake.ingest(email("<p2@shop>", NOW + timedelta(minutes=1)))
    assert ticket(store, only.ticket_id).priority == Priority.P1
    reasons = event(store, only.ticket_id, "created").details["priority_reasons"]
    assert reasons == [{"template": "the shop's only till", "params": {}}]


def test_unsure_classification_leaves_suggestions(store: Store, clock: FixedClock) -> None:
    make_world(store, NOW)
    routing = RoutingSettings(assign=False, classify_threshold=0.99)
    result = IntakeService(store, clock, routing=routing).ingest(email("<s1@shop>", NOW))
    assert ticket(store, result.ticket_id).category_id is None
    suggestions = event(store, result.ticket_id, "created").details["suggestions"]
    assert suggestions[0]["code"] == "kkt.print" and suggestions[0]["confidence"] < 0.99
