"""Shared fixtures: a fixed clock, an isolated config, and stores on SQLite and PostgreSQL.

PostgreSQL tests run against the server on 127.0.0.1:5432 (override with SDCONSOLE_TEST_PG);
each test session creates its own database and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from sdconsole import i18n
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Actor, Role
from sdconsole.storage import Store
from sdconsole.storage.tables import Engineer

PG_ADMIN_URL = os.environ.get("SDCONSOLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
"""The fixed "now" of every test (a Monday)."""


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, no user data folder, UTC, English unless a test says otherwise."""
    monkeypatch.setenv("SDCONSOLE_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LANG", "C.UTF-8")
    for var in (
        "SDCONSOLE_DB",
        "SDCONSOLE_USER",
        "SDCONSOLE_LANGUAGE",
        "LANGUAGE",
        "LC_ALL",
        "LC_MESSAGES",
    ):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language("en")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL."""
    name = f"sdconsole_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.engine.make_url(PG_ADMIN_URL)
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL, once per back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each back end."""
    result = Store(store_url, attachments_dir=tmp_path / "attachments")
    result.upgrade()
    yield result
    result.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty SQLite store (for tests that need only one back end)."""
    result = Store(f"sqlite:///{tmp_path / 'store.db'}", attachments_dir=tmp_path / "attachments")
    result.upgrade()
    yield result
    result.dispose()


def add_engineer(
    store: Store,
    login: str,
    role: Role = Role.ENGINEER,
    lines: tuple[int, ...] = (1,),
    teams: tuple[str, ...] = (),
) -> Actor:
    """Create an engineer and return them as an actor."""
    with store.transaction() as session:
        engineer = Engineer(
            login=login, name=login.title(), role=role.value, lines=list(lines), teams=list(teams)
        )
        session.add(engineer)
        session.flush()
        assert engineer.id is not None
        return Actor(engineer.id, login, role, lines, teams)
