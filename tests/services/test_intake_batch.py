"""`IntakeService.open_many`: a batch of new requests is written as `ingest` would write them.

Each test runs the same inputs through `ingest` one at a time on one fresh store and through
`open_many` on another, seeded alike, and compares every row the two left behind: tickets
(routing, priority, SLA fields and alerts), events, thread entries, attachments and the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from sdconsole.config import RoutingSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.intake import InboundAttachment, InboundMessage, Sender
from sdconsole.domain.model import ChannelKind, Role, Status
from sdconsole.services.catalogue import default_catalogue, sync_catalogue
from sdconsole.services.intake import IngestResult, IntakeService, Outcome
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Attachment, Client, Device, Event, Inbound, Message, Ticket
from tests.conftest import _reset_postgres, add_engineer
from tests.services.helpers import email, make_world

ROUTING = RoutingSettings(raise_impact_clients=["CH-2"])
TABLES = (Ticket, Event, Message, Attachment, Inbound)


def seed(store: Store, now: datetime) -> dict[str, int]:
    """Three shops: the contract's with one till, the contract's with two, and one of a chain
    with no contract whose requests count one impact higher; two engineers to route to."""
    world = make_world(store, now)
    add_engineer(store, "anna", lines=(1, 2), teams=("kkt", "monitoring"))
    add_engineer(store, "boris", lines=(1,), teams=("kkt",))
    with store.transaction() as session:
        sync_catalogue(session=session, catalogue=default_catalogue())
        stamps = {"created_at": now, "updated_at": now}
        second = Client(
            kind="site", name="Магазин №8", parent_id=world.chain_id, external_id="S-8", **stamps
        )
        other = Client(kind="chain", name="Сеть без договора", external_id="CH-2", **stamps)
        session.add_all([second, other])
        session.flush()
        third = Client(
            kind="site", name="Магазин №9", parent_id=other.id, timezone="Asia/Omsk", **stamps
        )
        session.add(third)
        session.flush()
        devices = {
            "only": Device(site_id=world.site_id, kind="kkt", reg_number="0000000001000001"),
            "first": Device(site_id=second.id, kind="kkt", reg_number="0000000002000002"),
            "second": Device(site_id=second.id, kind="kkt", reg_number="0000000003000003"),
            "omsk": Device(site_id=third.id, kind="kkt", reg_number="0000000004000004"),
        }
        session.add_all(devices.values())
        session.flush()
        return {name: device.id or 0 for name, device in devices.items()} | {
            "site:only": world.site_id,
            "site:first": second.id or 0,
            "site:second": second.id or 0,
            "site:omsk": third.id or 0,
        }


def health(
    ids: dict[str, int], device: str, check: str, at: datetime, *, key: str | None = None
) -> InboundMessage:
    """A monitoring request as `Monitoring` sends one."""
    raw = f'{{"device": "{device}", "check": "{check}", "at": "{at.isoformat()}"}}'.encode()
    return InboundMessage(
        channel=ChannelKind.MONITORING,
        idempotency_key=key or f"health:{ids[device]}:{check}:{at.isoformat()}",
        received_at=at,
        sender=Sender(name="monitoring (atol-dto10)"),
        subject=f"{check} · ККТ {device}",
        body=f"Check {check}: warning.\nККТ: РН {ids[device]}",
        raw=raw,
        thread_key=f"health:{ids[device]}:{check.partition('.')[0]}",
        device_id=ids[device],
        site_id=ids[f"site:{device}"],
        category_code=f"monitoring.{check}",
        attachments=(InboundAttachment("health-report.json", "application/json", raw),),
    )


def dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the intake's tables, in id order; but the ticket's optimistic-lock counter,
    which counts the ORM's writes of the row (one by one: an insert and then updates)."""
    with store.reader() as session:
        return {
            table.__tablename__: [
                {k: v for k, v in row._mapping.items() if k != "version"}
                for row in session.execute(select(table.__table__).order_by(table.id))
            ]
            for table in TABLES
        }


Run = Callable[[IntakeService, list[InboundMessage]], list[IngestResult]]
Run1 = Callable[[InboundMessage], IngestResult]


def one_by_one(intake: IntakeService, messages: list[InboundMessage]) -> list[IngestResult]:
    return [intake.ingest(message) for message in messages]


def in_a_batch(intake: IntakeService, messages: list[InboundMessage]) -> list[IngestResult]:
    return intake.open_many(messages)


