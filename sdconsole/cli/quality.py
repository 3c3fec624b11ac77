"""Provides `sdconsole quality scan`: slow requests flagged, recurring incidents into problems."""

from __future__ import annotations

from typing import Annotated

import typer

from sdconsole.cli.common import TextFormat, handle_errors, print_json, state

app = typer.Typer(
    help="Quality control: slow requests and recurring incidents.", no_args_is_help=True
)


@app.command("scan")
@handle_errors
def scan(
    ctx: typer.Context,
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.TEXT,
) -> None:
    """One pass of quality control, as the workers run it every hour (docs/quality.md)."""
    from sdconsole.i18n import _
    from sdconsole.services.quality import run_quality

    cli = state(ctx)
    summary = run_quality(cli.store(), cli.clock(), cli.settings.quality)
    if fmt == "json":
        print_json({"slow": summary.slow, "problems": summary.problems, "linked": summary.linked})
        return
    typer.echo(
        _(
            "{slow} requests flagged as slow, {problems} problem tickets opened, {linked} "
            "incidents linked to problems."
        ).format(slow=summary.slow, problems=summary.problems, linked=summary.linked)
    )
