"""Provides `sdconsole mail`: one IMAP pass, importing letters from files, delivering the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sdconsole.cli.common import handle_errors, print_json, state

app = typer.Typer(help="The email channel: fetch, import and send letters.", no_args_is_help=True)


@app.command("fetch")
@handle_errors
def fetch(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One pass over the mailboxes, then exit.")
    ] = True,
    mailbox: Annotated[
        str | None, typer.Option(help="Only this mailbox (its name in the config).")
    ] = None,
) -> None:
    """Take every new letter from the configured IMAP mailboxes (one pass), as JSON counts."""
    from sdconsole.services.mail import MailIntake

    del once  # one pass is what this command does; `workers run` keeps reading
    cli = state(ctx)
    settings = cli.settings
    store = cli.store()
    clock = cli.clock()
    mail = MailIntake.from_settings(store, clock, settings)
    boxes = [mail.mailbox(mailbox)] if mailbox else settings.mail.mailboxes
    if not boxes:
        from sdconsole.domain.errors import InvalidInput
        from sdconsole.i18n import N_

        raise InvalidInput(N_("No [[mail.mailboxes]] in the config: nothing to fetch."))
    report: dict[str, dict[str, int]] = {}
    for box in boxes:
        result = mail.fetch_once(box)
        report[box.name] = {"seen": result.seen, **dict(result.outcomes)}
    print_json(report)


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="An .eml file, a folder of them, an mbox file or a Maildir.")
    ],
) -> None:
    """Import letters from files (a migration); a letter imported twice is taken once."""
    from sdconsole.services.mail import MailIntake

    cli = state(ctx)
    settings = cli.settings
    store = cli.store()
    clock = cli.clock()
    mail = MailIntake.from_settings(store, clock, settings)
    print_json(dict(sorted(mail.import_path(path).items())))


@app.command("send")
@handle_errors
def send(ctx: typer.Context) -> None:
    """Deliver the outbox now (email, and Telegram when configured; one pass), as JSON counts."""
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.i18n import N_
    from sdconsole.services.outbox import make_outbox, pending_count

    cli = state(ctx)
    store = cli.store()
    outbox = make_outbox(store, cli.clock(), cli.settings)
    if outbox is None:
        raise InvalidInput(N_("No [mail.smtp] in the config: nothing to send with."))
    try:
        sent = outbox.deliver_due()
    finally:
        outbox.close()
    print_json({"sent": sent, "pending": pending_count(store)})
