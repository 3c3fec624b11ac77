"""Provides `Settings`: one typed model, read from the config file and then the environment.

Order of precedence (later wins): defaults → TOML config file (``SDCONSOLE_CONFIG`` or
``~/.config/sdconsole/config.toml``) → ``SDCONSOLE_*`` environment variables → command-line
options (applied by the CLI). The settings are passed to whatever needs them; nothing reads them
from a running app.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
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


Security = Literal["tls", "starttls", "none"]


class MailboxSettings(BaseModel):
    """One ``[[mail.mailboxes]]`` entry: an IMAP mailbox that intake reads (docs/email.md)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=48, pattern=r"^[\w.-]+$")
    """A short name for logs, heartbeats and checkpoints (``support``); never change it once
    mail was read, or the mailbox is read again from the start (no duplicates, but slow)."""
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default: 993 with ``tls``, else 143."""
    security: Security = "tls"
    """``tls`` (IMAPS), ``starttls`` or ``none`` (only on 127.0.0.1 and test set-ups)."""
    user: str
    password_env: str | None = None
    """The environment variable that holds the password (never the config file)."""
    password_file: Path | None = None
    """Or a file that holds it (first line), readable by the workers only."""
    ca_file: Path | None = None
    """Trust this certificate (a self-signed server); default: the system's CAs."""
    folder: str = "INBOX"
    after: Literal["flag", "move", "delete", "keep"] = "flag"
    """What to do on the server once a letter is safely stored: mark it seen, move it to
    `move_to`, delete it, or leave it as it is (the UID checkpoint still reads it once)."""
    move_to: str = "sdconsole"
    idle: bool = True
    """Wait with IMAP IDLE where the server offers it; otherwise poll."""
    poll_seconds: float = Field(default=60.0, gt=0)
    """How often to look for new mail without IDLE, and the longest IDLE wait."""
    batch: int = Field(default=50, ge=1, le=1000)
    """Letters fetched per round trip."""


class SmtpSettings(BaseModel):
    """``[mail.smtp]``: the server replies and acknowledgements go through."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default: 465 with ``tls``, 587 with ``starttls``, else 25."""
    security: Security = "starttls"
    user: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    timeout: float = Field(default=30.0, gt=0)


class MailSettings(BaseModel):
    """``[mail]``: the email channel (docs/email.md)."""

    model_config = ConfigDict(extra="forbid")

    address: str = "support@example.invalid"
    """The support address replies come from (``From``)."""
    display_name: str = "Служба поддержки"
    client_language: Literal["ru", "en"] = "ru"
    """The language of acknowledgements and reply footers to clients."""
    attachment_limit_mb: float = Field(default=25.0, gt=0)
    """Larger files stay in the original letter, with a note on the ticket."""
    ack_limit_per_hour: int = Field(default=3, ge=0)
    """At most this many acknowledgements to one sender an hour (no mail loops)."""
    max_attempts: int = Field(default=12, ge=1)
    """Delivery attempts before a letter is marked as failed (backoff 1 min doubling to 1 h)."""
    parse_process: bool = True
    """Parse a mailbox pass's next batch of letters in a process of its own while the last one
    is stored (false: in the intake's own process, between the stores)."""
    mailboxes: list[MailboxSettings] = []
    smtp: SmtpSettings | None = None

    @property
    def message_id_domain(self) -> str:
        """The right-hand side of our Message-IDs."""
        return self.address.rpartition("@")[2] or "sdconsole.invalid"


class TelegramSettings(BaseModel):
    """``[telegram]``: the support bot (docs/telegram.md)."""

    model_config = ConfigDict(extra="forbid")

    token_env: str | None = None
    """The environment variable that holds the bot token (never the config file)."""
    token_file: Path | None = None
    """Or a file that holds it (first line)."""
    base_url: str = "https://api.telegram.org/bot"
    """The Bot API server (a local telegram-bot-api server, or the tests' own)."""
    base_file_url: str = "https://api.telegram.org/file/bot"
    language: Literal["ru", "en"] = "ru"
    """The language the bot speaks to contacts."""
    poll_seconds: int = Field(default=25, ge=1, le=50)
    """Long-poll timeout of getUpdates."""
    flood_per_minute: int = Field(default=20, ge=1)
    """Messages a chat may send a minute; more are kept but not taken (one warning)."""
    code_hours: int = Field(default=72, ge=1)
    """How long a binding code is valid."""
    attachment_limit_mb: float = Field(default=20.0, gt=0)
    """Larger files are not downloaded (the Bot API serves up to 20 MB)."""


