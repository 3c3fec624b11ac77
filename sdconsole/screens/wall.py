"""Provides `WallScreen`: the read-only dashboard the night shift leaves on a wall monitor.

Readable from across the room, at 80×24 as at 300×80: big figures (unassigned, breached now,
breached today, SLA met today, due within the hour, monitoring alerts), open tickets per line,
the running tickets nearest their deadline with countdowns that tick every second, and whether
every background worker is alive. It reloads every `REFRESH_SECONDS` and at once when the
tickets change; when the store cannot be read it says so, keeps the last figures, and tries
again by itself. It starts in the night theme (`NIGHT`); `t` switches to the day one.
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
from textual.theme import Theme
from textual.widgets import Digits, Footer, Header, Static

from sdconsole.bindings import translate_bindings
from sdconsole.domain.views import SlaState, WallSummary, WorkerHealth
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreChanged, StoreFailed
from sdconsole.storage import repositories
from sdconsole.widgets.ticket_table import SLA_MARKS

REFRESH_SECONDS = 10.0

NIGHT = Theme(
    name="sdconsole-night",
    primary="#5f87af",
    secondary="#875f5f",
    accent="#af875f",
    warning="#d7875f",
    error="#ff5f5f",
    success="#5f875f",
    foreground="#b2b2b2",
    background="#000000",
    surface="#080808",
    panel="#121212",
    dark=True,
)
"""A dark room's theme: black background, dimmed text, alarms still loud."""

DAY = "textual-dark"

FIGURES = (
    ("unassigned", N_("Unassigned")),
    ("breached", N_("Breached now")),
    ("breached_today", N_("Breached today")),
    ("met_today", N_("SLA met today")),
    ("due_soon", N_("Due within 1 h")),
    ("monitoring", N_("Monitoring")),
)

SHORT_TITLES = {
    "unassigned": N_("Free"),
    "breached": N_("Late"),
    "breached_today": N_("Late today"),
    "met_today": N_("SLA today"),
    "due_soon": N_("≤ 1 h"),
    "monitoring": N_("Alerts"),
}
"""Figure titles for a narrow wall (under `NARROW_BELOW` columns)."""

NARROW_BELOW = 120

_HEALTH = {
    WorkerHealth.ALIVE: ("●", "green", N_("alive")),
    WorkerHealth.FAILING: ("●", "yellow", N_("failing")),
    WorkerHealth.LATE: ("●", "yellow", N_("late")),
    WorkerHealth.DOWN: ("●", "bold red", N_("DOWN")),
}


