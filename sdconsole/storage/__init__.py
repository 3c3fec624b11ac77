"""Provides `Store`: the engine, transactions, migrations and attachment files of one store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from sdconsole import locations
from sdconsole.storage import migrate, search  # noqa: F401  (search: its commit hook)
from sdconsole.storage.blobs import BlobStore
from sdconsole.storage.engine import make_engine, normalise_url

_active: ContextVar[dict[int, Session] | None] = ContextVar("sdconsole_active_tx", default=None)


class StoreNotReady(RuntimeError):
    """The store's schema is missing or older than this sdconsole."""


class Store:
    """One SQLite file or PostgreSQL database, with its attachment folder.

    Writes go through `transaction()`: one transaction per use case. A transaction opened inside
    another one in the same context joins it as a savepoint, so a batch (the demo builder, an
    import) runs many use cases atomically, and one that fails is undone alone. Reads go through
    `reader()`, which never takes SQLite's write lock.
    """

    def __init__(self, url: str, *, attachments_dir: Path | None = None) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read_engine = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine
        )
        if attachments_dir is None:
            database = self.engine.url.database
            if self.is_sqlite and database and database != ":memory:":
                attachments_dir = Path(database).parent / "attachments"
            else:
                attachments_dir = locations.data_dir() / "attachments"
        self.blobs = BlobStore(attachments_dir)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def describe(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_new_sqlite_file(self) -> bool:
        """Whether this is a SQLite store whose file does not exist (or is empty) yet."""
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return False
        path = Path(database)
        if not path.exists() or path.stat().st_size == 0:
            return True
        # A file that SQLite created but nothing wrote tables into (WAL set-up alone writes a
        # header) is as new as a missing one.
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError:
            return False

    @property
    def label(self) -> str:
        """A short name for screens: the SQLite file's name, or PostgreSQL's host/database."""
        url = self.engine.url
        if self.is_sqlite:
            return Path(url.database or ":memory:").name
        return f"{url.host or 'localhost'}/{url.database}"

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision."""
        migrate.upgrade(self.engine)

    def check_ready(self) -> None:
        """Raise `StoreNotReady` unless the schema is at the newest revision."""
        current = migrate.current_revision(self.engine)
        head = migrate.head_revision(self.engine)
        if current != head:
            raise StoreNotReady(f"store at revision {current or 'none'}, sdconsole needs {head}")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any exception."""
        active = _active.get()
        key = id(self)
        if active is not None and key in active:
            # Joined: a savepoint, so a use case that fails inside a batch leaves nothing behind
            # while the batch goes on (intake turns such an input into a dead letter).
            session = active[key]
            with session.begin_nested():
                yield session
            return
        with Session(self.engine, expire_on_commit=False) as session:
            token = _active.set({**(active or {}), key: session})
            try:
                with session.begin():
                    yield session
            finally:
                _active.reset(token)

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session (joins an open transaction of this store, if any)."""
        active = _active.get()
        if active is not None and id(self) in active:
            yield active[id(self)]
            return
        with Session(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
