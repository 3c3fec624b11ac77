"""Provides `sdconsole config show`."""

from __future__ import annotations

import json
from typing import Annotated, Any

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
    for line in toml_lines(values):
        typer.echo(line)


def toml_lines(values: dict[str, Any], table: str = "") -> list[str]:
    """Settings as TOML: scalars and arrays first, then tables and arrays of tables."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key, value in values.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            nested.append((key, value))
        elif value is None:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in nested:
        name = f"{table}.{key}" if table else key
        if isinstance(value, dict):
            lines += ["", f"[{name}]", *toml_lines(value, name)]
        else:
            for item in value:
                lines += ["", f"[[{name}]]", *toml_lines(item, name)]
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
