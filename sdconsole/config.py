"""Provides `Settings`: one typed model, read from the config file and then the environment.

Order of precedence (later wins): defaults → TOML config file (``SDCONSOLE_CONFIG`` or
``~/.config/sdconsole/config.toml``) → ``SDCONSOLE_*`` environment variables → command-line
options (applied by the CLI). The settings are passed to whatever needs them; nothing reads them
from a running app.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sdconsole import locations
from sdconsole.domain.errors import InvalidInput
from sdconsole.i18n import N_


class RoutingRuleSettings(BaseModel):
    """One ``[[routing.rules]]`` entry: conditions (all that are given must hold) and what the
    rule sets. docs/routing.md."""

    model_config = ConfigDict(extra="forbid")

    name: str
    categories: list[str] = []
    """Category code prefixes (``egais`` matches ``egais.utm.down``)."""
    priorities: list[int] = []
    """Priorities 1-4."""
    channels: list[str] = []
    clients: list[str] = []
    """Client external ids or ИНН; a rule for a chain applies to its shops."""
    line: int | None = Field(default=None, ge=1, le=4)
    team: str | None = None
    skills: list[str] = []
    """Skills the engineer must have."""


class RoutingSettings(BaseModel):
    """``[routing]``: how new tickets are classified, prioritised and given out."""

    model_config = ConfigDict(extra="forbid")

    assign: bool = True
    """Give new tickets to an engineer on shift; false leaves them in the line's queue."""
    prefer_manager: bool = True
    """The client's technical client manager first, when on shift and fit."""
    max_open: int | None = Field(default=None, ge=1)
    """Engineers with this many open tickets get no new ones."""
    classify_threshold: float = Field(default=0.5, ge=0, le=1)
    """Intake applies the best category at this confidence or above; below it, the
    suggestions wait for an engineer."""
    raise_impact_clients: list[str] = []
    """Clients (external id or ИНН) whose requests count one impact level higher."""
    rules: list[RoutingRuleSettings] = []


class Settings(BaseSettings):
    """sdconsole's settings."""

    model_config = SettingsConfigDict(env_prefix="SDCONSOLE_", extra="ignore")

    db: str = Field(default_factory=locations.default_store_url)
    """Store URL: ``sqlite:///path.db`` (default, under the XDG data folder) or
    ``postgresql://user@host/db`` for a team's shared store."""

    language: Literal["ru", "en"] | None = None
    """UI language, ``ru`` or ``en``; unset means from LANG."""

    user: str | None = None
    """The engineer login this console acts as (``--as`` overrides it)."""

    attachments_dir: Path | None = None
    """Where attachment files are kept; unset means ``attachments/`` beside a SQLite store,
    else under the XDG data folder."""

    queue_page_size: int = 200
    """How many queue rows are read at a time; more load as the engineer scrolls."""

    live_updates: bool = True
    """Whether the console refreshes by itself when the tickets change (off: press r)."""

    classifier_model: Path | None = None
    """The trained classifier (``sdconsole classifier train``); unset means ``classifier.npz``
    in the data folder. Without a model, intake classifies by the catalogue's keywords."""

    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    """Classification, priority and routing of new tickets (docs/routing.md)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the config file; a missing file is an empty config."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.path = locations.config_file()
        self.data: dict[str, Any] = {}
        if not self.path.is_file():
            return
        with self.path.open("rb") as handle:
            try:
                self.data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise InvalidInput(
                    N_("The config file {path} is not valid TOML: {detail}"),
                    path=str(self.path),
                    detail=str(error),
                ) from None
        unknown = sorted(set(self.data) - set(settings_cls.model_fields))
        if unknown:
            raise InvalidInput(
                N_("The config file {path} has unknown settings: {names}; known are: {known}"),
                path=str(self.path),
                names=", ".join(unknown),
                known=", ".join(settings_cls.model_fields),
            )

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            key: value for key, value in self.data.items() if key in self.settings_cls.model_fields
        }


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; `overrides` (from command-line options) win when not None.

    Raises:
        InvalidInput: a bad config file, or a setting with a bad value (named with its source).
    """
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise InvalidInput(N_("Bad setting: {detail}"), detail=problems) from None
