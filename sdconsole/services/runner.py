"""Provides the workers process shared by `sdconsole workers run` and the console.

Two kinds of work run under one `Supervisor`, each in its own thread:

- a `PeriodicJob` is a function of (store, clock) run every `interval` seconds (SLA alerts, the
  outbox);
- a `LoopWorker` runs until asked to stop (an IMAP mailbox waiting with IDLE), and reports each
  pass through the `Beat` it is given.

A worker that raises is logged, its heartbeat records the error (the wall turns it red), and it
is started again after a delay that doubles from `Supervisor.min_backoff` up to `max_backoff`
(reset once it has run a minute without failing). Nothing one worker does stops another. A stop
request (SIGTERM, Ctrl+C) is seen by every loop within seconds; `Supervisor.run` then waits for
the threads, bounded, and returns.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sdconsole.config import MailboxSettings, Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput
from sdconsole.i18n import N_
from sdconsole.services import sla as sla_service
from sdconsole.services.heartbeat import beat
from sdconsole.storage import Store

if TYPE_CHECKING:
    from sdconsole.services.mail import MailIntake
    from sdconsole.services.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """A named job and how often it runs."""

    name: str
    interval: float
    """Seconds between the starts of two runs."""
    run: Callable[[Store, Clock], int]
    """Does one pass; returns how many items it handled (for the log)."""


Beat = Callable[[int], None]
"""A loop worker's report of one healthy pass: how many items it handled."""


@dataclass(frozen=True, slots=True)
class LoopWorker:
    """A named long-running loop."""

    name: str
    interval: float
    """How often it beats at the least, in seconds: the wall judges lateness by it."""
    run: Callable[[threading.Event, Beat], None]
    """Runs until the event is set; raises to be restarted with backoff."""


JOBS: dict[str, PeriodicJob] = {
    "sla": PeriodicJob("sla", 30.0, sla_service.check_alerts),
}
"""The periodic jobs every store has, by name (channel workers are added from the config)."""


def settings_jobs(settings: Settings) -> dict[str, PeriodicJob]:
    """The periodic jobs that read the settings, by name: the registry scan (monitoring),
    quality control and contract expiry notices."""
    from sdconsole.services.contracts import notify_expiring
    from sdconsole.services.monitoring import scan_registry
    from sdconsole.services.quality import scan_quality

    return {
        "monitoring": PeriodicJob("monitoring", 300.0, lambda s, c: scan_registry(s, c, settings)),
        "quality": PeriodicJob("quality", 3600.0, lambda s, c: scan_quality(s, c, settings)),
        "contracts": PeriodicJob("contracts", 3600.0, lambda s, c: notify_expiring(s, c, settings)),
    }


