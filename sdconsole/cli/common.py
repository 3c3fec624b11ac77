"""Provides what every command shares: the context (settings, store, actor), output and errors.

Exit codes (documented in docs/cli.md): 0 success; 1 unexpected error; 2 bad input or usage;
3 illegal status change; 4 not found; 5 permission denied; 6 conflict (changed by someone else,
already taken); 7 the store is not ready (run ``sdconsole db upgrade``); 8 the store cannot be
reached or opened.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from sdconsole.domain.errors import SdError
from sdconsole.i18n import _

if TYPE_CHECKING:
    from sdconsole.config import Settings
    from sdconsole.domain.clock import Clock
    from sdconsole.domain.model import Actor
    from sdconsole.storage import Store

EXIT_STORE_NOT_READY = 7


class TextFormat(StrEnum):
    """``--format`` of commands that print a summary or a record."""

    TEXT = "text"
    JSON = "json"


class TableFormat(StrEnum):
    """``--format`` of commands that print rows."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class ConfigFormat(StrEnum):
    """``--format`` of ``config show``."""

    TOML = "toml"
    JSON = "json"


P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
"""Diagnostics go to stderr; stdout is for data."""


@dataclass
class CliState:
    """Options given before the command, and what is built from them on first use."""

    db: str | None = None
    user: str | None = None
    language: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from sdconsole.config import load_settings

            self._settings = load_settings(db=self.db, user=self.user, language=self.language)
        return self._settings

    def store(self, *, upgrade: bool = False) -> Store:
        """Open the configured store; check (or, with `upgrade`, bring) its schema up to date."""
        if self._store is None:
            from sdconsole.storage import Store

            store = Store(self.settings.db, attachments_dir=self.settings.attachments_dir)
            if upgrade or store.is_new_sqlite_file:
                # Zero set-up: a SQLite store that does not exist yet is simply created.
                store.upgrade()
            else:
                store.check_ready()
            self._store = store
        return self._store

    def clock(self) -> Clock:
        from sdconsole.domain.clock import SystemClock

        return SystemClock()

    def actor(self, *, required: bool = True) -> Actor:
        """The engineer named by ``--as`` / settings ``user``; the system when not required."""
        from sdconsole.domain.errors import InvalidInput, NotFound
        from sdconsole.domain.model import SYSTEM, Actor, Role
        from sdconsole.i18n import N_
        from sdconsole.storage import repositories

        login = self.settings.user
        if not login:
            if required:
                raise InvalidInput(N_("Say who you are: --as LOGIN or SDCONSOLE_USER."))
            return SYSTEM
        with self.store().reader() as session:
            engineer = repositories.engineer_by_login(session=session, login=login)
            if engineer is None or not engineer.is_active:
                raise NotFound(N_("No active engineer with login {login}."), login=login)
            assert engineer.id is not None
            return Actor(
                engineer.id,
                engineer.login,
                Role(engineer.role),
                tuple(engineer.lines),
                tuple(engineer.teams),
            )

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None


def state(ctx: typer.Context) -> CliState:
    """The CLI state of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn sdconsole's errors into a message on stderr and a documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import DBAPIError

        from sdconsole.domain.errors import StoreUnreachable
        from sdconsole.i18n import N_
        from sdconsole.storage import StoreNotReady

        try:
            try:
                return fn(*args, **kwargs)
            except DBAPIError as error:
                if not error.connection_invalidated and not _is_connect_error(error):
                    raise
                # The first line says what went wrong ("Connection refused", "unable to open
                # database file"); the rest is SQLAlchemy's statement and links.
                detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
                raise StoreUnreachable(
                    N_("cannot open the store: {detail}"), detail=detail
                ) from None
        except SdError as error:
            err_console.print(_("error:"), str(error), markup=False)
            raise typer.Exit(error.exit_code) from None
        except StoreNotReady as error:
            err_console.print(
                _("error:"),
                _("the store is not ready ({detail}); run: sdconsole db upgrade").format(
                    detail=error
                ),
                markup=False,
            )
            raise typer.Exit(EXIT_STORE_NOT_READY) from None

    return wrapper


def _is_connect_error(error: Exception) -> bool:
    """Whether a database error happened while connecting (not while running a statement)."""
    from sqlalchemy.exc import OperationalError

    return isinstance(error, OperationalError) and getattr(error, "statement", None) is None


def to_jsonable(value: Any) -> Any:
    """Convert records for ``--format json``: datetimes as ISO 8601 UTC, enums as values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Write JSON data to stdout (UTF-8, not ASCII-escaped, stable key order as given)."""
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) + "\n")
