"""The demo store: deterministic, built through the services, and as rich as the demo promises."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session

from sdconsole.domain.errors import InvalidInput
from sdconsole.domain.identifiers import check_fn_serial, check_inn, check_reg_number
from sdconsole.domain.model import ChannelKind, ContractKind, Status
from sdconsole.services.demo import DEMO_LOGIN, DemoSummary, build_demo, inspect_store
from sdconsole.services.demo.history import ru_days
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    BusinessCalendar,
    Category,
    Client,
    Contact,
    Contract,
    Device,
    Engineer,
    Event,
    Message,
    Rating,
    SlaPlan,
    SlaTarget,
    Ticket,
    TicketLink,
)
from tests.conftest import NOW

SMALL = 120
"""Tickets in the quick builds; the full size is built once per run (`full`)."""


def _rows(session: Session, model: Any) -> list[Any]:
    return list(session.execute(select(model).order_by(model.id)).scalars())


def _digest(store: Store) -> str:
    """A fingerprint of everything a person would see: tickets, threads and history."""
    h = hashlib.sha256()
    with store.reader() as session:
        logins = {e.id: e.login for e in _rows(session, Engineer)}
        for t in _rows(session, Ticket):
            h.update(
                repr(
                    (
                        t.subject,
                        t.status,
                        t.priority,
                        t.line,
                        t.channel,
                        t.created_at,
                        logins.get(t.assignee_id),
                        t.resolution_code,
                        t.response_due_at,
                    )
                ).encode()
            )
        for m in _rows(session, Message):
            h.update(repr((m.ticket_id, m.kind, m.author_name, m.body, m.created_at)).encode())
        for e in _rows(session, Event):
            h.update(repr((e.ticket_id, e.kind, e.at, e.before, e.after)).encode())
        for d in _rows(session, Device):
            h.update(repr((d.serial, d.reg_number, d.fn_serial, d.fn_valid_until)).encode())
    return h.hexdigest()


def _sqlite(path: Path) -> Store:
    store = Store(f"sqlite:///{path}", attachments_dir=path.parent / "attachments")
    store.upgrade()
    return store


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary]]:
    """The full-size demo on SQLite, built once for the module."""
    store = _sqlite(tmp_path_factory.mktemp("demo") / "demo.db")
    summary = build_demo(store, seed=1, now=NOW)
    yield store, summary
    store.dispose()


def test_builds_on_each_back_end(store: Store) -> None:
    summary = build_demo(store, seed=3, now=NOW, tickets=60)
    with store.reader() as session:
        assert len(_rows(session, Ticket)) == summary.tickets >= 55
        assert len(_rows(session, Message)) == summary.messages
        open_count = sum(Status(t.status).is_open for t in _rows(session, Ticket))
        assert open_count == summary.open_tickets
    assert inspect_store(store) == (summary.tickets, True)
    with pytest.raises(InvalidInput, match="already has tickets"):
        build_demo(store, seed=3, now=NOW, tickets=60)


def test_same_seed_same_store_other_seed_other_store(tmp_path: Path) -> None:
    stores = [_sqlite(tmp_path / f"{name}.db") for name in ("a", "b", "c")]
    try:
        for store, seed in zip(stores, (7, 7, 8), strict=True):
            build_demo(store, seed=seed, now=NOW, tickets=SMALL)
        first, again, other = (_digest(s) for s in stores)
        assert first == again
        assert first != other
    finally:
        for store in stores:
            store.dispose()


def test_refuses_a_naive_now(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="aware"):
        build_demo(sqlite_store, now=datetime(2026, 11, 23, 9, 30), tickets=10)  # noqa: DTZ001


def test_progress_is_reported(sqlite_store: Store) -> None:
    seen: list[tuple[int, int]] = []
    build_demo(sqlite_store, now=NOW, tickets=30, progress=lambda d, t: seen.append((d, t)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0


def test_an_empty_store_is_not_a_demo(sqlite_store: Store) -> None:
    assert inspect_store(sqlite_store) == (0, False)


@pytest.mark.slow
def test_full_size(full: tuple[Store, DemoSummary]) -> None:
    _store, summary = full
    assert summary.tickets >= 2000
    assert summary.cash_registers >= 300
    assert summary.sites >= 40
    assert summary.chains >= 3
    assert summary.engineers >= 12
    assert 20 <= summary.categories <= 40
    assert 30 <= summary.open_tickets <= 200


@pytest.mark.slow
def test_clients_sites_and_contacts(full: tuple[Store, DemoSummary]) -> None:
    store = full[0]
    with store.reader() as session:
        clients = _rows(session, Client)
        contacts = _rows(session, Contact)
    legal = [c for c in clients if c.kind == "legal_entity"]
    sites = [c for c in clients if c.kind == "site"]
    assert all(check_inn(c.inn or "") is None for c in legal)
    assert {len(c.inn or "") for c in legal} == {10, 12}
    zones = {c.timezone for c in sites}
    assert {"Europe/Kaliningrad", "Asia/Vladivostok"} <= zones and len(zones) >= 5
    assert all(ZoneInfo(zone) for zone in zones if zone)
    assert all(c.address and c.address.split(",")[0].isdigit() for c in sites)
    by_client = Counter(c.client_id for c in contacts)
    assert all(by_client[s.id] >= 2 for s in sites)
    shop_mail = {s.id: s.email for s in sites}
    managers = [c for c in contacts if c.email and shop_mail.get(c.client_id) == c.email]
    assert len(managers) == len(sites) and all(m.phone for m in managers)
    assert sum(bool(c.telegram_id) for c in contacts) >= 30
    assert all(c.email is None or c.email.endswith(".example") for c in contacts)


@pytest.mark.slow
def test_devices(full: tuple[Store, DemoSummary]) -> None:
    store = full[0]
    with store.reader() as session:
        devices = _rows(session, Device)
        owners = {c.id: c for c in _rows(session, Client)}
    kkt = [d for d in devices if d.kind == "kkt"]
    assert len(kkt) >= 300
    assert {"АТОЛ 30Ф", "АТОЛ 55Ф", "Штрих-М-01Ф", "Эвотор 7.2", "Меркурий-185Ф", "Дримкас-Ф"} <= {
        d.model for d in kkt
    }
    for d in kkt:
        inn = owners[owners[d.site_id].parent_id].inn
        assert check_reg_number(d.reg_number or "", inn, d.serial) is None, d
        assert check_fn_serial(d.fn_serial or "") is None
        assert len(d.serial or "") <= 20
    today = NOW.date()
    left = [(d.fn_valid_until - today).days for d in kkt if d.fn_valid_until]
    assert len(left) == len(kkt)
    assert sum(0 <= n <= 30 for n in left) >= 5
    assert 1 <= sum(n < 0 for n in left) <= 10
    kinds = Counter(d.kind for d in devices)
    assert kinds["utm"] >= 10 and kinds["server"] >= 10


@pytest.mark.slow
def test_engineers_catalogue_calendars_plans_contracts(
    full: tuple[Store, DemoSummary],
) -> None:
    store = full[0]
    with store.reader() as session:
        engineers = _rows(session, Engineer)
        categories = _rows(session, Category)
        calendars = _rows(session, BusinessCalendar)
        plans = _rows(session, SlaPlan)
        targets = _rows(session, SlaTarget)
        contracts = _rows(session, Contract)
    roles = Counter(e.role for e in engineers)
    assert roles["admin"] == 1 and 1 <= roles["lead"] <= 2 and roles["engineer"] >= 9
    assert {1, 2, 3} <= {line for e in engineers for line in e.lines}
    assert {"kkt", "1c", "egais", "network"} <= {t for e in engineers for t in e.teams}
    assert any(e.login == DEMO_LOGIN and e.is_active for e in engineers)
    assert all(c.name_ru and c.name_en for c in categories)
    leaves = [c for c in categories if not any(o.parent_id == c.id for o in categories)]
    assert all(c.keywords for c in leaves) and len(leaves) >= 20
    assert any(c.is_24x7 for c in calendars)
    assert any(c.weekly.get("1") == [["09:00", "18:00"]] and "6" not in c.weekly for c in calendars)
    assert any(c.weekly.get("7") == [["08:00", "22:00"]] for c in calendars)
    for plan in plans:
        mine = {t.priority: t for t in targets if t.plan_id == plan.id}
        assert set(mine) == {1, 2, 3, 4}
        assert all(t.registration_minutes == 15 for t in mine.values())
        assert mine[1].response_minutes < mine[4].response_minutes
    assert {c.kind for c in contracts} == {k.value for k in ContractKind}
    assert len({c.sla_plan_id for c in contracts}) >= 3
    assert any(c.valid_to is not None and c.valid_to < NOW.date() for c in contracts)


@pytest.mark.slow
def test_ticket_history(full: tuple[Store, DemoSummary]) -> None:
    store = full[0]
    with store.reader() as session:
        tickets = _rows(session, Ticket)
        messages = _rows(session, Message)
        events = _rows(session, Event)
        links = _rows(session, TicketLink)
        ratings = _rows(session, Rating)
    start = NOW - timedelta(days=90, hours=1)
    assert all(start <= t.created_at <= NOW for t in tickets)
    assert all(t.created_at.tzinfo is not None for t in tickets)
    statuses = Counter(t.status for t in tickets)
    assert set(statuses) == {s.value for s in Status}
    assert statuses["closed"] + statuses["resolved"] > 0.85 * len(tickets)
    assert all(statuses[s] >= 3 for s in ("new", "open", "waiting_client", "waiting_vendor"))
    channels = Counter(t.channel for t in tickets)
    assert all(
        channels[c.value] >= 100
        for c in (
            ChannelKind.EMAIL,
            ChannelKind.TELEGRAM,
            ChannelKind.PHONE,
            ChannelKind.MONITORING,
        )
    )
    assert {t.priority for t in tickets} == {1, 2, 3, 4}
    assert {t.line for t in tickets} == {1, 2, 3}
    kinds = Counter(e.kind for e in events)
    assert kinds["escalated"] >= 100 and kinds["created"] == len(tickets)
    assert kinds["first_response"] > 0.6 * len(tickets)
    codes = {t.resolution_code for t in tickets}
    assert {
        "fn.replaced",
        "ofd.backlog.cleared",
        "printer.paper",
        "config.fixed",
        "consult.answered",
        "merged",
    } <= codes
    for t in tickets:
        if t.status == "closed" and t.resolution_code != "merged":
            assert t.resolved_at is not None and t.closed_at is not None
            assert t.resolved_at <= t.closed_at
    threads = Counter(m.ticket_id for m in messages)
    merged = {t.id for t in tickets if t.resolution_code == "merged"}
    assert all(threads[t.id] >= 1 for t in tickets if t.id not in merged)
    assert Counter(m.kind for m in messages)["note"] > 500
    assert {lk.kind for lk in links} == {"duplicate", "related"}
    assert 0.2 * statuses["closed"] < len(ratings) < 0.6 * statuses["closed"]
    assert Counter(m.delivery_state for m in messages)["failed"] >= 1


@pytest.mark.slow
def test_texts_are_russian_and_some_carry_markup(full: tuple[Store, DemoSummary]) -> None:
    store = full[0]
    with store.reader() as session:
        tickets = _rows(session, Ticket)
        bodies = [m.body for m in _rows(session, Message)]
    subjects = [t.subject for t in tickets]
    markup = [
        s
        for s in subjects
        if any(m in s for m in ("[bold]", "[red]", "[/", "[31m", "[x]", "[link=", "[blink]"))
    ]
    assert 0.005 * len(subjects) <= len(markup) <= 0.03 * len(subjects)
    assert not any("\x1b" in text for text in subjects + bodies)
    assert any("ошибка 3924" in s for s in subjects)
    assert any(s.startswith("Не уходят чеки в ОФД") for s in subjects)
    assert any("УТМ не запускается, ошибка RSA" in s for s in subjects)
    assert sum(any("а" <= ch <= "я" for ch in s.lower()) for s in subjects) == len(subjects)
    assert not any("{" in text or "}" in text for text in subjects + bodies)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 день"),
        (3, "3 дня"),
        (5, "5 дней"),
        (11, "11 дней"),
        (14, "14 дней"),
        (21, "21 день"),
        (22, "22 дня"),
        (25, "25 дней"),
    ],
)
def test_days_are_counted_in_good_russian(n: int, text: str) -> None:
    assert ru_days(n) == text
