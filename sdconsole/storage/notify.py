"""Provides `ChangeWatcher`: tells an open console that another process changed the tickets.

- PostgreSQL: ``LISTEN sdconsole_tickets``; a statement trigger on ``ticket`` (migration 0006)
  notifies after every committed change, from any client, so the wait ends at once.
- SQLite: ``PRAGMA data_version``, which changes when any *other* connection (this process's
  or another's) commits to the file; polled on a connection of the watcher's own.

`wait(timeout)` blocks at most `timeout` seconds and says whether something changed; the
console's worker calls it in a loop and reloads what it shows.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdconsole.storage import Store

CHANNEL = "sdconsole_tickets"
POLL_SECONDS = 0.5
"""How often the SQLite watcher reads ``data_version``."""


class ChangeWatcher:
    """Waits for committed changes to a store; open with `open`, close with `close`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: Any = None
        self._version: int | None = None

    def open(self) -> ChangeWatcher:
        url = self._store.engine.url
        if self._store.is_sqlite:
            database = url.database or ":memory:"
            self._sqlite = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            self._version = self._data_version()
        else:
            import psycopg

            params = url.render_as_string(hide_password=False).replace(
                "postgresql+psycopg://", "postgresql://"
            )
            self._postgres = psycopg.connect(params, autocommit=True)
            self._postgres.execute(f"LISTEN {CHANNEL}")
        return self

    def _data_version(self) -> int:
        assert self._sqlite is not None
        return int(self._sqlite.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True if the tickets changed since the last call."""
        if self._sqlite is not None:
            deadline = time.monotonic() + timeout
            while True:
                version = self._data_version()
                if version != self._version:
                    self._version = version
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(POLL_SECONDS, left))
        if self._postgres is None:
            raise RuntimeError("the watcher is not open")
        changed = False
        for _notify in self._postgres.notifies(timeout=timeout, stop_after=1):
            changed = True
        if changed:  # collect what else arrived, so one burst is one reload
            for _notify in self._postgres.notifies(timeout=0.05):
                pass
        return changed

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._postgres is not None:
            self._postgres.close()
            self._postgres = None

    def __enter__(self) -> ChangeWatcher:
        return self.open()

    def __exit__(self, *_exc: object) -> None:
        self.close()
