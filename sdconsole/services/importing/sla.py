"""Provides the CSV import of business calendars and SLA plans: the data SLA clocks run on.

A calendar row is one calendar: its zone (empty: each shop's own), the working intervals of each
weekday (``09:00-13:00, 14:00-18:00``; an empty cell is a day off), the production calendar it
follows (``RU``) or round the clock. A plan row is one SLA plan: its calendar, the warning
threshold, whether waiting for a vendor pauses the clocks, and for each priority P1-P4 the
registration, first-response and resolution targets, optionally on a calendar of their own (P1 is
often round the clock while the rest run on business hours). Calendars are matched by code, plans
by code; the rules of every import apply (all or nothing, an absent column keeps the stored value).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import null
from sqlmodel import Session, col, select

from sdconsole.i18n import N_
from sdconsole.services.importing.columns import BOOLEANS, PRIORITY_NUMBERS, WEEKDAYS
from sdconsole.services.importing.csv_table import IssueLog, Table, normalise
from sdconsole.services.importing.plan import Step
from sdconsole.services.importing.rows import Draft, RowReader
from sdconsole.storage.tables import BusinessCalendar, SlaPlan, SlaTarget

MAX_TARGET_MINUTES = 366 * 24 * 60
"""A target longer than a year is a typo."""
DEFAULT_REGISTRATION_MINUTES = 15
DEFAULT_WARNING_PCT = 80
TARGETS = ("registration", "response", "resolution")

_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})")
_INTERVAL_SPLIT = re.compile(r"[,;|]")
_DAY_OFF = frozenset({"-", "—", "выходной", "off", "day off", "нет"})
_HOLIDAYS = {"ru": "RU", "россия": "RU", "рф": "RU", "russia": "RU"}
_NO_HOLIDAYS = frozenset({"-", "нет", "no", "none", "без праздников"})
_DURATION = re.compile(
    r"(?:(?P<days>\d+)\s*(?:d|д|дн|дня|дней|день)\s*)?"
    r"(?:(?P<hours>\d+)\s*(?:h|ч|час|часа|часов)\s*)?"
    r"(?:(?P<minutes>\d+)\s*(?:m|min|мин|минут|минуты)?)?"
)
_CLOCK = re.compile(r"(?P<hours>\d+):(?P<minutes>\d{2})")


def parse_intervals(raw: str) -> list[list[str]] | None:
    """``09:00-13:00, 14:00-18:00`` as sorted ``[["09:00", "13:00"], …]``; [] for a day off.

    Returns None when the text is not a list of non-overlapping intervals within one day
    (``24:00`` may end the last one).
    """
    if normalise(raw) in _DAY_OFF:
        return []
    spans: list[tuple[int, int]] = []
    for part in _INTERVAL_SPLIT.split(raw):
        match = _INTERVAL.fullmatch(part.strip())
        if match is None:
            return None
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
            return None
        spans.append((start, end))
    spans.sort()
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
        return None
    return [[f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"] for a, b in spans]


def counts_days(raw: str) -> bool:
    """Whether a target is written in days (``2d``, ``3 дня``)."""
    match = _DURATION.fullmatch(normalise(raw))
    return match is not None and match["days"] is not None


def parse_minutes(raw: str) -> int | None:
    """A target: ``90``, ``1:30``, ``1h 30m``, ``1 ч 30 мин`` or ``2d`` (days of 24 hours).

    Returns the minutes, or None when the text is not a duration.
    """
    text = normalise(raw)
    clock = _CLOCK.fullmatch(text)
    if clock is not None:
        return int(clock["hours"]) * 60 + int(clock["minutes"])
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        return None
    days, hours, minutes = (int(match[name] or 0) for name in ("days", "hours", "minutes"))
    return (days * 24 + hours) * 60 + minutes


def _yes_no(r: RowReader, column: str, attr: str) -> None:
    """A yes/no cell where an empty cell means no."""

    def parse(raw: str) -> bool | None:
        value = BOOLEANS.get(normalise(raw))
        if value is None:
            r.fail(column, N_("{value} is not yes or no (1/0, да/нет)"), value=raw)
        return value

    r.cell(column, parse, attr=attr, default=False)


def calendar_row(r: RowReader) -> Draft | None:
    """Check a row of a calendars file."""
    key = r.key("code")
    r.text("name", 200, required=True)
    r.timezone("timezone")
    _yes_no(r, "round_the_clock", "is_24x7")
    for iso, day in enumerate(WEEKDAYS, start=1):

        def day_intervals(raw: str, day: str = day) -> list[list[str]] | None:
            value = parse_intervals(raw)
            if value is None:
                r.fail(
                    day,
                    N_(
                        "{value} is not a list of working hours such as 09:00-13:00, "
                        "14:00-18:00 (or empty for a day off)"
                    ),
                    value=raw,
                )
            return value

        no_hours: list[list[str]] = []
        r.cell(day, day_intervals, attr=f"weekly.{iso}", default=no_hours)

    def holidays(raw: str) -> str | None:
        word = normalise(raw)
        if word in _NO_HOLIDAYS:
            return None
        value = _HOLIDAYS.get(word)
        if value is None:
            r.fail(
                "holidays",
                N_("{value} is not a production calendar; use RU or leave it empty for none"),
                value=raw,
            )
        return value

    r.cell("holidays", holidays)
    return r.draft(key)


def plan_calendars(
    session: Session, table: Table, drafts: list[Draft], log: IssueLog
) -> list[Step]:
    """Merge each row's weekdays into the stored week; a calendar must have working hours."""
    stored = _by_code(session, BusinessCalendar, (d.key for d in drafts))
    steps: list[Step] = []
    for draft in drafts:
        row = stored.get(draft.key)
        values = draft.values
        weekly: dict[str, list[list[str]]] = dict(row.weekly) if row is not None else {}
        days = {k: values.pop(k) for k in list(values) if k.startswith("weekly.")}
        for attr, hours in days.items():
            iso = attr.removeprefix("weekly.")
            if hours:
                weekly[iso] = hours
            else:
                weekly.pop(iso, None)
        if days or row is None:
            values["weekly"] = dict(sorted(weekly.items()))
        round_the_clock = values.get("is_24x7", row.is_24x7 if row is not None else False)
        if not round_the_clock and not weekly and not draft.bad & set(WEEKDAYS):
            log.add(
                draft.line,
                table.header("code"),
                N_("calendar {value} has no working hours; fill mon-sun or set round_the_clock"),
                value=draft.key,
            )
        steps.append(_step(draft, row))
    return steps


