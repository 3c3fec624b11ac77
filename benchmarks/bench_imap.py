"""Provides the IMAP intake benchmark: sdconsole against django-helpdesk on the same mailbox.

Usage::

    python benchmarks/bench_imap.py [--count 1000 10000] [--db URL] [--skip-helpdesk] [--json]

For each count it starts a private Dovecot on 127.0.0.1 (the test suite's, `tests/channels/
dovecot.py`), builds that many letters and appends the same letters to two users' INBOX. The
default mix (``--mix support``) is what a support mailbox receives: requests written as people
write them (the texts of real Russian city-service appeals, ../shared/data/appeals-spb-ru), sent
by the mailers shops use: mostly multipart/alternative with an HTML part, UTF-8 (base64 or
quoted-printable), windows-1251 or koi8-r; a signature; one in seven a reply quoting the letter
before; one in eight with a photo attached; and one in ten a real-world oddity from the mail
corpora (Zammad's and ONLYOFFICE's mails, django-helpdesk's and talon's fixtures). ``--mix
corpus`` uses only the corpora's letters (on average 54 KB, some over 1 MB). Every letter has a
Message-ID of its own, so neither tool sees duplicates. Then:

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


def appeals(limit: int = 20_000) -> list[tuple[str, str]]:
    """(subject, text) of real Russian requests."""
    import csv
    import gzip
    import io

    path = DATA / "appeals-spb-ru" / "appeals_spb.csv.gz"
    out: list[tuple[str, str]] = []
    with io.TextIOWrapper(gzip.open(path), encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["text"].strip():
                out.append((row["reason"] or row["category"], row["text"].strip()))
            if len(out) >= limit:
                break
    return out


_NAMES = ("Ольга Петрова", "Иван Смирнов", "Анна Кузнецова", "Сергей Попов", "Мария Волкова")


def support_mix(
    count: int, letters: list[bytes], *, oddities: float = 0.1, seed: int = 1
) -> list[bytes]:
    """`count` letters as a support mailbox receives them (see the module's docstring)."""
    import random
    from datetime import UTC, datetime, timedelta
    from email.message import EmailMessage
    from email.utils import format_datetime

    rng = random.Random(seed)
    requests = appeals()
    sent: list[tuple[str, str, str]] = []  # (message id, subject, text) to reply to
    out: list[bytes] = []
    start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    for n in range(count):
        if rng.random() < oddities:
            out.append(build(1, [rng.choice(letters)], first=n)[0])
            continue
        name = rng.choice(_NAMES)
        shop = rng.randint(1, 400)
        subject, text = rng.choice(requests)
        message = EmailMessage()
        message["From"] = f"{name} <shop{shop}@retail{shop % 37}.example>"
        message["To"] = "support@desk.example"
        message["Date"] = format_datetime(start + timedelta(seconds=17 * n))
        message["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex[:8]}@retail.example>"
        signature = (
            f"\n\n--\nС уважением,\n{name}\nМагазин №{shop}\nтел. +7 912 {n % 1000:03d}-45-67"
        )
        body = text + signature
        if sent and rng.random() < 1 / 7:
            earlier_id, earlier_subject, earlier_text = rng.choice(sent[-200:])
            subject = f"Re: {earlier_subject}"
            message["In-Reply-To"] = earlier_id
            quoted = "\n".join(f"> {line}" for line in earlier_text.splitlines())
            body += f"\n\n{message['Date']}, support@desk.example:\n{quoted}"
        message["Subject"] = subject
        charset = rng.choices(["utf-8", "windows-1251", "koi8-r"], [7, 2, 1])[0]
        cte = "base64" if charset == "koi8-r" or rng.random() < 0.5 else "quoted-printable"
        try:
            body.encode(charset)
        except UnicodeEncodeError:
            charset = "utf-8"
        message.set_content(body, charset=charset, cte=cte)
        if rng.random() < 0.7:
            paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines() if line)
            html = (
                "<html><head><style>p{margin:0;font-family:Arial}</style></head><body>"
                f'<div style="font-size:14px">{paragraphs}</div></body></html>'
            )
            message.add_alternative(html, subtype="html", charset="utf-8")
        if rng.random() < 1 / 8:
            photo = rng.randbytes(rng.randint(60_000, 300_000))
            message.add_attachment(
                photo, maintype="image", subtype="jpeg", filename=f"IMG_{n:04d}.jpg"
            )
        sent.append((str(message["Message-ID"]), subject.removeprefix("Re: "), text))
        out.append(message.as_bytes())
    return out


def build(count: int, letters: list[bytes], *, first: int = 0) -> list[bytes]:
    """`count` corpus letters, each with a Message-ID of its own."""
    out: list[bytes] = []
    for i in range(count):
        n = first + i
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
    parser.add_argument("--mix", choices=["support", "corpus"], default="support")
    parser.add_argument(
        "--oddities",
        type=float,
        default=0.1,
        help="share of corpus oddities in the support mix (default: %(default)s)",
    )
    parser.add_argument("--skip-helpdesk", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.channels.dovecot import Dovecot

    letters = corpus()
    rows: list[dict[str, Any]] = []
    with Dovecot() as dovecot:
        for count in args.count:
            batch = (
                support_mix(count, letters, oddities=args.oddities)
                if args.mix == "support"
                else build(count, letters)
            )
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
        report = {"machine": machine, "mix": args.mix, "runs": rows}
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"machine: {machine}; mix: {args.mix}, oddities {args.oddities}\n")
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