class HealthSourceSettings(BaseModel):
    """One ``[[monitoring.sources]]`` entry: a sender of health reports over HTTP."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=48, pattern=r"^[\w.-]+$")
    token_env: str | None = None
    """The environment variable that holds its bearer token (never the config file)."""
    token_file: Path | None = None


class MonitoringSettings(BaseModel):
    """``[monitoring]``: where health reports come from (docs/monitoring.md)."""

    model_config = ConfigDict(extra="forbid")

    listen: str | None = None
    """``host:port`` of the ``POST /v1/health`` endpoint; unset: no endpoint. A host other
    than 127.0.0.1 / ::1 must be set on purpose (the reports carry no secrets, the tokens do)."""
    sources: list[HealthSourceSettings] = []
    """Who may post, each with a token of its own."""
    spool_dir: Path | None = None
    """A folder the workers watch: each ``*.jsonl`` file put there is taken, then moved to
    ``done/`` (or ``failed/`` when a line was refused)."""
    max_body_mb: float = Field(default=50.0, gt=0)
    thresholds: dict[str, float | str | list[str]] = {}
    """Default check thresholds (docs/monitoring.md: ``fn_expiry_warning_days = 30``, …); a
    contract's ``monitoring`` sets its own over these."""
    store_hours: str | None = None
    """``HH:MM-HH:MM`` in each shop's time zone: checks that matter only while a shop trades
    (OFD backlog warnings, УТМ down, silent agents) are quiet outside; unset: always open."""
    parse_process: bool = True
    """Read the next batch of a file of reports in a process of its own while the last one is
    stored (false: in the intake's own process, between the stores)."""


class BillingSettings(BaseModel):
    """``[billing]``: rates for work no contract prices, and engineers' default cost
    (docs/billing.md)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="RUB", min_length=3, max_length=3)
    hourly_rate: Decimal = Field(default=Decimal(0), ge=0)
    """The one-off rate of an hour of work that no contract covers or prices."""
    price_list: dict[str, Decimal] = {}
    """One-off works by category code prefix: ``"kkt.fn.replace" = 3500``."""
    rounding_minutes: int = Field(default=15, ge=1, le=1440)
    minimum_minutes: int = Field(default=0, ge=0, le=1440)
    cost_per_hour: Decimal = Field(default=Decimal(0), ge=0)
    """What an hour of an engineer without a rate of their own costs."""
    expiry_notices: bool = True
    """Whether the workers tell a client's contacts that its contract ends (docs/billing.md)."""


class QualitySettings(BaseModel):
    """``[quality]``: quality control's slow requests and recurring incidents (docs/quality.md)."""

    model_config = ConfigDict(extra="forbid")

    slow_window_days: int = Field(default=90, ge=7, le=730)
    """Requests resolved in this many days make each category's usual time (its p90)."""
    slow_min_samples: int = Field(default=10, ge=3)
    """A category needs this many resolved requests before any of them is called slow."""
    recurring_count: int = Field(default=3, ge=2)
    recurring_days: int = Field(default=30, ge=1, le=365)
    """This many requests of one category on one register or one shop within this many days
    open a problem ticket."""
    recurring_client_count: int = Field(default=0, ge=0)
    """The same for a whole client (a chain's or an entity's shops together); 0 (the default):
    never, since a chain of a hundred shops sees every kind of request every week."""
    problem_line: int = Field(default=3, ge=1, le=4)
    problem_team: str | None = None
    """The team of problem tickets; unset: the category's team."""
    problem_review_days: int = Field(default=5, ge=1)
    """When a problem ticket is due (it has no client SLA)."""


def read_secret(env: str | None, file: Path | None, *, what: str) -> str | None:
    """A password from an environment variable or a file (first line); None when neither is set.

    Raises:
        InvalidInput: the variable is unset or the file cannot be read.
    """
    import os

    if env:
        value = os.environ.get(env)
        if value is None:
            raise InvalidInput(
                N_("The password for {what} is to come from ${name}, which is not set."),
                what=what,
                name=env,
            )
        return value
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as error:
            raise InvalidInput(
                N_("Cannot read the password for {what} from {path}: {detail}"),
                what=what,
                path=str(file),
                detail=str(error),
            ) from None
    return None


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

    mail: MailSettings = Field(default_factory=MailSettings)
    """The email channel: mailboxes read, the SMTP server, acknowledgements (docs/email.md)."""

    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    """Health reports: the HTTP endpoint and the spool folder (docs/monitoring.md)."""

    telegram: TelegramSettings | None = None
    """The Telegram support bot; unset means no Telegram channel (docs/telegram.md)."""

    billing: BillingSettings = Field(default_factory=BillingSettings)
    """One-off rates and engineers' default cost (docs/billing.md)."""

    quality: QualitySettings = Field(default_factory=QualitySettings)
    """Slow requests and recurring incidents (docs/quality.md)."""

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