def sla_plan_row(r: RowReader) -> Draft | None:
    """Check a row of an SLA plans file."""
    key = r.key("code")
    r.text("name", 200, required=True)
    r.ref("calendar", required=True)

    def percent(raw: str) -> int | None:
        digits = raw.rstrip("% ")
        if not digits.isdigit() or not 1 <= int(digits) <= 99:
            r.fail("warning_pct", N_("{value} is not a percentage from 1 to 99"), value=raw)
            return None
        return int(digits)

    r.cell("warning_pct", percent, default=DEFAULT_WARNING_PCT)
    _yes_no(r, "pause_on_vendor", "pause_on_vendor")
    for n in PRIORITY_NUMBERS:
        for target in TARGETS:
            column = f"p{n}_{target}"

            def minutes(raw: str, column: str = column, n: int = n) -> int | None:
                value = parse_minutes(raw)
                if value is not None and counts_days(raw):
                    r.values.setdefault(f"days.{n}", column)
                if value is None or not 0 < value <= MAX_TARGET_MINUTES:
                    r.fail(
                        column,
                        N_("{value} is not a target; write minutes (90), 1:30, 1h 30m or 2d"),
                        value=raw,
                    )
                    return None
                return value

            r.cell(
                column,
                minutes,
                attr=f"target.{n}.{target}_minutes",
                required=target != "registration",
                default=DEFAULT_REGISTRATION_MINUTES if target == "registration" else None,
            )
        r.ref(f"p{n}_calendar")
    return r.draft(key)