def countdown(seconds: float) -> str:
    """Time left as a wall clock counts it: ``1:04:09``, ``-0:12:30``, ``2d 04h``."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}{_('d')} {hours:02d}{_('h')}"
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def _ago(seconds: float) -> str:
    if seconds < 60:
        return _("now")
    return countdown(seconds)


class WallScreen(Screen[None]):
    """The wall monitor."""

    BINDINGS = [
        Binding("r", "reload", N_("Refresh"), id="wall.refresh"),
        Binding("t", "toggle_theme", N_("Night / day"), id="wall.theme"),
    ]

    DEFAULT_CSS = """
    WallScreen {
        #wall-figures { height: 5; }
        .figure {
            width: 1fr; height: 5; border: round $foreground 40%;
            border-title-align: center; border-title-color: $foreground;
        }
        .figure Digits { width: 100%; text-align: center; }
        .figure.-alarm { border: heavy $error; }
        .figure.-alarm Digits { color: $error; }
        .figure.-warn { border: heavy $warning; }
        .figure.-warn Digits { color: $warning; }
        #wall-lines { height: 1; padding: 0 2; }
        #wall-problem {
            height: auto; padding: 0 2; color: $error; text-style: bold; display: none;
        }
        #wall-nearest { height: 1fr; padding: 0 1; }
        #wall-workers { height: auto; padding: 0 2; }
    }
    WallScreen.-failed #wall-problem { display: block; }
    WallScreen.-failed #wall-figures, WallScreen.-failed #wall-nearest { opacity: 50%; }
    WallScreen.-tall #wall-figures, WallScreen.-tall .figure { height: 9; }
    WallScreen.-tall .figure Digits { margin-top: 2; }
    """

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.summary: WallSummary | None = None
        self.failed_since: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="wall-figures"):
            for key, title in FIGURES:
                figure = Vertical(classes="figure", id=f"figure-{key}")
                figure.border_title = _(title)
                with figure:
                    yield Digits("–", id=f"digits-{key}")
        yield Static(id="wall-lines")
        yield Static(id="wall-problem")
        yield Static(id="wall-nearest")
        yield Static(id="wall-workers")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("wall monitor")
        if NIGHT.name not in self.app.available_themes:
            self.app.register_theme(NIGHT)
        self.app.theme = NIGHT.name
        self.set_interval(REFRESH_SECONDS, self.reload)
        self.set_interval(1.0, self._tick)
        self.reload()

    def on_resize(self) -> None:
        self.set_class(self.size.height >= 40, "-tall")
        narrow = self.size.width < NARROW_BELOW
        for key, title in FIGURES:
            figure = self.query_one(f"#figure-{key}")
            figure.border_title = _(SHORT_TITLES[key] if narrow else title)

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_theme(self) -> None:
        self.app.theme = DAY if self.app.theme == NIGHT.name else NIGHT.name

    @on(StoreChanged)
    def store_changed(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="wall", exit_on_error=False)
    def reload(self) -> None:
        now = self.app.clock.now()  # type: ignore[attr-defined]
        day_start = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            with self.app.store.reader() as session:  # type: ignore[attr-defined]
                summary = repositories.wall_summary(session=session, now=now, day_start=day_start)
        except Exception as error:  # noqa: BLE001 - shown, and the next refresh tries again
            self.post_message(StoreFailed(str(error).splitlines()[0] if str(error) else ""))
            return
        self.app.call_from_thread(self.show, summary, now)

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        now = self.app.clock.now()  # type: ignore[attr-defined]
        if self.failed_since is None:
            self.failed_since = now
        since = self.failed_since.astimezone().strftime("%H:%M:%S")
        text = _(
            "The store cannot be read since {since}: {error}. Retrying every {n} s; the figures "
            "below are from before."
        ).format(since=since, error=message.error, n=int(REFRESH_SECONDS))
        self.query_one("#wall-problem", Static).update(Text(text))
        self.add_class("-failed")

    def show(self, summary: WallSummary, now: datetime) -> None:
        self.summary = summary
        self.failed_since = None
        self.remove_class("-failed")
        updated = now.astimezone().strftime("%H:%M:%S")
        self.sub_title = _("wall monitor · updated {time}").format(time=updated)
        values = {
            "unassigned": str(summary.unassigned),
            "breached": str(summary.breached),
            "breached_today": str(summary.breached_today),
            "met_today": (
                "–" if summary.met_pct_today is None else f"{summary.met_pct_today:.0f}%"
            ),
            "due_soon": str(summary.due_soon),
            "monitoring": str(summary.monitoring),
        }
        for key, _title in FIGURES:
            self.query_one(f"#digits-{key}", Digits).update(values[key])
        alarms = {
            "breached": summary.breached > 0,
            "breached_today": summary.breached_today > 0,
            "met_today": summary.met_pct_today is not None and summary.met_pct_today < 95.0,
        }
        warnings = {"unassigned": summary.unassigned > 0, "due_soon": summary.due_soon > 0}
        for key, _title in FIGURES:
            figure = self.query_one(f"#figure-{key}")
            figure.set_class(alarms.get(key, False), "-alarm")
            figure.set_class(warnings.get(key, False), "-warn")
        lines = Text(_("Open by line") + ":  ", style="bold")
        for line, count in summary.open_by_line:
            lines.append(_("L{line}").format(line=line) + " ", style="dim")
            lines.append(f"{count}   ", style="bold")
        self.query_one("#wall-lines", Static).update(lines)
        self._tick()
        self.query_one("#wall-workers", Static).update(self._workers(summary, now))

    def _tick(self) -> None:
        """Redraw the countdowns from the last figures (no store access)."""
        if self.summary is not None:
            now = self.app.clock.now()  # type: ignore[attr-defined]
            self.query_one("#wall-nearest", Static).update(self._nearest(self.summary, now))

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
            padding=(0, 1),
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
            left = (row.due_at - now).total_seconds()
            place = f"{row.site_name} · {row.client_name}" if row.site_name else row.client_name
            table.add_row(
                Text(SLA_MARKS[state], style=style),
                Text(countdown(left), style=style),
                Text.assemble(
                    (row.number, "bold"),
                    " ",
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
            mark, style, label = _HEALTH[worker.health(now)]
            out.append(f"{mark} ", style=style)
            out.append(f"{worker.name} ")
            out.append(_(label), style=style)
            out.append(f" ({_ago((now - worker.beat_at).total_seconds())})   ", style="dim")
        letters = _("Dead letters") + f": {summary.dead_letters}"
        out.append(letters, style="bold red" if summary.dead_letters else "dim")
        return out
