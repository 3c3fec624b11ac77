"""Provides ``report billing``: what each client owes for a month, and what serving it cost.

A row per client and contract (and per client for its requests without a contract): the hours
the package included (with those carried over), used and over it, the overage, per-request and
one-off amounts, the monthly fee, the amount, the cost of the engineers' time and the margin.
Then the requests billed as one-off works because no contract covers them. docs/billing.md has
the rules; `domain.billing` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sdconsole.domain.billing import ZERO, Bill, add_months, hours
from sdconsole.domain.model import ContractKind, ticket_number
from sdconsole.i18n import N_, _
from sdconsole.reports.tabular import Column, Kind, Listing, Period, Tabular
from sdconsole.services.billing import ContractBill

KIND_WORDS = {
    ContractKind.SUBSCRIPTION.value: N_("subscription"),
    ContractKind.HOURS_PACKAGE.value: N_("hours package"),
    ContractKind.PER_REQUEST.value: N_("per request"),
    ContractKind.ONE_OFF.value: N_("one-off"),
}


def _kind_word(value: Any) -> str:
    word = KIND_WORDS.get(str(value))
    return _(word) if word else str(value)


COLUMNS = (
    Column("client", N_("Client"), Kind.TEXT),
    Column("contract", N_("Contract"), Kind.TEXT),
    Column("contract_kind", N_("Kind"), Kind.TEXT, drop=1, display=_kind_word),
    Column("currency", N_("Cur."), Kind.TEXT, drop=2),
    Column("tickets", N_("Tickets"), drop=3),
    Column("hours_included", N_("Hours\nincluded"), Kind.HOURS, drop=12),
    Column("hours_carried", N_("Hours\ncarried"), Kind.HOURS, drop=4),
    Column("hours_used", N_("Hours\nused"), Kind.HOURS),
    Column("hours_over", N_("Hours\nover"), Kind.HOURS, drop=13),
    Column("overage_amount", N_("Overage"), Kind.MONEY, drop=14),
    Column("requests", N_("Requests\nbilled"), drop=5),
    Column("requests_amount", N_("Per\nrequest"), Kind.MONEY, drop=6),
    Column("one_off_works", N_("One-off\nworks"), drop=7),
    Column("one_off_amount", N_("One-off"), Kind.MONEY, drop=15),
    Column("fee", N_("Fee"), Kind.MONEY, drop=16),
    Column("amount", N_("Amount"), Kind.MONEY),
    Column("hours_logged", N_("Hours\nlogged"), Kind.HOURS, drop=8),
    Column("cost", N_("Cost"), Kind.MONEY, drop=9),
    Column("margin", N_("Margin"), Kind.MONEY, drop=10),
    Column("margin_pct", N_("Margin\n%"), Kind.PCT, drop=11),
)

UNCOVERED_COLUMNS = (
    Column("number", N_("Ticket"), Kind.TEXT),
    Column("client", N_("Client"), Kind.TEXT),
    Column("contract", N_("Contract"), Kind.TEXT),
)


def _margin_pct(margin: Decimal, amount: Decimal) -> float | None:
    return round(float(100 * margin / amount), 1) if amount else None


def _money(bill: Bill, minutes: int) -> dict[str, Any]:
    return {
        "hours_included": hours(bill.included_minutes),
        "hours_carried": hours(bill.carried_minutes),
        "hours_used": hours(bill.used_minutes),
        "hours_over": hours(bill.overage_minutes),
        "overage_amount": bill.overage_amount,
        "requests": bill.requests,
        "requests_amount": bill.requests_amount,
        "one_off_works": bill.one_off_works,
        "one_off_amount": bill.one_off_amount,
        "fee": bill.fee,
        "amount": bill.amount,
        "hours_logged": hours(minutes),
        "cost": bill.cost,
        "margin": bill.margin,
        "margin_pct": _margin_pct(bill.margin, bill.amount),
    }


def _warnings(bills: Sequence[ContractBill]) -> list[str]:
    """What makes figures zero that should not be: rates nobody set."""
    found = []
    if any(b.bill.overage_minutes and not b.bill.overage_amount for b in bills):
        found.append(
            _("Some hours over a package have no hourly rate (the contract's or [billing]'s).")
        )
    if any(b.minutes for b in bills) and not any(b.bill.cost for b in bills):
        found.append(_("No engineer has a cost per hour, nor [billing] cost_per_hour: cost is 0."))
    return found


def build(
    bills: Sequence[ContractBill], *, month: date, as_of: datetime, client: str | None
) -> Tabular:
    """The billing report of a month."""
    rows = []
    total: dict[str, Any] = {}
    for entry in bills:
        row = {
            "client": entry.client,
            "contract": entry.contract or "—",
            "contract_kind": entry.kind,
            "currency": entry.currency,
            "tickets": entry.tickets,
            **_money(entry.bill, entry.minutes),
        }
        rows.append(row)
        for key, value in row.items():
            if isinstance(value, int | Decimal) and key != "margin_pct":
                total[key] = total.get(key, 0) + value
    total["margin_pct"] = _margin_pct(
        Decimal(total.get("margin", ZERO)), Decimal(total.get("amount", ZERO))
    )
    currencies = {entry.currency for entry in bills}
    total["currency"] = next(iter(currencies)) if len(currencies) == 1 else None
    if len(currencies) > 1:  # sums of roubles and euros say nothing: no money total
        for column in COLUMNS:
            if column.kind is Kind.MONEY or column.key == "margin_pct":
                total[column.key] = None
    last = add_months(month, 1).toordinal() - 1
    period = Period(month.replace(day=1), date.fromordinal(last), as_of, None, client)
    uncovered = tuple(
        {"number": ticket_number(t), "client": entry.client, "contract": entry.contract or "—"}
        for entry in bills
        for t in entry.uncovered
    )
    return Tabular(
        report="billing",
        title=_("Billing for {month}").format(month=month.strftime("%Y-%m"))
        + (", " + _("client {name}").format(name=client) if client else "")
        + ", "
        + _("as of {when}").format(when=as_of.strftime("%Y-%m-%d %H:%M UTC")),
        columns=COLUMNS,
        rows=tuple(rows),
        total=total,
        caption=" ".join(
            [
                _(
                    "Hours are billed per time entry, rounded as each contract says; cost is "
                    "every minute logged at the engineer's rate; the month is in UTC."
                ),
                *_warnings(bills),
            ]
        ),
        about={"month": month.strftime("%Y-%m"), **period.about()},
        about_rows=((_("Month"), month.strftime("%Y-%m")), *period.about_rows()),
        listings=(
            Listing(
                "one_off_requests",
                N_("Billed as one-off works"),
                UNCOVERED_COLUMNS,
                uncovered,
            ),
        ),
    )
