"""Provides `make_engine(url)`: SQLite with WAL, foreign keys and a busy timeout, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sdconsole.domain.errors import InvalidInput
from sdconsole.i18n import N_

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another writer's lock: long enough for an import batch."""


URL_HINT = "sqlite:///path/to/file.db or postgresql://user@host/database"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` for psycopg 3, and plain paths for SQLite."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(N_("{url} is not a store URL; {hint}"), url=url, hint=URL_HINT) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise InvalidInput(
            N_("sdconsole keeps its data in SQLite or PostgreSQL, not {scheme}; {hint}"),
            scheme=parsed.drivername,
            hint=URL_HINT,
        )
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for a store URL.

    SQLite: the parent folder is created; every connection gets WAL, synchronous=NORMAL,
    foreign keys and a busy timeout. PostgreSQL: psycopg 3 with a small pool and pre-ping.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.update(pool_size=5, max_overflow=10, pool_pre_ping=True)
    return create_engine(url, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite's own lower() folds ASCII only, so ILIKE would miss «Магазин» for «магазин»;
    # Python's folds every script (used by look-ups on small tables, never by the queue).
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_begin(connection: Any) -> None:
    # Writers BEGIN IMMEDIATE: the write lock is taken up front, so two writers queue on the busy
    # timeout instead of one failing with "database is locked" when it upgrades a read lock.
    # Readers (engine.execution_options(sqlite_begin="DEFERRED")) never take it.
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")
