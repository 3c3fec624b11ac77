"""Provides worker heartbeats: each pass of a worker or job records that it is alive.

`beat` writes one row per worker name (`storage.tables.WorkerBeat`) in its own transaction;
the wall reads them (`storage.repositories.worker_states`) and calls a worker late when it has
not beaten for twice its interval, and down after five.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from sdconsole.domain.clock import Clock
from sdconsole.storage import Store
from sdconsole.storage.tables import WorkerBeat

log = logging.getLogger(__name__)

MAX_ERROR = 2_000


def beat(
    store: Store,
    clock: Clock,
    name: str,
    *,
    interval: float,
    started_at: datetime,
    handled: int = 0,
    error: str | None = None,
) -> None:
    """Record one pass of worker `name` (failed when `error` is given). Never raises: a
    heartbeat that cannot be written is logged, and the worker goes on."""
    now = clock.now()
    try:
        with store.transaction() as session:
            row = session.get(WorkerBeat, name)
            if row is None:
                row = WorkerBeat(name=name, started_at=started_at, beat_at=now)
            row.host = socket.gethostname()[:200]
            row.pid = os.getpid()
            row.interval_seconds = interval
            row.started_at = started_at
            row.beat_at = now
            row.handled = (row.handled or 0) + handled
            if error is None:
                row.last_ok_at = now
                row.last_error = None
            else:
                row.last_error = error[:MAX_ERROR]
            session.add(row)
    except Exception:  # noqa: BLE001 - liveness reporting must never stop the work
        log.exception("could not record the heartbeat of %s", name)
