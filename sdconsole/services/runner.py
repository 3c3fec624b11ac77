"""Provides the job runner shared by `sdconsole workers run` and the console.

A `PeriodicJob` is a function of (store, clock) run every `interval` seconds. `run_jobs` runs each
due job in turn until asked to stop; a job that fails is logged and tried again at its next turn,
so one bad run never stops the others. Intake workers (mail, Telegram, health checks) join this
list as their channels arrive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sdconsole.domain.clock import Clock
from sdconsole.services import sla as sla_service
from sdconsole.services.heartbeat import beat
from sdconsole.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """A named job and how often it runs."""

    name: str
    interval: float
    """Seconds between the starts of two runs."""
    run: Callable[[Store, Clock], int]
    """Does one pass; returns how many items it handled (for the log)."""


JOBS: dict[str, PeriodicJob] = {
    "sla": PeriodicJob("sla", 30.0, sla_service.check_alerts),
}
"""Every job `sdconsole workers run` knows, by name."""


def run_jobs(
    jobs: Sequence[PeriodicJob],
    store: Store,
    clock: Clock,
    *,
    stop: threading.Event,
    once: bool = False,
) -> dict[str, int]:
    """Run the jobs on their intervals until `stop` is set (or one pass each, with `once`).

    Returns:
        Items handled per job, over the whole run.
    """
    handled = dict.fromkeys((job.name for job in jobs), 0)
    started = clock.now()
    next_run = dict.fromkeys((job.name for job in jobs), 0.0)
    while not stop.is_set():
        for job in jobs:
            if time.monotonic() < next_run[job.name] or stop.is_set():
                continue
            next_run[job.name] = time.monotonic() + job.interval
            try:
                count = job.run(store, clock)
            except Exception as error:  # noqa: BLE001 - one failing pass must not stop the others
                log.exception("job %s failed; it runs again in %.0f s", job.name, job.interval)
                beat(
                    store,
                    clock,
                    job.name,
                    interval=job.interval,
                    started_at=started,
                    error=repr(error),
                )
                continue
            beat(store, clock, job.name, interval=job.interval, started_at=started, handled=count)
            handled[job.name] += count
            if count:
                log.info("job %s handled %d", job.name, count)
        if once:
            break
        stop.wait(max(0.0, min(next_run.values()) - time.monotonic()))
    return handled