@pytest.fixture
def compare(store_url: str, tmp_path: Path, clock: FixedClock) -> Callable[..., tuple[Any, ...]]:
    """Run `make(ids)`'s inputs both ways on fresh stores; the rows must be the same."""

    def run(
        make: Callable[[dict[str, int]], list[InboundMessage]],
        before: Callable[[IntakeService, dict[str, int]], object] | None = None,
        *,
        batch_only: bool = True,
        monkeypatch: pytest.MonkeyPatch | None = None,
        alone: list[str] | None = None,
    ) -> tuple[Any, ...]:
        """`alone`, when given, is filled with the keys the batch took one by one."""
        outcomes, rows = [], []
        for name, way in (("single", one_by_one), ("batch", in_a_batch)):
            if store_url.startswith("sqlite"):
                url = f"sqlite:///{tmp_path / f'{name}.db'}"
            else:
                _reset_postgres(store_url)
                url = store_url
            store = Store(url, attachments_dir=tmp_path / f"{name}-attachments")
            store.upgrade()
            ids = seed(store, clock.now())
            intake = IntakeService(store, clock, routing=ROUTING)
            if before is not None:
                before(intake, ids)
            if way is in_a_batch and batch_only and monkeypatch is not None:
                monkeypatch.setattr(IntakeService, "ingest", _refuse)
            if way is in_a_batch and alone is not None:

                def spy(
                    message: InboundMessage, ingest: Run1 = intake.ingest, keys: list[str] = alone
                ) -> IngestResult:
                    keys.append(message.idempotency_key)
                    return ingest(message)

                intake.ingest = spy  # type: ignore[method-assign]
            outcomes.append(way(intake, make(ids)))
            if monkeypatch is not None:
                monkeypatch.undo()
            rows.append(dump(store))
            blobs = sorted(p.name for p in (tmp_path / f"{name}-attachments").rglob("*"))
            rows[-1]["blobs"] = [{"name": n} for n in blobs if not n.startswith(".tmp")]
            rows[-1]["ids"] = [ids]
            store.dispose()
        single, batch = rows
        for table in single:
            for one, other in zip(single[table], batch[table], strict=False):
                assert {k: v for k, v in other.items() if one.get(k) != v} == {}, table
            assert batch[table] == single[table], table
        return (*outcomes, single)

    return run


def _refuse(self: IntakeService, message: InboundMessage) -> IngestResult:
    raise AssertionError(f"{message.idempotency_key} went one by one, not in the batch")


