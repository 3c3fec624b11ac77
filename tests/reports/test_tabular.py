"""The common report writers: untrusted names stay text, money totals and headings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from rich.console import Console

from sdconsole.domain.billing import Bill
from sdconsole.reports import billing
from sdconsole.reports.tabular import Column, Kind, Tabular, document, renderables
from sdconsole.services.billing import ContractBill

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_names_in_tables_and_charts_are_never_markup() -> None:
    report = Tabular(
        report="volume",
        title="Requests [bold]received[/bold]",
        columns=(Column("key", "", Kind.TEXT), Column("received", "Received")),
        rows=({"key": "Shop [/x] one", "received": 3},),
        total={"received": 3},
        chart_title="Chart",
        chart=(("Shop [/x] one", 100.0, "3 [red]x[/red]"),),
    )
    console = Console(width=120, record=True)
    for part in renderables(report, 120, chart=True):
        console.print(part)
    text = console.export_text()
    assert text.count("Shop [/x] one") == 2 and "3 [red]x[/red]" in text
    assert "[bold]received[/bold]" in text


def test_money_totals_are_left_empty_when_currencies_differ() -> None:
    def bill(currency: str) -> ContractBill:
        return ContractBill(1, "A", 1, "1", "subscription", currency, Bill(fee=Decimal(100)), 0, 0)

    same = document(
        billing.build([bill("RUB"), bill("RUB")], month=date(2026, 11, 1), as_of=NOW, client=None)
    )
    assert same["total"]["amount"] == 200.0 and same["total"]["currency"] == "RUB"
    mixed = document(
        billing.build([bill("RUB"), bill("EUR")], month=date(2026, 11, 1), as_of=NOW, client=None)
    )
    assert mixed["total"]["amount"] is None and mixed["total"]["currency"] is None
    assert mixed["total"]["tickets"] == 0
