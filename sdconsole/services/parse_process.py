"""Provides `ParseProcess`: a process of its own that parses an intake's next batch while the
intake stores the last one (the letters of a mailbox pass, the lines of a health-report file).

Parsing is pure Python that holds the interpreter's lock; the store's work is too. On a machine
with two cores or more, a second interpreter lets both go on at once. The process is started
only when a pass has a second batch (one batch has nothing to overlap with), is spawned rather
than forked (an intake process has threads), loads its parser once, and ends when the intake
that started it ends, killed or not. Whatever goes wrong with it, the caller parses in its own
process instead: `submit` gives None, or the future fails.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PARENT_CHECK_SECONDS = 0.25
"""How often a parsing process checks that the intake that started it is alive."""


def _load(module: str, parent: int) -> None:
    """A parsing process's start: its parser's module loaded once, and a watch on the
    process that started it (`parent`): a worker of a pool waits for work for ever, so one
    whose intake was killed would outlive it, holding its output open."""
    importlib.import_module(module)
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)  # the intake is gone: nothing of this process is worth keeping


class ParseProcess:
    """The process one pass parses its batches in; `preload` is the module of its parser."""

    def __init__(self, preload: str) -> None:
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None
        self._failed = False

    def start(self) -> None:
        """Start the process, once: it loads the parser while the pass goes on."""
        if self._pool is not None or self._failed:
            return
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=_load, initargs=(self.preload, os.getpid())
        )
        try:
            self._ready = pool.submit(int)
        except (BrokenExecutor, OSError) as error:
            log.warning("no process to parse in (%s); parsing here", error)
            pool.shutdown(cancel_futures=True)
            self._failed = True
            return
        self._pool = pool

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T] | None:
        """Have ``fn(*args, **kwargs)`` run there; None while the process is still starting
        (parsing here is sooner than waiting for it) or if it cannot take the work."""
        if self._pool is None or self._ready is None or not self._ready.done():
            return None
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenExecutor:  # it died earlier: parsed here, at the store
            return None

    def close(self) -> None:
        """Let the process go without waiting for it to end (the executor's own thread
        collects it, at the latest when the program exits)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
