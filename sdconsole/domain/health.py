"""Provides cash-register health reports (``sdconsole.health/1``) and the checks run on them.

`parse_report` reads one JSON object (docs/monitoring.md): partial records are allowed, unknown
keys are kept, identifiers are validated (РН ККТ with its CRC over ИНН and ЗН ККТ, ИНН, ЗН ФН)
and every problem is reported at once with the field it concerns. `evaluate` applies the checks
of DOMAIN §1.9 to a report with the contract's thresholds and returns one `CheckResult` per check
the report carries data for: ok, warning or critical, with the measured value and the incident
type (catalogue code ``monitoring.<check>.<level>``). `read_lines` does both for a batch of JSON
lines and gives each as the small `ReportRead` an intake batch needs (cheap to send from the
process that parses to the one that stores). Pure: no I/O; the time is passed in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from enum import IntEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from sdconsole.domain.identifiers import check_fn_serial, check_inn, check_reg_number

SCHEMA = "sdconsole.health/1"
SOURCES = frozenset({"atol-dto10", "atol-online", "ofd-ru", "utm", "lm-chz", "agent", "test"})


class Level(IntEnum):
    """How bad a check's value is."""

    OK = 0
    WARNING = 1
    CRITICAL = 2


class ReportError(ValueError):
    """A record that cannot be taken: every problem, each naming its field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One register's health at one moment, as far as the source knows it."""

    source: str
    observed_at: datetime
    store_id: str | None
    store_tz: str | None
    inn: str | None
    kkt_serial: str | None
    reg_number: str | None
    model: str | None
    firmware: str | None
    ffd: str | None
    fn_serial: str | None
    fn_valid_until: date | None
    fn_registrations_left: int | None
    fn_memory_used_pct: float | None
    fn_warnings: dict[str, bool]
    ofd_unsent_count: int | None
    ofd_first_unsent_at: datetime | None
    ofd_contract_end: date | None
    shift_state: str | None
    shift_opened_at: datetime | None
    ism_unsent_count: int | None
    ism_first_unsent_at: datetime | None
    utm_rsa_expires: date | None
    utm_gost_expires: date | None
    utm_reachable: bool | None
    utm_down_since: datetime | None
    lm_last_sync_at: datetime | None
    disk_used_pct: float | None
    clock: datetime | None
    """The register's (or POS's) own clock at `observed_at`, for the drift check."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys this version does not know, kept as they came."""

    @property
    def device_key(self) -> str:
        """What identifies the register: РН, else ЗН ККТ, else ЗН ФН."""
        return self.reg_number or self.kkt_serial or self.fn_serial or ""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Warning and critical levels per check (DOMAIN §1.9); per contract, defaults in config."""

    fn_expiry_plan_days: int = 45
    fn_expiry_warning_days: int = 30
    fn_expiry_critical_days: int = 3
    fn_memory_warning_pct: float = 80.0
    fn_memory_critical_pct: float = 90.0
    rereg_warning: int = 2
    ofd_backlog_warning_hours: float = 24.0
    ofd_backlog_critical_days: float = 5.0
    ofd_backlog_near_block_days: float = 25.0
    ofd_count_warning_hours: float = 4.0
    ofd_contract_warning_days: int = 30
    shift_warning_hours: float = 22.0
    utm_cert_warning_days: int = 30
    utm_cert_critical_days: int = 7
    utm_down_warning_minutes: float = 15.0
    utm_down_critical_hours: float = 24.0
    lm_sync_warning_hours: float = 24.0
    lm_sync_critical_hours: float = 48.0
    lm_sync_blocked_hours: float = 72.0
    ism_warning_hours: float = 24.0
    ism_critical_hours: float = 72.0
    disk_warning_pct: float = 80.0
    disk_critical_pct: float = 90.0
    clock_warning_minutes: float = 2.0
    clock_critical_minutes: float = 5.0
    firmware_min: str = ""
    """The register firmware the contract requires at least (``5.8.100``); empty: no check."""
    firmware_bad: tuple[str, ...] = ()
    """Firmware versions known to be bad."""


def thresholds_with(base: Thresholds, overrides: dict[str, Any]) -> Thresholds:
    """`base` with the known fields of `overrides` set (unknown keys are ignored, values that
    are not numbers refused).

    Raises:
        ValueError: a value is not a number.
    """
    known = {f for f in Thresholds.__dataclass_fields__}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in known:
            continue
        if key == "firmware_min":
            changes[key] = str(value)
            continue
        if key == "firmware_bad":
            if not isinstance(value, list | tuple):
                raise ValueError(f"threshold {key}: a list of versions is expected")
            changes[key] = tuple(str(v) for v in value)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"threshold {key}: a number is expected, not {value!r}")
        changes[key] = type(getattr(base, key))(value)
    return replace(base, **changes) if changes else base


def _version(text: str) -> tuple[int, ...]:
    """``5.8.100`` → (5, 8, 100); what is not a number counts as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in text.replace("-", ".").split("."))


