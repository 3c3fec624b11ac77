"""Provides the queue first-page benchmark: `queue_page(limit=50)` per filter, cold and warm.

Usage::

    python benchmarks/bench_queue.py --db URL [--repeat 20] [--json] [--no-evict]

For each filter (all open tickets, the busiest engineer, line 2, the biggest client, unassigned)
it times `sdconsole.storage.repositories.queue_page` through a `Store.reader()` session:

* cold: the first call in a fresh process right after `Store(url)` (new connection, empty
  statement caches). Before it, the store's files are dropped from the OS page cache with
  ``posix_fadvise(DONTNEED)`` (the SQLite file; on PostgreSQL the relation files of ``ticket``,
  its indexes, ``client`` and ``engineer`` when the data directory is readable). PostgreSQL's own
  shared buffers cannot be emptied without restarting the server, so they may stay warm.
* warm: `--repeat` further calls on one store after one untimed call; median and p95.

It prints a Markdown table, then the plan of the exact SQL `queue_page` sent (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL). With --json it prints one JSON document.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from sdconsole.domain.model import OPEN_STATUSES
from sdconsole.domain.views import QueueFilter
from sdconsole.storage import Store
from sdconsole.storage.repositories import queue_page

TARGET_MS = 150.0
"""The goal for every filter's first page."""

OPEN_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")"

CASE_ORDER = ("all", "engineer", "line", "client", "unassigned", "search", "search2")


@dataclass
class CaseResult:
    """One filter's figures."""

    name: str
    label: str
    filter: dict[str, Any]
    matched: int
    """Open tickets the filter selects (the queue's size)."""
    rows: int
    """Rows on the first page."""
    cold_ms: float
    warm_ms: list[float] = field(default_factory=list)
    median_ms: float = 0.0
    p95_ms: float = 0.0
    indexes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    sql: str = ""

    @property
    def met(self) -> bool:
        return max(self.cold_ms, self.p95_ms) < TARGET_MS and not self.problems


# -- choosing the filters ---------------------------------------------------------------------


def pick_filters(
    store: Store, engineer_id: int | None, client_id: int | None
) -> dict[str, tuple[str, QueueFilter]]:
    """The five filters; the engineer and the client are the busiest ones unless given."""
    with store.reader() as session:
        if engineer_id is None:
            engineer_id = session.execute(
                text(
                    f"SELECT assignee_id FROM ticket WHERE {OPEN_SQL} AND assignee_id IS NOT NULL "
                    "GROUP BY assignee_id ORDER BY count(*) DESC, assignee_id LIMIT 1"
                )
            ).scalar_one()
        login = session.execute(
            text("SELECT login FROM engineer WHERE id = :id"), {"id": engineer_id}
        ).scalar_one()
        if client_id is None:
            client_id = session.execute(
                text(
                    "SELECT client_id FROM ticket WHERE client_id IS NOT NULL "
                    "GROUP BY client_id ORDER BY count(*) DESC, client_id LIMIT 1"
                )
            ).scalar_one()
        client_tickets = session.execute(
            text("SELECT count(*) FROM ticket WHERE client_id = :id"), {"id": client_id}
        ).scalar_one()
    return {
        "all": ("all open tickets", QueueFilter()),
        "engineer": (f"engineer {login} (id {engineer_id})", QueueFilter(assignee_id=engineer_id)),
        "line": ("line 2", QueueFilter(line=2)),
        "client": (
            f"client id {client_id} ({client_tickets:,} tickets in all)",
            QueueFilter(client_id=client_id),
        ),
        "unassigned": ("unassigned", QueueFilter(unassigned=True)),
        "search": ("search «егаис» (a common word)", QueueFilter(search="егаис")),
        "search2": ("search «vpn офиса» (two words)", QueueFilter(search="vpn офиса")),
    }


def count_matched(store: Store, queue: QueueFilter) -> int:
    """The queue's size (outside the timings)."""
    from sdconsole.storage.repositories import count_queue

    with store.reader() as session:
        return count_queue(session=session, queue=queue)


# -- timing ---------------------------------------------------------------------------------


def time_page(store: Store, queue: QueueFilter, limit: int) -> tuple[float, int]:
    """Milliseconds for one `queue_page` call in its own reader session, and its row count."""
    started = time.perf_counter()
    with store.reader() as session:
        rows = queue_page(session=session, queue=queue, limit=limit)
    return (time.perf_counter() - started) * 1000, len(rows)


def cold_child(url: str, queue: QueueFilter, limit: int) -> dict[str, Any]:
    """In a fresh process: `Store(url)`, then the first call (connects lazily), timed."""
    store = Store(url)
    ms, rows = time_page(store, queue, limit)
    store.dispose()
    return {"cold_ms": ms, "rows": rows}


