"""Worker heartbeats: every pass beats, a failing pass says why, and the wall judges liveness."""

from __future__ import annotations

import threading
from datetime import timedelta

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.views import WorkerHealth, WorkerView
from sdconsole.services.runner import PeriodicJob, run_jobs
from sdconsole.storage import Store, repositories


def test_each_pass_beats_and_a_failure_is_recorded(store: Store, clock: FixedClock) -> None:
    def fails(_store: Store, _clock: object) -> int:
        raise RuntimeError("IMAP server said no")

    jobs = [
        PeriodicJob("counts", 30.0, lambda _s, _c: 3),
        PeriodicJob("broken", 60.0, fails),
    ]
    run_jobs(jobs, store, clock, stop=threading.Event(), once=True)
    run_jobs(jobs, store, clock, stop=threading.Event(), once=True)
    with store.reader() as session:
        workers = {w.name: w for w in repositories.worker_states(session=session)}
    assert workers["counts"].handled == 6 and workers["counts"].last_error is None
    assert workers["counts"].interval_seconds == 30.0
    assert "IMAP server said no" in (workers["broken"].last_error or "")
    now = clock.now()
    assert workers["counts"].health(now) == WorkerHealth.ALIVE
    assert workers["broken"].health(now) == WorkerHealth.FAILING


def test_health_by_silence() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

    def worker(silent: timedelta) -> WorkerView:
        return WorkerView("imap", "host", now - silent, 30.0, None, 0)

    assert worker(timedelta(seconds=100)).health(now) == WorkerHealth.ALIVE
    assert worker(timedelta(seconds=150)).health(now) == WorkerHealth.LATE
    assert worker(timedelta(minutes=5)).health(now) == WorkerHealth.DOWN
