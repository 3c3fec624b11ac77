"""Ticket use cases: events, roles, the state machine, and refusing stale edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.errors import (
    AlreadyTaken,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from sdconsole.domain.intake import InboundMessage, Sender
from sdconsole.domain.model import SYSTEM, Actor, ChannelKind, Priority, Role, Status, SupportLine
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import Event, Message, Ticket, TicketLink, TimeEntry
from tests.conftest import add_engineer
from tests.services.helpers import email, make_world


@pytest.fixture
def tickets(store: Store, clock: FixedClock) -> TicketService:
    return TicketService(store, clock)


@pytest.fixture
def ticket_id(store: Store, clock: FixedClock) -> int:
    make_world(store, clock.now())
    result = IntakeService(store, clock).ingest(email("<t@shop>", clock.now()))
    assert result.ticket_id is not None
    return result.ticket_id


@pytest.fixture
def engineer(store: Store) -> Actor:
    return add_engineer(store, "ivanov")


@pytest.fixture
def other(store: Store) -> Actor:
    return add_engineer(store, "petrova")


@pytest.fixture
def lead(store: Store) -> Actor:
    return add_engineer(store, "lead", Role.LEAD, (1, 2, 3))


def load(store: Store, ticket_id: int) -> Ticket:
    with store.reader() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def event_kinds(store: Store, ticket_id: int) -> list[str]:
    with store.reader() as session:
        return list(
            session.execute(
                select(Event.kind).where(Event.ticket_id == ticket_id).order_by(Event.id)
            ).scalars()
        )


def test_take_assigns_opens_and_records_events(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    tickets.take(ticket_id, actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.assignee_id == engineer.engineer_id
    assert ticket.status == Status.OPEN
    assert event_kinds(store, ticket_id)[-2:] == ["assignee", "status"]


def test_take_of_a_taken_ticket_names_the_owner(
    tickets: TicketService, ticket_id: int, engineer: Actor, other: Actor
) -> None:
    tickets.take(ticket_id, actor=engineer)
    with pytest.raises(AlreadyTaken, match="already taken by ivanov"):
        tickets.take(ticket_id, actor=other)


def test_only_a_lead_reassigns_another_engineers_ticket(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor, other: Actor, lead: Actor
) -> None:
    tickets.take(ticket_id, actor=engineer)
    with pytest.raises(PermissionDenied, match="Only a lead"):
        tickets.assign(ticket_id, "petrova", actor=other)
    tickets.assign(ticket_id, "petrova", actor=lead)
    assert load(store, ticket_id).assignee_id == other.engineer_id
    tickets.assign(ticket_id, "ivanov", actor=other)  # an owner may hand over their own
    with pytest.raises(NotFound):
        tickets.assign(ticket_id, "nobody", actor=lead)


def test_stale_version_is_refused(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    version = load(store, ticket_id).version
    tickets.take(ticket_id, actor=engineer)
    with pytest.raises(Conflict, match="changed by someone else"):
        tickets.set_priority(ticket_id, Priority.P1, actor=engineer, expected_version=version)
    current = load(store, ticket_id).version
    tickets.set_priority(ticket_id, Priority.P1, actor=engineer, expected_version=current)
    assert load(store, ticket_id).version > current


def test_reply_is_queued_and_stops_the_first_response_clock(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    clock.advance(timedelta(minutes=10))
    message_id = tickets.reply(ticket_id, "Здравствуйте! Проверьте бумагу.", actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.first_response_at == clock.now()
    assert ticket.response_breached is False
    assert ticket.due_at == ticket.resolution_due_at
    with store.reader() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.delivery_state == "queued"
    clock.advance(timedelta(minutes=10))
    tickets.reply(ticket_id, "Ещё один ответ", actor=engineer)
    assert load(store, ticket_id).first_response_at == clock.now() - timedelta(minutes=10)


def test_late_reply_is_a_breached_response(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    clock.advance(timedelta(hours=2))
    tickets.reply(ticket_id, "Извините за задержку", actor=engineer)
    assert load(store, ticket_id).response_breached is True


def test_notes_never_count_as_a_response(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    tickets.note(ticket_id, "Проверил логи ККТ", actor=engineer)
    assert load(store, ticket_id).first_response_at is None
    with pytest.raises(InvalidInput):
        tickets.note(ticket_id, "   ", actor=engineer)


def test_waiting_for_client_pauses_and_shifts_the_deadline(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    due = load(store, ticket_id).resolution_due_at
    tickets.set_status(ticket_id, Status.WAITING_CLIENT, actor=engineer)
    assert load(store, ticket_id).paused_at == clock.now()
    clock.advance(timedelta(minutes=45))
    tickets.set_status(ticket_id, Status.OPEN, actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.paused_at is None and ticket.paused_minutes == 45
    assert ticket.resolution_due_at == due + timedelta(minutes=45)


def test_sla_fields_are_kept_in_step_with_every_event(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    # The world's plan: P1 15/240, P2 30/480, P3 120/1440 minutes, round the clock.
    received = load(store, ticket_id).received_at
    assert received is not None
    clock.advance(timedelta(minutes=10))
    tickets.set_priority(ticket_id, Priority.P3, actor=engineer, reason="Не срочно")
    ticket = load(store, ticket_id)
    assert ticket.response_due_at == clock.now() + timedelta(minutes=120)
    assert ticket.due_at == ticket.response_due_at
    clock.advance(timedelta(minutes=20))
    tickets.reply(ticket_id, "Проверьте рулон, пожалуйста.", actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.response_minutes == int((clock.now() - received).total_seconds() // 60)
    assert ticket.due_at == ticket.resolution_due_at
    clock.advance(timedelta(hours=1))
    tickets.resolve(ticket_id, "printer.paper", actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.resolution_minutes == int((clock.now() - received).total_seconds() // 60)
    assert not ticket.resolution_breached
    tickets.reopen(ticket_id, "Снова не печатает", actor=engineer)
    assert load(store, ticket_id).resolution_minutes is None


def test_status_changes_follow_the_state_machine(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    with pytest.raises(IllegalTransition):
        tickets.set_status(ticket_id, Status.CLOSED, actor=engineer)
    with pytest.raises(IllegalTransition):
        tickets.close(ticket_id, actor=engineer)
    tickets.set_status(ticket_id, Status.CANCELLED, actor=engineer)
    with pytest.raises(IllegalTransition, match="reopen"):
        tickets.set_status(ticket_id, Status.OPEN, actor=engineer)


def test_escalation_needs_a_reason_and_a_higher_line(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    tickets.take(ticket_id, actor=engineer)
    with pytest.raises(InvalidInput, match="reason"):
        tickets.escalate(ticket_id, SupportLine.L2, " ", actor=engineer)
    with pytest.raises(InvalidInput, match="higher line"):
        tickets.escalate(ticket_id, SupportLine.L1, "x", actor=engineer)
    tickets.escalate(ticket_id, SupportLine.L2, "Нужна перепрошивка", actor=engineer, team="kkt")
    ticket = load(store, ticket_id)
    assert (ticket.line, ticket.assignee_id, ticket.team) == (2, None, "kkt")
    tickets.escalate(ticket_id, SupportLine.L4, "Гарантия АТОЛ", actor=engineer)
    assert load(store, ticket_id).status == Status.WAITING_VENDOR
    assert event_kinds(store, ticket_id).count("escalated") == 2


def test_resolve_close_and_reopen(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor, lead: Actor
) -> None:
    with pytest.raises(InvalidInput, match="resolution code"):
        tickets.resolve(ticket_id, "", actor=engineer)
    tickets.resolve(ticket_id, "printer.paper", "Заменили рулон", actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.status == Status.RESOLVED and ticket.resolution_code == "printer.paper"
    tickets.reopen(ticket_id, "Клиент: снова не печатает", actor=engineer)
    assert load(store, ticket_id).status == Status.OPEN
    tickets.resolve(ticket_id, "printer.replaced", actor=engineer)
    tickets.close(ticket_id, actor=engineer)
    with pytest.raises(PermissionDenied, match="Only a lead"):
        tickets.reopen(ticket_id, "ещё раз", actor=engineer)
    tickets.reopen(ticket_id, "ещё раз", actor=lead)
    assert load(store, ticket_id).closed_at is None


def test_log_time(store: Store, tickets: TicketService, ticket_id: int, engineer: Actor) -> None:
    tickets.log_time(ticket_id, 25, actor=engineer, note="Выезд")
    with pytest.raises(InvalidInput):
        tickets.log_time(ticket_id, 0, actor=engineer)
    with store.reader() as session:
        entry = session.execute(select(TimeEntry)).scalar_one()
    assert (entry.minutes, entry.billable, entry.engineer_id) == (25, True, engineer.engineer_id)


def test_link_and_merge(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    second = IntakeService(store, clock).ingest(email("<t2@shop>", clock.now()))
    assert second.ticket_id is not None
    tickets.link(ticket_id, second.ticket_id, actor=engineer)
    tickets.link(ticket_id, second.ticket_id, actor=engineer)  # idempotent
    tickets.merge(second.ticket_id, ticket_id, actor=engineer)
    merged = load(store, second.ticket_id)
    assert merged.status == Status.CLOSED and merged.merged_into_id == ticket_id
    with store.reader() as session:
        view = repositories.ticket_view(session=session, ticket_id=ticket_id)
        links = session.execute(select(TicketLink.kind)).scalars().all()
    assert view is not None
    assert sum(1 for m in view.messages if m.kind == "inbound") == 2
    assert sorted(links) == ["duplicate", "related"]
    with pytest.raises(InvalidInput):
        tickets.merge(ticket_id, ticket_id, actor=engineer)


def test_merge_closes_the_duplicate_as_a_finished_ticket(
    store: Store, tickets: TicketService, clock: FixedClock, ticket_id: int, engineer: Actor
) -> None:
    second = IntakeService(store, clock).ingest(email("<dup@shop>", clock.now()))
    assert second.ticket_id is not None
    clock.advance(timedelta(minutes=5))
    tickets.merge(second.ticket_id, ticket_id, actor=engineer)
    merged = load(store, second.ticket_id)
    assert merged.resolved_at == merged.closed_at == clock.now()
    assert merged.resolution_code == "merged"
    assert event_kinds(store, second.ticket_id)[-2:] == ["status", "merged"]


def monitoring_ticket(store: Store, clock: FixedClock) -> int:
    world = make_world(store, clock.now())
    alert = InboundMessage(
        channel=ChannelKind.MONITORING,
        idempotency_key="fn-expiry:9999078900001234",
        received_at=clock.now(),
        sender=Sender(name="monitoring"),
        subject="ФН истекает через 3 дня",
        body="ФН 9999078900001234: срок действия истекает 2026-11-26",
        raw=b'{"check": "fn_expiry"}',
        site_id=world.site_id,
        thread_key="fn-expiry:9999078900001234",
    )
    result = IntakeService(store, clock).ingest(alert)
    assert result.ticket_id is not None
    return result.ticket_id


def test_taking_a_monitoring_ticket_is_its_reaction(
    store: Store, tickets: TicketService, clock: FixedClock, engineer: Actor
) -> None:
    ticket_id = monitoring_ticket(store, clock)
    tickets.note(ticket_id, "Робот: проверка повторена", actor=SYSTEM)
    assert load(store, ticket_id).first_response_at is None
    clock.advance(timedelta(minutes=7))
    tickets.take(ticket_id, actor=engineer)
    ticket = load(store, ticket_id)
    assert ticket.first_response_at == clock.now()
    assert ticket.response_breached is False
    assert "first_response" in event_kinds(store, ticket_id)
    clock.advance(timedelta(minutes=7))
    tickets.set_status(ticket_id, Status.WAITING_CLIENT, actor=engineer)
    assert load(store, ticket_id).first_response_at == clock.now() - timedelta(minutes=7)


def test_a_lead_assigning_someone_else_is_not_the_reaction(
    store: Store, tickets: TicketService, clock: FixedClock, engineer: Actor, lead: Actor
) -> None:
    ticket_id = monitoring_ticket(store, clock)
    tickets.assign(ticket_id, engineer.login, actor=lead)
    assert load(store, ticket_id).first_response_at is None
    tickets.set_status(ticket_id, Status.WAITING_VENDOR, actor=engineer)
    assert load(store, ticket_id).first_response_at == clock.now()


def test_taking_a_client_ticket_is_not_a_first_response(
    store: Store, tickets: TicketService, ticket_id: int, engineer: Actor
) -> None:
    tickets.take(ticket_id, actor=engineer)
    tickets.set_status(ticket_id, Status.WAITING_VENDOR, actor=engineer)
    assert load(store, ticket_id).first_response_at is None


def test_engineer_actions_need_an_engineer(tickets: TicketService, ticket_id: int) -> None:
    with pytest.raises(PermissionDenied):
        tickets.take(ticket_id, actor=SYSTEM)


def test_unknown_ticket(tickets: TicketService, engineer: Actor) -> None:
    with pytest.raises(NotFound, match="SD-009999"):
        tickets.take(9999, actor=engineer)


def test_checklist_items_are_added_and_ticked_with_who(
    store: Store, clock: FixedClock, ticket_id: int
) -> None:
    actor = add_engineer(store, "checker")
    service = TicketService(store, clock)
    service.add_check(ticket_id, "  Проверить   бумагу ", actor=actor)
    version = service.add_check(ticket_id, "Снять фото", actor=actor)
    service.toggle_check(ticket_id, 1, actor=actor, expected_version=version)
    with pytest.raises(Conflict):
        service.toggle_check(ticket_id, 0, actor=actor, expected_version=version)  # stale
    with pytest.raises(NotFound):
        service.toggle_check(ticket_id, 5, actor=actor)
    with pytest.raises(InvalidInput):
        service.add_check(ticket_id, "   ", actor=actor)
    with store.reader() as session:
        view = repositories.ticket_view(session=session, ticket_id=ticket_id)
    assert view is not None
    assert [(i.text, i.done, i.by) for i in view.checklist] == [
        ("Проверить бумагу", False, ""),
        ("Снять фото", True, "checker"),
    ]
    assert [e.after for e in view.events if e.kind == "field"] == [
        "+ Проверить бумагу",
        "+ Снять фото",
        "☑ Снять фото",
    ]
