"""Intake: dedupe, threading, identification, SLA start, acknowledgement, dead letters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.intake import InboundAttachment
from sdconsole.domain.model import MessageKind, Priority, Status
from sdconsole.i18n import current_language, set_language
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import (
    Attachment,
    Category,
    DeadLetter,
    Event,
    Inbound,
    Message,
    Ticket,
)
from tests.conftest import add_engineer
from tests.services.helpers import email, make_world


@pytest.fixture
def intake(store: Store, clock: FixedClock) -> IntakeService:
    return IntakeService(store, clock)


def count(store: Store, table: type) -> int:
    with store.reader() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_new_mail_creates_an_identified_classified_ticket(
    store: Store, clock: FixedClock, intake: IntakeService
) -> None:
    world = make_world(store, clock.now())
    received = clock.now() - timedelta(minutes=3)
    result = intake.ingest(email("<m1@shop>", received))
    assert result.outcome is Outcome.CREATED
    assert result.ticket_id is not None
    with store.reader() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None
        assert (ticket.site_id, ticket.client_id) == (world.site_id, world.chain_id)
        assert ticket.contact_id == world.contact_id
        assert ticket.contract_id == world.contract_id
        assert ticket.status == Status.NEW
        # category kkt.print: impact 2 × urgency 1 → P2; contract plan: P2 reacts in 30 min
        assert ticket.priority == Priority.P2
        assert ticket.response_due_at == received + timedelta(minutes=30)
        assert ticket.resolution_due_at == received + timedelta(minutes=480)
        assert ticket.due_at == ticket.response_due_at
        inbound = session.execute(select(Inbound)).scalar_one()
        assert inbound.raw.startswith(b"Message-ID: <m1@shop>")
        assert inbound.ticket_id == ticket.id


def test_replaying_the_same_input_is_a_no_op(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    first = intake.ingest(email("<dup@shop>", clock.now()))
    second = intake.ingest(email("<dup@shop>", clock.now()))
    assert second.outcome is Outcome.DUPLICATE
    assert (second.ticket_id, second.message_id) == (first.ticket_id, first.message_id)
    assert count(store, Ticket) == 1
    assert count(store, Inbound) == 1


def test_replies_thread_by_subject_tag_and_by_in_reply_to(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    first = intake.ingest(email("<a@shop>", clock.now()))
    by_tag = intake.ingest(
        email("<b@shop>", clock.now(), subject=f"Re: [SD-{first.ticket_id:06d}] Касса")
    )
    by_header = intake.ingest(
        email("<c@shop>", clock.now(), subject="Re: Касса", in_reply_to=("<a@shop>",))
    )
    assert by_tag.outcome is Outcome.APPENDED and by_tag.ticket_id == first.ticket_id
    assert by_header.outcome is Outcome.APPENDED and by_header.ticket_id == first.ticket_id
    assert count(store, Ticket) == 1


def test_acknowledgement_is_queued_but_never_a_first_response(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    result = intake.ingest(email("<ack@shop>", clock.now()))
    with store.reader() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.first_response_at is None
        ack = session.execute(select(Message).where(Message.is_auto)).scalar_one()
        assert ack.kind == MessageKind.OUTBOUND
        assert ack.delivery_state == "queued"
        assert f"[SD-{result.ticket_id:06d}]" in ack.body


def test_auto_replies_are_threaded_but_not_acknowledged(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    first = intake.ingest(email("<first@shop>", clock.now(), subject="Касса не печатает"))
    auto = intake.ingest(
        email(
            "<auto@shop>",
            clock.now(),
            subject="Автоответ",
            in_reply_to=("<first@shop>",),
            is_auto=True,
        )
    )
    stray = intake.ingest(email("<stray@shop>", clock.now(), subject="Out of office", is_auto=True))
    assert auto.outcome is Outcome.APPENDED and auto.ticket_id == first.ticket_id
    # An automatic reply to nothing of ours opens no ticket: it is kept as a dead letter.
    assert stray.outcome is Outcome.DEAD_LETTER and stray.ticket_id is None
    assert count(store, Ticket) == 1
    with store.reader() as session:
        acks = session.execute(
            select(func.count()).select_from(Message).where(Message.kind == "outbound")
        ).scalar_one()
        assert acks == 1  # the first letter's acknowledgement only
        letters = session.execute(select(DeadLetter)).scalars().all()
        assert [d.error for d in letters] == ["automatic reply that answers no open ticket"]
    # A replay of the stray reply is recognised, not dead-lettered twice.
    again = intake.ingest(email("<stray@shop>", clock.now(), subject="Out of office", is_auto=True))
    assert again.outcome is Outcome.DUPLICATE


def test_client_reply_to_waiting_ticket_reopens_and_resumes_the_clock(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    engineer = add_engineer(store, "petrov")
    first = intake.ingest(email("<w1@shop>", clock.now()))
    assert first.ticket_id is not None
    tickets = TicketService(store, clock)
    tickets.take(first.ticket_id, actor=engineer)
    tickets.set_status(first.ticket_id, Status.WAITING_CLIENT, actor=engineer)
    with store.reader() as session:
        due_before = session.get(Ticket, first.ticket_id).resolution_due_at
    clock.advance(timedelta(hours=2))
    intake.ingest(email("<w2@shop>", clock.now(), in_reply_to=("<w1@shop>",)))
    with store.reader() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == Status.OPEN
        assert ticket.paused_at is None
        assert ticket.paused_minutes == 120
        assert ticket.resolution_due_at == due_before + timedelta(hours=2)


def test_reply_to_a_closed_ticket_opens_a_new_linked_one(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    engineer = add_engineer(store, "sidorov")
    first = intake.ingest(email("<c1@shop>", clock.now()))
    assert first.ticket_id is not None
    tickets = TicketService(store, clock)
    tickets.take(first.ticket_id, actor=engineer)
    tickets.resolve(first.ticket_id, "printer.paper", actor=engineer)
    tickets.close(first.ticket_id, actor=engineer)
    again = intake.ingest(email("<c2@shop>", clock.now(), in_reply_to=("<c1@shop>",)))
    assert again.outcome is Outcome.CREATED
    assert again.ticket_id != first.ticket_id


def test_client_reply_to_a_resolved_ticket_reopens_it_with_an_event(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    engineer = add_engineer(store, "kozlov")
    first = intake.ingest(email("<r1@shop>", clock.now()))
    assert first.ticket_id is not None
    tickets = TicketService(store, clock)
    tickets.take(first.ticket_id, actor=engineer)
    tickets.resolve(first.ticket_id, "printer.paper", "Заменили рулон", actor=engineer)
    clock.advance(timedelta(minutes=30))
    intake.ingest(email("<r2@shop>", clock.now(), in_reply_to=("<r1@shop>",)))
    with store.reader() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == Status.OPEN
        assert (ticket.resolved_at, ticket.resolution_code, ticket.resolution_text) == (
            None,
            None,
            None,
        )
        reopened = session.execute(
            select(Event).where(Event.ticket_id == first.ticket_id, Event.kind == "reopened")
        ).scalar_one()
    assert reopened.actor_id is None
    assert reopened.details["by"] == "client"


def test_acknowledgement_speaks_the_clients_language_not_the_uis(
    store: Store, clock: FixedClock
) -> None:
    make_world(store, clock.now())
    previous = current_language()
    set_language("en")
    try:
        IntakeService(store, clock).ingest(email("<lang1@shop>", clock.now()))
        IntakeService(store, clock, client_language="en").ingest(
            email("<lang2@shop>", clock.now(), subject="Другая касса")
        )
    finally:
        set_language(previous)
    with store.reader() as session:
        bodies = session.execute(
            select(Message.body).where(Message.is_auto).order_by(Message.id)
        ).scalars()
        russian, english = list(bodies)
    assert russian.startswith("Ваше обращение зарегистрировано")
    assert english.startswith("Your request is registered")


def test_the_classifier_follows_category_edits(
    store: Store, intake: IntakeService, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from sdconsole.services import intake as intake_module

    first = intake.ingest(email("<k1@shop>", clock.now(), subject="Сканер молчит", body="-"))
    with store.transaction() as session:
        session.add(
            Category(
                code="scanner",
                name_ru="Сканер",
                name_en="Scanner",
                line=1,
                keywords=["сканер"],
            )
        )
    # The rules are reread at most every KEYWORDS_TTL seconds (not for every letter).
    later = time.monotonic() + intake_module.KEYWORDS_TTL + 1
    monkeypatch.setattr(intake_module.time, "monotonic", lambda: later)
    second = intake.ingest(email("<k2@shop>", clock.now(), subject="Сканер молчит", body="-"))
    with store.reader() as session:
        assert session.get(Ticket, first.ticket_id).category_id is None
        category = session.get(Ticket, second.ticket_id).category_id
        assert session.get(Category, category).code == "scanner"


def test_attachments_are_content_addressed_with_safe_names(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    files = (
        InboundAttachment("../../Z-отчёт.pdf", "application/pdf", b"%PDF-1.4 data"),
        InboundAttachment("copy.pdf", "application/pdf", b"%PDF-1.4 data"),
    )
    intake.ingest(email("<att@shop>", clock.now(), attachments=files))
    with store.reader() as session:
        rows = session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
    assert [r.filename for r in rows] == ["Z-отчёт.pdf", "copy.pdf"]
    assert rows[0].sha256 == rows[1].sha256
    assert store.blobs.get(rows[0].sha256) == b"%PDF-1.4 data"


def test_a_failing_input_becomes_a_dead_letter_and_nothing_half_written(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = IntakeService(store, clock)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr(intake, "_category", explode)
    result = intake.ingest(email("<bad@shop>", clock.now()))
    assert result.outcome is Outcome.DEAD_LETTER
    assert (count(store, Ticket), count(store, Inbound), count(store, Event)) == (0, 0, 0)
    intake.ingest(email("<bad@shop>", clock.now()))
    with store.reader() as session:
        letter = session.execute(select(DeadLetter)).scalar_one()
    assert letter.key == "<bad@shop>"
    assert "classifier exploded" in letter.error
    assert letter.raw.startswith(b"Message-ID: <bad@shop>")
    assert letter.retries == 1
    monkeypatch.undo()
    assert intake.ingest(email("<bad@shop>", clock.now())).outcome is Outcome.CREATED


def test_subject_with_markup_and_escapes_is_stored_without_controls(
    store: Store, intake: IntakeService, clock: FixedClock
) -> None:
    result = intake.ingest(
        email("<x@shop>", clock.now(), subject="[bold red]СРОЧНО[/bold red]\x1b[2J касса")
    )
    with store.reader() as session:
        view = repositories.ticket_view(session=session, ticket_id=result.ticket_id or 0)
    assert view is not None
    assert view.subject == "[bold red]СРОЧНО[/bold red] касса"
