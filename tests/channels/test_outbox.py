"""The outbox over a real SMTP server (aiosmtpd): threading headers, outages, refusals, bounces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from sdconsole.channels.smtp import SmtpSender
from sdconsole.config import MailSettings, SmtpSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import EventKind, Status
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.mail import MailIntake
from sdconsole.services.outbox import Outbox
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Event, Message, Ticket
from tests.channels.smtp_server import SmtpServer
from tests.conftest import add_engineer
from tests.services.helpers import email


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(smtp: SmtpServer, **changes: object) -> MailSettings:
    return MailSettings(
        address="support@desk.example",
        display_name="Support",
        client_language="en",
        smtp=SmtpSettings(host=smtp.host, port=smtp.port, security="none", timeout=5),
        **changes,
    )


def outbox_for(store: Store, clock: FixedClock, settings: MailSettings) -> Outbox:
    assert settings.smtp is not None
    return Outbox(store, clock, settings, SmtpSender(settings.smtp, None))


def letters(store: Store) -> list[Message]:
    with store.reader() as session:
        return list(
            session.execute(select(Message).where(Message.kind == "outbound").order_by(Message.id))
            .scalars()
            .all()
        )


def test_acknowledgement_and_reply_go_out_threaded(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    settings = mail_settings(smtp)
    intake = IntakeService(store, clock, client_language="en")
    created = intake.ingest(email("first@shop7.example", clock.now(), subject="Касса"))
    assert created.ticket_id is not None
    tag = f"[SD-{created.ticket_id:06d}]"
    outbox = outbox_for(store, clock, settings)

    assert outbox.deliver_due() == 1
    [ack] = smtp.messages
    assert ack["To"] == "olga@shop7.example"
    assert ack["Subject"] == f"Request registered: Касса {tag}"
    assert ack["In-Reply-To"] == "<first@shop7.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    stored_ack = letters(store)[0]
    assert stored_ack.delivery_state == "sent" and ack["Message-ID"] == (
        f"<{stored_ack.channel_message_id}>"
    )

    engineer = add_engineer(store, "petrov")
    TicketService(store, clock).reply(created.ticket_id, "Перезагрузите кассу.", actor=engineer)
    assert outbox.deliver_due() == 1
    reply = smtp.messages[1]
    assert reply["Subject"] == f"Re: Касса {tag}"
    assert reply["Auto-Submitted"] is None
    assert reply["References"] == f"<first@shop7.example> <{stored_ack.channel_message_id}>"
    body = reply.get_payload(decode=True)
    assert isinstance(body, bytes) and "Перезагрузите кассу." in body.decode()
    assert f"Please keep {tag} in the subject" in body.decode()
    outbox.close()

    # The client answers our reply without the tag: In-Reply-To finds the ticket.
    our_id = str(reply["Message-ID"]).strip("<>")
    answer = intake.ingest(
        email("answer@shop7.example", clock.now(), subject="Re: Касса", in_reply_to=(our_id,))
    )
    assert answer.outcome is Outcome.APPENDED and answer.ticket_id == created.ticket_id


def test_a_reply_survives_an_smtp_outage(store: Store, clock: FixedClock, smtp: SmtpServer) -> None:
    settings = mail_settings(smtp)
    IntakeService(store, clock).ingest(email("k@shop7.example", clock.now()))
    smtp.stop()
    outbox = outbox_for(store, clock, settings)

    assert outbox.deliver_due() == 0
    [letter] = letters(store)
    assert letter.delivery_state == "queued" and letter.attempts == 1
    assert letter.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert letter.delivery_error and "ConnectionRefused" in letter.delivery_error
    assert outbox.deliver_due() == 0  # not due yet: no attempt
    assert letters(store)[0].attempts == 1

    clock.advance(timedelta(minutes=2))
    smtp.start()
    assert outbox.deliver_due() == 1
    [letter] = letters(store)
    assert letter.delivery_state == "sent" and letter.attempts == 2
    assert len(smtp.messages) == 1
    outbox.close()


def test_refusals_temporary_then_final(store: Store, clock: FixedClock, smtp: SmtpServer) -> None:
    settings = mail_settings(smtp, max_attempts=2)
    IntakeService(store, clock).ingest(email("a@shop7.example", clock.now()))
    IntakeService(store, clock).ingest(
        email("b@shop7.example", clock.now(), sender="ivan@shop7.example", subject="Другая касса")
    )
    outbox = outbox_for(store, clock, settings)
    smtp.refuse("451 4.3.0 try again later")
    assert outbox.deliver_due() == 0
    assert [m.delivery_state for m in letters(store)] == ["queued", "queued"]
    clock.advance(timedelta(minutes=5))
    assert outbox.deliver_due() == 0
    # The second temporary refusal was the last attempt allowed.
    assert [m.delivery_state for m in letters(store)] == ["failed", "failed"]
    assert all("451" in (m.delivery_error or "") for m in letters(store))
    outbox.close()


def test_a_permanent_refusal_fails_at_once(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    settings = mail_settings(smtp)
    IntakeService(store, clock).ingest(email("a@shop7.example", clock.now()))
    smtp.refuse("554 5.7.1 rejected")
    outbox = outbox_for(store, clock, settings)
    assert outbox.deliver_due() == 0
    [letter] = letters(store)
    assert letter.delivery_state == "failed" and letter.attempts == 1
    assert letter.delivery_error == "554 5.7.1 rejected"
    outbox.close()


def test_a_sender_that_died_mid_send_is_replaced_with_the_same_message_id(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    settings = mail_settings(smtp)
    IntakeService(store, clock).ingest(email("a@shop7.example", clock.now()))
    outbox = outbox_for(store, clock, settings)
    claim = outbox._claim()  # taken, then the sender dies before sending
    assert claim is not None and outbox._claim() is None  # nobody else takes it meanwhile
    clock.advance(timedelta(minutes=6))
    assert outbox.deliver_due() == 1
    assert smtp.messages[0]["Message-ID"] == f"<{claim.mail.message_id}>"
    assert letters(store)[0].attempts == 2
    outbox.close()


def test_a_bounce_of_our_reply_shows_on_its_ticket(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    settings = mail_settings(smtp)
    intake = IntakeService(store, clock)
    created = intake.ingest(email("a@shop7.example", clock.now()))
    assert created.ticket_id is not None
    outbox = outbox_for(store, clock, settings)
    outbox.deliver_due()
    outbox.close()
    ours = letters(store)[0].channel_message_id
    bounce = (
        b"From: MAILER-DAEMON@mx.shop7.example\r\n"
        b"To: support@desk.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.shop7.example>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; olga@shop7.example\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        b"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        + f"Message-ID: <{ours}>\r\n".encode()
        + b"--r--\r\n"
    )
    result = MailIntake(store, clock, intake, settings).take(bounce)

    assert result.outcome is Outcome.APPENDED and result.ticket_id == created.ticket_id
    with store.reader() as session:
        letter = session.execute(
            select(Message).where(Message.channel_message_id == ours)
        ).scalar_one()
        assert letter.delivery_state == "failed"
        assert letter.delivery_error == "smtp; 552 5.2.2 Mailbox full"
        event = session.execute(
            select(Event).where(Event.kind == EventKind.DELIVERY_FAILED.value)
        ).scalar_one()
        assert event.details["recipients"] == ["olga@shop7.example"]
        ticket = session.get(Ticket, created.ticket_id)
        assert ticket is not None and ticket.status == Status.NEW.value
        acks = session.execute(select(Message).where(Message.is_auto, Message.kind == "outbound"))
        assert len(acks.scalars().all()) == 1  # the bounce got no acknowledgement


def test_acknowledgements_are_rate_limited_per_sender(store: Store, clock: FixedClock) -> None:
    intake = IntakeService(store, clock, ack_limit_per_hour=3)
    for n in range(5):
        intake.ingest(email(f"loop-{n}@shop7.example", clock.now(), subject=f"Письмо {n}"))
    assert len(letters(store)) == 3
    clock.advance(timedelta(hours=1, minutes=1))
    intake.ingest(email("loop-6@shop7.example", clock.now(), subject="Письмо 6"))
    assert len(letters(store)) == 4


def test_a_reply_goes_to_who_opened_the_ticket_not_to_who_wrote_last(
    store: Store, clock: FixedClock, smtp: SmtpServer
) -> None:
    intake = IntakeService(store, clock, client_language="en")
    first = intake.ingest(email("o@x", clock.now(), sender="new.manager@shop9.example"))
    assert first.ticket_id is not None
    tag = f"[SD-{first.ticket_id:06d}]"
    intake.ingest(email("i@x", clock.now(), subject=f"Re: {tag}", sender="intruder@evil.example"))
    engineer = add_engineer(store, "petrov")
    TicketService(store, clock).reply(first.ticket_id, "Ответ", actor=engineer)
    outbox = outbox_for(store, clock, mail_settings(smtp))
    outbox.deliver_due()
    outbox.close()
    assert {m["To"] for m in smtp.messages} == {"new.manager@shop9.example"}
