"""Provides schema migrations (Alembic) run from code: upgrade, current revision, autogenerate.

Every command checks the store's revision before it starts, so that check is cheap: it reads
``alembic_version`` with one query and takes the newest revision from the migration files'
``revision``/``down_revision`` lines, without importing Alembic (about 80 ms of start-up).
Alembic itself is loaded only to migrate.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(
    r'^(down_revision|revision)\s*(?::[^=]*)?=\s*["\']?([\w-]+|None)["\']?', re.M
)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to this package's migrations folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or None for an empty store."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision(engine: Engine | None = None) -> str | None:
    """The newest revision this sdconsole knows (the one no migration names as its parent)."""
    return _head_from_files()


@functools.cache
def _head_from_files() -> str | None:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


SEARCH_TABLES = "ticket_search"
"""The full-text index (`storage.search`): dialect-specific, kept out of the table models."""


def include_object(
    _obj: object, name: str | None, type_: str, _reflected: bool, _to: object
) -> bool:
    """Alembic's filter: the full-text index and FTS5's shadow tables are not models."""
    return not (type_ in ("table", "index") and (name or "").startswith(SEARCH_TABLES))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema up to `revision` (idempotent)."""
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new revision from the difference between the tables and the store (developers)."""
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
