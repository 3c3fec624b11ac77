"""The Telegram desk's rules without a network: binding, threading, status, ratings, floods."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from sdconsole.config import TelegramSettings
from sdconsole.domain.chat import Incoming
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Status
from sdconsole.domain.reporting import ReportScope
from sdconsole.reports import csat
from sdconsole.reports.tabular import Period
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.ratings import LOW_RATING_TAG
from sdconsole.services.telegram import (
    TelegramDesk,
    normalise_phone,
    rating_data,
    rating_secret,
)
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Contact, Message, Rating, TelegramChat, Ticket
from sdconsole.storage.team_reports import ratings
from tests.conftest import add_engineer
from tests.services.helpers import MANUAL, World, email, make_world

SECRET = rating_secret("123:test-token")
OLGA = "5001"
STRANGER = "6002"


@pytest.fixture
def world(store: Store, clock: FixedClock) -> World:
    return make_world(store, clock.now())


@pytest.fixture
def desk(store: Store, clock: FixedClock, world: World) -> TelegramDesk:
    intake = IntakeService(store, clock, routing=MANUAL, client_language="en")
    return TelegramDesk(
        store, clock, intake, TelegramSettings(language="en", flood_per_minute=30), secret=SECRET
    )


class Chat:
    """Builds the updates one user sends from a private chat."""

    def __init__(self, clock: FixedClock, user_id: str, name: str = "Ольга") -> None:
        self.clock, self.user_id, self.name, self.next_id = clock, user_id, name, 100

    def say(self, text: str = "", **changes: object) -> Incoming:
        self.next_id += 1
        command, argument = None, ""
        if text.startswith("/"):
            head, _, argument = text[1:].partition(" ")
            command = head
        base = Incoming(
            update_id=self.next_id,
            chat_id=self.user_id,
            user_id=self.user_id,
            name=self.name,
            username=None,
            message_id=str(self.next_id),
            sent_at=self.clock.now(),
            text=text,
            command=command,
            argument=argument,
            raw=f'{{"id": {self.next_id}}}'.encode(),
        )
        return dataclasses.replace(base, **changes)


def tickets(store: Store) -> list[Ticket]:
    with store.reader() as session:
        return list(session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def test_binding_by_own_phone_only(desk: TelegramDesk, store: Store, clock: FixedClock) -> None:
    olga = Chat(clock, OLGA)
    [welcome] = desk.handle(olga.say("/start")).replies
    assert welcome.ask_contact
    # Someone else's card does not bind.
    [refused] = desk.handle(
        olga.say(contact_phone="+7 912 000-00-07", contact_user_id="999")
    ).replies
    assert refused.ask_contact
    [bound] = desk.handle(olga.say(contact_phone="8 (912) 000-00-07", contact_user_id=OLGA)).replies
    assert bound.text == "Done: this chat is bound to Ольга Петрова."
    with store.reader() as session:
        chat = session.get(TelegramChat, OLGA)
        contact = session.execute(select(Contact)).scalars().first()
        assert chat is not None and contact is not None
        assert chat.contact_id == contact.id and contact.telegram_id == OLGA


def test_binding_by_a_one_time_code(
    desk: TelegramDesk, store: Store, clock: FixedClock, world: World
) -> None:
    code = desk.issue_code(world.contact_id, engineer_id=None)
    stranger = Chat(clock, STRANGER, "Пётр")
    [bad] = desk.handle(stranger.say("/start ZZZZZZZZ")).replies
    assert "not valid" in bad.text
    [ok] = desk.handle(stranger.say(f"/start {code.lower()}")).replies
    assert ok.text.startswith("Done")
    [again] = desk.handle(Chat(clock, "7003").say(f"/start {code}")).replies
    assert "not valid" in again.text  # used once only
    expired = desk.issue_code(world.contact_id, engineer_id=None)
    clock.advance(timedelta(hours=73))
    [late] = desk.handle(Chat(clock, "7004").say(f"/start {expired}")).replies
    assert "not valid" in late.text


def test_messages_open_continue_and_new_forces_a_ticket(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    olga = Chat(clock, OLGA)
    first = desk.handle(olga.say("Касса не печатает чеки")).ingest
    assert first is not None and first.outcome is Outcome.CREATED
    more = desk.handle(olga.say("Ошибка 3924 на экране")).ingest
    assert more is not None and more.outcome is Outcome.APPENDED
    assert more.ticket_id == first.ticket_id
    [ask] = desk.handle(olga.say("/new")).replies
    assert "new request" in ask.text
    second = desk.handle(olga.say("Весы не печатают этикетки")).ingest
    assert second is not None and second.outcome is Outcome.CREATED
    # A reply to a message of the first ticket goes back to it.
    back = desk.handle(olga.say("И ещё про кассу", reply_to="101")).ingest
    assert back is not None and back.ticket_id == first.ticket_id
    # Edits are recorded on the ticket of the message edited.
    edited = desk.handle(
        olga.say("Ошибка 3925", message_id="102", edited=True, edit_date=clock.now())
    ).ingest
    assert edited is not None and edited.ticket_id == first.ticket_id
    [a, b] = tickets(store)
    assert "unknown-sender" in a.tags  # an unbound chat's tickets wait for binding
    with store.reader() as session:
        bodies = [
            m.body
            for m in session.execute(
                select(Message).where(Message.ticket_id == a.id, Message.kind == "inbound")
            ).scalars()
        ]
    assert bodies[-1] == "✎ edited: Ошибка 3925"
    # A replay of the same update changes nothing.
    again = desk.handle(
        dataclasses.replace(olga.say(), message_id="101", text="Касса не печатает чеки")
    ).ingest
    assert again is not None and again.outcome is Outcome.DUPLICATE


def test_status_shows_only_the_chats_own_tickets(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    olga, stranger = Chat(clock, OLGA), Chat(clock, STRANGER, "Пётр")
    desk.handle(olga.say("Касса не печатает чеки"))
    desk.handle(stranger.say("УТМ не запускается"))
    [mine] = desk.handle(olga.say("/status")).replies
    assert "Касса не печатает чеки" in mine.text and "УТМ" not in mine.text
    [theirs] = desk.handle(stranger.say("/status")).replies
    assert "УТМ не запускается" in theirs.text and "Касса" not in theirs.text


def test_ratings_forged_foreign_and_low(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    olga, stranger = Chat(clock, OLGA), Chat(clock, STRANGER, "Пётр")
    result = desk.handle(olga.say("Касса не печатает чеки")).ingest
    assert result is not None and result.ticket_id is not None
    ticket_id = result.ticket_id
    forged = f"r:{ticket_id}:5:{'0' * 12}"
    [refused] = desk.handle(olga.say(callback_id="c1", callback_data=forged)).replies
    assert refused.callback_answer == "This button is not valid."
    # A valid button of Olga's ticket pressed in another chat is refused too.
    valid = rating_data(SECRET, ticket_id, OLGA, 2)
    [foreign] = desk.handle(stranger.say(callback_id="c2", callback_data=valid)).replies
    assert foreign.callback_answer == "This button is not valid."
    stolen = rating_data(SECRET, ticket_id, STRANGER, 5)
    [also] = desk.handle(stranger.say(callback_id="c3", callback_data=stolen)).replies
    assert also.callback_answer == "This button is not valid."
    with store.reader() as session:
        assert session.execute(select(Rating)).first() is None

    [rated] = desk.handle(olga.say(callback_id="c4", callback_data=valid)).replies
    assert rated.callback_answer == "Rated 2 of 5." and rated.edit_markup
    desk.remember_prompt(OLGA, ticket_id, "900")
    [thanks] = desk.handle(olga.say("Долго ждали инженера", reply_to="900")).replies
    assert thanks.text.startswith("Thank you")
    with store.reader() as session:
        rating = session.execute(select(Rating)).scalar_one()
        ticket = session.get(Ticket, ticket_id)
        assert (rating.score, rating.comment) == (2, "Долго ждали инженера")
        assert ticket is not None and LOW_RATING_TAG in ticket.tags
    # The rating feeds the CSAT report: a low one, its comment, its follow-up still open.
    with store.reader() as session:
        rows, _labels = ratings(
            session=session,
            scope=ReportScope(clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)),
            by=None,
        )
    report = csat.build(
        rows, {}, period=Period(clock.now().date(), clock.now().date(), clock.now()), by=None
    )
    assert report.total is not None
    assert (report.total["ratings"], report.total["low"], report.total["followed_up"]) == (1, 1, 0)
    assert [r.channel for r in rows] == ["telegram"]
    (low,) = report.listings[1].rows
    assert low["comment"] == "Долго ждали инженера" and low["follow_up"] == "open"


def test_floods_and_blocked_chats_open_nothing(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    desk.settings = TelegramSettings(language="en", flood_per_minute=5)
    olga = Chat(clock, OLGA)
    outcomes = [desk.handle(olga.say(f"сообщение {n}")) for n in range(7)]
    assert [o.ingest is not None for o in outcomes] == [True] * 5 + [False] * 2
    assert "Too many messages" in outcomes[5].replies[0].text
    clock.advance(timedelta(minutes=1))
    assert desk.handle(olga.say("снова можно")).ingest is not None
    with store.transaction() as session:
        chat = session.get(TelegramChat, OLGA)
        assert chat is not None
        chat.blocked = True
    assert desk.handle(olga.say("спам")).ingest is None
    assert len(tickets(store)) == 1


def test_the_contact_is_told_taken_waiting_and_resolved(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    result = desk.handle(Chat(clock, OLGA).say("Касса не печатает чеки")).ingest
    assert result is not None and result.ticket_id is not None
    engineer = add_engineer(store, "petrov")
    tickets_service = TicketService(store, clock, client_language="en")
    tickets_service.take(result.ticket_id, actor=engineer)
    tickets_service.set_status(result.ticket_id, Status.WAITING_CLIENT, actor=engineer)
    tickets_service.resolve(result.ticket_id, "fixed.remote", actor=engineer)
    with store.reader() as session:
        notices = (
            session.execute(
                select(Message)
                .where(Message.kind == "outbound", Message.is_auto)
                .order_by(Message.id)
            )
            .scalars()
            .all()
        )
        ticket = session.get(Ticket, result.ticket_id)
    texts = [m.body for m in notices]
    assert texts[0].startswith("Your request is registered")
    number = f"SD-{result.ticket_id:06d}"
    assert texts[1:] == [
        f"Your request {number} is taken: an engineer is working on it.",
        f"Your request {number} waits for your answer: please reply here.",
        f"Your request {number} is resolved. How did we do? Rate us from 1 to 5:",
    ]
    assert notices[-1].channel_data == {"notice": "resolved", "rate": result.ticket_id}
    assert all(m.delivery_state == "queued" and m.channel == "telegram" for m in notices)
    assert ticket is not None and ticket.first_response_at is None  # notices are no response


def test_phone_numbers_are_normalised() -> None:
    assert normalise_phone("8 (912) 000-00-07") == "+79120000007"
    assert normalise_phone("+7 912 000 00 07") == "+79120000007"
    assert normalise_phone("9120000007") == "+79120000007"
    assert normalise_phone("+375 29 123-45-67") == "+375291234567"


def test_a_backlog_read_after_an_outage_is_not_a_flood(
    desk: TelegramDesk, store: Store, clock: FixedClock
) -> None:
    desk.settings = TelegramSettings(language="en", flood_per_minute=5)
    olga = Chat(clock, OLGA)
    sent = clock.now() - timedelta(hours=2)
    backlog = [
        olga.say(f"сообщение {n}", sent_at=sent + timedelta(minutes=10 * n)) for n in range(8)
    ]
    results = [desk.handle(item) for item in backlog]  # all read at once, after the outage
    assert all(r.ingest is not None for r in results)
    # A burst within a minute is a flood, warned about once, kept as dead letters.
    burst = [desk.handle(olga.say(f"/new спам {n}")) for n in range(8)]
    assert [b.ingest is not None for b in burst] == [True] * 5 + [False] * 3
    assert [len(b.replies) for b in burst[5:]] == [1, 0, 0]
    from sdconsole.storage.tables import DeadLetter

    with store.reader() as session:
        dead = session.execute(select(DeadLetter)).scalars().all()
    assert len(dead) == 3 and all(d.error.startswith("flood limit") for d in dead)


def test_a_new_score_is_counted_when_given_and_reopens_or_closes_the_follow_up(
    store: Store, clock: FixedClock
) -> None:
    from sdconsole.domain.model import ChannelKind
    from sdconsole.services.ratings import store_rating

    make_world(store, clock.now())
    ticket_id = IntakeService(store, clock).ingest(email("<rr@shop>", clock.now())).ticket_id
    assert ticket_id is not None

    def rate(score: int) -> Rating:
        with store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            rating = store_rating(
                session, ticket, score, channel=ChannelKind.PHONE, now=clock.now()
            )
            session.flush()
            session.expunge(rating)
            return rating

    first = rate(2)
    assert first.follow_up == "open"
    with store.transaction() as session:
        row = session.execute(select(Rating)).scalar_one()
        row.follow_up, row.follow_up_note = "done", "Позвонили"
    clock.advance(timedelta(days=3))
    assert rate(2).follow_up == "done"  # the same score again: nothing new to follow up
    again = rate(1)
    assert (again.follow_up, again.follow_up_note, again.created_at) == ("open", None, clock.now())
    better = rate(5)
    assert better.follow_up is None
    with store.reader() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and LOW_RATING_TAG not in ticket.tags
