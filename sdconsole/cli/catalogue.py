"""Provides `sdconsole catalogue stats | check | sync` and `sdconsole cards check | list`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sdconsole.cli.common import TextFormat, err_console, handle_errors, print_json, state
from sdconsole.i18n import _

if TYPE_CHECKING:
    from sdconsole.domain.catalogue import Catalogue

app = typer.Typer(help="The incident catalogue: counts, checks, sync into the store.")
cards_app = typer.Typer(help="Diagnostic cards: check a folder of card files, list cards.")

EXIT_INVALID = 2

DirArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Folder of YAML files; default: the catalogue packaged with sdconsole.",
        show_default=False,
        exists=True,
        file_okay=False,
    ),
]


def _load(directory: Path | None) -> Catalogue:
    """The catalogue of a folder or the packaged one; problems printed, exit 2."""
    from sdconsole.domain.catalogue import CatalogueError
    from sdconsole.domain.diagnostics import CardError
    from sdconsole.services import catalogue as service

    try:
        if directory is None:
            return service.default_catalogue()
        cards = service.read_cards(service.resources("cards"))[0]
        return service.load_catalogue(directory, cards=cards)
    except (CatalogueError, CardError) as error:
        for problem in error.problems:
            err_console.print(str(problem), markup=False)
        err_console.print(
            _("{count} problems found.").format(count=len(error.problems)), markup=False
        )
        raise typer.Exit(EXIT_INVALID) from None


@app.command("stats")
@handle_errors
def stats(
    directory: DirArgument = None,
    output_format: Annotated[
        TextFormat, typer.Option("--format", help="text or json.")
    ] = TextFormat.TEXT,
) -> None:
    """Count the catalogue's nodes and incident types per level and per area."""
    catalogue = _load(directory)
    figures = catalogue.stats()
    if output_format is TextFormat.JSON:
        print_json(figures)
        return
    from rich.console import Console
    from rich.table import Table

    from sdconsole.i18n import current_language

    language = current_language()
    table = Table(title=_("Incident catalogue"), title_justify="left")
    table.add_column(_("Area"))
    table.add_column(_("Nodes"), justify="right")
    table.add_column(_("Incident types"), justify="right")
    table.add_column(_("With a card"), justify="right")
    for area in catalogue.areas:
        row = figures["areas"][area.code]
        table.add_row(
            f"{area.code}  {area.names.get(language)}",
            str(row["nodes"]),
            str(row["leaves"]),
            str(row["with_card"]),
        )
    table.add_section()
    table.add_row(
        _("Total"),
        str(figures["nodes"]),
        str(figures["leaves"]),
        str(figures["leaves_with_card"]),
    )
    console = Console(highlight=False)
    console.print(table)
    levels = ", ".join(f"{level}: {count}" for level, count in figures["levels"].items())
    console.print(_("Nodes per level: {levels}").format(levels=levels), markup=False)


@app.command("check")
@handle_errors
def check(directory: DirArgument = None) -> None:
    """Validate catalogue files (cards referenced must exist among the packaged cards)."""
    catalogue = _load(directory)
    err_console.print(
        _("The catalogue is valid: {nodes} nodes, {leaves} incident types.").format(
            nodes=len(catalogue), leaves=len(catalogue.leaves)
        ),
        markup=False,
    )


@app.command("sync")
@handle_errors
def sync(ctx: typer.Context, directory: DirArgument = None) -> None:
    """Write the catalogue into the store's category table (safe to repeat).

    Categories are matched by code; those no longer in the catalogue are retired, not deleted.
    """
    from sdconsole.services.catalogue import sync_catalogue

    catalogue = _load(directory)
    store = state(ctx).store()
    with store.transaction() as session:
        result = sync_catalogue(session=session, catalogue=catalogue)
    err_console.print(
        _(
            "Catalogue synced: {added} added, {updated} updated, {unchanged} unchanged, "
            "{retired} retired."
        ).format(
            added=result.added,
            updated=result.updated,
            unchanged=result.unchanged,
            retired=result.retired,
        ),
        markup=False,
    )


@cards_app.command("check")
@handle_errors
def check_cards(
    directory: Annotated[
        Path,
        typer.Argument(help="Folder of card files (*.yaml).", exists=True, file_okay=False),
    ],
) -> None:
    """Validate diagnostic card files: every problem with its file and step; exit 2 if any."""
    from sdconsole.services.catalogue import read_cards

    cards, problems = read_cards(directory)
    for problem in problems:
        err_console.print(str(problem), markup=False)
    if problems:
        err_console.print(_("{count} problems found.").format(count=len(problems)), markup=False)
        raise typer.Exit(EXIT_INVALID)
    err_console.print(_("{count} cards are valid.").format(count=len(cards)), markup=False)


@cards_app.command("list")
@handle_errors
def list_cards(
    output_format: Annotated[
        TextFormat, typer.Option("--format", help="text or json.")
    ] = TextFormat.TEXT,
) -> None:
    """List the packaged diagnostic cards and the incident types that use them."""
    from sdconsole.i18n import current_language
    from sdconsole.services.catalogue import default_cards

    catalogue = _load(None)
    language = current_language()
    used: dict[str, list[str]] = {}
    for leaf in catalogue.leaves:
        if leaf.card:
            used.setdefault(leaf.card, []).append(leaf.code)
    rows: list[dict[str, Any]] = [
        {
            "id": card.id,
            "version": card.version,
            "title": card.title.get(language),
            "steps": len(card.steps),
            "owner": card.owner,
            "reviewed": card.reviewed,
            "incident_types": len(used.get(card.id, [])),
        }
        for card in sorted(default_cards().values(), key=lambda c: c.id)
    ]
    if output_format is TextFormat.JSON:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']:<28} v{row['version']:<3} {row['steps']:>3} "
            + _("steps")
            + f"  {row['incident_types']:>4} "
            + _("types")
            + f"  {row['title']}"
        )
