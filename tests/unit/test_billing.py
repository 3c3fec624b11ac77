"""Billing rules: coverage, rounding, price lists, package carry-over and each kind's month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdconsole.domain.billing import (
    Coverage,
    Rates,
    Terms,
    Work,
    bill_month,
    billed_minutes,
    coverage,
    monthly_fee,
    package_months,
    price_for,
)
from sdconsole.domain.model import ContractKind

NOV = date(2026, 11, 1)
RATES = Rates(hourly_rate=Decimal(3000), price_list={"kkt.fn": Decimal(2500)}, rounding_minutes=30)


def terms(kind: ContractKind = ContractKind.SUBSCRIPTION, **changes: object) -> Terms:
    values: dict[str, object] = {"kind": kind, "valid_from": date(2026, 1, 1)} | changes
    return Terms(**values)


def work(
    ticket_id: int,
    *minutes: int,
    category: str | None = "kkt.print",
    cover: Coverage = Coverage.COVERED,
    received: bool = True,
) -> Work:
    return Work(ticket_id, category, cover, received, tuple(minutes))


@pytest.mark.parametrize(
    ("contract", "category", "received", "expected"),
    [
        (None, "kkt.print", date(2026, 11, 5), Coverage.NO_CONTRACT),
        (terms(), "kkt.print", date(2026, 11, 5), Coverage.COVERED),
        (terms(valid_to=date(2026, 10, 31)), "kkt.print", date(2026, 11, 5), Coverage.NO_CONTRACT),
        (terms(is_active=False), "kkt.print", date(2026, 11, 5), Coverage.NO_CONTRACT),
        (terms(valid_from=date(2026, 12, 1)), "kkt.print", date(2026, 11, 5), Coverage.NO_CONTRACT),
        (terms(categories=("kkt",)), "kkt.print.paper", date(2026, 11, 5), Coverage.COVERED),
        (terms(categories=("kkt",)), "kktx.other", date(2026, 11, 5), Coverage.NOT_INCLUDED),
        (terms(categories=("kkt", "ofd")), "1c.exchange", date(2026, 11, 5), Coverage.NOT_INCLUDED),
        (terms(categories=("kkt",)), None, date(2026, 11, 5), Coverage.COVERED),
        (terms(valid_to=date(2026, 11, 5)), "kkt.print", date(2026, 11, 5), Coverage.COVERED),
    ],
)
def test_coverage(
    contract: Terms | None, category: str | None, received: date, expected: Coverage
) -> None:
    assert coverage(contract, category, received) is expected


@pytest.mark.parametrize(
    ("minutes", "rounding", "minimum", "billed"),
    [
        (7, 1, 0, 7),
        (7, 15, 0, 15),
        (15, 15, 0, 15),
        (16, 15, 0, 30),
        (5, 1, 10, 10),
        (0, 15, 30, 0),
    ],
)
def test_billed_minutes_round_up_to_the_step_and_the_minimum(
    minutes: int, rounding: int, minimum: int, billed: int
) -> None:
    assert billed_minutes(minutes, rounding, minimum) == billed


@given(st.integers(1, 10_000), st.sampled_from([1, 5, 10, 15, 30, 60]), st.integers(0, 120))
def test_billed_minutes_never_bill_less_than_spent(minutes: int, step: int, minimum: int) -> None:
    billed = billed_minutes(minutes, step, minimum)
    assert billed >= minutes and billed >= minimum
    assert billed == minimum or billed % step == 0
    assert billed - minutes < step or billed == minimum


def test_the_longest_price_list_prefix_wins() -> None:
    prices = {"kkt": Decimal(1000), "kkt.fn": Decimal(2500), "kkt.fn.replace": Decimal(4000)}
    assert price_for("kkt.fn.replace", prices) == Decimal(4000)
    assert price_for("kkt.fn.expired", prices) == Decimal(2500)
    assert price_for("kkt.print", prices) == Decimal(1000)
    assert price_for("kktx", prices) is None
    assert price_for(None, prices) is None


def test_the_monthly_fee_is_prorated_by_the_days_in_force() -> None:
    whole = terms(price=Decimal(30000))
    assert monthly_fee(whole, NOV) == Decimal("30000.00")
    assert monthly_fee(terms(price=Decimal(30000), valid_from=date(2026, 11, 21)), NOV) == Decimal(
        "10000.00"
    )
    assert monthly_fee(terms(price=Decimal(30000), valid_to=date(2026, 11, 10)), NOV) == Decimal(
        "10000.00"
    )
    assert monthly_fee(terms(ContractKind.PER_REQUEST, price=Decimal(30000)), NOV) == 0


def test_package_hours_lapse_without_carry_over() -> None:
    months = package_months(600, 0, [300, 700], NOV)
    assert [(m.carried_in, m.overage, m.unused) for m in months] == [(0, 0, 300), (0, 100, 0)]


def test_unused_package_hours_carry_over_oldest_first_and_then_lapse() -> None:
    # 10 h a month, kept one month more: 4 h used, then 12 h (6 h left over + 10 h), then 20 h.
    months = package_months(600, 1, [240, 720, 1200], NOV)
    assert [m.carried_in for m in months] == [0, 360, 240]
    assert [m.overage for m in months] == [0, 0, 360]
    # The first month's 6 h were used first in December; what is left of December's own
    # 10 h (4 h) carries into January.
    assert months[1].unused == 240


@given(
    st.integers(0, 6000),
    st.integers(0, 3),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
)
def test_package_minutes_are_conserved(included: int, carry: int, used: list[int]) -> None:
    for month in package_months(included, carry, used, NOV):
        assert month.unused == month.available - min(month.used, month.available)
        assert month.overage == max(0, month.used - month.available)
        assert 0 <= month.unused <= month.available
        assert month.carried_in <= included * carry


def test_a_subscription_bills_its_fee_and_uncovered_work_as_one_off() -> None:
    contract = terms(price=Decimal(45000), categories=("kkt",))
    bill = bill_month(
        contract,
        NOV,
        [
            work(1, 40, 25),
            work(2, 50, category="1c.exchange", cover=Coverage.NOT_INCLUDED),
            work(3, category="kkt.fn.replace", cover=Coverage.NOT_INCLUDED),
        ],
        RATES,
    )
    assert bill.fee == Decimal("45000.00")
    assert bill.used_minutes == 65  # per-minute rounding by default
    # 50 min at 1-minute rounding and 3,000 an hour, plus the price-list work.
    assert bill.one_off_works == 2
    assert bill.one_off_amount == Decimal("2500.00") + Decimal("2500.00")
    assert bill.amount == Decimal("50000.00")


def test_an_hours_package_bills_overage_after_the_carried_hours() -> None:
    contract = terms(
        ContractKind.HOURS_PACKAGE,
        price=Decimal(20000),
        hours_per_month=Decimal(10),
        carry_over_months=1,
        hourly_rate=Decimal(2400),
        rounding_minutes=15,
    )
    bill = bill_month(contract, NOV, [work(1, 500), work(2, 290)], RATES, earlier_used=[420])
    # 3 h carried from October; 510 + 300 = 810 billed minutes against 600 + 180.
    assert (bill.included_minutes, bill.carried_minutes, bill.used_minutes) == (600, 180, 810)
    assert bill.overage_minutes == 30
    assert bill.overage_amount == Decimal("1200.00")
    assert bill.amount == Decimal("21200.00")


def test_a_per_request_contract_bills_requests_received_in_the_month() -> None:
    contract = terms(ContractKind.PER_REQUEST, request_price=Decimal(900))
    bill = bill_month(contract, NOV, [work(1, 30), work(2, received=False), work(3)], RATES)
    assert (bill.requests, bill.requests_amount) == (2, Decimal("1800.00"))


def test_a_one_off_contract_bills_by_its_price_list_else_by_time() -> None:
    contract = terms(
        ContractKind.ONE_OFF,
        price_list={"kkt.fn.replace": Decimal(3500)},
        hourly_rate=Decimal(1200),
        rounding_minutes=30,
    )
    bill = bill_month(
        contract,
        NOV,
        [work(1, 20, category="kkt.fn.replace"), work(2, 40), work(3, 10, received=False)],
        RATES,
    )
    # 3,500 for the replacement; 60 and 30 billed minutes at 1,200 an hour.
    assert bill.one_off_works == 3
    assert bill.one_off_amount == Decimal("3500.00") + Decimal("1200.00") + Decimal("600.00")


def test_requests_without_a_contract_are_one_off_works_at_the_configured_rates() -> None:
    bill = bill_month(None, NOV, [work(1, 20, cover=Coverage.NO_CONTRACT), work(2)], RATES)
    # 20 minutes rounded to 30 at 3,000 an hour; the second request has no time and no price.
    assert (bill.one_off_works, bill.one_off_amount, bill.fee) == (
        1,
        Decimal("1500.00"),
        Decimal(0),
    )


def test_a_kind_this_version_does_not_know_bills_only_uncovered_work() -> None:
    odd = Terms(kind=None, valid_from=date(2026, 1, 1), price=Decimal(9000))
    assert coverage(odd, "kkt.print", date(2026, 11, 5)) is Coverage.COVERED
    bill = bill_month(odd, NOV, [work(1, 30), work(2, 60, cover=Coverage.NOT_INCLUDED)], RATES)
    assert (bill.fee, bill.used_minutes, bill.one_off_works) == (Decimal(0), 30, 1)