def run_jobs(
    jobs: Sequence[PeriodicJob],
    store: Store,
    clock: Clock,
    *,
    stop: threading.Event,
    once: bool = False,
) -> dict[str, int]:
    """Run the jobs on their intervals in this thread until `stop` is set (or one pass each,
    with `once`). A failing pass is logged and the job runs again at its next turn.

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


def periodic(job: PeriodicJob, store: Store, clock: Clock) -> LoopWorker:
    """A periodic job as a loop worker: a pass, a beat, a wait; a failing pass raises."""

    def run(stop: threading.Event, report: Beat) -> None:
        while not stop.is_set():
            begun = time.monotonic()
            count = job.run(store, clock)
            report(count)
            if count:
                log.info("job %s handled %d", job.name, count)
            stop.wait(max(0.0, job.interval - (time.monotonic() - begun)))

    return LoopWorker(job.name, job.interval, run)


class Supervisor:
    """Runs loop workers in threads and restarts the ones that fail, with backoff."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        workers: Sequence[LoopWorker],
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 300.0,
        join_timeout: float = 30.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.workers = list(workers)
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.join_timeout = join_timeout
        self.restarts: dict[str, int] = dict.fromkeys((w.name for w in self.workers), 0)

    def run(self, stop: threading.Event) -> None:
        """Start every worker and return once `stop` is set and they have ended (bounded)."""
        threads = [
            threading.Thread(
                target=self._supervise, args=(worker, stop), name=f"worker-{worker.name}"
            )
            for worker in self.workers
        ]
        for thread in threads:
            thread.start()
        stop.wait()
        deadline = time.monotonic() + self.join_timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, self.join_timeout)

    def _supervise(self, worker: LoopWorker, stop: threading.Event) -> None:
        started = self.clock.now()
        failures = 0

        def report(handled: int) -> None:
            beat(
                self.store,
                self.clock,
                worker.name,
                interval=worker.interval,
                started_at=started,
                handled=handled,
            )

        while not stop.is_set():
            begun = time.monotonic()
            try:
                worker.run(stop, report)
            except Exception as error:  # noqa: BLE001 - a failing worker is restarted, never lost
                failures = 1 if time.monotonic() - begun > 60 else failures + 1
                delay = min(self.max_backoff, self.min_backoff * 2 ** (failures - 1))
                delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
                log.warning(
                    "worker %s failed (%s: %s); restart %d in %.1f s",
                    worker.name,
                    type(error).__name__,
                    error,
                    failures,
                    delay,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                beat(
                    self.store,
                    self.clock,
                    worker.name,
                    interval=worker.interval,
                    started_at=started,
                    error=f"{type(error).__name__}: {error}",
                )
                self.restarts[worker.name] += 1
                stop.wait(delay)
                continue
            if not stop.is_set():
                # A loop that returns by itself is restarted at once, but never in a spin.
                stop.wait(self.min_backoff)


OUTBOX_INTERVAL = 5.0
"""Seconds between two looks at the outbox."""


def worker_kinds(settings: Settings) -> list[str]:
    """The worker names `sdconsole workers run` knows with these settings."""
    names = [*JOBS, *settings_jobs(settings)]
    if settings.mail.smtp is not None or settings.telegram is not None:
        names.append("outbox")
    names.extend(f"imap:{box.name}" for box in settings.mail.mailboxes)
    if settings.telegram is not None:
        names.append("telegram")
    if settings.monitoring.listen:
        names.append("checks-http")
    if settings.monitoring.spool_dir is not None:
        names.append("checks-spool")
    return names


def build_workers(
    store: Store, clock: Clock, settings: Settings, only: Sequence[str] | None = None
) -> list[LoopWorker]:
    """The workers to run: every periodic job, the outbox when SMTP is configured, and one
    IMAP loop per mailbox; `only` narrows them (``imap`` means every mailbox).

    Raises:
        InvalidInput: `only` names a worker these settings do not have.
    """
    from sdconsole.services.mail import MailIntake
    from sdconsole.services.outbox import make_outbox

    known = worker_kinds(settings)
    wanted = list(only) if only else known
    unknown = [
        n for n in wanted if n not in known and not (n == "imap" and settings.mail.mailboxes)
    ]
    if unknown:
        raise InvalidInput(
            N_("Unknown worker {names}; with this config the workers are: {known}"),
            names=", ".join(unknown),
            known=", ".join(known) or "—",
        )
    selected = [n for n in known if n in wanted or (n.startswith("imap:") and "imap" in wanted)]
    workers: list[LoopWorker] = []
    for name in selected:
        if name in JOBS:
            workers.append(periodic(JOBS[name], store, clock))
        elif name == "outbox":
            workers.append(_outbox_worker(store, clock, settings, make_outbox))
        elif name == "telegram":
            workers.append(_telegram_worker(store, clock, settings))
        elif name == "checks-http":
            workers.append(_health_endpoint_worker(store, clock, settings))
        elif name == "checks-spool":
            workers.append(_spool_worker(store, clock, settings))
        elif name in ("monitoring", "quality", "contracts"):
            workers.append(periodic(settings_jobs(settings)[name], store, clock))
        else:
            mail = MailIntake.from_settings(store, clock, settings)
            box = mail.mailbox(name.partition(":")[2])
            workers.append(_mailbox_worker(name, mail, box))
    return workers


def _outbox_worker(
    store: Store,
    clock: Clock,
    settings: Settings,
    make: Callable[[Store, Clock, Settings], Outbox | None],
) -> LoopWorker:
    def run(stop: threading.Event, report: Beat) -> None:
        outbox = make(store, clock, settings)
        if outbox is None:
            return
        try:
            while not stop.is_set():
                report(outbox.deliver_due())
                stop.wait(OUTBOX_INTERVAL)
        finally:
            outbox.close()

    return LoopWorker("outbox", OUTBOX_INTERVAL, run)


def _telegram_worker(store: Store, clock: Clock, settings: Settings) -> LoopWorker:
    from sdconsole.services.telegram_runner import TelegramRunner, bot_token

    assert settings.telegram is not None
    token = bot_token(settings.telegram)

    runner = TelegramRunner(store, clock, settings, token)  # kept across restarts

    def run(stop: threading.Event, report: Beat) -> None:
        runner.run(stop, report)

    # A long-poll round lasts at most 5 s.
    return LoopWorker("telegram", 10.0, run)


def _health_endpoint_worker(store: Store, clock: Clock, settings: Settings) -> LoopWorker:
    from sdconsole.channels.healthchecks import HealthEndpoint
    from sdconsole.config import read_secret
    from sdconsole.services.monitoring import Monitoring

    config = settings.monitoring
    assert config.listen is not None
    host, _, port = config.listen.rpartition(":")
    tokens = {
        source.name: read_secret(source.token_env, source.token_file, what=source.name) or ""
        for source in config.sources
    }
    monitoring = Monitoring.from_settings(store, clock, settings)

    def take(source: str, lines: Sequence[bytes]) -> dict[str, object]:
        summary = monitoring.ingest_lines(lines)
        answer: dict[str, object] = dict(summary.as_json())
        answer["refused"] = [{"line": n, "reason": r} for n, r in summary.errors]
        return answer

    def run(stop: threading.Event, report: Beat) -> None:
        endpoint = HealthEndpoint(
            host.strip("[]") or "127.0.0.1",
            int(port),
            tokens,
            take,
            max_bytes=int(config.max_body_mb * 1024 * 1024),
        )
        endpoint.serve(stop, tick=lambda: report(0), every=30.0)

    return LoopWorker("checks-http", 30.0, run)


def _spool_worker(store: Store, clock: Clock, settings: Settings) -> LoopWorker:
    from sdconsole.services.monitoring import take_spool

    folder = settings.monitoring.spool_dir
    assert folder is not None
    job = PeriodicJob("checks-spool", 10.0, lambda s, c: take_spool(s, c, folder, settings))
    return periodic(job, store, clock)


def _mailbox_worker(name: str, mail: MailIntake, box: MailboxSettings) -> LoopWorker:
    def run(stop: threading.Event, report: Beat) -> None:
        mail.run(box, stop, on_pass=lambda result: report(result.seen))

    # An IDLE round lasts at most 10 s, a poll `poll_seconds`: it beats at least that often.
    return LoopWorker(name, max(10.0, box.poll_seconds if not box.idle else 10.0), run)
