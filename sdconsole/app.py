"""Provides `SdConsoleApp` and `make_app`: the console, assembled from outside.

The app never opens a store or reads a config file on its own: the CLI, the demo and the tests
build the settings, store and clock and hand them to `make_app`.
"""

from __future__ import annotations

from datetime import datetime

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from sdconsole.bindings import translate_bindings
from sdconsole.commands import JumpProvider
from sdconsole.config import Settings
from sdconsole.domain.clock import Clock
from sdconsole.domain.model import SYSTEM, Actor
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreChanged
from sdconsole.screens.queue import QueueScreen
from sdconsole.screens.wall import WallScreen
from sdconsole.storage import Store
from sdconsole.storage.notify import ChangeWatcher


class SdConsoleApp(App[None]):
    """The engineer's console."""

    CSS_PATH = "app.tcss"
    TITLE = "sdconsole"
    MODES = {"queue": QueueScreen, "wall": WallScreen}
    COMMANDS = App.COMMANDS | {JumpProvider}
    DEFAULT_MODE = "queue"
    BINDINGS = [
        Binding("q", "quit", N_("Quit"), id="app.quit"),
        Binding("ctrl+c", "quit", N_("Quit"), id="app.quit_ctrl_c", show=False, priority=True),
    ]

    def __init__(
        self, settings: Settings, store: Store, clock: Clock, *, actor: Actor, mode: str = "queue"
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.settings = settings
        self.store = store
        self.clock = clock
        self.actor = actor
        self._start_mode = mode
        self.work_timers: dict[int, datetime] = {}
        """Running work timers by ticket id: when each was started (the ticket screen's T).
        They outlive the ticket screen, so the engineer may go back to the queue meanwhile."""

    def on_mount(self) -> None:
        who = self.actor.login if not self.actor.is_system else _("read-only")
        self.sub_title = f"{who} · {self.store.label}"
        self.switch_mode(self._start_mode)
        if self.settings.live_updates:
            self._watch_store()

    @work(thread=True, group="watch", exit_on_error=False)
    def _watch_store(self) -> None:
        """Tell the screens when the tickets change (LISTEN/NOTIFY or SQLite's data_version)."""
        worker = get_current_worker()
        try:
            with ChangeWatcher(self.store) as watcher:
                while not worker.is_cancelled:
                    if watcher.wait(1.0) and not worker.is_cancelled:
                        self.call_from_thread(self._store_changed)
        except Exception as error:  # noqa: BLE001 - the console works on without live updates
            self.call_from_thread(
                self.notify,
                _("Live updates stopped: {error}. Press r to refresh.").format(error=error),
                severity="warning",
            )

    def _store_changed(self) -> None:
        for screen in self.screen_stack:
            screen.post_message(StoreChanged())


def make_app(
    settings: Settings, store: Store, clock: Clock, *, actor: Actor = SYSTEM, mode: str = "queue"
) -> SdConsoleApp:
    """Build the console for a store; `mode` is the first screen (``queue``)."""
    if mode not in SdConsoleApp.MODES:
        raise ValueError(f"unknown mode {mode!r}")
    return SdConsoleApp(settings, store, clock, actor=actor, mode=mode)
