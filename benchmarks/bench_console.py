"""Time the console itself on a big store: first rows on screen, scrolling, and memory.

Targets (issue 5): with 1,000,000 tickets the first rows show in under 150 ms, scrolling never
loads all rows, and the process stays under 300 MB resident.

    .venv/bin/python benchmarks/bench_console.py --db URL [--scroll 2000] [--json]

It runs the real app headless (Textual's `run_test`, the same code path as a terminal) with
live updates on, as an engineer would have it, and measures:

* *first rows*: from the queue screen asking for its rows (on mount) to the rows being in the
  table; *app ready*: from starting the app to the first rows on screen, Textual's own
  start-up (compose, styles, first paint) included; *view switch*: the same as *first rows* for
  five views chosen once the console is up (unassigned, all, line 2, all, breached);
* *scroll*: holding the down key through `--scroll` rows (each page of `queue_page_size` rows
  loads by keyset as the cursor nears the end) — the time per key (Pilot's own wait for the
  screen to settle included, so an upper bound) and the rows held in memory at the end, against
  the tickets in the store;
* *peak RSS*: the process's maximum resident set size (``getrusage``), imports included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdconsole.app import make_app  # noqa: E402
from sdconsole.config import Settings  # noqa: E402
from sdconsole.domain.clock import SystemClock  # noqa: E402
from sdconsole.screens.queue import QueueScreen  # noqa: E402
from sdconsole.storage import Store  # noqa: E402
from sdconsole.widgets.ticket_table import TicketTable  # noqa: E402

TARGET_MS = 150.0
TARGET_RSS_MB = 300.0


async def measure(url: str, scroll: int) -> dict[str, object]:
    store = Store(url)
    with store.reader() as session:
        from sqlalchemy import func, select

        from sdconsole.storage.tables import Ticket

        tickets = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
    app = make_app(Settings(db=store.url), store, SystemClock())
    marks: dict[str, float] = {}
    load, show_rows = QueueScreen.load, TicketTable.show_rows

    def timed_load(self: QueueScreen, **kwargs: Any) -> None:
        marks.setdefault("asked", time.perf_counter())
        load(self, **kwargs)

    def timed_show(self: TicketTable, *args: Any, **kwargs: Any) -> None:
        show_rows(self, *args, **kwargs)
        if self.row_count:
            marks.setdefault("shown", time.perf_counter())

    QueueScreen.load = timed_load  # type: ignore[method-assign]
    TicketTable.show_rows = timed_show  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            for _attempt in range(5_000):  # at most 10 s
                if "shown" in marks:
                    break
                await pilot.pause(0.002)
            marks["ready"] = time.perf_counter()
            first_rows_ms = (marks.get("shown", float("nan")) - marks.get("asked", 0.0)) * 1000
            switches = []
            for view in ("unassigned", "all", "line2", "all", "breached"):
                marks.pop("asked", None)
                marks.pop("shown", None)
                app.screen.action_show_view(view)  # type: ignore[attr-defined]
                for _attempt in range(5_000):
                    if "shown" in marks:
                        break
                    await pilot.pause(0.001)
                switches.append((marks.get("shown", float("nan")) - marks["asked"]) * 1000)
            table = app.screen.query_one(TicketTable)
            scroll_started = time.perf_counter()
            for _key in range(scroll):
                await pilot.press("down")
            await pilot.pause(0.5)
            scroll_s = time.perf_counter() - scroll_started
            rows_loaded = table.row_count
            cursor = table.cursor_row
    finally:
        QueueScreen.load = load  # type: ignore[method-assign]
        TicketTable.show_rows = show_rows  # type: ignore[method-assign]
        store.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "store": store.describe(),
        "tickets": tickets,
        "first_rows_ms": round(first_rows_ms, 1),
        "app_ready_ms": round((marks["ready"] - started) * 1000, 1),
        "view_switch_ms": [round(ms, 1) for ms in switches],
        "scrolled_rows": scroll,
        "cursor_row": cursor,
        "rows_loaded": rows_loaded,
        "ms_per_key": round(scroll_s * 1000 / max(scroll, 1), 2),
        "peak_rss_mb": round(rss_mb, 1),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--scroll", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.db, args.scroll))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    met = (
        max(result["view_switch_ms"]) < TARGET_MS  # type: ignore[type-var]
        and float(result["first_rows_ms"]) < TARGET_MS  # type: ignore[arg-type]
        and float(result["peak_rss_mb"]) < TARGET_RSS_MB  # type: ignore[arg-type]
        and int(result["rows_loaded"]) < int(result["tickets"])  # type: ignore[call-overload]
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