def test_a_batch_of_new_requests_is_written_as_one_by_one(
    compare: Callable[..., tuple[Any, ...]],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = clock.now()

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        return [
            health(ids, "only", "fn-expiry.warning", now - timedelta(minutes=5)),
            health(ids, "first", "ofd-backlog-age.critical", now - timedelta(minutes=1)),
            health(ids, "second", "disk-fill.warning", now - timedelta(minutes=2)),
            health(ids, "omsk", "disk-fill.warning", now - timedelta(minutes=3)),
            # Received days ago: its clocks have breached by now, the alerts are recorded.
            health(ids, "only", "fn-memory.critical", now - timedelta(days=3)),
            # A category the catalogue does not have: no category, the defaults.
            health(ids, "first", "no-such-check.warning", now),
            # The register and the shop are the report's, whatever its text names; a phone
            # in it is still a contact's.
            replace(
                health(ids, "second", "fn-expiry.warning", now - timedelta(minutes=4)),
                body="Агент: +7 912 000-00-07. ИНН 7707083893, РН 0000000001025378",
            ),
        ]

    single, batch, rows = compare(make, monkeypatch=monkeypatch)
    ids = rows["ids"][0]
    assert [r.outcome for r in batch] == [Outcome.CREATED] * 7
    assert rows["ticket"][6]["contact_id"] is not None
    assert rows["ticket"][6]["device_id"] == ids["second"]
    assert batch == single
    # The inputs reach what the batch decides in memory: both engineers take tickets, the only
    # till is P1, the contract's and the default clocks run, the old one has breached.
    tickets = rows["ticket"]
    assert {t["assignee_id"] for t in tickets} == {1, 2}
    impacts = {(t["site_id"], t["impact"]) for t in tickets}
    only, two, omsk = ids["site:only"], ids["site:first"], ids["site:omsk"]
    assert impacts == {(only, 1), (two, 2), (omsk, 1)}  # the only till; CH-2 counts higher
    assert len({t["resolution_due_at"] - t["received_at"] for t in tickets}) > 1
    assert any(t["response_breached"] for t in tickets)
    assert {e["kind"] for e in rows["event"]} >= {"created", "routed", "sla", "field"}


def test_what_the_batch_cannot_decide_goes_one_by_one_and_nothing_is_doubled(
    compare: Callable[..., tuple[Any, ...]], clock: FixedClock
) -> None:
    now = clock.now()
    at = now - timedelta(minutes=10)

    def before(intake: IntakeService, ids: dict[str, int]) -> None:
        intake.ingest(health(ids, "only", "fn-expiry.warning", at))  # an open ticket
        intake.ingest(health(ids, "omsk", "disk-fill.warning", at, key="seen"))

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        # Each is taken in its place among the batch's own, so even the ids are the same.
        return [
            # Continues the open ticket of its thread: appended, not a second ticket.
            health(ids, "only", "fn-expiry.critical", now),
            health(ids, "second", "ofd-backlog-age.critical", now),
            # Already in the ledger: a duplicate.
            health(ids, "omsk", "disk-fill.warning", at, key="seen"),
            health(ids, "omsk", "fn-memory.critical", now),
            # The same input twice in the batch: the second is a duplicate of the first.
            health(ids, "first", "disk-fill.warning", at, key="twice"),
            health(ids, "first", "disk-fill.warning", at, key="twice"),
            health(ids, "first", "fn-expiry.warning", now),
        ]

    single, batch, _rows = compare(make, before, batch_only=False)
    assert [r.outcome for r in single] == [
        Outcome.APPENDED,
        Outcome.CREATED,
        Outcome.DUPLICATE,
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.DUPLICATE,
        Outcome.CREATED,
    ]
    assert batch == single


def chat(key: str, at: datetime, user: str, text: str) -> InboundMessage:
    return InboundMessage(
        channel=ChannelKind.TELEGRAM,
        idempotency_key=key,
        received_at=at,
        sender=Sender(name="Покупатель", telegram_id=user),
        subject="",
        body=text,
        raw=text.encode(),
        thread_key=f"telegram:{user}",
    )


def test_letters_and_chats_in_a_batch_are_written_as_one_by_one(
    compare: Callable[..., tuple[Any, ...]],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = clock.now()
    photo = InboundAttachment("../чек 1.jpg", "image/jpeg", b"\xff\xd8 a photo")

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        letters = [
            # The shop's manager: her contact, her shop, its contract; classified by keywords.
            email("<a@shop7>", now - timedelta(minutes=9), attachments=(photo,)),
            # The same address in capitals is the same contact.
            email("<b@shop7>", now - timedelta(minutes=8), sender="OLGA@Shop7.example"),
            # Nobody we know: tagged for an engineer to bind; acknowledged three times an
            # hour, not four.
            *(
                email(
                    f"<{n}@stranger>",
                    now - timedelta(minutes=7 - n),
                    subject="Не работает эквайринг",
                    body="Терминал не проводит оплату картой.",
                    sender="stranger@example.org",
                )
                for n in range(4)
            ),
            chat("tg:1", now - timedelta(minutes=2), "5550001", "Касса не печатает чек, помогите"),
            # A stranger who gives the manager's phone: the ticket is hers, still tagged.
            email(
                "<phone@x>",
                now - timedelta(minutes=1),
                body="Перезвоните мне: +7 912 000-00-07, или на +7 900 111-22-33",
                sender="someone@example.org",
            ),
            # A phone nobody has: nothing linked.
            email("<nophone@x>", now, body="Тел. +7 900 111-22-33", sender="else@example.org"),
        ]
        return letters

    single, batch, rows = compare(make, monkeypatch=monkeypatch)
    ids = rows["ids"][0]
    assert [r.outcome for r in batch] == [Outcome.CREATED] * 9
    assert batch == single
    tickets, messages = rows["ticket"], rows["message"]
    linked = [True, True] + [False] * 5 + [True, False]
    assert [t["contact_id"] is not None for t in tickets] == linked
    assert sum(t["tags"] == ["unknown-sender"] for t in tickets) == 7
    assert tickets[7]["site_id"] == ids["site:only"]  # the manager's shop
    acks = [m for m in messages if m["kind"] == "outbound"]
    assert sum(m["address"] == "stranger@example.org" for m in acks) == 3
    assert {m["address"] for m in acks} == {
        "olga@shop7.example",
        "OLGA@Shop7.example",
        "stranger@example.org",
        "5550001",
        "someone@example.org",
        "else@example.org",
    }
    assert len(rows["attachment"]) == 1


def test_letters_the_batch_cannot_decide_go_one_by_one(
    compare: Callable[..., tuple[Any, ...]], clock: FixedClock
) -> None:
    now = clock.now()

    def before(intake: IntakeService, ids: dict[str, int]) -> None:
        intake.ingest(email("<first@shop7>", now - timedelta(hours=1)))

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        def new(key: str) -> InboundMessage:
            return email(key, now, subject="Не приходят чеки в ОФД", body="Уже второй день.")

        # The manager has had one acknowledgement this hour: two more, then none. The reply
        # between the new ones gets none (a follow-up) and takes nothing from them.
        return [
            # A register's number in the text: looked up one by one.
            email("<reg@x>", now, body="ККТ РН 0000000001000001 не печатает"),
            new("<new-1@shop7>"),
            # A reply: continues its ticket.
            email("<re@shop7>", now, subject="Re: касса", in_reply_to=("<first@shop7>",)),
            new("<new-2@shop7>"),
            # An automatic reply with no open ticket of its sender's: a dead letter.
            email("<ooo@x>", now, sender="robot@example.org", is_auto=True),
            new("<new-3@shop7>"),
        ]

    single, batch, rows = compare(make, before, batch_only=False)
    assert [r.outcome for r in single] == [
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.APPENDED,
        Outcome.CREATED,
        Outcome.DEAD_LETTER,
        Outcome.CREATED,
    ]
    assert batch == single
    assert all(t["contact_id"] is not None for t in rows["ticket"])
    assert rows["ticket"][1]["device_id"] == rows["ids"][0]["only"]
    acks = [m for m in rows["message"] if m["kind"] == "outbound"]
    assert len(acks) == 3  # the first letter's, the register's letter's, new-1's


def test_a_batch_that_fails_is_taken_one_by_one(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(store, clock.now())
    intake = IntakeService(store, clock, routing=ROUTING)

    def broken(*_args: Any, **_kwargs: Any) -> list[str]:
        raise OSError("disk full")

    monkeypatch.setattr(store.blobs, "put_many", broken)
    messages = [health(ids, "only", "fn-expiry.warning", clock.now())]
    with store.transaction():
        results = intake.open_many(messages)
    assert [r.outcome for r in results] == [Outcome.CREATED]
    with store.reader() as session:
        assert len(session.execute(select(Ticket.id)).all()) == 1
        assert len(session.execute(select(Inbound.id)).all()) == 1


def test_replies_in_a_batch_are_written_as_one_by_one(
    compare: Callable[..., tuple[Any, ...]],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = clock.now()
    photo = InboundAttachment("фото.jpg", "image/jpeg", b"\xff\xd8 the screen")

    def before(intake: IntakeService, ids: dict[str, int]) -> None:
        clock.set(now - timedelta(hours=1))
        intake.ingest(email("<old@shop7>", clock.now()))  # open, not waiting
        clock.set(now)

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        def reply(key: str, *answers: str, **kwargs: Any) -> InboundMessage:
            return email(key, now, subject="Re: касса", in_reply_to=answers, **kwargs)

        return [
            email("<n1@shop7>", now - timedelta(minutes=5)),
            reply("<r1@shop7>", "<n1@shop7>"),  # the ticket the batch itself opens
            reply("<r2@shop7>", "<r1@shop7>"),  # a reply to the reply: the same ticket
            reply("<r3@shop7>", "<old@shop7>", attachments=(photo,)),  # the stored ticket
            # In-Reply-To and References naming both: the newest message's ticket.
            reply("<r4@shop7>", "<old@shop7>", "<n1@shop7>"),
            reply("<r5@shop7>", "<nobody@x>"),  # answers nothing known: a new request
            email("<n2@shop7>", now, sender="stranger@example.org"),
        ]

    single, batch, rows = compare(make, before, monkeypatch=monkeypatch)
    assert [r.outcome for r in batch] == [
        Outcome.CREATED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.CREATED,
        Outcome.CREATED,
    ]
    assert batch == single
    old, n1 = rows["ticket"][0]["id"], batch[0].ticket_id
    assert [r.ticket_id for r in batch[1:5]] == [n1, n1, old, n1]
    assert {t["id"]: t["updated_at"] for t in rows["ticket"]}[old] == now  # its last change
    follow_ups = [e for e in rows["event"] if e["kind"] == "message"]
    assert [e["ticket_id"] for e in follow_ups] == [n1, n1, old, n1]
    acks = [m for m in rows["message"] if m["kind"] == "outbound"]
    assert len(acks) == 4  # old's, n1's, r5's, n2's: none for a follow-up


def test_replies_the_batch_cannot_decide_go_one_by_one(
    compare: Callable[..., tuple[Any, ...]], clock: FixedClock
) -> None:
    now = clock.now()

    def before(intake: IntakeService, ids: dict[str, int]) -> None:
        engineer = add_engineer(intake.store, "vera", Role.LEAD, lines=(1, 2))
        tickets = TicketService(intake.store, clock)
        for key, status in (("<waiting@shop7>", "waiting"), ("<done@shop7>", "resolved")):
            opened = intake.ingest(email(key, now - timedelta(hours=2)))
            assert opened.ticket_id is not None
            if status == "waiting":
                tickets.set_status(opened.ticket_id, Status.WAITING_CLIENT, actor=engineer)
            else:
                tickets.resolve(opened.ticket_id, "kkt.restarted", actor=engineer)
        intake.ingest(email("<seen@shop7>", now - timedelta(hours=1)))
        intake.ingest(email("<open@shop7>", now - timedelta(hours=1)))

    def make(ids: dict[str, int]) -> list[InboundMessage]:
        def reply(key: str, *answers: str) -> InboundMessage:
            return email(key, now, subject="Re: касса", in_reply_to=answers)

        return [
            reply("<a@shop7>", "<waiting@shop7>"),  # the client answered: reopens, one by one
            reply("<b@shop7>", "<waiting@shop7>"),  # read as waiting, open by now
            reply("<c@shop7>", "<done@shop7>"),  # the fix did not hold: reopens
            email("<seen@shop7>", now - timedelta(hours=1)),  # a duplicate
            reply("<d@shop7>", "<seen@shop7>"),  # answers the duplicate: its stored ticket
            email("<new@shop7>", now),
            reply("<g@shop7>", "<open@shop7>"),  # a stored ticket, in the same run
            reply("<e@shop7>", "<a@shop7>"),  # answers an input taken one by one
            reply("<f@shop7>", "<new@shop7>"),  # what an earlier run opened
            reply("<h@shop7>", "<g@shop7>"),  # what an earlier run continued
        ]

    alone: list[str] = []
    single, batch, rows = compare(make, before, batch_only=False, alone=alone)
    # Written in the batch: the new request, and the reply to it in a run of its own.
    assert alone == [
        "<a@shop7>",
        "<b@shop7>",
        "<c@shop7>",
        "<seen@shop7>",
        "<d@shop7>",
        "<e@shop7>",
    ]
    assert [r.outcome for r in single] == [
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.DUPLICATE,
        Outcome.APPENDED,
        Outcome.CREATED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.APPENDED,
        Outcome.APPENDED,
    ]
    assert batch == single
    assert {t["status"] for t in rows["ticket"][:2]} == {"open"}
    assert batch[-1].ticket_id == batch[-4].ticket_id == rows["ticket"][3]["id"]


def test_a_follow_up_whose_ticket_changed_meanwhile_is_taken_one_by_one(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store, clock.now())
    intake = IntakeService(store, clock, routing=ROUTING)
    first = intake.ingest(email("<t@shop7>", clock.now() - timedelta(hours=1)))
    batchable = IntakeService._batchable

    def read_then_changed(
        self: IntakeService, session: Session, messages: Sequence[InboundMessage]
    ) -> Any:
        chosen = batchable(self, session, messages)
        # An engineer's change, between the batch's reads and its writes.
        session.execute(
            update(Ticket).where(Ticket.id == first.ticket_id).values(status="waiting_client")
        )
        return chosen

    monkeypatch.setattr(IntakeService, "_batchable", read_then_changed)
    reply = email("<r@shop7>", clock.now(), subject="Re: касса", in_reply_to=("<t@shop7>",))
    new = email("<n@shop7>", clock.now())
    with store.transaction():
        results = intake.open_many([reply, new])
    assert [r.outcome for r in results] == [Outcome.APPENDED, Outcome.CREATED]
    with store.reader() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.status == "open"  # the client answered: reopened
        kinds = session.execute(
            select(Event.kind).where(Event.ticket_id == first.ticket_id).order_by(Event.id)
        ).scalars()
        assert list(kinds)[-2:] == ["message", "status"]
