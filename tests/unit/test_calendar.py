"""Business calendars: working hours, the Russian production calendar, overrides, zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdconsole.domain.calendar import (
    WorkingCalendar,
    calendar_from_data,
    parse_override_file,
    shipped_overrides,
)
from sdconsole.domain.errors import InvalidInput
from sdconsole.domain.production import year_facts
from sdconsole.domain.sla import RoundTheClock

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS_9_18 = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}
WEEKDAYS_LUNCH = {str(d): [["09:00", "13:00"], ["14:00", "18:00"]] for d in range(1, 6)}
ALL_DAY = {str(d): [["00:00", "24:00"]] for d in range(1, 8)}
ZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Vladivostok",
    "Asia/Kamchatka",
    "Europe/Berlin",
]


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def office(**kwargs: object) -> WorkingCalendar:
    """Monday–Friday 09:00–18:00 Moscow time on the Russian production calendar."""
    return WorkingCalendar("Europe/Moscow", WEEKDAYS_9_18, **kwargs)


# -- properties --------------------------------------------------------------------------------


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """A random weekly schedule: up to three intervals on each day, at least one in the week."""
    week: dict[str, list[list[str]]] = {}
    for day in range(1, 8):
        bounds = sorted(draw(st.sets(st.integers(0, 1440), max_size=6)))
        pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
        if pairs:
            week[str(day)] = [[_hhmm(a), _hhmm(b)] for a, b in pairs]
    if not week:
        week["3"] = [["10:00", "11:30"]]
    return week


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


overrides = st.dictionaries(
    st.dates(date(2023, 1, 1), date(2027, 12, 31)).map(date.isoformat),
    st.one_of(
        st.sampled_from(["off", "working", "short"]),
        st.integers(0, 1440).map(lambda m: {"short": _hhmm(m)}),
    ),
    max_size=4,
)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    return WorkingCalendar(
        draw(st.sampled_from(ZONES)),
        draw(schedules()),
        holidays=draw(st.sampled_from(["RU", None])),
        overrides=draw(overrides),
    )


instants = st.datetimes(
    datetime(2023, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    datetime(2027, 10, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, MSK, ZoneInfo("Asia/Kamchatka")]),
)
minute_instants = instants.map(lambda t: t.replace(second=0, microsecond=0))
targets = st.integers(0, 3 * 7 * 24 * 60)
"""Up to three weeks of working minutes: every random schedule has at least 1 minute a week."""


def _capped(calendar: WorkingCalendar, minutes: int) -> int:
    """`minutes`, at most six weeks of the schedule (a sparse schedule would span centuries)."""
    weekly = sum(b - a for hours in calendar.weekly.values() for a, b in hours)
    return min(minutes, 6 * weekly)


def _into_working_time(calendar: WorkingCalendar, moment: datetime) -> datetime | None:
    """`moment` if working time runs up to it, else one minute into the next working interval."""
    local = moment.astimezone(calendar.zone).date()
    for offset in range(-1, 60):
        for a, b in calendar.intervals_on(local + timedelta(days=offset)):
            if b >= moment:
                return max(moment, a + timedelta(minutes=1))
    return None


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(calendars(), instants, targets)
def test_add_then_between_gives_the_minutes_back(
    calendar: WorkingCalendar, start: datetime, minutes: int
) -> None:
    minutes = _capped(calendar, minutes)
    due = calendar.add_minutes(start, minutes)
    assert due.tzinfo is UTC
    assert due >= start
    assert calendar.minutes_between(start, due) == minutes


@PROPERTY
@given(calendars(), instants, instants)
def test_between_then_add_never_overshoots(
    calendar: WorkingCalendar, start: datetime, end: datetime
) -> None:
    start, end = min(start, end), max(start, end)
    end = min(end, start + timedelta(days=60))
    assert calendar.add_minutes(start, calendar.minutes_between(start, end)) <= end


@PROPERTY
@given(calendars(), minute_instants, minute_instants)
def test_between_then_add_lands_on_an_end_within_working_time(
    calendar: WorkingCalendar, start: datetime, end: datetime
) -> None:
    start, end = min(start, end), max(start, end)
    inside = _into_working_time(calendar, min(end, start + timedelta(days=60)))
    if inside is not None and inside > start:
        assert calendar.add_minutes(start, calendar.minutes_between(start, inside)) == inside


@PROPERTY
@given(calendars(), instants, targets, targets)
def test_add_is_monotonic_in_the_minutes_and_additive(
    calendar: WorkingCalendar, start: datetime, first: int, second: int
) -> None:
    low, high = sorted((_capped(calendar, first), _capped(calendar, second)))
    assert calendar.add_minutes(start, low) <= calendar.add_minutes(start, high)
    middle = calendar.add_minutes(start, low)
    assert calendar.add_minutes(middle, high - low) == calendar.add_minutes(start, high)


@PROPERTY
@given(calendars(), instants, instants, targets)
def test_add_and_between_are_monotonic_in_the_start(
    calendar: WorkingCalendar, one: datetime, other: datetime, minutes: int
) -> None:
    early, late = min(one, other), min(max(one, other), min(one, other) + timedelta(days=60))
    minutes = _capped(calendar, minutes)
    assert calendar.add_minutes(early, minutes) <= calendar.add_minutes(late, minutes)
    end = late + timedelta(days=3)
    assert calendar.minutes_between(early, end) >= calendar.minutes_between(late, end)
    assert calendar.minutes_between(late, early) == 0


BERLIN_SWITCHES = [datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC)]
near_a_switch = st.builds(
    lambda switch, minutes: switch + timedelta(minutes=minutes),
    st.sampled_from(BERLIN_SWITCHES),
    st.integers(-3 * 1440, 3 * 1440),
)


@PROPERTY
@given(schedules(), near_a_switch, near_a_switch, targets)
def test_inverse_across_daylight_saving_switches(
    week: dict[str, list[list[str]]], start: datetime, end: datetime, minutes: int
) -> None:
    calendar = WorkingCalendar("Europe/Berlin", week, holidays=None)
    minutes = _capped(calendar, minutes)
    assert calendar.minutes_between(start, calendar.add_minutes(start, minutes)) == minutes
    start, end = min(start, end), max(start, end)
    assert calendar.add_minutes(start, calendar.minutes_between(start, end)) <= end
    inside = _into_working_time(calendar, end)
    if inside is not None and inside > start:
        assert calendar.add_minutes(start, calendar.minutes_between(start, inside)) == inside


@PROPERTY
@given(st.sampled_from(ZONES), instants, instants, targets)
def test_a_calendar_open_all_the_time_is_wall_clock_time(
    zone: str, start: datetime, end: datetime, minutes: int
) -> None:
    always = WorkingCalendar(zone, ALL_DAY, holidays=None)
    wall = RoundTheClock()
    assert always.add_minutes(start, minutes) == wall.add_minutes(start, minutes)
    end = min(end, start + timedelta(days=60))
    assert always.minutes_between(start, end) == wall.minutes_between(start, end)


def test_a_24x7_calendar_is_round_the_clock() -> None:
    calendar = calendar_from_data(timezone="Asia/Kamchatka", is_24x7=True, weekly=WEEKDAYS_9_18)
    assert isinstance(calendar, RoundTheClock)
    with pytest.raises(InvalidInput):
        calendar_from_data(timezone="Mars/Olympus", is_24x7=True)


# -- clock arithmetic on a working week --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (msk(2026, 11, 25, 10, 0), 60, msk(2026, 11, 25, 11, 0)),
        (msk(2026, 11, 25, 3, 0), 60, msk(2026, 11, 25, 10, 0)),  # at night: opening + 60
        (msk(2026, 11, 25, 3, 0), 0, msk(2026, 11, 25, 3, 0)),  # zero minutes: the start itself
        (msk(2026, 11, 25, 17, 30), 30, msk(2026, 11, 25, 18, 0)),  # due at closing, not next day
        (msk(2026, 11, 25, 23, 59, 59), 1, msk(2026, 11, 26, 9, 1)),
        (msk(2026, 11, 27, 17, 30), 60, msk(2026, 11, 30, 9, 30)),  # Friday → Monday
        (msk(2026, 11, 28, 12, 0), 60, msk(2026, 11, 30, 10, 0)),  # Saturday
        (msk(2026, 11, 25, 10, 0, 30), 1, msk(2026, 11, 25, 10, 1, 30)),  # seconds are kept
        (msk(2026, 11, 23, 9, 0), 5 * 540, msk(2026, 11, 27, 18, 0)),  # a whole week
        (msk(2026, 11, 23, 9, 0), 5 * 540 + 1, msk(2026, 11, 30, 9, 1)),
        (msk(2026, 9, 1, 9, 0), 50 * 540, msk(2026, 11, 11, 10, 0)),  # 3 Nov short, 4 Nov off
    ],
)
def test_add_minutes_on_a_working_week(start: datetime, minutes: int, due: datetime) -> None:
    assert office().add_minutes(start, minutes) == due


def test_between_counts_working_time_only() -> None:
    calendar = office()
    assert calendar.minutes_between(msk(2026, 11, 27, 17, 0), msk(2026, 11, 30, 10, 0)) == 120
    assert calendar.minutes_between(msk(2026, 11, 28, 0, 0), msk(2026, 11, 29, 23, 59)) == 0
    assert calendar.minutes_between(msk(2026, 11, 25, 10, 0), msk(2026, 11, 25, 10, 0, 59)) == 0
    assert calendar.minutes_between(msk(2026, 11, 25, 10, 0), msk(2026, 11, 25, 9, 0)) == 0


def test_results_are_utc_and_inputs_must_be_aware() -> None:
    calendar = office()
    due = calendar.add_minutes(msk(2026, 11, 25, 10, 0), 60)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        calendar.add_minutes(datetime(2026, 11, 25, 10, 0), 60)  # noqa: DTZ001
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_minutes(msk(2026, 11, 25, 10, 0), -1)


def test_a_night_shift_across_midnight() -> None:
    nights = {str(d): [["00:00", "02:00"], ["20:00", "24:00"]] for d in range(1, 8)}
    calendar = WorkingCalendar("Europe/Moscow", nights, holidays=None)
    assert calendar.add_minutes(msk(2026, 11, 25, 23, 30), 60) == msk(2026, 11, 26, 0, 30)
    assert calendar.add_minutes(msk(2026, 11, 26, 1, 30), 60) == msk(2026, 11, 26, 20, 30)
    assert calendar.minutes_between(msk(2026, 11, 25, 23, 0), msk(2026, 11, 26, 1, 0)) == 120
    assert calendar.add_minutes(msk(2026, 11, 25, 23, 59), 1) == msk(2026, 11, 26, 0, 0)


def test_several_intervals_a_day() -> None:
    calendar = WorkingCalendar("Europe/Moscow", WEEKDAYS_LUNCH)
    assert calendar.add_minutes(msk(2026, 11, 25, 12, 30), 60) == msk(2026, 11, 25, 14, 30)
    assert calendar.add_minutes(msk(2026, 11, 25, 13, 20), 10) == msk(2026, 11, 25, 14, 10)
    assert calendar.add_minutes(msk(2026, 11, 25, 12, 0), 60) == msk(2026, 11, 25, 13, 0)
    assert calendar.minutes_between(msk(2026, 11, 25, 12, 0), msk(2026, 11, 25, 15, 0)) == 120


@pytest.mark.parametrize(
    ("zone", "due_utc"),
    [
        ("Europe/Kaliningrad", datetime(2026, 11, 27, 15, 30, tzinfo=UTC)),  # 16:30 → 17:30 local
        ("Europe/Moscow", datetime(2026, 11, 30, 6, 30, tzinfo=UTC)),  # 17:30 → Mon 09:30
        ("Asia/Yekaterinburg", datetime(2026, 11, 30, 5, 0, tzinfo=UTC)),  # 19:30 → Mon 10:00
        ("Asia/Vladivostok", datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),  # Sat 00:30 → Mon 10:00
        ("Asia/Kamchatka", datetime(2026, 11, 29, 22, 0, tzinfo=UTC)),  # Sat 02:30 → Mon 10:00
    ],
)
def test_the_same_local_schedule_in_different_zones(zone: str, due_utc: datetime) -> None:
    received = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # a Friday
    calendar = WorkingCalendar(zone, WEEKDAYS_9_18)
    assert calendar.add_minutes(received, 60) == due_utc


def test_daylight_saving_days_are_23_and_25_hours_long() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    always = WorkingCalendar("Europe/Berlin", ALL_DAY, holidays=None)
    spring = datetime(2026, 3, 29, tzinfo=berlin)
    autumn = datetime(2026, 10, 25, tzinfo=berlin)
    assert always.minutes_between(spring, spring + timedelta(days=1)) == 23 * 60
    assert always.minutes_between(autumn, autumn + timedelta(days=1)) == 25 * 60
    # 01:00–04:00 local: the skipped hour is not worked, the repeated hour is worked twice.
    early = {str(d): [["01:00", "04:00"]] for d in range(1, 8)}
    calendar = WorkingCalendar("Europe/Berlin", early, holidays=None)
    assert calendar.intervals_on(date(2026, 3, 29)) == [
        (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    ]
    assert calendar.intervals_on(date(2026, 10, 25)) == [
        (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    ]
    # An interval that starts inside the skipped hour starts when the clocks jump.
    late = WorkingCalendar("Europe/Berlin", {"7": [["02:30", "05:00"]]}, holidays=None)
    assert late.intervals_on(date(2026, 3, 29)) == [
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    ]


# -- the Russian production calendar -----------------------------------------------------------


def test_new_year_holidays_2025_2026() -> None:
    calendar = office()
    # 31 Dec 2025 is a day off moved from 5 Jan; 1–8 Jan are holidays, 9 Jan moved from 3 Jan.
    assert calendar.add_minutes(msk(2025, 12, 30, 17, 30), 60) == msk(2026, 1, 12, 9, 30)
    assert calendar.minutes_between(msk(2025, 12, 30, 17, 0), msk(2026, 1, 12, 10, 0)) == 120
    assert all(not calendar.hours_on(date(2025, 12, 31) + timedelta(days=i)) for i in range(12))
    # 30 Dec 2025 precedes a moved day off, not a holiday: a full day.
    assert calendar.hours_on(date(2025, 12, 30)) == ((540, 1080),)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 4, 29),
        date(2024, 4, 30),
        date(2024, 12, 30),
        date(2024, 12, 31),
        date(2025, 5, 2),
        date(2025, 5, 8),
        date(2025, 6, 13),
        date(2025, 11, 3),
        date(2025, 12, 31),
        date(2026, 1, 9),
        date(2026, 3, 9),
        date(2026, 5, 11),
        date(2026, 12, 31),
        date(2027, 2, 22),
    ],
)
def test_days_off_moved_by_decree(day: date) -> None:
    assert office().hours_on(day) == ()


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2024, 4, 27), ((540, 1080),)),  # swapped with Monday 29 April: a full day
        (date(2024, 11, 2), ((540, 1020),)),  # swapped with 30 April, the eve of 1 May: short
        (date(2024, 12, 28), ((540, 1080),)),  # swapped with 30 December: a full day
        (date(2025, 11, 1), ((540, 1020),)),  # swapped with 3 November, the eve of 4 Nov: short
        (date(2027, 2, 20), ((540, 1020),)),  # swapped with 22 February, the eve of 23 Feb
    ],
)
def test_working_saturdays(day: date, hours: tuple[tuple[int, int], ...]) -> None:
    assert office().hours_on(day) == hours


def test_a_working_saturday_works_the_hours_of_the_day_it_replaces() -> None:
    short_friday = {**WEEKDAYS_9_18, "1": [["10:00", "19:00"]], "5": [["09:00", "16:45"]]}
    calendar = WorkingCalendar("Europe/Moscow", short_friday)
    assert calendar.hours_on(date(2024, 4, 27)) == ((600, 1140),)  # Monday's hours
    assert calendar.add_minutes(msk(2024, 4, 26, 16, 30), 60) == msk(2024, 4, 27, 10, 45)


@pytest.mark.parametrize(
    ("year", "short_days", "norm_hours"),
    [
        (2024, {(2, 22), (3, 7), (5, 8), (6, 11), (11, 2)}, 1979),
        (2025, {(3, 7), (4, 30), (6, 11), (11, 1)}, 1972),
        (2026, {(4, 30), (5, 8), (6, 11), (11, 3)}, 1972),
    ],
)
def test_short_days_and_the_yearly_norm_of_a_40_hour_week(
    year: int, short_days: set[tuple[int, int]], norm_hours: int
) -> None:
    calendar = WorkingCalendar("Europe/Moscow", WEEKDAYS_LUNCH)
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    found = {
        (d.month, d.day)
        for d in days
        if d.year == year and 0 < sum(b - a for a, b in calendar.hours_on(d)) < 480
    }
    assert found == short_days
    start, end = msk(year, 1, 1), msk(year + 1, 1, 1)
    assert calendar.minutes_between(start, end) == norm_hours * 60


def test_a_short_day_loses_its_last_hour() -> None:
    calendar = WorkingCalendar("Europe/Moscow", WEEKDAYS_LUNCH)
    assert calendar.hours_on(date(2025, 4, 30)) == ((540, 780), (840, 1020))
    # 16:30 on the eve of 1 May 2025 + 60 min: 30 min that day, then 5 May (2–4 May are off).
    assert calendar.add_minutes(msk(2025, 4, 30, 16, 30), 60) == msk(2025, 5, 5, 9, 30)
    lunch_at_the_end = WorkingCalendar("Europe/Moscow", {"3": [["09:00", "13:00"]]})
    assert lunch_at_the_end.hours_on(date(2025, 4, 30)) == ((540, 720),)


def test_the_package_facts_the_calendar_relies_on() -> None:
    facts = year_facts("RU", 2025)
    assert facts.working_weekend_days == {date(2025, 11, 1): date(2025, 11, 3)}
    assert {date(2025, 5, 2), date(2025, 5, 8), date(2025, 12, 31)} <= facts.days_off
    assert year_facts("RU", 2026).working_weekend_days == {}
    assert year_facts("RU", 2027).working_weekend_days == {date(2027, 2, 20): date(2027, 2, 22)}
    assert date(2027, 2, 20) in year_facts("RU", 2027).short_days


def test_without_a_production_calendar_holidays_are_working_days() -> None:
    calendar = office(holidays=None)
    assert calendar.hours_on(date(2026, 1, 5)) == ((540, 1080),)
    assert calendar.hours_on(date(2025, 4, 30)) == ((540, 1080),)
    assert calendar.hours_on(date(2025, 11, 1)) == ()


# -- overrides ---------------------------------------------------------------------------------


def test_overrides() -> None:
    calendar = office(
        overrides={
            "2026-06-10": "off",  # a regional day off
            "2026-06-13": "working",  # a Saturday: the schedule's usual (Monday) hours
            "2026-06-09": {"short": "15:00"},
            "2026-06-08": "short",
            "2026-04-30": "working",  # cancels the derived short day
            "2026-01-05": "working",  # works inside the New Year holidays
        }
    )
    assert calendar.hours_on(date(2026, 6, 10)) == ()
    assert calendar.hours_on(date(2026, 6, 13)) == ((540, 1080),)
    assert calendar.hours_on(date(2026, 6, 9)) == ((540, 900),)
    assert calendar.hours_on(date(2026, 6, 8)) == ((540, 1020),)
    assert calendar.hours_on(date(2026, 4, 30)) == ((540, 1080),)
    assert calendar.hours_on(date(2026, 1, 5)) == ((540, 1080),)
    # 9 June ends at 15:00, 10 June is off, 11 June is short (the eve of 12 June).
    assert calendar.add_minutes(msk(2026, 6, 9, 14, 30), 60) == msk(2026, 6, 11, 9, 30)
    assert calendar.add_minutes(msk(2026, 6, 11, 16, 30), 60) == msk(2026, 6, 13, 9, 30)


def test_override_file_format() -> None:
    text = """
        [days]
        "2027-11-13" = "working"
        2027-11-08 = "off"
        "2027-12-30" = { short = "16:00" }
    """
    parsed = parse_override_file(text)
    assert [(str(d), o.kind, o.until) for d, o in sorted(parsed.items())] == [
        ("2027-11-08", "off", None),
        ("2027-11-13", "working", None),
        ("2027-12-30", "short", 960),
    ]
    assert shipped_overrides("RU") == {}  # holidays==0.108 needs no corrections yet
    with pytest.raises(InvalidInput):
        parse_override_file("[days]\n'2027-13-01' = 'off'\n")
    with pytest.raises(InvalidInput):
        parse_override_file("days = 3\n")
    with pytest.raises(InvalidInput):
        parse_override_file("[days\n")


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekly": {"1": [["18:00", "09:00"]]}}, "ends before it starts"),
        ({"weekly": {"1": [["09:00", "09:00"]]}}, "ends before it starts"),
        ({"weekly": {"1": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "overlap"),
        ({"weekly": {"1": [["9:00", "18:00"]]}}, "expected HH:MM"),
        ({"weekly": {"1": [["09:00", "24:01"]]}}, "expected HH:MM"),
        ({"weekly": {"1": [["09:00"]]}}, "pairs"),
        ({"weekly": {"1": "09:00-18:00"}}, "pairs"),
        ({"weekly": {"8": [["09:00", "18:00"]]}}, "Unknown weekday"),
        ({"weekly": {}}, "at least one working interval"),
        ({"timezone": "Europe/Atlantis"}, "Unknown time zone"),
        ({"timezone": "../etc/passwd"}, "Unknown time zone"),
        ({"holidays": "XX"}, "Unknown production calendar"),
        ({"overrides": {"2026-02-30": "off"}}, "expected YYYY-MM-DD"),
        ({"overrides": {"20260601": "off"}}, "expected YYYY-MM-DD"),
        ({"overrides": {"2026-06-01": "closed"}}, "Invalid override"),
        ({"overrides": {"2026-06-01": {"short": "5pm"}}}, "expected HH:MM"),
    ],
)
def test_bad_definitions_are_refused(kwargs: dict[str, object], message: str) -> None:
    data: dict[str, object] = {"timezone": "Europe/Moscow", "weekly": WEEKDAYS_9_18, **kwargs}
    with pytest.raises(InvalidInput, match=message) as caught:
        calendar_from_data(**data)
    assert caught.value.code == "invalid_input"


def test_the_stored_shape_builds_a_calendar() -> None:
    calendar = calendar_from_data(
        timezone="Asia/Vladivostok",
        weekly={"1": [["09:00", "18:00"]], "2": [["09:00", "18:00"]]},
        holidays="ru",
        overrides={"2026-11-24": "off"},
    )
    assert isinstance(calendar, WorkingCalendar)
    assert calendar.country == "RU"
    assert calendar.hours_on(date(2026, 11, 24)) == ()


def test_seconds_add_and_count_like_minutes() -> None:
    calendar = WorkingCalendar("Europe/Moscow", {str(d): [["09:00", "18:00"]] for d in range(1, 6)})
    start = datetime(2026, 11, 27, 17, 59, 30, tzinfo=ZoneInfo("Europe/Moscow"))  # Friday
    due = calendar.add_seconds(start, 45)
    assert due == datetime(2026, 11, 30, 9, 0, 15, tzinfo=ZoneInfo("Europe/Moscow"))
    assert calendar.seconds_between(start, due) == 45
    assert calendar.minutes_between(start, due) == 0
