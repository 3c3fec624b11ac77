"""Provides `WallScreen`: the read-only dashboard the night shift leaves on a wall monitor.

Readable from across the room: big figures (unassigned, breached, due within the hour, waiting,
monitoring alerts), the running tickets nearest their deadline, and whether every background
worker is alive. It refreshes itself (every `REFRESH_SECONDS`, and at once when the tickets
change) and takes no action but quitting.
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Header, Label, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.views import SlaState, WallSummary, WorkerHealth
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreChanged, StoreFailed
from sdconsole.storage import repositories
from sdconsole.widgets.ticket_table import SLA_MARKS, format_span

REFRESH_SECONDS = 10.0

FIGURES = (
    ("unassigned", N_("Unassigned")),
    ("breached", N_("Breached")),
    ("due_soon", N_("Due within 1 h")),
    ("waiting", N_("Waiting")),
    ("monitoring", N_("Monitoring")),
)

_HEALTH = {
    WorkerHealth.ALIVE: ("●", "green", N_("alive")),
    WorkerHealth.FAILING: ("●", "yellow", N_("failing")),
    WorkerHealth.LATE: ("●", "yellow", N_("late")),
    WorkerHealth.DOWN: ("●", "bold red", N_("DOWN")),
}


def _ago(seconds: float) -> str:
    return format_span(int(seconds // 60)) if seconds >= 60 else _("now")


class WallScreen(Screen[None]):
    """The wall monitor."""

    BINDINGS = [Binding("r", "reload", N_("Refresh"), id="wall.refresh")]

    DEFAULT_CSS = """
    WallScreen {
        #wall-figures { height: 9; }
        .figure { width: 1fr; height: 9; border: round $foreground 30%; align: center middle; }
        .figure Digits { width: 100%; text-align: center; margin-top: 1; }
        .figure Label { width: 100%; text-align: center; color: $text-muted; }
        .figure.-alarm { border: heavy $error; }
        .figure.-alarm Digits { color: $error; }
        .figure.-warn { border: heavy $warning; }
        .figure.-warn Digits { color: $warning; }
        #wall-nearest { height: 1fr; padding: 1 2; }
        #wall-workers { height: auto; padding: 0 2 1 2; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.summary: WallSummary | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="wall-figures"):
            for key, title in FIGURES:
                with Vertical(classes="figure", id=f"figure-{key}"):
                    yield Digits("–", id=f"digits-{key}")
                    yield Label(_(title))
        yield Static(id="wall-nearest")
        yield Static(id="wall-workers")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("wall monitor")
        self.set_interval(REFRESH_SECONDS, self.reload)
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @on(StoreChanged)
    def store_changed(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="wall", exit_on_error=False)
    def reload(self) -> None:
        now = self.app.clock.now()  # type: ignore[attr-defined]
        try:
            with self.app.store.reader() as session:  # type: ignore[attr-defined]
                summary = repositories.wall_summary(session=session, now=now)
        except Exception as error:  # noqa: BLE001 - shown, and the next refresh tries again
            self.post_message(StoreFailed(str(error)))
            return
        self.app.call_from_thread(self.show, summary, now)

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.query_one("#wall-workers", Static).update(
            Text(_("Cannot read the store: {error}").format(error=message.error), style="bold red")
        )

    def show(self, summary: WallSummary, now: datetime) -> None:
        self.summary = summary
        updated = now.astimezone().strftime("%H:%M:%S")
        self.sub_title = _("wall monitor · updated {time}").format(time=updated)
        for key, _title in FIGURES:
            value = getattr(summary, key)
            self.query_one(f"#digits-{key}", Digits).update(str(value))
            figure = self.query_one(f"#figure-{key}")
            figure.set_class(key == "breached" and value > 0, "-alarm")
            figure.set_class(key in ("unassigned", "due_soon") and value > 0, "-warn")
        self.query_one("#wall-nearest", Static).update(self._nearest(summary, now))
        self.query_one("#wall-workers", Static).update(self._workers(summary, now))

    def _nearest(self, summary: WallSummary, now: datetime) -> Table | Text:
        if not summary.nearest:
            return Text(_("No running SLA clock. Quiet night."), style="dim")
        theme = self.app.current_theme
        alarm = f"bold {theme.error}" if theme.error else "bold"
        warn = f"bold {theme.warning}" if theme.warning else "bold"
        table = Table(
            title=_("Nearest deadlines"),
            title_justify="left",
            title_style="bold",
            box=None,
            padding=(0, 2),
            expand=True,
            show_header=False,
        )
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True)
        table.add_column(ratio=3, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=2, no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True)
        for row in summary.nearest:
            state = row.sla_state(now)
            style = {SlaState.BREACHED: alarm, SlaState.WARNING: warn}.get(state, "")
            left = int((row.due_at - now).total_seconds() // 60)
            place = f"{row.site_name} · {row.client_name}" if row.site_name else row.client_name
            table.add_row(
                Text(SLA_MARKS[state], style=style),
                Text(format_span(left), style=style),
                Text.assemble(
                    (row.number, "bold"),
                    "  ",
                    (row.priority.label, alarm if row.priority.label == "P1" else ""),
                ),
                Text(row.subject),
                Text(place, style="dim"),
                Text(
                    row.assignee_login or _("unassigned"), style="" if row.assignee_login else warn
                ),
            )
        return table

    def _workers(self, summary: WallSummary, now: datetime) -> Text:
        out = Text(_("Workers") + ":  ", style="bold")
        if not summary.workers:
            out.append(
                _("none has reported; start them with `sdconsole workers run`"), style="bold red"
            )
        for worker in summary.workers:
            health = worker.health(now)
            mark, style, label = _HEALTH[health]
            out.append(f"{mark} ", style=style)
            out.append(f"{worker.name} ")
            out.append(_(label), style=style)
            seconds = (now - worker.beat_at).total_seconds()
            out.append(f" ({_ago(seconds)})   ", style="dim")
        out.append("  ")
        out.append(
            _("Dead letters") + f": {summary.dead_letters}",
            style="bold red" if summary.dead_letters else "dim",
        )
        return out
