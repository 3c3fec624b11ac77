"""Provides `sdconsole config show`."""

from __future__ import annotations

from typing import Annotated

import typer

from sdconsole.cli.common import ConfigFormat, handle_errors, print_json, state

app = typer.Typer(help="Show the settings in force.", no_args_is_help=True)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    fmt: Annotated[
        ConfigFormat, typer.Option("--format", help="toml or json.")
    ] = ConfigFormat.TOML,
) -> None:
    """Print the settings in force (config file, environment, options); passwords hidden."""
    from sqlalchemy.engine import make_url

    from sdconsole import locations

    settings = state(ctx).settings
    values = settings.model_dump(mode="json")
    if "://" in values["db"]:
        values["db"] = make_url(values["db"]).render_as_string(hide_password=True)
    values["config_file"] = str(locations.config_file())
    if fmt == "json":
        print_json(values)
        return
    for key, value in values.items():
        if value is None:
            typer.echo(f"# {key} = (not set)")
        elif isinstance(value, bool | int):
            typer.echo(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
        else:
            typer.echo(f'{key} = "{value}"')
