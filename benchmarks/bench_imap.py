"""Provides the IMAP intake benchmark: sdconsole against django-helpdesk on the same mailbox.

Usage::

    python benchmarks/bench_imap.py [--count 1000 10000] [--db URL] [--skip-helpdesk] [--json]

For each count it starts a private Dovecot on 127.0.0.1 (the test suite's, `tests/channels/
dovecot.py`), builds that many realistic letters from the mail corpora in ../shared/data (Zammad's
and ONLYOFFICE's real mails, django-helpdesk's own fixtures and talon's replies: every kind of
charset, HTML, attachments; each gets a fresh Message-ID so that neither tool sees duplicates),
and appends the same letters to two users' INBOX. Then:

* sdconsole: `MailIntake.fetch_once` into a new store (SQLite in a temporary folder unless
  ``--db``), deleting each batch on the server once stored, as django-helpdesk does;
* django-helpdesk: its `get_email` command via `benchmarks/helpdesk_get_email.py`, which installs
  it from PyPI into its own virtual environment (SQLite too).

Only the import is timed on both sides (connect and login included). It prints a Markdown table
(letters, seconds, letters/s, tickets, dead letters) and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PASSWORD_ENV = "SDCONSOLE_BENCH_IMAP_PASSWORD"
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*", re.I | re.M)


def corpus() -> list[bytes]:
    """The realistic letters the benchmark cycles through (bounces left out: a support mailbox
    gets few of them, and django-helpdesk would turn each into a ticket)."""
    folders = [
        DATA / "mail-zammad" / "mail",
        DATA / "mail-onlyoffice-ru" / "eml",
        DATA / "mail-parser-fixtures" / "django-helpdesk",
        DATA / "mail-parser-fixtures" / "talon" / "fixtures" / "standard_replies",
    ]
    letters: list[bytes] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".box", ".eml") and path.is_file():
                letters.append(path.read_bytes())
    if not letters:
        sys.exit(f"no mail corpora under {DATA}: the benchmark needs the developers' share")
    return letters


def build(count: int, letters: list[bytes]) -> list[bytes]:
    """`count` letters, each with a Message-ID of its own."""
    out: list[bytes] = []
    for n in range(count):
        raw = letters[n % len(letters)]
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]  # an mbox separator line is not a header
        fresh = f"Message-ID: <bench-{n}-{uuid.uuid4().hex[:8]}@bench.example>\r\n".encode()
        raw, found = _MESSAGE_ID.subn(fresh.replace(b"\\", b"\\\\"), raw, count=1)
        out.append(raw if found else fresh + raw)
    return out


def run_sdconsole(
    dovecot: Any, user: str, password: str, db: str | None, tmp: Path
) -> dict[str, Any]:
    from sdconsole.config import MailboxSettings, MailSettings
    from sdconsole.domain.clock import SystemClock
    from sdconsole.services.intake import IntakeService
    from sdconsole.services.mail import MailIntake
    from sdconsole.storage import Store

    url = db or f"sqlite:///{tmp / 'bench.db'}"
    store = Store(url, attachments_dir=tmp / "attachments")
    store.upgrade()
    os.environ[PASSWORD_ENV] = password
    box = MailboxSettings(
        name="bench",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        user=user,
        password_env=PASSWORD_ENV,
        after="delete",
        batch=100,
    )
    settings = MailSettings(address="support@bench.example", mailboxes=[box])
    clock = SystemClock()
    mail = MailIntake(store, clock, IntakeService(store, clock), settings)
    started = time.perf_counter()
    result = mail.fetch_once(box)
    seconds = time.perf_counter() - started
    store.dispose()
    taken = result.seen
    return {
        "tool": "sdconsole",
        "messages": taken,
        "outcomes": dict(result.outcomes),
        "seconds": round(seconds, 3),
        "rate": round(taken / seconds, 1) if seconds else None,
        "store": url.split(":")[0],
    }


def run_helpdesk(dovecot: Any, user: str, password: str) -> dict[str, Any]:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "helpdesk_get_email.py"),
        "--host",
        dovecot.host,
        "--port",
        str(dovecot.port),
        "--user",
        user,
        "--password",
        password,
        "--no-ssl",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=7200, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"django-helpdesk run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--db", default=None, help="sdconsole's store (default: a new SQLite)")
    parser.add_argument("--skip-helpdesk", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.channels.dovecot import Dovecot

    letters = corpus()
    rows: list[dict[str, Any]] = []
    with Dovecot() as dovecot:
        for count in args.count:
            batch = build(count, letters)
            size = sum(len(r) for r in batch)
            ours_user, ours_password = dovecot.add_user()
            theirs_user, theirs_password = dovecot.add_user()
            for user, password in ((ours_user, ours_password), (theirs_user, theirs_password)):
                for start in range(0, count, 500):
                    dovecot.append_many(user, password, batch[start : start + 500])
            with tempfile.TemporaryDirectory(prefix="sdconsole-bench-imap-") as tmp:
                ours = run_sdconsole(dovecot, ours_user, ours_password, args.db, Path(tmp))
            ours.update(count=count, megabytes=round(size / 1e6, 1))
            rows.append(ours)
            if not args.skip_helpdesk:
                theirs = run_helpdesk(dovecot, theirs_user, theirs_password)
                theirs.update(count=count, megabytes=round(size / 1e6, 1))
                rows.append(theirs)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "runs": rows}, ensure_ascii=False, indent=2))
        return
    print(f"machine: {machine}\n")
    print("| letters | MB | tool | seconds | letters/s | outcome |")
    print("| ---: | ---: | --- | ---: | ---: | --- |")
    for row in rows:
        outcome = row.get("outcomes") or {
            "tickets": row.get("tickets"),
            "left in mailbox": row.get("left_in_mailbox"),
        }
        print(
            f"| {row['count']} | {row['megabytes']} | {row['tool']} | {row['seconds']} |"
            f" {row['rate']} | {json.dumps(outcome, ensure_ascii=False)} |"
        )
    for count in args.count:
        pair = [r for r in rows if r["count"] == count]
        if len(pair) == 2 and pair[1].get("rate"):
            print(
                f"\n{count} letters: sdconsole is {pair[0]['rate'] / pair[1]['rate']:.1f}× faster"
            )


if __name__ == "__main__":
    main()
