"""Provides `sdconsole telegram`: binding codes for contacts, and one round of updates."""

from __future__ import annotations

from typing import Annotated

import typer

from sdconsole.cli.common import handle_errors, print_json, state

app = typer.Typer(help="The Telegram support bot.", no_args_is_help=True)


@app.command("code")
@handle_errors
def code(
    ctx: typer.Context,
    contact: Annotated[int, typer.Argument(help="The contact's id.")],
) -> None:
    """A one-time code that binds the contact's Telegram chat: they send /start CODE."""
    from sdconsole.services.telegram import issue_code

    cli = state(ctx)
    actor = cli.actor(required=False)
    hours = cli.settings.telegram.code_hours if cli.settings.telegram is not None else 72
    value = issue_code(
        cli.store(), cli.clock(), contact, engineer_id=actor.engineer_id, hours=hours
    )
    print_json({"contact": contact, "code": value, "hours": hours})


@app.command("fetch")
@handle_errors
def fetch(ctx: typer.Context) -> None:
    """One round of updates (no waiting), as `workers run` would take them."""
    import asyncio

    from sdconsole.domain.errors import InvalidInput
    from sdconsole.i18n import N_
    from sdconsole.services.telegram_runner import TelegramRunner, bot_token

    cli = state(ctx)
    settings = cli.settings
    if settings.telegram is None:
        raise InvalidInput(N_("No [telegram] in the config."))
    runner = TelegramRunner(cli.store(), cli.clock(), settings, bot_token(settings.telegram))
    print_json({"updates": asyncio.run(runner.take_once())})
