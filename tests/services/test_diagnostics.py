"""Card runs on tickets: every answer stored on the run and as a note; resume; conflicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.diagnostics import StepKind, parse_card
from sdconsole.domain.errors import Conflict, InvalidInput, NotFound
from sdconsole.domain.model import MessageKind
from sdconsole.services.diagnostics import ESCALATED, RESOLVED, DiagnosticsService
from sdconsole.services.intake import IntakeService
from sdconsole.storage import Store
from sdconsole.storage.tables import CardRun, Category, Device, Event, Message, Ticket
from tests.conftest import NOW, add_engineer
from tests.services.helpers import email, make_world
from tests.unit.test_diagnostics import CARD

CHECK_CARD = {
    "id": "fn-check",
    "version": 1,
    "title": {"ru": "Срок ФН", "en": "FN term"},
    "start": "term",
    "steps": {
        "term": {
            "kind": "check",
            "text": {"ru": "ФН действует ещё месяц?"},
            "field": "fn.expires_at",
            "rule": "future",
            "on_ok": "done",
            "on_fail": "esc",
        },
        "done": {"kind": "resolved", "resolution": "fn.ok"},
        "esc": {"kind": "escalate", "to": "line2", "reason": "Заменить ФН"},
    },
}


@pytest.fixture
def cards() -> dict[str, object]:
    return {
        "kkt-no-print": parse_card(CARD, source="kkt-no-print.yaml"),
        "fn-check": parse_card(CHECK_CARD, source="fn-check.yaml"),
    }


@pytest.fixture
def ticket_id(store: Store, clock: FixedClock) -> int:
    world = make_world(store, NOW)
    with store.transaction() as session:
        category = session.exec(select(Category).where(Category.code == "kkt.print")).one()
        category.card_id = "kkt-no-print"
        session.add(
            Device(
                site_id=world.site_id,
                model="АТОЛ 30Ф",
                serial="00106700000001",
                fn_valid_until=date(2026, 12, 10),
            )
        )
    result = IntakeService(store, clock).ingest(email("<m1@shop7>", NOW - timedelta(minutes=5)))
    assert result.ticket_id is not None
    with store.transaction() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None
        ticket.device_id = session.exec(select(Device.id)).one()
    return result.ticket_id


def notes(store: Store, ticket_id: int) -> list[str]:
    with store.reader() as session:
        return [
            m.body
            for m in session.exec(
                select(Message)
                .where(Message.ticket_id == ticket_id, Message.kind == MessageKind.NOTE.value)
                .order_by(Message.id)
            )
        ]


def test_a_run_from_start_to_resolution(
    store: Store, clock: FixedClock, ticket_id: int, cards: dict[str, object]
) -> None:
    engineer = add_engineer(store, "a.smirnova")
    service = DiagnosticsService(store, clock, cards=cards)

    assert service.card_for(ticket_id).id == "kkt-no-print"
    state = service.start(ticket_id, actor=engineer, language="ru")
    assert state.step.id == "paper" and state.values["kkt.serial"] == "00106700000001"
    assert state.values["site.local_time"] == "2026-11-23 14:30 +05"

    state = service.answer(state.run_id, "paper", "no", actor=engineer, language="ru")
    state = service.answer(state.run_id, "load", "done", actor=engineer, comment="Рулон 57 мм")
    state = service.answer(state.run_id, "test", "ok", actor=engineer, language="ru")
    assert state.progress.finished and state.step.kind is StepKind.RESOLVED

    with store.reader() as session:
        run = session.exec(select(CardRun)).one()
        events = session.exec(select(Event).where(Event.kind == "card")).all()
        ticket = session.get(Ticket, ticket_id)
    assert run.outcome == RESOLVED and run.finished_at == NOW
    assert [a["answer"] for a in run.answers] == ["no", "done", "ok"]
    assert all(a["actor"] == "a.smirnova" for a in run.answers)
    assert [e.after for e in events] == ["started", "answered", "answered", RESOLVED]
    written = notes(store, ticket_id)
    assert written[0] == "Начата диагностическая карта: ККТ не печатает чек (kkt-no-print, v2)."
    assert written[1] == "Карта kkt-no-print, шаг paper: Бумага есть?\nОтвет: нет"
    assert "Рулон 57 мм" in written[2]
    assert written[3].endswith("Карта завершена: решено (kkt.print.restored).")
    # Notes are internal: the first-response clock has not stopped.
    assert ticket is not None and ticket.first_response_at is None


def test_resume_and_stale_answers(
    store: Store, clock: FixedClock, ticket_id: int, cards: dict[str, object]
) -> None:
    first, second = add_engineer(store, "a.smirnova"), add_engineer(store, "i.petrov")
    service = DiagnosticsService(store, clock, cards=cards)
    state = service.start(ticket_id, actor=first)
    service.answer(state.run_id, "paper", "yes", actor=first)

    resumed = service.current(ticket_id)
    assert resumed is not None and resumed.step.id == "cover"
    with pytest.raises(Conflict, match="already running"):
        service.start(ticket_id, actor=second)
    with pytest.raises(Conflict, match="moved on"):
        service.answer(state.run_id, "paper", "no", actor=second)  # answered by someone else
    with pytest.raises(InvalidInput, match="takes one of: ok, fail"):
        service.answer(state.run_id, "cover", "maybe", actor=second)

    state = service.answer(state.run_id, "cover", "fail", actor=second)
    assert state.progress.finished and state.step.escalation_line == 2
    with store.reader() as session:
        assert session.exec(select(CardRun)).one().outcome == ESCALATED
    with pytest.raises(Conflict, match="ended"):
        service.answer(state.run_id, "cover", "ok", actor=second)


def test_a_changed_card_version_stops_the_old_run(
    store: Store, clock: FixedClock, ticket_id: int, cards: dict[str, object]
) -> None:
    engineer = add_engineer(store, "a.smirnova")
    state = DiagnosticsService(store, clock, cards=cards).start(ticket_id, actor=engineer)
    newer = parse_card({**CARD, "version": 3}, source="kkt-no-print.yaml")
    service = DiagnosticsService(store, clock, cards={"kkt-no-print": newer})
    with pytest.raises(Conflict, match="has changed since this run started"):
        service.answer(state.run_id, "paper", "yes", actor=engineer)


def test_check_steps_are_suggested_from_the_ticket(
    store: Store, clock: FixedClock, ticket_id: int, cards: dict[str, object]
) -> None:
    engineer = add_engineer(store, "a.smirnova")
    service = DiagnosticsService(store, clock, cards=cards)
    state = service.start(ticket_id, actor=engineer, card_id="fn-check")
    assert state.suggestion == "ok"  # the drive is valid until 2026-12-10
    later = DiagnosticsService(
        store,
        FixedClock(NOW + timedelta(days=30)),
        cards=cards,
    )
    assert later.current(ticket_id).suggestion == "fail"


def test_missing_card_and_ticket(
    store: Store, clock: FixedClock, ticket_id: int, cards: dict[str, object]
) -> None:
    engineer = add_engineer(store, "a.smirnova")
    service = DiagnosticsService(store, clock, cards=cards)
    with pytest.raises(NotFound, match="No diagnostic card nope"):
        service.start(ticket_id, actor=engineer, card_id="nope")
    with pytest.raises(NotFound):
        service.start(999_999, actor=engineer, card_id="fn-check")
    assert service.current(ticket_id) is None