def run_cold(url: str, queue: QueueFilter, limit: int) -> dict[str, Any]:
    """Spawn `cold_child` in a new interpreter and read its JSON answer."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--db",
        url,
        "--limit",
        str(limit),
        "--cold-filter",
        json.dumps(asdict(queue)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# -- the OS page cache ------------------------------------------------------------------------


def _fadvise_dontneed(paths: Sequence[str]) -> int:
    evicted = 0
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            evicted += 1
        finally:
            os.close(fd)
    return evicted


def store_files(store: Store) -> tuple[list[str], str]:
    """The files whose pages the queue reads, and a note on what eviction can reach."""
    if store.is_sqlite:
        database = make_url(store.url).database or ""
        return [database, database + "-wal"], "SQLite file evicted from the OS page cache"
    with store.engine.connect() as conn:
        try:
            data_dir = conn.exec_driver_sql("SHOW data_directory").scalar_one()
        except Exception:  # noqa: BLE001 - not a superuser: nothing to evict
            return [], "PostgreSQL data directory not readable: nothing evicted"
        relations = (
            conn.exec_driver_sql(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                "WHERE c.relname IN ('ticket', 'client', 'engineer') "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'ticket'::regclass)"
            )
            .scalars()
            .all()
        )
    paths: list[str] = []
    for rel in relations:
        base = os.path.join(data_dir, rel)
        paths.append(base)
        paths.extend(glob.glob(base + ".[0-9]*"))
    if not paths or not os.access(paths[0], os.R_OK):
        return [], "PostgreSQL relation files not readable: nothing evicted"
    return paths, (
        "PostgreSQL relation files evicted from the OS page cache; "
        "shared_buffers not emptied (needs a server restart)"
    )


# -- plans ----------------------------------------------------------------------------------


def capture_sql(store: Store, queue: QueueFilter, limit: int) -> tuple[str, Any]:
    """The statement and parameters `queue_page` sends to the driver."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM ticket" in statement or "FROM ticket" in statement.replace("\n", " "):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        with store.reader() as session:
            queue_page(session=session, queue=queue, limit=limit)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    if not seen:
        raise RuntimeError("queue_page sent no statement on ticket")
    return seen[-1]


def explain(store: Store, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN QUERY PLAN (SQLite, as a tree) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL)."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node_id, parent, _, detail in rows:
                depth[node_id] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node_id] + detail)
            conn.rollback()
            return lines
        result = (
            conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            .scalars()
            .all()
        )
        conn.rollback()
        return list(result)