def store_open(hours: str | None, at: datetime, zone: str | None) -> bool:
    """Whether a shop trading `hours` (``HH:MM-HH:MM`` local; past midnight allowed) is open
    at `at`; unknown hours or zone: open."""
    if not hours:
        return True
    try:
        start_text, _, end_text = hours.partition("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
        local = at.astimezone(ZoneInfo(zone)) if zone else at
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return True
    now = local.time()
    if start <= end:
        return start <= now < end
    return now >= start or now < end


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check on one report."""

    check: str
    """The check's catalogue code (``fn-expiry``)."""
    level: Level
    value: float | int | str
    """The measured value (days, %, hours, count, minutes)."""
    incident: str | None
    """The incident type: ``monitoring.fn-expiry.warning``; None when ok."""
    in_store_hours_only: bool = False
    """Whether the check is silent while the store is closed."""


# -- parsing -------------------------------------------------------------------------------

_KNOWN = {
    "schema", "source", "observed_at", "store", "org", "kkt", "fn", "ofd", "shift", "ism", "utm",
    "lm", "host",
}  # fmt: skip


_NUMBERS = (int, float)
_TEXTS = (str, int)
"""Tuples, not ``int | float``: a union is built anew at each call (parsing is per report)."""


def _dt(value: Any, where: str, problems: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: a date-time string is expected")
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z too
    except ValueError:
        problems.append(f"{where}: not an ISO 8601 date-time: {value[:40]!r}")
        return None
    if parsed.tzinfo is None:
        problems.append(f"{where}: needs a UTC offset (or Z): {value[:40]!r}")
        return None
    return parsed.astimezone(UTC)


def _day(value: Any, where: str, problems: list[str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    problems.append(f"{where}: not a date (YYYY-MM-DD): {str(value)[:40]!r}")
    return None


def _num(
    value: Any, where: str, problems: list[str], *, lo: float = 0.0, hi: float = math.inf
) -> float | None:  # noqa: E501
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, _NUMBERS) or math.isnan(value):
        problems.append(f"{where}: a number is expected")
        return None
    if not lo <= value <= hi:
        problems.append(f"{where}: {value} is outside {lo:g}..{hi:g}")
        return None
    return float(value)


def _int(value: Any, where: str, problems: list[str]) -> int | None:
    number = _num(value, where, problems)
    return None if number is None else int(number)


def _text(value: Any, where: str, problems: list[str], limit: int = 100) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, _TEXTS):
        problems.append(f"{where}: a string is expected")
        return None
    return str(value).strip()[:limit] or None


def _section(record: dict[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = record.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{name}: an object is expected")
        return {}
    return value


def parse_report(record: Any) -> HealthReport:
    """Read one record.

    Raises:
        ReportError: the record is not an object, has the wrong schema, identifies no
            register, or has bad values (each named).
    """
    if not isinstance(record, dict):
        raise ReportError(["the record is not a JSON object"])
    problems: list[str] = []
    schema = record.get("schema", SCHEMA)
    if schema != SCHEMA:
        problems.append(f"schema: {str(schema)[:40]!r} is not {SCHEMA}")
    source = _text(record.get("source"), "source", problems) or "agent"
    observed_at = _dt(record.get("observed_at"), "observed_at", problems)
    if observed_at is None and "observed_at" not in record:
        problems.append("observed_at: required")
    store = _section(record, "store", problems)
    org = _section(record, "org", problems)
    kkt = _section(record, "kkt", problems)
    fn = _section(record, "fn", problems)
    ofd = _section(record, "ofd", problems)
    shift = _section(record, "shift", problems)
    ism = _section(record, "ism", problems)
    utm = _section(record, "utm", problems)
    lm = _section(record, "lm", problems)
    host = _section(record, "host", problems)

    inn = _text(org.get("inn"), "org.inn", problems, 12)
    if inn and check_inn(inn) is not None:
        problems.append(f"org.inn: {inn} is not a valid ИНН ({check_inn(inn)})")
    serial = _text(kkt.get("serial"), "kkt.serial", problems, 40)
    if serial and (len(serial) > 20 or not serial.isascii()):
        problems.append(f"kkt.serial: {serial[:40]!r} is not a ЗН ККТ (up to 20 characters)")
        serial = None
    reg = _text(kkt.get("reg_number"), "kkt.reg_number", problems, 40)
    if reg:
        why = check_reg_number(reg, inn, serial)
        if why is not None:
            problems.append(f"kkt.reg_number: {reg} is not a valid РН ККТ ({why})")
    fn_serial = _text(fn.get("serial"), "fn.serial", problems, 40)
    if fn_serial and check_fn_serial(fn_serial) is not None:
        problems.append(f"fn.serial: {fn_serial} is not a ЗН ФН (16 digits)")
    if not (reg or serial or fn_serial):
        problems.append(
            "kkt.reg_number, kkt.serial or fn.serial: one is needed to know the register"
        )
    warnings_raw = fn.get("warnings") or {}
    warnings = (
        {str(k): bool(v) for k, v in warnings_raw.items()} if isinstance(warnings_raw, dict) else {}
    )
    rsa: dict[str, Any] = utm["rsa"] if isinstance(utm.get("rsa"), dict) else {}
    gost: dict[str, Any] = utm["gost"] if isinstance(utm.get("gost"), dict) else {}
    reachable = utm.get("reachable")
    report = HealthReport(
        source=source,
        observed_at=observed_at or datetime(1970, 1, 1, tzinfo=UTC),
        store_id=_text(store.get("id"), "store.id", problems, 64),
        store_tz=_text(store.get("tz"), "store.tz", problems, 64),
        inn=inn,
        kkt_serial=serial,
        reg_number=reg,
        model=_text(kkt.get("model"), "kkt.model", problems),
        firmware=_text(kkt.get("firmware"), "kkt.firmware", problems, 64),
        ffd=_text(kkt.get("ffd"), "kkt.ffd", problems, 8),
        fn_serial=fn_serial,
        fn_valid_until=_day(fn.get("valid_until"), "fn.valid_until", problems),
        fn_registrations_left=_int(fn.get("registrations_left"), "fn.registrations_left", problems),
        fn_memory_used_pct=_num(fn.get("memory_used_pct"), "fn.memory_used_pct", problems, hi=100),
        fn_warnings=warnings,
        ofd_unsent_count=_int(ofd.get("unsent_count"), "ofd.unsent_count", problems),
        ofd_first_unsent_at=_dt(ofd.get("first_unsent_at"), "ofd.first_unsent_at", problems),
        ofd_contract_end=_day(ofd.get("contract_end"), "ofd.contract_end", problems),
        shift_state=_text(shift.get("state"), "shift.state", problems, 16),
        shift_opened_at=_dt(shift.get("opened_at"), "shift.opened_at", problems),
        ism_unsent_count=_int(ism.get("unsent_count"), "ism.unsent_count", problems),
        ism_first_unsent_at=_dt(ism.get("first_unsent_at"), "ism.first_unsent_at", problems),
        utm_rsa_expires=_day(rsa.get("expire_date"), "utm.rsa.expire_date", problems),
        utm_gost_expires=_day(gost.get("expire_date"), "utm.gost.expire_date", problems),
        utm_reachable=reachable if isinstance(reachable, bool) else None,
        utm_down_since=_dt(utm.get("down_since"), "utm.down_since", problems),
        lm_last_sync_at=_dt(lm.get("last_sync_at"), "lm.last_sync_at", problems),
        disk_used_pct=_num(host.get("disk_used_pct"), "host.disk_used_pct", problems, hi=100),
        clock=_dt(host.get("clock") or kkt.get("clock"), "host.clock", problems),
        extra={k: v for k, v in record.items() if k not in _KNOWN},
    )
    if problems:
        raise ReportError(problems)
    return report


# -- the checks ----------------------------------------------------------------------------


def _result(
    check: str,
    level: Level,
    value: float | int | str,
    levels: dict[Level, str] | None = None,
    *,
    store_hours: bool = False,
) -> CheckResult:  # noqa: E501
    names = levels or {Level.WARNING: "warning", Level.CRITICAL: "critical"}
    incident = f"monitoring.{check}.{names[level]}" if level > Level.OK else None
    return CheckResult(check, level, value, incident, store_hours)


def evaluate(report: HealthReport, limits: Thresholds, now: datetime) -> list[CheckResult]:
    """The checks the report has data for, each with its level and incident type."""
    today = now.date()
    out: list[CheckResult] = []
    at = report.observed_at

    if report.fn_valid_until is not None:
        days = (report.fn_valid_until - today).days
        if days < 0:
            out.append(
                CheckResult("fn-expiry", Level.CRITICAL, days, "monitoring.fn-expiry.expired")
            )
        elif days <= limits.fn_expiry_critical_days:
            out.append(_result("fn-expiry", Level.CRITICAL, days))
        elif days <= limits.fn_expiry_warning_days:
            out.append(_result("fn-expiry", Level.WARNING, days))
        elif days <= limits.fn_expiry_plan_days:
            out.append(CheckResult("fn-expiry", Level.WARNING, days, "monitoring.fn-expiry.plan"))
        else:
            out.append(_result("fn-expiry", Level.OK, days))

    memory = report.fn_memory_used_pct
    overflow = report.fn_warnings.get("memory_overflow")
    if memory is not None or overflow is not None:
        value = memory if memory is not None else (100.0 if overflow else 0.0)
        if overflow or value >= limits.fn_memory_critical_pct:
            level = Level.CRITICAL
        elif value >= limits.fn_memory_warning_pct:
            level = Level.WARNING
        else:
            level = Level.OK
        out.append(_result("fn-memory", level, value))

    if "critical_error" in report.fn_warnings:
        critical = report.fn_warnings["critical_error"]
        out.append(
            CheckResult(
                "fn-critical",
                Level.CRITICAL if critical else Level.OK,
                int(critical),
                "monitoring.fn-critical" if critical else None,
            )
        )

    left = report.fn_registrations_left
    if left is not None:
        if left <= 0:
            out.append(
                _result(
                    "fn-rereg-left",
                    Level.CRITICAL,
                    left,
                    {Level.CRITICAL: "exhausted", Level.WARNING: "warning"},
                )
            )
        else:
            out.append(
                _result(
                    "fn-rereg-left",
                    Level.WARNING if left <= limits.rereg_warning else Level.OK,
                    left,
                )
            )

    if report.ofd_unsent_count is not None or report.ofd_first_unsent_at is not None:
        first = report.ofd_first_unsent_at
        count = report.ofd_unsent_count or 0
        hours = (at - first).total_seconds() / 3600 if first is not None and count > 0 else 0.0
        if hours >= limits.ofd_backlog_near_block_days * 24:
            out.append(
                _result(
                    "ofd-backlog-age",
                    Level.CRITICAL,
                    round(hours, 1),
                    {Level.CRITICAL: "near-block", Level.WARNING: "warning"},
                )
            )
        elif hours >= limits.ofd_backlog_critical_days * 24:
            out.append(_result("ofd-backlog-age", Level.CRITICAL, round(hours, 1)))
        elif hours >= limits.ofd_backlog_warning_hours:
            out.append(_result("ofd-backlog-age", Level.WARNING, round(hours, 1), store_hours=True))
        else:
            out.append(_result("ofd-backlog-age", Level.OK, round(hours, 1)))
        stuck = count > 0 and hours >= limits.ofd_count_warning_hours
        out.append(
            CheckResult(
                "ofd-backlog-count",
                Level.WARNING if stuck else Level.OK,
                count,
                "monitoring.ofd-backlog-count" if stuck else None,
            )
        )

    if report.ofd_contract_end is not None:
        days = (report.ofd_contract_end - today).days
        if days < 0:
            out.append(
                _result(
                    "ofd-contract",
                    Level.CRITICAL,
                    days,
                    {Level.CRITICAL: "expired", Level.WARNING: "warning"},
                )
            )
        else:
            level = Level.WARNING if days <= limits.ofd_contract_warning_days else Level.OK
            out.append(_result("ofd-contract", level, days))

    if report.shift_state is not None:
        hours = (
            (at - report.shift_opened_at).total_seconds() / 3600 if report.shift_opened_at else 0.0
        )
        if report.shift_state == "expired" or hours >= 24:
            out.append(
                _result(
                    "shift-long",
                    Level.CRITICAL,
                    round(hours, 1),
                    {Level.CRITICAL: "expired", Level.WARNING: "warning"},
                )
            )
        elif report.shift_state == "opened" and hours >= limits.shift_warning_hours:
            out.append(_result("shift-long", Level.WARNING, round(hours, 1)))
        else:
            out.append(_result("shift-long", Level.OK, round(hours, 1)))

    for check, expires in (
        ("utm-rsa-expiry", report.utm_rsa_expires),
        ("utm-gost-expiry", report.utm_gost_expires),
    ):
        if expires is None:
            continue
        days = (expires - today).days
        if days < 0:
            out.append(CheckResult(check, Level.CRITICAL, days, f"monitoring.{check}.expired"))
        elif days <= limits.utm_cert_critical_days:
            out.append(_result(check, Level.CRITICAL, days))
        else:
            out.append(
                _result(
                    check, Level.WARNING if days <= limits.utm_cert_warning_days else Level.OK, days
                )
            )

    if report.utm_reachable is not None:
        down = 0.0
        if not report.utm_reachable:
            since = report.utm_down_since or at
            down = (at - since).total_seconds() / 60
        if not report.utm_reachable and down >= limits.utm_down_critical_hours * 60:
            out.append(_result("utm-down", Level.CRITICAL, round(down), store_hours=True))
        elif not report.utm_reachable and down >= limits.utm_down_warning_minutes:
            out.append(_result("utm-down", Level.WARNING, round(down), store_hours=True))
        else:
            out.append(_result("utm-down", Level.OK, round(down), store_hours=True))

    if report.lm_last_sync_at is not None:
        hours = (at - report.lm_last_sync_at).total_seconds() / 3600
        if hours >= limits.lm_sync_blocked_hours:
            out.append(
                CheckResult(
                    "lm-chz-sync", Level.CRITICAL, round(hours, 1), "monitoring.lm-chz-sync.blocked"
                )
            )
        elif hours >= limits.lm_sync_critical_hours:
            out.append(_result("lm-chz-sync", Level.CRITICAL, round(hours, 1)))
        else:
            out.append(
                _result(
                    "lm-chz-sync",
                    Level.WARNING if hours >= limits.lm_sync_warning_hours else Level.OK,
                    round(hours, 1),
                )
            )

    if report.ism_unsent_count is not None:
        first = report.ism_first_unsent_at
        hours = (
            (at - first).total_seconds() / 3600
            if first is not None and report.ism_unsent_count
            else 0.0
        )
        if hours >= limits.ism_critical_hours:
            out.append(_result("ism-backlog", Level.CRITICAL, round(hours, 1)))
        else:
            out.append(
                _result(
                    "ism-backlog",
                    Level.WARNING if hours >= limits.ism_warning_hours else Level.OK,
                    round(hours, 1),
                )
            )

    if report.disk_used_pct is not None:
        used = report.disk_used_pct
        level = (
            Level.CRITICAL
            if used >= limits.disk_critical_pct
            else Level.WARNING
            if used >= limits.disk_warning_pct
            else Level.OK
        )
        out.append(
            _result(
                "disk-fill",
                level,
                used,
                {Level.WARNING: "pos-warning", Level.CRITICAL: "pos-critical"},
            )
        )

    if report.firmware and (limits.firmware_min or limits.firmware_bad):
        version = report.firmware
        if version in limits.firmware_bad:
            out.append(CheckResult("sw-version", Level.CRITICAL, version,
                                   "monitoring.sw-version.kkt-firmware-bad"))  # fmt: skip
        elif limits.firmware_min and _version(version) < _version(limits.firmware_min):
            out.append(CheckResult("sw-version", Level.WARNING, version,
                                   "monitoring.sw-version.kkt-firmware-old"))  # fmt: skip
        else:
            out.append(CheckResult("sw-version", Level.OK, version, None))

    if report.clock is not None:
        drift = abs((report.clock - at).total_seconds()) / 60
        level = (
            Level.CRITICAL
            if drift > limits.clock_critical_minutes
            else Level.WARNING
            if drift > limits.clock_warning_minutes
            else Level.OK
        )
        out.append(_result("clock-drift", level, round(drift, 1)))
    return out


# -- a batch of lines ----------------------------------------------------------------------


def load_line(raw: bytes) -> Any:
    """A line's JSON: orjson's reading, or the standard library's where orjson is stricter (a
    byte-order mark, integers over 64 bits, lone surrogates).

    Raises:
        json.JSONDecodeError, UnicodeDecodeError: the line is not JSON.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def read_line(raw: bytes) -> HealthReport:
    """One line's report.

    Raises:
        ReportError: the line is not JSON (the reason starts ``not JSON:``), or not a report.
    """
    try:
        record = load_line(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReportError([f"not JSON: {error}"]) from None
    return parse_report(record)


def register_facts(report: HealthReport) -> dict[str, Any]:
    """What the report says of the register itself (the registry's columns), where it says it."""
    values: dict[str, Any] = {
        "model": report.model,
        "firmware": report.firmware,
        "ffd": report.ffd,
        "fn_serial": report.fn_serial,
        "fn_valid_until": report.fn_valid_until,
        "fn_registrations_left": report.fn_registrations_left,
        "fn_memory_used_pct": report.fn_memory_used_pct,
        "ofd_contract_end": report.ofd_contract_end,
    }
    return {k: v for k, v in values.items() if v is not None}


Check = tuple[str, int, "float | int | str", "str | None", bool]
"""A `CheckResult` as a plain tuple, its fields in order (a tuple crosses processes for a
hundredth of a dataclass's cost)."""


def as_check(result: CheckResult) -> Check:
    """A `CheckResult` as a `Check`."""
    return (
        result.check,
        int(result.level),
        result.value,
        result.incident,
        result.in_store_hours_only,
    )


class ReportRead(NamedTuple):
    """What an intake batch needs of a report that was read: the register's keys, the time,
    the facts for the registry, and the worst level of its checks with the default thresholds.
    The checks themselves come only with a report that has a problem: an all-ok report's
    matter only to a register with a problem open, and are checked again for it."""

    reg_number: str | None
    kkt_serial: str | None
    fn_serial: str | None
    store_id: str | None
    inn: str | None
    observed_at: datetime
    facts: dict[str, Any]
    checks: tuple[Check, ...]
    worst: int


def worst_level(checks: Iterable[Check]) -> int:
    """The gravest level of `checks` (`Level.OK` for none)."""
    return max((check[1] for check in checks), default=int(Level.OK))


def read_lines(lines: Iterable[bytes], limits: Thresholds, now: datetime) -> list[ReportRead | str]:
    """Read and check a batch of lines: for each, its `ReportRead` (checked with `limits`), or
    the reason it cannot be taken."""
    out: list[ReportRead | str] = []
    for raw in lines:
        try:
            report = read_line(raw)
        except ReportError as error:
            out.append(str(error))
            continue
        checks = tuple(as_check(r) for r in evaluate(report, limits, now))
        worst = worst_level(checks)
        out.append(
            ReportRead(
                report.reg_number,
                report.kkt_serial,
                report.fn_serial,
                report.store_id,
                report.inn,
                report.observed_at,
                register_facts(report),
                checks if worst else (),
                worst,
            )
        )
    return out
