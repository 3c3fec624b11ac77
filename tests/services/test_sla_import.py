"""Import of business calendars and SLA plans (both backends): formats, checks, upserts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from sdconsole.domain.clock import FixedClock
from sdconsole.services.importing import ImportKind, ImportRowsFailed, ImportService
from sdconsole.services.importing.sla import parse_intervals, parse_minutes
from sdconsole.storage import Store
from sdconsole.storage.tables import BusinessCalendar, SlaPlan, SlaTarget

DATA = Path(__file__).parent.parent / "data" / "import"


@pytest.fixture
def service(store: Store, clock: FixedClock) -> ImportService:
    return ImportService(store, clock)


def problems(service: ImportService, kind: ImportKind, text: str) -> list[str]:
    with pytest.raises(ImportRowsFailed) as caught:
        service.import_bytes(kind, text.encode(), source="t.csv")
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-18:00", [["09:00", "18:00"]]),
        ("14:00-18:00, 9:00-13:00", [["09:00", "13:00"], ["14:00", "18:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
        ("выходной", []),
        ("09:00-13:00, 12:00-18:00", None),
        ("18:00-09:00", None),
        ("9-18", None),
        ("09:00-24:30", None),
    ],
)
def test_parse_intervals(text: str, expected: list[list[str]] | None) -> None:
    assert parse_intervals(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", 90),
        ("1:30", 90),
        ("1h 30m", 90),
        ("1 ч 30 мин", 90),
        ("4 ч", 240),
        ("2d", 2880),
        ("3 дня", 4320),
        ("", None),
        ("soon", None),
        ("1.5h", None),
    ],
)
def test_parse_minutes(text: str, expected: int | None) -> None:
    assert parse_minutes(text) == expected


def test_calendars_and_plans_from_1c_style_files(store: Store, service: ImportService) -> None:
    calendars = service.import_file(ImportKind.CALENDARS, DATA / "calendars.csv")
    plans = service.import_file(ImportKind.SLA_PLANS, DATA / "sla_plans.csv")
    assert (calendars.created, plans.created) == (3, 2)
    with store.reader() as session:
        office = session.exec(select(BusinessCalendar).where(BusinessCalendar.code == "office"))
        office_row = office.one()
        assert office_row.timezone is None  # each shop's own zone
        assert office_row.holidays == "RU"
        assert office_row.weekly["1"] == [["09:00", "13:00"], ["14:00", "18:00"]]
        assert office_row.weekly["5"] == [["09:00", "13:00"], ["14:00", "17:00"]]
        assert "6" not in office_row.weekly and "7" not in office_row.weekly
        clock24 = session.exec(
            select(BusinessCalendar).where(BusinessCalendar.code == "24x7")
        ).one()
        assert clock24.is_24x7 and clock24.holidays is None
        gold = session.exec(select(SlaPlan).where(SlaPlan.code == "GOLD")).one()
        assert (gold.warning_pct, gold.pause_on_vendor, gold.calendar_id) == (
            75,
            True,
            office_row.id,
        )
        targets = {
            t.priority: t
            for t in session.exec(select(SlaTarget).where(SlaTarget.plan_id == gold.id))
        }
    assert sorted(targets) == [1, 2, 3, 4]
    p1, p3 = targets[1], targets[3]
    assert (p1.registration_minutes, p1.response_minutes, p1.resolution_minutes) == (15, 15, 240)
    assert p1.calendar_id == clock24.id
    assert (p3.response_minutes, p3.resolution_minutes, p3.calendar_id) == (120, 1440, None)


def test_reimport_is_idempotent_and_updates_what_changed(
    store: Store, service: ImportService
) -> None:
    service.import_file(ImportKind.CALENDARS, DATA / "calendars.csv")
    service.import_file(ImportKind.SLA_PLANS, DATA / "sla_plans.csv")
    again = service.import_file(ImportKind.SLA_PLANS, DATA / "sla_plans.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = service.import_bytes(
        ImportKind.SLA_PLANS,
        "code,name,calendar,p1_response,p1_resolution,p2_response,p2_resolution,"
        "p3_response,p3_resolution,p4_response,p4_resolution\n"
        "GOLD,Золотой,office,10,4h,30,8h,2h,24h,8h,40h\n".encode(),
        source="t.csv",
    )
    assert (changed.created, changed.updated) == (0, 1)
    with store.reader() as session:
        gold = session.exec(select(SlaPlan).where(SlaPlan.code == "GOLD")).one()
        p1 = session.exec(
            select(SlaTarget).where(SlaTarget.plan_id == gold.id, SlaTarget.priority == 1)
        ).one()
        # Absent columns keep what was stored: the P1 calendar and the warning threshold.
        assert (p1.response_minutes, p1.calendar_id is not None, gold.warning_pct) == (10, True, 75)
    week = service.import_bytes(
        ImportKind.CALENDARS, "code;name;sat\noffice;Пятидневка;10:00-14:00\n".encode(), source="t"
    )
    assert week.updated == 1
    with store.reader() as session:
        office = session.exec(
            select(BusinessCalendar).where(BusinessCalendar.code == "office")
        ).one()
        assert office.weekly["6"] == [["10:00", "14:00"]]
        assert office.weekly["1"] == [["09:00", "13:00"], ["14:00", "18:00"]]


def test_bad_calendar_rows_are_reported_and_nothing_written(
    store: Store, service: ImportService
) -> None:
    found = problems(
        service,
        ImportKind.CALENDARS,
        "code;name;timezone;mon;holidays\n"
        "a;A;Europe/Kazan;09:00-18:00;RU\n"
        "b;B;;09:00-13:00, 12:00-18:00;\n"
        "c;C;;;US\n",
    )
    assert found == [
        "line 2, column timezone: unknown time zone Europe/Kazan; use an IANA name such as "
        "Europe/Moscow or Asia/Yekaterinburg",
        "line 3, column mon: 09:00-13:00, 12:00-18:00 is not a list of working hours such as "
        "09:00-13:00, 14:00-18:00 (or empty for a day off)",
        "line 4, column code: calendar c has no working hours; fill mon-sun or set round_the_clock",
        "line 4, column holidays: US is not a production calendar; use RU or leave it empty "
        "for none",
    ]
    with store.reader() as session:
        assert session.exec(select(BusinessCalendar)).all() == []


def test_bad_plan_rows_are_reported(service: ImportService) -> None:
    service.import_file(ImportKind.CALENDARS, DATA / "calendars.csv")
    found = problems(
        service,
        ImportKind.SLA_PLANS,
        "code,name,calendar,warning_pct,p1_response,p1_resolution,p1_calendar,p2_response,"
        "p2_resolution,p3_response,p3_resolution,p4_response,p4_resolution\n"
        "X,X,nope,150,15,4h,night,8h,4h,soon,72h,,120h\n",
    )
    assert found == [
        "line 2, column calendar: no calendar with code nope",
        "line 2, column warning_pct: 150 is not a percentage from 1 to 99",
        "line 2, column p1_calendar: no calendar with code night",
        "line 2, column p2_response: P2: the first response (480 min) is due after the "
        "resolution (240 min)",
        "line 2, column p3_response: soon is not a target; write minutes (90), 1:30, 1h 30m or 2d",
        "line 2, column p4_response: a value is required",
    ]


def test_days_need_a_round_the_clock_calendar(service: ImportService) -> None:
    service.import_file(ImportKind.CALENDARS, DATA / "calendars.csv")
    header = (
        "code,name,calendar,p1_response,p1_resolution,p1_calendar,p2_response,p2_resolution,"
        "p3_response,p3_resolution,p4_response,p4_resolution\n"
    )
    found = problems(
        service, ImportKind.SLA_PLANS, header + "X,X,office,15,1d,24x7,1h,8h,2h,3 дня,8h,40h\n"
    )
    assert found == [
        "line 2, column p3_resolution: days are ambiguous on a business-hours calendar; write "
        "the target in working hours (24h, 1:30) or use a round-the-clock calendar"
    ]
