"""Provides billing rules: which requests a contract covers, how time is billed, what a month costs.

Pure: the storage layer gathers a month's work per contract (`Work`) and `bill_month` prices it.
The rules, in docs/billing.md:

* **coverage** (`coverage`): a request is *covered* when a contract is in force on the day it was
  received and includes its category (an empty list includes every category); without one it
  is *no_contract*, outside the list *not_included*. Uncovered requests are billed as one-off
  works.
* **time** (`billed_minutes`): each time entry is rounded up to the contract's step and to at
  least its minimum (per-minute consultations: step 1, minimum 0).
* **a month** per kind of contract:
  - *subscription*: the monthly price (prorated by the days the contract is in force);
  - *hours package*: the monthly price, the month's hours plus unused hours carried over from
    up to ``carry_over_months`` earlier months (oldest used first), and each hour over that at
    the hourly rate;
  - *per request*: each covered request received in the month at the request price (the
    contract's price when it names no request price);
  - *one-off*: each covered request received in the month at its price-list price, else at the
    contract's price, else its billed time at the hourly rate;
  - and on every kind, each uncovered request as a one-off work.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sdconsole.domain.model import ContractKind

CENT = Decimal("0.01")
ZERO = Decimal(0)
MINUTES_PER_HOUR = Decimal(60)


class Coverage(StrEnum):
    """Whether a request is covered by a contract (``ticket.coverage``)."""

    COVERED = "covered"
    NO_CONTRACT = "no_contract"
    NOT_INCLUDED = "not_included"


@dataclass(frozen=True, slots=True)
class Terms:
    """What a contract says about money: the fields of ``contract`` billing reads."""

    kind: ContractKind | None
    """None: a kind this version does not know (no fee, no package; uncovered work still
    billed)."""
    valid_from: date
    valid_to: date | None = None
    is_active: bool = True
    categories: tuple[str, ...] = ()
    price: Decimal | None = None
    hours_per_month: Decimal | None = None
    carry_over_months: int = 0
    hourly_rate: Decimal | None = None
    request_price: Decimal | None = None
    price_list: Mapping[str, Decimal] = field(default_factory=dict)
    rounding_minutes: int = 1
    minimum_minutes: int = 0

    def in_force(self, on: date) -> bool:
        """Whether the contract is active and valid on `on`."""
        return (
            self.is_active
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )

    def includes(self, category: str | None) -> bool:
        """Whether the category is one the contract covers (an empty list covers all).

        An uncategorised request counts as included until it is categorised."""
        if not self.categories or category is None:
            return True
        return any(_under(category, prefix) for prefix in self.categories)


@dataclass(frozen=True, slots=True)
class Rates:
    """One-off rates for work no contract prices: the config's ``[billing]``."""

    hourly_rate: Decimal = ZERO
    price_list: Mapping[str, Decimal] = field(default_factory=dict)
    rounding_minutes: int = 15
    minimum_minutes: int = 0


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def coverage(terms: Terms | None, category: str | None, received: date) -> Coverage:
    """Whether the contract covers a request of this category received on `received`."""
    if terms is None or not terms.in_force(received):
        return Coverage.NO_CONTRACT
    return Coverage.COVERED if terms.includes(category) else Coverage.NOT_INCLUDED


