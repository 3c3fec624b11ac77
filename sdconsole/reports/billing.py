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

COLUMNS = (
    Column("client", N_("Client"), Kind.TEXT),
    Column("contract", N_("Contract"), Kind.TEXT),
    Column("kind", N_("Kind"), Kind.TEXT, drop=1),
    Column("currency", N_("Cur."), Kind.TEXT, drop=2),
    Column("tickets", N_("Tickets"), drop=3),
    Column("hours_included", N_("Hours\nincluded"), Kind.HOURS),
    Column("hours_carried", N_("Hours\ncarried"), Kind.HOURS, drop=4),
    Column("hours_used", N_("Hours\nused"), Kind.HOURS),
    Column("hours_over", N_("Hours\nover"), Kind.HOURS),
    Column("overage_amount", N_("Overage"), Kind.MONEY),
    Column("requests", N_("Requests\nbilled"), drop=5),
    Column("requests_amount", N_("Per\nrequest"), Kind.MONEY, drop=6),
    Column("one_off_works", N_("One-off\nworks"), drop=7),
    Column("one_off_amount", N_("One-off"), Kind.MONEY),
    Column("fee", N_("Fee"), Kind.MONEY),
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
            "kind": _(KIND_WORDS[entry.kind]) if entry.kind in KIND_WORDS else "—",
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
        caption=_(
            "Hours are billed per time entry, rounded as each contract says; cost is every "
            "minute logged at the engineer's rate; the month is in UTC."
        ),
        about={"month": month.strftime("%Y-%m"), **period.about()},
        about_rows=((_("Month"), month.strftime("%Y-%m")), *period.about_rows()),
        listings=(
            Listing(
                "one_off_requests",
                N_("One-off works (no contract)"),
                UNCOVERED_COLUMNS,
                uncovered,
            ),
        ),
    )
