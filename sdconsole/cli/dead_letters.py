"""Provides `sdconsole dead-letters`: what intake could not take, and retrying it."""

from __future__ import annotations

from typing import Annotated

import typer

from sdconsole.cli.common import TableFormat, handle_errors, print_json, state

app = typer.Typer(
    help="Inputs intake could not take: list, show, retry, dismiss.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    format_: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = (
        TableFormat.TABLE
    ),
) -> None:
    """Dead letters, newest first: channel, when, retries, the reason."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from sdconsole.i18n import _
    from sdconsole.services.dead_letters import list_dead_letters

    rows = list_dead_letters(state(ctx).store(), include_resolved=all_)
    if format_ == TableFormat.JSON:
        print_json(rows)
        return
    if format_ == TableFormat.CSV:
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "channel", "key", "first_seen", "last_seen", "retries", "error"])
        for row in rows:
            writer.writerow(
                [
                    row.id,
                    row.channel,
                    row.key,
                    row.first_seen.isoformat(),
                    row.last_seen.isoformat(),
                    row.retries,
                    row.error,
                ]
            )
        return
    table = Table(box=None, pad_edge=False)
    for title in (_("id"), _("channel"), _("last seen"), _("retries"), _("reason"), _("start")):
        table.add_column(title, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.channel,
            row.last_seen.strftime("%Y-%m-%d %H:%M"),
            str(row.retries),
            Text(row.error),  # untrusted text: never read as markup
            Text(row.preview[:60]),
        )
    Console(highlight=False).print(table)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context, dead_letter_id: Annotated[int, typer.Argument(help="Its id.")]
) -> None:
    """The reason and the whole payload (as text, control sequences stripped)."""
    import sys

    from sdconsole.services.dead_letters import get, readable

    row, raw = get(state(ctx).store(), dead_letter_id)
    sys.stdout.write(f"{row.channel} {row.key}\n{row.error}\n\n{readable(raw)}\n")


@app.command("retry")
@handle_errors
def retry(
    ctx: typer.Context,
    dead_letter_ids: Annotated[
        list[int] | None, typer.Argument(help="Ids; none with --all.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every unresolved one.")] = False,
) -> None:
    """Run dead letters through intake again; prints each outcome as JSON."""
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.i18n import N_
    from sdconsole.services.dead_letters import DeadLetters, list_dead_letters
    from sdconsole.services.mail import MailIntake

    cli = state(ctx)
    store, clock, settings = cli.store(), cli.clock(), cli.settings
    ids = [r.id for r in list_dead_letters(store)] if all_ else list(dead_letter_ids or ())
    if not ids:
        raise InvalidInput(N_("Name the dead letters to retry, or say --all."))
    service = DeadLetters(store, clock, MailIntake.from_settings(store, clock, settings))
    out = {}
    for dead_letter_id in ids:
        result = service.retry(dead_letter_id)
        out[str(dead_letter_id)] = {
            "outcome": result.outcome.value,
            "ticket": result.ticket_id,
            "reason": result.reason or None,
        }
    print_json(out)


@app.command("dismiss")
@handle_errors
def dismiss(
    ctx: typer.Context, dead_letter_id: Annotated[int, typer.Argument(help="Its id.")]
) -> None:
    """Mark a dead letter dealt with by hand (it is kept)."""
    from sdconsole.services.dead_letters import DeadLetters
    from sdconsole.services.mail import MailIntake

    cli = state(ctx)
    store, clock, settings = cli.store(), cli.clock(), cli.settings
    DeadLetters(store, clock, MailIntake.from_settings(store, clock, settings)).dismiss(
        dead_letter_id
    )