def plan_sla_plans(
    session: Session, table: Table, drafts: list[Draft], log: IssueLog
) -> list[Step]:
    """Resolve the calendars; check that no first response is due after the resolution."""
    stored = _by_code(session, SlaPlan, (d.key for d in drafts))
    targets = _stored_targets(session, [p.id for p in stored.values() if p.id is not None])
    calendars = {c.code: c for c in session.exec(select(BusinessCalendar))}  # a handful
    steps: list[Step] = []
    for draft in drafts:
        row = stored.get(draft.key)
        values = draft.values
        for column, code in draft.refs.items():
            if code is None or column in draft.bad:
                continue
            calendar = calendars.get(code)
            if calendar is None:
                log.add(
                    draft.line,
                    table.header(column),
                    N_("no calendar with code {value}"),
                    value=code,
                )
            elif column == "calendar":
                values["calendar_id"] = calendar.id
        old = targets.get(row.id, {}) if row is not None and row.id is not None else {}
        new: dict[int, dict[str, Any]] = {}
        for n in PRIORITY_NUMBERS:
            merged = dict(old.get(n, {"registration_minutes": DEFAULT_REGISTRATION_MINUTES}))
            for target in TARGETS:
                attr = f"{target}_minutes"
                if f"target.{n}.{attr}" in values:
                    merged[attr] = values.pop(f"target.{n}.{attr}")
            column = f"p{n}_calendar"
            if column in draft.refs:
                code = draft.refs[column]
                merged["calendar_id"] = calendars[code].id if code in calendars else None
            merged.setdefault("calendar_id", None)
            new[n] = merged
            in_days = values.pop(f"days.{n}", None)
            calendar_id = merged["calendar_id"] or _merged_calendar_id(values, row)
            if in_days is not None and not any(
                c.id == calendar_id and c.is_24x7 for c in calendars.values()
            ):
                log.add(
                    draft.line,
                    table.header(in_days),
                    N_(
                        "days are ambiguous on a business-hours calendar; write the target in "
                        "working hours (24h, 1:30) or use a round-the-clock calendar"
                    ),
                )
            response, resolution = merged.get("response_minutes"), merged.get("resolution_minutes")
            if response is not None and resolution is not None and response > resolution:
                log.add(
                    draft.line,
                    table.header(f"p{n}_response"),
                    N_(
                        "P{priority}: the first response ({response} min) is due after the "
                        "resolution ({resolution} min)"
                    ),
                    priority=n,
                    response=response,
                    resolution=resolution,
                )
        step = _step(draft, row)
        if new != old:
            step.changes["targets"] = new
        steps.append(step)
    return steps


def _merged_calendar_id(values: dict[str, Any], row: SlaPlan | None) -> int | None:
    if "calendar_id" in values:
        return cast(int | None, values["calendar_id"])
    return row.calendar_id if row is not None else None


def write_calendars(session: Session, steps: list[Step]) -> None:
    """Create or update the planned calendars."""
    for step in steps:
        if step.row is None:
            # An explicit SQL NULL: the ORM leaves a None out of the INSERT when the column has
            # a default, and "no production calendar" would become RU.
            values = {a: null() if v is None else v for a, v in step.changes.items()}
            session.add(BusinessCalendar(code=step.draft.key, **values))
        elif step.changes:
            for attr, value in step.changes.items():
                setattr(step.row, attr, value)
            session.add(step.row)
    session.flush()


def write_sla_plans(session: Session, steps: list[Step]) -> None:
    """Create or update the planned plans and replace their per-priority targets."""
    for step in steps:
        changes = dict(step.changes)
        new_targets: dict[int, dict[str, Any]] | None = changes.pop("targets", None)
        plan = step.row
        if plan is None:
            plan = SlaPlan(code=step.draft.key, **changes)
        else:
            for attr, value in changes.items():
                setattr(plan, attr, value)
        session.add(plan)
        session.flush()
        if new_targets is None:
            continue
        existing = {
            t.priority: t
            for t in session.exec(select(SlaTarget).where(SlaTarget.plan_id == plan.id))
        }
        for priority, fields in new_targets.items():
            target = existing.get(priority)
            if target is None:
                session.add(SlaTarget(plan_id=plan.id, priority=priority, **fields))
                continue
            for attr, value in fields.items():
                setattr(target, attr, value)
            session.add(target)
    session.flush()


def _step(draft: Draft, row: Any) -> Step:
    changes = {
        attr: value
        for attr, value in draft.values.items()
        if row is None or getattr(row, attr) != value
    }
    return Step(draft, row, changes)


def _by_code(session: Session, model: type[Any], codes: Sequence[str] | Any) -> dict[str, Any]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {r.code: r for r in session.exec(select(model).where(col(model.code).in_(wanted)))}


def _stored_targets(session: Session, plan_ids: list[int]) -> dict[int, dict[int, dict[str, Any]]]:
    found: dict[int, dict[int, dict[str, Any]]] = {}
    if not plan_ids:
        return found
    for target in session.exec(select(SlaTarget).where(col(SlaTarget.plan_id).in_(plan_ids))):
        found.setdefault(target.plan_id, {})[target.priority] = {
            "registration_minutes": target.registration_minutes,
            "response_minutes": target.response_minutes,
            "resolution_minutes": target.resolution_minutes,
            "calendar_id": target.calendar_id,
        }
    return found
