"""The workers supervisor: restarts with backoff, heartbeats, prompt stop."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from sdconsole.domain.clock import FixedClock
from sdconsole.services.runner import Beat, LoopWorker, PeriodicJob, Supervisor, periodic
from sdconsole.storage import Store
from sdconsole.storage.tables import WorkerBeat


def test_a_failing_worker_is_restarted_with_backoff_and_others_go_on(
    sqlite_store: Store, clock: FixedClock
) -> None:
    stop = threading.Event()
    calls: list[float] = []
    steady_passes: list[int] = []

    def flaky(stop_event: threading.Event, report: Beat) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 3:
            raise ConnectionError(f"down {len(calls)}")
        report(7)
        stop_event.wait()

    def steady(stop_event: threading.Event, report: Beat) -> None:
        while not stop_event.is_set():
            steady_passes.append(1)
            report(1)
            stop_event.wait(0.01)

    supervisor = Supervisor(
        sqlite_store,
        clock,
        [LoopWorker("flaky", 1.0, flaky), LoopWorker("steady", 1.0, steady)],
        min_backoff=0.2,
        max_backoff=5.0,
        join_timeout=5,
    )
    runner = threading.Thread(target=supervisor.run, args=(stop,))
    runner.start()
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert supervisor.restarts == {"flaky": 3, "steady": 0}
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.2 and gaps[2] > gaps[1] * 1.2  # the delay doubles (± jitter)
    assert len(steady_passes) > 3
    with sqlite_store.reader() as session:
        beats = {b.name: b for b in session.execute(select(WorkerBeat)).scalars()}
    assert beats["flaky"].handled == 7 and beats["flaky"].last_error is None
    assert beats["steady"].handled == len(steady_passes)


def test_a_failing_worker_shows_its_error_in_the_heartbeat(
    sqlite_store: Store, clock: FixedClock
) -> None:
    stop = threading.Event()

    def broken(_store: Store, _clock: object) -> int:
        stop.set()
        raise RuntimeError("store is read-only")

    job = periodic(PeriodicJob("broken", 30.0, broken), sqlite_store, clock)
    Supervisor(sqlite_store, clock, [job], min_backoff=0.01).run(stop)
    with sqlite_store.reader() as session:
        beat = session.get(WorkerBeat, "broken")
    assert beat is not None and beat.last_error == "RuntimeError: store is read-only"
    assert beat.last_ok_at is None
