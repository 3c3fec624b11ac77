"""Provides the per-row half of CSV import: the checks of single values, row by row.

A row becomes a `Draft`: the table attributes its present columns set, and the references (parent
client, site, SLA plan, manager) it names by key, still unresolved. Checks that need the store or
other rows (references, duplicates, a site's time zone, the РН check digits) are made later, in
`sdconsole.services.importing`. Only columns present in the file go into a draft: an absent column
leaves the stored value alone, an empty cell clears it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sdconsole.domain import identifiers
from sdconsole.domain.identifiers import IdProblem
from sdconsole.i18n import N_
from sdconsole.services.importing.columns import (
    BOOLEANS,
    CLIENT_KINDS,
    CONTRACT_KINDS,
    DEVICE_KINDS,
    ROLES,
)
from sdconsole.services.importing.csv_table import IssueLog, Row, Table, normalise

T = TypeVar("T")

FFD_VERSIONS = ("1.0", "1.05", "1.1", "1.2")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CURRENCY_ALIASES = {"руб": "RUB", "руб.": "RUB", "рубль": "RUB", "₽": "RUB", "rur": "RUB"}
_LIST_SPLIT = re.compile(r"[;|]")
_CATEGORY_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
_LOOSE_LIST_SPLIT = re.compile(r"[;|,]")


@dataclass(slots=True)
class Draft:
    """One row, checked on its own: what it sets and whom it refers to."""

    line: int
    key: str
    """The matching key: external id (engineers: login)."""
    values: dict[str, Any] = field(default_factory=dict)
    """Table attribute → value, for the columns present in the file."""
    refs: dict[str, str | None] = field(default_factory=dict)
    """Reference column → the referenced key (None clears it), for columns present in the file."""
    bad: set[str] = field(default_factory=set)
    """Columns with a bad value (reported already): later checks skip them."""


class RowReader:
    """Reads one row's cells into a `Draft`, reporting each bad value to the issue log."""

    def __init__(self, table: Table, row: Row, log: IssueLog) -> None:
        self.table = table
        self.row = row
        self.log = log
        self.bad: set[str] = set()
        self.values: dict[str, Any] = {}
        self.refs: dict[str, str | None] = {}

    def fail(self, column: str, template: str, **params: object) -> None:
        """Report a problem with `column` of this row."""
        self.bad.add(column)
        self.log.add(self.row.line, self.table.header(column), template, **params)

    def cell(
        self,
        column: str,
        parse: Callable[[str], T | None],
        *,
        attr: str | None = None,
        required: bool = False,
        default: T | None = None,
    ) -> T | None:
        """Read, parse and record one cell; `parse` reports its own problems and returns None."""
        raw = self.row.cells.get(column)
        if raw is None:
            if required:
                self.fail(column, N_("a value is required"))
            value = default
        else:
            value = parse(raw)
        if self.table.has(column):
            self.values[attr or column] = value
        return value

    def text(
        self,
        column: str,
        max_len: int,
        *,
        required: bool = False,
        attr: str | None = None,
        default: str | None = None,
    ) -> str | None:
        """A string cell of at most `max_len` characters."""

        def parse(raw: str) -> str | None:
            if len(raw) > max_len:
                self.fail(column, N_("longer than {limit} characters"), limit=max_len)
                return None
            return raw

        return self.cell(column, parse, attr=attr, required=required, default=default)

    def key(self, column: str, max_len: int = 64) -> str:
        """The row's matching key (required); "" when missing or bad."""
        value = self.row.cells.get(column)
        if value is None:
            self.fail(column, N_("a value is required"))
            return ""
        if len(value) > max_len:
            self.fail(column, N_("longer than {limit} characters"), limit=max_len)
            return ""
        return value

    def ref(self, column: str, *, required: bool = False) -> str | None:
        """A reference by key to another record, resolved later."""
        value = self.row.cells.get(column)
        if value is None and required:
            self.fail(column, N_("a value is required"))
        if self.table.has(column):
            self.refs[column] = value
        return value

    def choice(
        self,
        column: str,
        choices: Mapping[str, str],
        *,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        """One of an enumeration, given in English or by a Russian alias."""

        def parse(raw: str) -> str | None:
            value = choices.get(normalise(raw))
            if value is None:
                allowed = sorted({v for v in choices.values()})
                self.fail(
                    column,
                    N_("{value} is not one of: {choices}"),
                    value=raw,
                    choices=", ".join(allowed),
                )
            return value

        return self.cell(column, parse, required=required, default=default)

    def flag(self, column: str, attr: str) -> bool | None:
        """A yes/no cell (1/0, да/нет, yes/no, true/false); empty means yes."""

        def parse(raw: str) -> bool | None:
            value = BOOLEANS.get(normalise(raw))
            if value is None:
                self.fail(column, N_("{value} is not yes or no (1/0, да/нет)"), value=raw)
            return value

        return self.cell(column, parse, attr=attr, default=True)

    def day(self, column: str, *, required: bool = False) -> date | None:
        """A date: YYYY-MM-DD or DD.MM.YYYY."""

        def parse(raw: str) -> date | None:
            try:
                return identifiers.parse_date(raw)
            except ValueError:
                self.fail(
                    column, N_("{value} is not a date; use YYYY-MM-DD or DD.MM.YYYY"), value=raw
                )
                return None

        return self.cell(column, parse, required=required)

    def decimal(self, column: str, digits: int) -> Decimal | None:
        """A non-negative amount with at most two decimal places and `digits` digits in all."""

        def parse(raw: str) -> Decimal | None:
            try:
                value = identifiers.parse_decimal(raw)
            except ValueError:
                self.fail(column, N_("{value} is not a number"), value=raw)
                return None
            exponent = value.as_tuple().exponent
            if (
                value < 0
                or (isinstance(exponent, int) and exponent < -2)
                or value >= Decimal(10) ** (digits - 2)
            ):
                self.fail(
                    column,
                    N_("{value} is out of range (0 or more, at most two decimals, below {limit})"),
                    value=raw,
                    limit=10 ** (digits - 2),
                )
                return None
            return value

        return self.cell(column, parse)

    def integer(self, column: str, low: int, high: int) -> int | None:
        """A whole number from `low` to `high`."""

        def parse(raw: str) -> int | None:
            if not re.fullmatch(r"-?\d+", raw) or not low <= int(raw) <= high:
                self.fail(
                    column,
                    N_("{value} is not a whole number from {low} to {high}"),
                    value=raw,
                    low=low,
                    high=high,
                )
                return None
            return int(raw)

        return self.cell(column, parse)

    def timezone(self, column: str) -> str | None:
        """An IANA time-zone name known to this system, e.g. Europe/Moscow."""

        def parse(raw: str) -> str | None:
            try:
                ZoneInfo(raw)
            except (ZoneInfoNotFoundError, ValueError):
                self.fail(
                    column,
                    N_(
                        "unknown time zone {value}; use an IANA name such as "
                        "Europe/Moscow or Asia/Yekaterinburg"
                    ),
                    value=raw,
                )
                return None
            return raw

        return self.cell(column, parse)

    def checked(self, column: str, check: Callable[[str], str | None]) -> str | None:
        """An identifier that `check` turns into a message template (bad) or None (good).

        Spaces are dropped first: people group long numbers for reading.
        """

        def parse(raw: str) -> str | None:
            value = raw.replace(" ", "").replace("\u00a0", "")
            template = check(value)
            if template is not None:
                self.fail(column, template, value=raw, digits=len(value))
                return None
            return value

        return self.cell(column, parse)

    def listing(self, column: str, split: re.Pattern[str]) -> list[str] | None:
        """A list written in one cell, split on `split`; empty means an empty list."""
        empty: list[str] = []
        return self.cell(
            column, lambda raw: [p.strip() for p in split.split(raw) if p.strip()], default=empty
        )

    def draft(self, key: str) -> Draft | None:
        """The row's draft (even with bad values, so its references are checked too); None
        without a key."""
        if not key:
            return None
        return Draft(self.row.line, key, self.values, self.refs, self.bad)


def inn_problem(value: str) -> str | None:
    """The message template for a bad ИНН, or None."""
    problem = identifiers.check_inn(value)
    if problem is IdProblem.CHECKSUM:
        return N_("{value} is not a valid INN (check digit)")
    if problem is not None and value.isdigit() and len(value) in (9, 11):
        return N_("{value} is not a valid INN ({digits} digits; a leading zero lost in Excel?)")
    if problem is not None:
        return N_("{value} is not a valid INN (10 or 12 digits)")
    return None


def _kpp_problem(value: str) -> str | None:
    if identifiers.check_kpp(value) is None:
        return None
    return N_(
        "{value} is not a valid KPP (9 characters: 4 digits, 2 digits or capital letters, 3 digits)"
    )


def _reg_number_problem(value: str) -> str | None:
    if identifiers.check_reg_number(value) is None:
        return None
    return N_("{value} is not a valid registration number (16 digits)")


def _fn_serial_problem(value: str) -> str | None:
    if identifiers.check_fn_serial(value) is None:
        return None
    return N_("{value} is not a valid fiscal drive number (16 digits)")


def _email(r: RowReader, column: str = "email") -> None:
    value = r.text(column, 254)
    if value is not None and not _EMAIL.fullmatch(value):
        r.fail(column, N_("{value} is not an e-mail address"), value=value)


def client_row(r: RowReader) -> Draft | None:
    """Check a row of a clients file."""
    key = r.key("external_id")
    r.choice("kind", CLIENT_KINDS, required=True)
    r.text("name", 300, required=True)
    r.ref("parent")
    r.checked("inn", inn_problem)
    r.checked("kpp", _kpp_problem)
    r.text("address", 500)
    r.timezone("timezone")
    r.text("phone", 32)
    _email(r)
    r.ref("manager")
    r.text("notes", 100_000, default="")
    r.flag("active", "is_active")
    return r.draft(key)


def contract_row(r: RowReader) -> Draft | None:
    """Check a row of a contracts file."""
    key = r.key("external_id")
    r.text("number", 64, required=True)
    r.ref("client", required=True)
    r.choice("kind", CONTRACT_KINDS, required=True)
    r.day("valid_from", required=True)
    r.day("valid_to")
    r.ref("sla_plan", required=True)
    r.listing("categories", _LIST_SPLIT)
    r.decimal("hours_per_month", 8)
    r.decimal("price", 14)

    def currency(raw: str) -> str | None:
        value = _CURRENCY_ALIASES.get(raw.lower(), raw.upper())
        if not _CURRENCY.fullmatch(value):
            r.fail("currency", N_("{value} is not a currency code such as RUB"), value=raw)
            return None
        return value

    r.cell("currency", currency, default="RUB")
    r.decimal("hourly_rate", 14)
    r.decimal("request_price", 14)

    def price_list(raw: str) -> dict[str, str] | None:
        prices: dict[str, str] = {}
        for part in (p.strip() for p in _LIST_SPLIT.split(raw)):
            code, _equals, amount = part.partition("=")
            try:
                value = identifiers.parse_decimal(amount)
            except ValueError:
                value = Decimal(-1)
            if not _CATEGORY_CODE.fullmatch(code.strip()) or value < 0:
                r.fail(
                    "price_list",
                    N_("{value} is not a price list such as kkt.fn.replace=3500|ofd=1500"),
                    value=raw,
                )
                return None
            prices[code.strip()] = str(value)
        return prices

    no_prices: dict[str, str] = {}
    r.cell("price_list", price_list, default=no_prices)
    for column, low, high, default in (
        ("rounding_minutes", 1, 1440, 1),
        ("minimum_minutes", 0, 1440, 0),
        ("carry_over_months", 0, 24, 0),
        ("notify_days", 0, 365, 30),
    ):
        if r.row.cells.get(column) is None and r.table.has(column):
            r.values[column] = default
        else:
            r.integer(column, low, high)
    r.text("notes", 100_000, default="")
    r.flag("active", "is_active")
    return r.draft(key)


def device_row(r: RowReader) -> Draft | None:
    """Check a row of a devices file."""
    key = r.key("external_id")
    r.ref("site", required=True)
    r.choice("kind", DEVICE_KINDS, default="kkt")
    r.text("model", 100)
    r.text("serial", 20)
    r.checked("reg_number", _reg_number_problem)
    r.text("firmware", 64)

    def ffd(raw: str) -> str | None:
        value = raw.replace(",", ".")
        if value not in FFD_VERSIONS:
            r.fail(
                "ffd",
                N_("{value} is not one of: {choices}"),
                value=raw,
                choices=", ".join(FFD_VERSIONS),
            )
            return None
        return value

    r.cell("ffd", ffd)
    r.checked("fn_serial", _fn_serial_problem)
    r.text("fn_model", 100)
    r.day("fn_valid_until")
    r.integer("fn_registrations_left", 0, 99)
    r.text("ofd_name", 100)
    r.text("notes", 100_000, default="")
    r.flag("active", "is_active")
    return r.draft(key)


def engineer_row(r: RowReader) -> Draft | None:
    """Check a row of an engineers file."""
    login = r.key("login")
    if login and not _LOGIN.fullmatch(login):
        r.fail("login", N_("{value} is not a login (Latin letters, digits, . _ @ -)"), value=login)
    r.text("name", 200, required=True)
    r.text("external_id", 64)
    _email(r)
    r.choice("role", ROLES, default="engineer")

    def lines(raw: str) -> list[int] | None:
        parts = [p.strip() for p in _LOOSE_LIST_SPLIT.split(raw) if p.strip()]
        if not all(p in ("1", "2", "3", "4") for p in parts):
            r.fail(
                "lines",
                N_("{value} is not a list of support lines 1-4, e.g. 1,2 or 1|2"),
                value=raw,
            )
            return None
        return sorted({int(p) for p in parts})

    no_lines: list[int] = []
    r.cell("lines", lines, default=no_lines)
    r.listing("teams", _LOOSE_LIST_SPLIT)
    r.listing("skills", _LOOSE_LIST_SPLIT)

    def telegram(raw: str) -> str | None:
        if not raw.isdigit() or len(raw) > 32:
            r.fail("telegram_id", N_("{value} is not a numeric Telegram user id"), value=raw)
            return None
        return raw

    r.cell("telegram_id", telegram)
    r.timezone("timezone")
    r.decimal("cost_per_hour", 10)
    r.flag("active", "is_active")
    return r.draft(login)