def read_plan(store: Store, plan: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The ticket indexes a plan uses, what defeats the queue indexes, and what is worth a note."""
    joined = "\n".join(plan)
    indexes = sorted(
        set(re.findall(r"\b(ix_ticket_\w+|pk_ticket|ticket_search_open_document)\b", joined))
    )
    problems: list[str] = []
    notes: list[str] = []
    if store.is_sqlite:
        for line in plan:
            detail = line.strip()
            if re.match(r"SCAN ticket\b(?! USING)", detail):
                problems.append(f"full scan: {detail}")
        # A temp B-tree inside the page subquery sorts every matching row before the LIMIT.
        inner = _sqlite_subquery(plan)
        if any("USE TEMP B-TREE" in line for line in inner):
            problems.append("the page subquery sorts its rows (USE TEMP B-TREE FOR ORDER BY)")
    else:
        if re.search(r"Seq Scan on ticket\b", joined):
            problems.append("sequential scan of ticket")
        if re.search(r"Bitmap Heap Scan on ticket\b", joined):
            notes.append("bitmap heap scan: reads every matching open ticket, then a top-N sort")
    # A search may be driven by the open tickets' own full-text index instead (PostgreSQL).
    drivers = ("ix_ticket_queue", "ticket_search_open_document")
    if not any(i.startswith(drivers) for i in indexes):
        problems.append("no ix_ticket_queue* (or open-ticket search) index in the plan")
    return indexes, problems, notes


def _sqlite_subquery(plan: list[str]) -> list[str]:
    lines: list[str] = []
    inside: int | None = None
    for line in plan:
        indent = len(line) - len(line.lstrip())
        if inside is not None and indent <= inside:
            inside = None
        if inside is not None:
            lines.append(line)
        if re.match(r"\s*(MATERIALIZE|CO-ROUTINE)", line):
            inside = indent
    return lines


# -- report ---------------------------------------------------------------------------------


def environment(store: Store) -> dict[str, Any]:
    """Versions and the machine, for the record."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "nproc": os.cpu_count(),
        "backend": store.dialect,
    }
    import sdconsole

    checkout = Path(sdconsole.__file__).resolve().parent.parent
    info["sdconsole"] = str(checkout)
    try:
        info["commit"] = subprocess.run(
            ["git", "-C", str(checkout), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info["cpu"] = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
            info["memory_gib"] = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    with store.reader() as session:
        if not store.is_sqlite:
            info["postgresql"] = session.execute(text("SHOW server_version")).scalar_one()
            info["shared_buffers"] = session.execute(text("SHOW shared_buffers")).scalar_one()
        info["tickets"] = session.execute(text("SELECT count(*) FROM ticket")).scalar_one()
        info["open"] = session.execute(
            text(f"SELECT count(*) FROM ticket WHERE {OPEN_SQL}")
        ).scalar_one()
    return info


def markdown(env: dict[str, Any], results: list[CaseResult], note: str, repeat: int) -> str:
    """The table and the plans as Markdown."""
    backend = env["backend"] + (
        f" {env['postgresql']}" if "postgresql" in env else f" {env['sqlite']}"
    )
    out = [
        f"**{backend}** (sdconsole {env['commit']}): {env['tickets']:,} tickets, "
        f"{env['open']:,} open; "
        f"limit 50; warm = {repeat} runs; cold: {note}.",
        "",
        "| filter | open matched | rows | cold ms | warm median ms | warm p95 ms "
        "| queue index | < 150 ms |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        index = ", ".join(i for i in r.indexes if i.startswith("ix_ticket_queue")) or "—"
        verdict = "yes" if r.met else "**no**"
        out.append(
            f"| {r.label} | {r.matched:,} | {r.rows} | {r.cold_ms:.1f} | {r.median_ms:.2f} "
            f"| {r.p95_ms:.2f} | {index} | {verdict} |"
        )
    for r in results:
        remarks = (f" **{'; '.join(r.problems)}**" if r.problems else "") + (
            f" ({'; '.join(r.notes)})" if r.notes else ""
        )
        out += ["", f"Plan, {r.label}:{remarks}", "", "```", *r.plan, "```"]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="store URL or SQLite path")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--save", type=Path, help="also write the JSON document to this file")
    parser.add_argument(
        "--no-evict",
        action="store_true",
        help="leave the OS page cache alone before the cold calls",
    )
    parser.add_argument("--engineer-id", type=int)
    parser.add_argument("--client-id", type=int)
    parser.add_argument(
        "--only", action="append", choices=CASE_ORDER, help="run only these filters (repeatable)"
    )
    parser.add_argument("--cold-filter", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.cold_filter is not None:
        print(
            json.dumps(cold_child(args.db, QueueFilter(**json.loads(args.cold_filter)), args.limit))
        )
        return 0

    store = Store(args.db)
    store.check_ready()
    env = environment(store)
    filters = pick_filters(store, args.engineer_id, args.client_id)
    files, note = ([], "OS page cache left alone") if args.no_evict else store_files(store)

    results: list[CaseResult] = []
    for name in args.only or CASE_ORDER:
        label, queue = filters[name]
        if files:
            _fadvise_dontneed(files)
        cold = run_cold(args.db, queue, args.limit)
        result = CaseResult(
            name=name,
            label=label,
            filter=asdict(queue),
            matched=0,
            rows=cold["rows"],
            cold_ms=cold["cold_ms"],
        )
        results.append(result)
    # Warm runs and plans after every cold one, so no cold call profits from another's pages.
    for result in results:
        queue = QueueFilter(**result.filter)
        result.matched = count_matched(store, queue)
        time_page(store, queue, args.limit)
        result.warm_ms = [time_page(store, queue, args.limit)[0] for _ in range(args.repeat)]
        result.median_ms = statistics.median(result.warm_ms)
        result.p95_ms = percentile(result.warm_ms, 95)
        result.sql, parameters = capture_sql(store, queue, args.limit)
        result.plan = explain(store, result.sql, parameters)
        result.indexes, result.problems, result.notes = read_plan(store, result.plan)
    store.dispose()
    document = json.dumps(
        {
            "environment": env,
            "repeat": args.repeat,
            "limit": args.limit,
            "cold": note,
            "target_ms": TARGET_MS,
            "cases": [{**asdict(r), "met": r.met} for r in results],
        },
        ensure_ascii=False,
        indent=2,
    )
    if args.save is not None:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(document + "\n", encoding="utf-8")
    if args.json:
        print(document)
    else:
        print(markdown(env, results, note, args.repeat))
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