def billed_minutes(minutes: int, rounding: int = 1, minimum: int = 0) -> int:
    """One time entry as billed: rounded up to a multiple of `rounding`, at least `minimum`."""
    if minutes <= 0:
        return 0
    step = max(1, rounding)
    return max(minimum, -(-minutes // step) * step)


def price_for(category: str | None, price_list: Mapping[str, Decimal]) -> Decimal | None:
    """The price-list price of a category: the entry of the longest matching code prefix."""
    if category is None:
        return None
    found = [p for p in price_list if _under(category, p)]
    return price_list[max(found, key=len)] if found else None


def money(value: Decimal) -> Decimal:
    """Rounded to kopecks, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    """Minutes as hours, two decimals."""
    return money(Decimal(minutes) / MINUTES_PER_HOUR)


def month_days(month: date) -> tuple[date, date]:
    """The first and the last day of the month of `month`."""
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=last)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def days_in_force(terms: Terms, month: date) -> int:
    """How many days of the month the contract is in force (active contracts only)."""
    first, last = month_days(month)
    start = max(first, terms.valid_from)
    end = min(last, terms.valid_to) if terms.valid_to else last
    return max(0, (end - start).days + 1) if terms.is_active else 0


def monthly_fee(terms: Terms, month: date) -> Decimal:
    """The subscription or package price of the month, prorated by the days in force."""
    if terms.price is None or terms.kind not in (
        ContractKind.SUBSCRIPTION,
        ContractKind.HOURS_PACKAGE,
    ):
        return ZERO
    first, last = month_days(month)
    total = (last - first).days + 1
    return money(terms.price * days_in_force(terms, month) / total)


@dataclass(frozen=True, slots=True)
class PackageMonth:
    """An hours package in one month, in billed minutes."""

    month: date
    included: int
    carried_in: int
    used: int
    overage: int
    unused: int
    """Of what was available, left at the end of the month (some of it may carry on)."""

    @property
    def available(self) -> int:
        return self.included + self.carried_in


def package_months(
    included: int, carry_over_months: int, used: Sequence[int], first: date
) -> list[PackageMonth]:
    """Month by month, how a package's minutes were used, from `first` on.

    Each month brings `included` minutes, usable that month and the `carry_over_months` months
    after; use draws on the oldest minutes first; what is used beyond the available minutes is
    overage (it is billed, and does not borrow from later months).
    """
    lots: list[tuple[int, int]] = []  # (month index, minutes left), oldest first
    result = []
    for index, spent in enumerate(used):
        lots = [(m, left) for m, left in lots if index - m <= carry_over_months and left > 0]
        carried = sum(left for _, left in lots)
        lots.append((index, included))
        need = spent
        for position, (m, left) in enumerate(lots):
            take = min(left, need)
            lots[position] = (m, left - take)
            need -= take
        result.append(
            PackageMonth(
                month=add_months(first, index),
                included=included,
                carried_in=carried,
                used=spent,
                overage=need,
                unused=sum(left for _, left in lots),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class Work:
    """One request's share of a month's bill.

    Attributes:
        ticket_id: the request.
        category: its category code, or None.
        coverage: as judged on the ticket.
        received_in_month: whether it was received in the month billed (per-request and
            price-list prices are charged in that month; time in the month it was spent).
        minutes: the billable time entries spent on it in the month, as entered.
        cost: what the month's time on it cost (every entry, billable or not).
    """

    ticket_id: int
    category: str | None
    coverage: Coverage
    received_in_month: bool
    minutes: tuple[int, ...] = ()
    cost: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Bill:
    """A contract's month (or, with ``terms`` None, a client's work without a contract)."""

    fee: Decimal = ZERO
    included_minutes: int = 0
    carried_minutes: int = 0
    used_minutes: int = 0
    overage_minutes: int = 0
    overage_amount: Decimal = ZERO
    requests: int = 0
    requests_amount: Decimal = ZERO
    one_off_works: int = 0
    one_off_amount: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return self.fee + self.overage_amount + self.requests_amount + self.one_off_amount

    @property
    def margin(self) -> Decimal:
        return self.amount - self.cost


def _one_off(
    item: Work,
    price_list: Mapping[str, Decimal],
    rate: Decimal,
    rounding: int,
    minimum: int,
    fallback: Decimal | None = None,
) -> tuple[bool, Decimal]:
    """Whether the request is a one-off work this month, and its price: its price-list price,
    else `fallback` (a one-off contract's price of a work), else its billed time at `rate`."""
    price = price_for(item.category, price_list)
    if price is None:
        price = fallback
    if price is not None:
        return item.received_in_month, price if item.received_in_month else ZERO
    billed = sum(billed_minutes(m, rounding, minimum) for m in item.minutes)
    return billed > 0, money(rate * billed / MINUTES_PER_HOUR)


def bill_month(
    terms: Terms | None,
    month: date,
    work: Sequence[Work],
    rates: Rates,
    *,
    earlier_used: Sequence[int] = (),
    share: bool = False,
) -> Bill:
    """Price a contract's month (terms None: a client's requests without a contract).

    Args:
        earlier_used: hours packages only: the billed minutes used in each month of the
            contract before `month`, oldest first (what they left over may carry into this one;
            since the oldest hours are used first, every earlier month counts).
        share: the work is part of a contract held higher up the client tree (a shop's share
            of its chain's contract): no fee and no package hours (they are the holder's),
            only the requests, the one-off works and the hours used.
    """
    own = terms is not None
    rate = terms.hourly_rate if terms and terms.hourly_rate is not None else rates.hourly_rate
    rounding = terms.rounding_minutes if terms else rates.rounding_minutes
    minimum = terms.minimum_minutes if terms else rates.minimum_minutes
    prices = {**rates.price_list, **(terms.price_list if terms else {})}
    one_offs, one_off_amount = 0, ZERO
    covered: list[Work] = []
    for item in work:
        if own and item.coverage is Coverage.COVERED:
            covered.append(item)
            continue
        counted, price = _one_off(item, prices, rate, rounding, minimum)
        one_offs += counted
        one_off_amount += price
    bill = Bill(
        one_off_works=one_offs,
        one_off_amount=one_off_amount,
        cost=money(sum((w.cost for w in work), ZERO)),
    )
    if terms is None:
        return bill
    fee = ZERO if share else monthly_fee(terms, month)
    used = sum(billed_minutes(m, rounding, minimum) for w in covered for m in w.minutes)
    if terms.kind is ContractKind.HOURS_PACKAGE and (share or days_in_force(terms, month) == 0):
        # A share shows the hours used, not the holder's package; a month the contract is not
        # in force brings no hours, so all of its time is over the package.
        over = 0 if share else used
        return replace(
            bill,
            fee=fee,
            used_minutes=used,
            overage_minutes=over,
            overage_amount=money(rate * over / MINUTES_PER_HOUR),
        )
    if terms.kind is ContractKind.HOURS_PACKAGE:
        included = int((terms.hours_per_month or ZERO) * MINUTES_PER_HOUR)
        earlier = list(earlier_used) if terms.carry_over_months else []
        months = package_months(
            included, terms.carry_over_months, [*earlier, used], add_months(month, -len(earlier))
        )
        this = months[-1]
        return replace(
            bill,
            fee=fee,
            included_minutes=this.included,
            carried_minutes=this.carried_in,
            used_minutes=used,
            overage_minutes=this.overage,
            overage_amount=money(rate * this.overage / MINUTES_PER_HOUR),
        )
    if terms.kind is ContractKind.PER_REQUEST:
        count = sum(1 for w in covered if w.received_in_month)
        return replace(
            bill,
            used_minutes=used,
            requests=count,
            requests_amount=money((terms.request_price or ZERO) * count),
        )
    if terms.kind is ContractKind.ONE_OFF:
        for item in covered:
            counted, price = _one_off(item, prices, rate, rounding, minimum, terms.price)
            one_offs += counted
            one_off_amount += price
        return replace(
            bill, used_minutes=used, one_off_works=one_offs, one_off_amount=one_off_amount
        )
    return replace(bill, fee=fee, used_minutes=used)
