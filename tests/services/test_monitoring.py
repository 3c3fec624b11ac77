"""Health reports: validation, the registry, one ticket per (device, check), recovery."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.health import Level, ReportError, Thresholds, evaluate, parse_report
from sdconsole.services.catalogue import default_catalogue, sync_catalogue
from sdconsole.services.intake import IntakeService
from sdconsole.services.monitoring import UNVERIFIED_NOTE, Monitoring
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    Attachment,
    Category,
    DeadLetter,
    Device,
    Event,
    Ticket,
)
from tests.services.helpers import MANUAL, World, make_world

REG, INN, SERIAL, FN = "0001234567052923", "7701234560", "00106109661742", "7380440700123456"


def record(observed: datetime, **sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "sdconsole.health/1",
        "source": "atol-dto10",
        "observed_at": observed.isoformat(),
        "store": {"id": "S-7", "tz": "Asia/Yekaterinburg"},
        "org": {"inn": INN},
        "kkt": {"serial": SERIAL, "reg_number": REG, "model": "АТОЛ 30Ф", "firmware": "5.8.100"},
        "fn": {"serial": FN, "valid_until": "2027-12-31", "registrations_left": 27},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(name), dict):
            base[name] = {**base[name], **value}
        else:
            base[name] = value
    return base


def line(observed: datetime, **sections: Any) -> bytes:
    return json.dumps(record(observed, **sections), ensure_ascii=False).encode()


def seed(store: Store, clock: FixedClock) -> World:
    """The test world with the packaged catalogue and one register at its shop."""
    made = make_world(store, clock.now())
    with store.transaction() as session:
        sync_catalogue(session=session, catalogue=default_catalogue())
        session.add(
            Device(site_id=made.site_id, kind="kkt", serial=SERIAL, reg_number=REG, fn_serial=FN)
        )
    return made


@pytest.fixture
def world(store: Store, clock: FixedClock) -> World:
    return seed(store, clock)


@pytest.fixture
def monitoring(store: Store, clock: FixedClock, world: World) -> Monitoring:
    return Monitoring(store, clock, IntakeService(store, clock, routing=MANUAL), batch=3)


def tickets(store: Store) -> list[Ticket]:
    with store.reader() as session:
        return list(session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def category_of(store: Store, ticket: Ticket) -> str:
    with store.reader() as session:
        category = session.get(Category, ticket.category_id)
        return category.code if category else ""


# -- the format ----------------------------------------------------------------------------


def test_the_sample_record_of_the_brief_is_valid_and_every_problem_is_named() -> None:
    report = parse_report(record(datetime(2026, 3, 2, 7, 15, tzinfo=UTC), extra_key={"x": 1}))
    assert report.device_key == REG and report.extra == {"extra_key": {"x": 1}}
    with pytest.raises(ReportError) as refused:
        parse_report(
            {
                "schema": "sdconsole.health/1",
                "observed_at": "2026-03-02T07:15:00",
                "org": {"inn": "7701234561"},
                "kkt": {"reg_number": "0001234567052924", "serial": SERIAL},
                "fn": {"serial": "12345", "memory_used_pct": 140},
            }
        )
    problems = refused.value.problems
    assert any(p.startswith("observed_at: needs a UTC offset") for p in problems)
    assert any(p.startswith("org.inn: 7701234561 is not a valid ИНН") for p in problems)
    assert any(p.startswith("kkt.reg_number:") for p in problems)
    assert any(p.startswith("fn.serial: 12345") for p in problems)
    assert any(p.startswith("fn.memory_used_pct: 140") for p in problems)


CASES = [
    (
        {"fn": {"valid_until": "2026-12-20"}},
        "fn-expiry",
        Level.WARNING,
        "monitoring.fn-expiry.warning",
    ),
    (
        {"fn": {"valid_until": "2026-11-25"}},
        "fn-expiry",
        Level.CRITICAL,
        "monitoring.fn-expiry.critical",
    ),
    (
        {"fn": {"valid_until": "2026-11-01"}},
        "fn-expiry",
        Level.CRITICAL,
        "monitoring.fn-expiry.expired",
    ),
    (
        {"fn": {"valid_until": "2027-06-01"}},
        "fn-expiry",
        Level.OK,
        None,
    ),
    (
        {"fn": {"memory_used_pct": 85}},
        "fn-memory",
        Level.WARNING,
        "monitoring.fn-memory.warning",
    ),
    (
        {"fn": {"warnings": {"critical_error": True}}},
        "fn-critical",
        Level.CRITICAL,
        "monitoring.fn-critical",
    ),
    (
        {"fn": {"registrations_left": 0}},
        "fn-rereg-left",
        Level.CRITICAL,
        "monitoring.fn-rereg-left.exhausted",
    ),
    (
        {"ofd": {"unsent_count": 3, "first_unsent_at": "2026-11-22T06:00:00Z"}},
        "ofd-backlog-age",
        Level.WARNING,
        "monitoring.ofd-backlog-age.warning",
    ),
    (
        {"ofd": {"unsent_count": 3, "first_unsent_at": "2026-11-10T06:00:00Z"}},
        "ofd-backlog-age",
        Level.CRITICAL,
        "monitoring.ofd-backlog-age.critical",
    ),
    (
        {"shift": {"state": "expired", "opened_at": "2026-11-22T06:00:00Z"}},
        "shift-long",
        Level.CRITICAL,
        "monitoring.shift-long.expired",
    ),
    (
        {"utm": {"rsa": {"expire_date": "2026-11-27"}}},
        "utm-rsa-expiry",
        Level.CRITICAL,
        "monitoring.utm-rsa-expiry.critical",
    ),
    (
        {"lm": {"last_sync_at": "2026-11-20T06:00:00Z"}},
        "lm-chz-sync",
        Level.CRITICAL,
        "monitoring.lm-chz-sync.blocked",
    ),
    (
        {"host": {"disk_used_pct": 93}},
        "disk-fill",
        Level.CRITICAL,
        "monitoring.disk-fill.pos-critical",
    ),
    (
        {"host": {"clock": "2026-11-23T09:34:00Z"}},
        "clock-drift",
        Level.WARNING,
        "monitoring.clock-drift.warning",
    ),
]
"""(report sections, check, level, incident type) a report so made must give."""


@pytest.mark.parametrize(("sections", "check", "level", "incident"), CASES)
def test_checks_and_their_incident_types(
    sections: dict[str, Any], check: str, level: Level, incident: str | None
) -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    report = parse_report(record(now, **sections))
    [found] = [r for r in evaluate(report, Thresholds(), now) if r.check == check]
    assert (found.level, found.incident) == (level, incident)
    assert incident is None or default_catalogue_has(incident)


def default_catalogue_has(code: str) -> bool:
    return code in default_catalogue()


# -- tickets -------------------------------------------------------------------------------


def test_one_ticket_per_device_and_check_rising_and_recovering(
    monitoring: Monitoring, store: Store, clock: FixedClock
) -> None:
    t0 = clock.now() - timedelta(hours=3)
    first = monitoring.ingest_lines([line(t0, fn={"valid_until": "2026-12-20"})])
    assert (first.taken, first.opened) == (1, 1)
    [ticket] = tickets(store)
    assert category_of(store, ticket) == "monitoring.fn-expiry.warning"
    assert ticket.channel == "monitoring" and ticket.device_id is not None
    with store.reader() as session:
        [attachment] = session.execute(select(Attachment)).scalars().all()
        device = session.get(Device, ticket.device_id)
    assert attachment.filename == "health-report.json"
    assert device is not None and device.fn_valid_until == date(2026, 12, 20)
    assert device.health_state == "warning" and device.firmware == "5.8.100"

    # The same report again: a replay, nothing changes.
    again = monitoring.ingest_lines([line(t0, fn={"valid_until": "2026-12-20"})])
    assert (again.replays, again.opened, again.updated) == (1, 0, 0)
    # Worse: the same ticket takes the graver type, no second ticket.
    worse = monitoring.ingest_lines(
        [line(t0 + timedelta(hours=1), fn={"valid_until": "2026-11-25"})]
    )
    assert (worse.opened, worse.updated) == (0, 1)
    [ticket] = tickets(store)
    assert category_of(store, ticket) == "monitoring.fn-expiry.critical"
    # Two ok reports in a row resolve it; one alone does not.
    ok = {"fn": {"valid_until": "2027-11-25", "serial": "7380440700999999"}}
    monitoring.ingest_lines([line(t0 + timedelta(hours=2), **ok)])
    assert tickets(store)[0].status != "resolved"
    done = monitoring.ingest_lines([line(t0 + timedelta(hours=2, minutes=30), **ok)])
    assert done.resolved == 1
    [ticket] = tickets(store)
    assert ticket.status == "resolved" and ticket.resolution_code == "monitoring.recovered"
    with store.reader() as session:
        history = (
            session.execute(
                select(Event.kind).where(Event.ticket_id == ticket.id).order_by(Event.id)
            )
            .scalars()
            .all()
        )
    assert "category" in history and history[-1] == "resolved"
    # The problem again later: a new ticket.
    monitoring.ingest_lines([line(t0 + timedelta(hours=3), fn={"memory_used_pct": 95})])
    assert len(tickets(store)) == 2


def test_unknown_registers_and_bad_lines(
    monitoring: Monitoring, store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    t0 = clock.now() - timedelta(hours=1)
    stranger = record(
        t0, kkt={"serial": "00106109999999", "reg_number": None}, fn={"serial": "7380440700555555"}
    )
    lost = record(
        t0, store={"id": "S-404"}, org={"inn": "500100732259"},
        kkt={"serial": "00106100000001", "reg_number": None}, fn={"serial": "7380440700666666"},
    )  # fmt: skip
    lines = [
        json.dumps(stranger).encode(),
        b"{not json",
        json.dumps(lost).encode(),
        b"",
        json.dumps({**record(t0), "org": {"inn": "7701234561"}}).encode(),
        line(t0 + timedelta(minutes=5), host={"disk_used_pct": 97}),
    ]
    summary = monitoring.ingest_lines(lines)
    assert summary.lines == 5 and summary.taken == 2 and summary.registered == 1
    assert [n for n, _reason in summary.errors] == [2, 3, 5]
    assert summary.errors[1][1].startswith("unknown register 00106100000001 at an unknown shop")
    with store.reader() as session:
        registered = session.execute(
            select(Device).where(Device.serial == "00106109999999")
        ).scalar_one()
        dead = session.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
    assert registered.notes == UNVERIFIED_NOTE
    assert dead == 3
    assert summary.opened == 1  # the disk


def test_a_register_is_found_by_any_of_its_numbers(
    monitoring: Monitoring, store: Store, clock: FixedClock
) -> None:
    """By РН first; a report without one is found by its serial, or by its fiscal drive."""
    t0 = clock.now() - timedelta(hours=3)
    by_serial = record(t0, kkt={"serial": SERIAL, "reg_number": None})
    by_drive = record(t0 + timedelta(hours=1), kkt={"serial": None, "reg_number": None})
    by_reg = record(t0 + timedelta(hours=2), kkt={"serial": None, "reg_number": REG})
    for report in (by_serial, by_drive, by_reg):
        summary = monitoring.ingest_lines([json.dumps(report).encode()])
        assert (summary.taken, summary.registered, summary.errors) == (1, 0, [])
    with store.reader() as session:
        devices = session.execute(select(func.count()).select_from(Device)).scalar_one()
        seen = session.execute(select(Device.health_at).where(Device.serial == SERIAL)).scalar()
    assert devices == 1
    assert seen == t0 + timedelta(hours=2)


def test_the_checks_ingest_command(
    store: Store, world: World, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "reports.jsonl"
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path.write_bytes(line(t0, host={"disk_used_pct": 95}) + b"\n{broken\n")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", store.url, "checks", "ingest", str(path)])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["tickets_opened"] == 1
    assert "line 2: not JSON" in result.stderr
    again = runner.invoke(app, ["--db", store.url, "checks", "ingest", str(path)])
    assert (
        json.loads(again.stdout)["replays"] == 1 and json.loads(again.stdout)["tickets_opened"] == 0
    )


def test_the_json_schema_in_docs_agrees_with_the_parser() -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "docs" / "health.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = record(datetime(2026, 3, 2, 7, 15, tzinfo=UTC), extra_key=1)
    assert list(validator.iter_errors(good)) == []
    parse_report(good)
    partial = {"observed_at": "2026-03-02T07:15:00Z", "fn": {"serial": FN}}
    assert list(validator.iter_errors(partial)) == []
    parse_report(partial)
    for bad in (
        {"kkt": {"serial": SERIAL}},  # no observed_at
        {"observed_at": "2026-03-02T07:15:00Z", "host": {"disk_used_pct": 63}},  # no register
        {**good, "fn": {"serial": FN, "memory_used_pct": 140}},
    ):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(ReportError):
            parse_report(bad)


def test_the_registry_scan_finds_ending_drives_and_silent_agents(
    monitoring: Monitoring, store: Store, clock: FixedClock
) -> None:
    # A report an hour ago: the drive ends in 20 days, and the agent has been silent since.
    monitoring.ingest_lines(
        [line(clock.now() - timedelta(hours=1), fn={"valid_until": "2027-12-31"})]
    )
    with store.transaction() as session:
        device = session.execute(select(Device)).scalar_one()
        device.fn_valid_until = clock.now().date() + timedelta(days=20)
    summary = monitoring.scan()
    assert summary.opened == 2
    assert sorted(category_of(store, t) for t in tickets(store)) == [
        "monitoring.agent-silent.warning",
        "monitoring.fn-expiry.warning",
    ]
    assert monitoring.scan().opened == 0  # the same facts: no second ticket
    # The agent speaks again, twice: its silence ticket resolves itself.
    fresh = {"fn": {"valid_until": (clock.now().date() + timedelta(days=20)).isoformat()}}
    monitoring.ingest_lines([line(clock.now() - timedelta(minutes=5), **fresh)])
    monitoring.ingest_lines([line(clock.now() - timedelta(minutes=1), **fresh)])
    states = {category_of(store, t): t.status for t in tickets(store)}
    assert states["monitoring.agent-silent.warning"] == "resolved"
    assert states["monitoring.fn-expiry.warning"] != "resolved"


def test_a_contract_sets_its_own_thresholds(
    monitoring: Monitoring, store: Store, clock: FixedClock, world: World
) -> None:
    from sdconsole.storage.tables import Contract

    soon = (clock.now().date() + timedelta(days=20)).isoformat()
    with store.transaction() as session:
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.monitoring = {"fn_expiry_warning_days": 10, "fn_expiry_plan_days": 14}
    quiet = monitoring.ingest_lines(
        [line(clock.now() - timedelta(hours=2), fn={"valid_until": soon})]
    )
    assert quiet.opened == 0  # 20 days is fine under this contract
    with store.transaction() as session:
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.monitoring = {}
    loud = monitoring.ingest_lines(
        [line(clock.now() - timedelta(hours=1), fn={"valid_until": soon})]
    )
    assert loud.opened == 1  # the defaults: a warning at 30 days


def test_store_hours_quiet_the_checks_that_matter_only_while_trading(
    store: Store, clock: FixedClock, world: World
) -> None:
    from sdconsole.storage.tables import Client

    with store.transaction() as session:
        site = session.get(Client, world.site_id)
        assert site is not None
        site.timezone = "Europe/Moscow"
    monitoring = Monitoring(
        store, clock, IntakeService(store, clock, routing=MANUAL), store_hours="09:00-21:00"
    )
    down = {"utm": {"reachable": False, "down_since": "2026-11-23T00:00:00Z"}}
    # 01:10 in Moscow: the shop is closed, УТМ being down opens nothing.
    night = monitoring.ingest_lines([line(datetime(2026, 11, 22, 22, 10, tzinfo=UTC), **down)])
    assert night.opened == 0
    # 12:00 in Moscow: open, and УТМ has been down for hours.
    day = monitoring.ingest_lines([line(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), **down)])
    assert day.opened == 1
    assert category_of(store, tickets(store)[0]) == "monitoring.utm-down.warning"


def test_the_scan_warns_of_an_ending_ofd_contract(
    monitoring: Monitoring, store: Store, clock: FixedClock
) -> None:
    ends = (clock.now().date() + timedelta(days=12)).isoformat()
    monitoring.ingest_lines([line(clock.now() - timedelta(minutes=5), ofd={"contract_end": ends})])
    [ticket] = tickets(store)
    assert category_of(store, ticket) == "monitoring.ofd-contract.warning"
    with store.reader() as session:
        device = session.execute(select(Device)).scalar_one()
    assert device.ofd_contract_end is not None
    assert monitoring.scan().opened == 0  # the same contract: the same ticket


def test_firmware_below_the_contracts_baseline_or_known_bad(
    monitoring: Monitoring, store: Store, clock: FixedClock, world: World
) -> None:
    from sdconsole.storage.tables import Contract

    with store.transaction() as session:
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.monitoring = {"firmware_min": "5.9.0", "firmware_bad": ["5.7.3"]}
    monitoring.ingest_lines([line(clock.now() - timedelta(hours=2))])  # firmware 5.8.100
    [old] = tickets(store)
    assert category_of(store, old) == "monitoring.sw-version.kkt-firmware-old"
    monitoring.ingest_lines([line(clock.now() - timedelta(hours=1), kkt={"firmware": "5.7.3"})])
    [bad] = tickets(store)
    assert category_of(store, bad) == "monitoring.sw-version.kkt-firmware-bad"


def test_the_only_till_of_a_shop_raises_the_priority(
    monitoring: Monitoring, store: Store, clock: FixedClock, world: World
) -> None:
    # fn-memory critical: impact 2 in the catalogue, a drive about to stop the till.
    full = {"fn": {"memory_used_pct": 95}}
    monitoring.ingest_lines([line(clock.now() - timedelta(hours=2), **full)])
    [alone] = tickets(store)
    with store.transaction() as session:
        session.add(
            Device(site_id=world.site_id, kind="kkt", serial="00106109000002", reg_number=None)
        )
    other = record(
        clock.now() - timedelta(hours=1),
        kkt={"serial": "00106109000002", "reg_number": None},
        fn={"serial": "7380440700000002", "memory_used_pct": 95},
    )
    monitoring.ingest_lines([json.dumps(other).encode()])
    second = tickets(store)[1]
    # The same fault: the shop's only till is P1; with a second till it is one level lower.
    assert alone.impact == 1 and second.impact == 2
    assert alone.priority < second.priority


@pytest.mark.parametrize("reader", ["here", "process", "broken"])
def test_reports_read_beside_the_store_or_in_it_come_out_the_same(
    store: Store,
    clock: FixedClock,
    world: World,
    reader: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor

    from sdconsole.domain.health import read_lines
    from sdconsole.services.parse_process import ParseProcess
    from sdconsole.storage.tables import Contract

    with store.transaction() as session:  # the shop's own thresholds: read again at the store
        contract = session.get(Contract, world.contract_id)
        assert contract is not None
        contract.monitoring = {"fn_expiry_warning_days": 10, "fn_expiry_plan_days": 14}
    today = clock.now().date()
    t0 = clock.now() - timedelta(hours=10)

    def at(hours: float, **sections: Any) -> bytes:
        return line(t0 + timedelta(hours=hours), **sections)

    stranger = record(
        t0, kkt={"serial": "00106109999999", "reg_number": None}, fn={"serial": "7380440700555555"}
    )
    lines = [
        # batch 1: a drive ending (warning), a line that is not JSON, an unknown register
        at(0, fn={"valid_until": (today + timedelta(days=5)).isoformat()}),
        b"{not json",
        json.dumps(stranger).encode(),
        # batch 2: worse, then two ok reports in a row: resolved within the batch
        at(1, fn={"valid_until": (today + timedelta(days=2)).isoformat()}),
        at(2, fn={"valid_until": (today + timedelta(days=200)).isoformat()}),
        at(3, fn={"valid_until": (today + timedelta(days=200)).isoformat()}),
        # batch 3: a full disk, the same report again, and a later one
        at(4, host={"disk_used_pct": 97}),
        at(4, host={"disk_used_pct": 97}),
        at(5, host={"disk_used_pct": 98}),
        # batch 4: 20 days left, a warning by the defaults, fine by the contract
        at(6, fn={"valid_until": (today + timedelta(days=20)).isoformat()},
           host={"disk_used_pct": 98}),
    ]  # fmt: skip
    submit = ProcessPoolExecutor.submit
    sent: list[int] = []  # the batches given to the process

    def counted(self: ProcessPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is not read_lines:
            return submit(self, fn, *args, **kwargs)
        sent.append(len(args[0]))
        if reader == "broken":
            died: Future[Any] = Future()
            died.set_exception(BrokenExecutor("the parsing process died"))
            return died
        return submit(self, fn, *args, **kwargs)

    start = ParseProcess.start

    def started(self: ParseProcess) -> None:
        start(self)
        assert self._ready is not None
        self._ready.result(timeout=60)  # loaded: every batch from the second on goes to it

    monkeypatch.setattr(ProcessPoolExecutor, "submit", counted)
    monkeypatch.setattr(ParseProcess, "start", started)
    monitoring = Monitoring(
        store,
        clock,
        IntakeService(store, clock, routing=MANUAL),
        batch=3,
        parse_process=reader != "here",
    )

    summary = monitoring.ingest_lines(lines)

    assert sent == ([] if reader == "here" else [3, 3, 1])
    assert summary.as_json() == {
        "lines": 10,
        "taken": 8,
        "replays": 1,
        "errors": 1,
        "tickets_opened": 2,
        "tickets_updated": 3,
        "tickets_resolved": 1,
        "devices_registered": 1,
    }
    assert [n for n, _reason in summary.errors] == [2]
    assert summary.errors[0][1].startswith("not JSON:")
    found = [(category_of(store, t), t.status) for t in tickets(store)]
    assert found == [
        ("monitoring.fn-expiry.critical", "resolved"),
        ("monitoring.disk-fill.pos-critical", "new"),
    ]
