"""Provides a self-contained runner that times django-helpdesk's own IMAP import (`get_email`).

It is the django-helpdesk side of the IMAP intake benchmark: django-helpdesk is installed from
PyPI into a virtual environment of its own (`--venv`, created when missing), a throwaway Django
project is generated in a temporary directory (SQLite, attachments and media there too), one
helpdesk `Queue` is pointed at the given IMAP mailbox, and the `get_email` management command
is run once (`call_command`) in a subprocess of that environment. Only that call is timed (it
includes django-helpdesk's IMAP connect and login). One JSON line goes to stdout; logs go to
stderr.

What django-helpdesk does with the mailbox (2.6.1, `helpdesk.email.imap_sync`): it selects the
folder read-write, fetches every message that is `NOT DELETED` with `RFC822` (which also sets
`\\Seen`), and flags each successfully imported message `\\Deleted`; at the end of the run it
EXPUNGEs. There is no keep-mail option for IMAP queues: imported mail is gone from the folder.
Messages it could not import stay in the folder. `--restore` appends the consumed messages back
after the run (untimed, with their flags and internal dates) so the same mailbox can be reused.

Nothing is sent anywhere: notification mail goes to Django's in-memory backend and the helpdesk
webhooks are switched off. The only network peers are the IMAP host and PyPI (for installing).

    python3.11 benchmarks/helpdesk_get_email.py --host 127.0.0.1 --port 1143 \\
        --user bench --password secret [--folder INBOX] [--ssl] [--restore]
"""

from __future__ import annotations

import argparse
import imaplib
import json
import logging
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HELPDESK_VERSION = "2.6.1"
# django-helpdesk 2.6.1 wants Django>=5.2; Django 6.0 needs Python 3.12, so 5.2 LTS it is.
DJANGO_VERSION = "5.2.19"
REQUIREMENTS = (f"django-helpdesk=={HELPDESK_VERSION}", f"Django=={DJANGO_VERSION}")

DEFAULT_VENV = Path(__file__).resolve().parent / "out" / "helpdesk-venv"
QUEUE_SLUG = "bench"

PIP_TIMEOUT = 900.0
MIGRATE_TIMEOUT = 600.0
PROBE_TIMEOUT = 120.0
IMAP_TIMEOUT = 60.0

# Webhook URLs are read from these variables by django-helpdesk; they never reach the children.
SCRUBBED_ENV = ("HELPDESK_NEW_TICKET_WEBHOOK_URLS", "HELPDESK_FOLLOWUP_WEBHOOK_URLS")

log = logging.getLogger("helpdesk_get_email")

SETTINGS_PY = '''\
"""Settings of the throwaway Django project that hosts django-helpdesk for the benchmark."""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
CONFIG = json.loads(Path(os.environ["HELPDESK_BENCH_CONFIG"]).read_text(encoding="utf-8"))

SECRET_KEY = "helpdesk-benchmark-throwaway-key"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1

# As django-helpdesk's installation docs list them, without the optional pinax-teams apps
# (teams mode is off below) and bootstrap4form (not a dependency of 2.x).
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "django_cleanup.apps.CleanupConfig",
    "helpdesk",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "bench_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")},
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MEDIA_ROOT = str(BASE_DIR / "media")
MEDIA_URL = "/media/"
STATIC_ROOT = str(BASE_DIR / "static")
STATIC_URL = "/static/"
LOGIN_URL = "/helpdesk/login/"

# Notifications are rendered and "sent" as usual, but into memory: no SMTP.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = CONFIG["queue_email"]
SERVER_EMAIL = CONFIG["queue_email"]

HELPDESK_TEAMS_MODE_ENABLED = False


def _no_webhooks():
    return None


HELPDESK_GET_NEW_TICKET_WEBHOOK_URLS = _no_webhooks
HELPDESK_GET_FOLLOWUP_WEBHOOK_URLS = _no_webhooks

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                   "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
'''

URLS_PY = '''\
"""URLs of the throwaway project: django-helpdesk needs its namespace to render ticket links."""

from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls"))]
'''

DRIVER_PY = '''\
"""Creates the IMAP queue, runs `get_email` once, timed, and writes what it imported."""

import json
import logging
import os
import platform
import socket
import time
from importlib import metadata
from pathlib import Path

import django


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


def main():
    config = json.loads(Path(os.environ["HELPDESK_BENCH_CONFIG"]).read_text(encoding="utf-8"))
    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket

    Queue.objects.create(
        title="IMAP intake benchmark",
        slug=config["slug"],
        email_address=config["queue_email"],
        allow_email_submission=True,
        email_box_type="imap",
        email_box_host=config["host"],
        email_box_port=config["port"],
        email_box_ssl=config["ssl"],
        email_box_user=config["user"],
        email_box_pass=config["password"],
        email_box_imap_folder=config["folder"],
        email_box_interval=0,
        logging_type=config["log_level"],
    )
    collect = Collect()
    logging.getLogger().addHandler(collect)
    # django-helpdesk opens the IMAP connection without a timeout; bound every socket wait.
    socket.setdefaulttimeout(config["socket_timeout"])
    exited = None
    start = time.perf_counter()
    try:
        call_command("get_email")
    except SystemExit as exc:  # imap_sync calls sys.exit() when the login aborts
        exited = str(exc.code)
    seconds = time.perf_counter() - start

    result = {
        "version": metadata.version("django-helpdesk"),
        "django": metadata.version("Django"),
        "python": platform.python_version(),
        "seconds": seconds,
        "followups": FollowUp.objects.count(),
        "tickets": Ticket.objects.count(),
        "attachments": FollowUpAttachment.objects.count(),
        "notifications": len(getattr(mail, "outbox", [])),
        "aborted": exited is not None
        or any("Queue processing failed" in text for _, text in collect.records),
        "exit": exited,
        "log_warnings": sum(level == logging.WARNING for level, _ in collect.records),
        "log_errors": sum(level >= logging.ERROR for level, _ in collect.records),
    }
    Path(config["result"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
'''


@dataclass
class ImapTarget:
    """Where the mailbox is and how to log in, as the queue is configured."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    use_ssl: bool

    def connect(self) -> imaplib.IMAP4:
        """Opens a logged-in connection the way django-helpdesk does (no certificate check)."""
        if self.use_ssl:
            # Mirrors imaplib's own default context, which is what django-helpdesk gets.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                self.host, self.port, ssl_context=context, timeout=IMAP_TIMEOUT
            )
        else:
            conn = imaplib.IMAP4(self.host, self.port, timeout=IMAP_TIMEOUT)
        conn.login(self.user, self.password)
        return conn


@dataclass
class Snapshot:
    """The messages present before the run, by UID, to put back the ones that were consumed."""

    uids: list[bytes] = field(default_factory=list)
    messages: dict[bytes, tuple[str, str, bytes]] = field(default_factory=dict)


def _quoted_folder(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(typ: str, data: list[object], what: str) -> None:
    if typ != "OK":
        raise RuntimeError(f"IMAP {what} failed: {data!r}")


def _live_uids(conn: imaplib.IMAP4, folder: str) -> list[bytes]:
    """Examines (read-only) the folder and returns the UIDs that are not flagged \\Deleted."""
    typ, data = conn.select(_quoted_folder(folder), readonly=True)
    _check(typ, data, f"EXAMINE {folder}")
    typ, data = conn.uid("SEARCH", "NOT", "DELETED")
    _check(typ, data, "UID SEARCH")
    return data[0].split() if data and data[0] else []


def count_live(target: ImapTarget) -> int:
    """Counts the messages get_email will look at: those in the folder not flagged \\Deleted."""
    conn = target.connect()
    try:
        return len(_live_uids(conn, target.folder))
    finally:
        conn.logout()


def take_snapshot(target: ImapTarget) -> Snapshot:
    """Reads every live message with its flags and internal date, without marking it \\Seen."""
    snap = Snapshot()
    conn = target.connect()
    try:
        snap.uids = _live_uids(conn, target.folder)
        for uid in snap.uids:
            typ, data = conn.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
            _check(typ, data, f"UID FETCH {uid!r}")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head = item[0]
                flags = [
                    f.decode()
                    for f in imaplib.ParseFlags(head)
                    if f.lower() not in (b"\\recent", b"\\deleted")
                ]
                date = re.search(rb'INTERNALDATE ("[^"]+")', head)
                snap.messages[uid] = (
                    "(" + " ".join(flags) + ")",
                    date.group(1).decode() if date else "",
                    item[1],
                )
    finally:
        conn.logout()
    return snap


def restore(target: ImapTarget, snap: Snapshot) -> int:
    """Appends back the snapshot's messages that are no longer in the folder."""
    conn = target.connect()
    restored = 0
    try:
        typ, data = conn.select(_quoted_folder(target.folder), readonly=True)
        _check(typ, data, "EXAMINE")
        typ, data = conn.uid("SEARCH", "ALL")
        _check(typ, data, "UID SEARCH")
        present = set(data[0].split()) if data and data[0] else set()
        conn.close()
        for uid in snap.uids:
            if uid in present or uid not in snap.messages:
                continue
            flags, date, raw = snap.messages[uid]
            typ, data = conn.append(_quoted_folder(target.folder), flags, date or None, raw)
            _check(typ, data, "APPEND")
            restored += 1
    finally:
        conn.logout()
    return restored


def describe_leftovers(target: ImapTarget, limit: int = 50) -> list[str]:
    """Names the messages get_email left in the folder (sequence number, Message-ID, Subject)."""
    conn = target.connect()
    lines: list[str] = []
    try:
        for uid in _live_uids(conn, target.folder)[:limit]:
            typ, data = conn.uid(
                "FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT FROM)])"
            )
            if typ != "OK":
                continue
            for item in data:
                if isinstance(item, tuple):
                    header = item[1].decode("utf-8", "replace").replace("\r\n", " ").strip()
                    lines.append(f"uid {uid.decode()}: {' '.join(header.split())[:200]}")
    finally:
        conn.logout()
    return lines


def venv_python(venv: Path) -> Path:
    """The interpreter inside the benchmark venv."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed_versions(python: Path) -> tuple[str, str] | None:
    """Returns (django-helpdesk, Django) versions installed in the venv, or None."""
    if not python.exists():
        return None
    probe = (
        "from importlib import metadata as m\n"
        "print(m.version('django-helpdesk'), m.version('Django'))"
    )
    try:
        out = subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=True,
        ).stdout.split()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    return (out[0], out[1]) if len(out) == 2 else None


def ensure_venv(venv: Path, base_python: str) -> Path:
    """Creates the venv when missing and installs the pinned django-helpdesk into it."""
    python = venv_python(venv)
    if installed_versions(python) == (HELPDESK_VERSION, DJANGO_VERSION):
        return python
    if not python.exists():
        log.info("creating venv %s with %s", venv, base_python)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [base_python, "-m", "venv", str(venv)],
            check=True,
            timeout=PROBE_TIMEOUT,
            stdout=sys.stderr,
        )
    log.info("installing %s into %s", " ".join(REQUIREMENTS), venv)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + list(REQUIREMENTS),
        check=True,
        timeout=PIP_TIMEOUT,
        stdout=sys.stderr,
    )
    if installed_versions(python) != (HELPDESK_VERSION, DJANGO_VERSION):
        raise RuntimeError(f"{venv} does not hold {' and '.join(REQUIREMENTS)} after pip")
    return python


def child_env(project: Path, config_path: Path) -> dict[str, str]:
    """Environment of the Django subprocesses: the project on the path, no webhook URLs."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(
        PYTHONPATH=str(project),
        DJANGO_SETTINGS_MODULE="bench_settings",
        HELPDESK_BENCH_CONFIG=str(config_path),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_helpdesk(python: Path, target: ImapTarget, args: argparse.Namespace) -> dict[str, object]:
    """Generates the project, migrates it and runs the timed get_email; returns the driver's
    result."""
    keep = args.keep_project
    project = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    try:
        (project / "bench_settings.py").write_text(SETTINGS_PY, encoding="utf-8")
        (project / "bench_urls.py").write_text(URLS_PY, encoding="utf-8")
        (project / "bench_driver.py").write_text(DRIVER_PY, encoding="utf-8")
        (project / "manage.py").write_text(
            "import sys\n\nfrom django.core.management import execute_from_command_line\n\n"
            "execute_from_command_line(sys.argv)\n",
            encoding="utf-8",
        )
        (project / "media").mkdir()
        result_path = project / "result.json"
        config_path = project / "bench.json"
        config = {
            "slug": QUEUE_SLUG,
            "queue_email": args.queue_email
            or (target.user if "@" in target.user else f"{target.user}@localhost"),
            "host": target.host,
            "port": target.port,
            "ssl": target.use_ssl,
            "user": target.user,
            "password": target.password,
            "folder": target.folder,
            "log_level": args.log_level,
            "socket_timeout": IMAP_TIMEOUT,
            "result": str(result_path),
        }
        config_path.touch(mode=0o600)
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = child_env(project, config_path)

        log.info("migrating the throwaway project in %s", project)
        subprocess.run(
            [str(python), "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=project,
            env=env,
            check=True,
            timeout=MIGRATE_TIMEOUT,
            stdout=sys.stderr,
        )
        log.info("running get_email against %s:%d/%s", target.host, target.port, target.folder)
        subprocess.run(
            [str(python), "bench_driver.py"],
            cwd=project,
            env=env,
            check=True,
            timeout=args.timeout,
            stdout=sys.stderr,
        )
        return dict(json.loads(result_path.read_text(encoding="utf-8")))
    finally:
        if keep:
            log.info("kept the project in %s", project)
        else:
            shutil.rmtree(project, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="default: %(default)s")
    p.add_argument("--python", default=sys.executable, help="creates the venv (default: this)")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=None, help="default: 143, or 993 with --ssl")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--folder", default="INBOX")
    p.add_argument("--ssl", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--queue-email", default=None, help="the queue's own address")
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warn", "error", "crit"),
        default="warn",
        help="the queue's logging_type (logs go to stderr; default: %(default)s)",
    )
    p.add_argument(
        "--restore",
        action="store_true",
        help="append the mails get_email consumed back to the folder afterwards (untimed)",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds for the import run")
    p.add_argument("--keep-project", action="store_true", help="keep the temporary project")
    args = p.parse_args(argv)
    if args.port is None:
        args.port = 993 if args.ssl else 143
    return args


def run(args: argparse.Namespace) -> int:
    """Runs the benchmark and prints its JSON line; returns the exit status."""
    target = ImapTarget(
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        folder=args.folder,
        use_ssl=args.ssl,
    )
    python = ensure_venv(args.venv.resolve(), args.python)

    snap = take_snapshot(target) if args.restore else None
    before = len(snap.uids) if snap else count_live(target)
    log.info("%d messages in %s before the run", before, target.folder)
    if before == 0:
        log.warning("the folder is empty: nothing to import")

    result = run_helpdesk(python, target, args)

    after = count_live(target)
    if after:
        log.warning("%d messages were left in %s (not imported):", after, target.folder)
        for line in describe_leftovers(target):
            log.warning("  %s", line)
    messages = int(result["followups"])  # type: ignore[call-overload]
    if messages != before - after:
        log.warning(
            "FollowUps (%d) differ from messages removed from the folder (%d)",
            messages,
            before - after,
        )
    if snap is not None:
        log.info("restored %d messages to %s", restore(target, snap), target.folder)

    seconds = float(result["seconds"])  # type: ignore[arg-type]
    line = {
        "tool": "django-helpdesk",
        "version": result["version"],
        "messages": messages,
        "tickets": result["tickets"],
        "seconds": round(seconds, 4),
        "rate": round(messages / seconds, 2) if seconds > 0 else None,
        "django": result["django"],
        "python": result["python"],
        "mailbox_before": before,
        "left_in_mailbox": after,
        "attachments": result["attachments"],
        "notifications": result["notifications"],
        "log_warnings": result["log_warnings"],
        "log_errors": result["log_errors"],
        "aborted": result["aborted"],
    }
    print(json.dumps(line), flush=True)
    if result["aborted"]:
        log.error("get_email aborted the queue: the figures above cover a partial run")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: logs to stderr, turns set-up failures into an exit status."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(name)s: %(message)s")
    args = parse_args(argv)
    try:
        return run(args)
    except (imaplib.IMAP4.error, OSError) as exc:
        log.error("IMAP %s:%s: %s", args.host, args.port, exc)
        return 2
    except subprocess.CalledProcessError as exc:
        log.error("%s exited with status %d", " ".join(map(str, exc.cmd)), exc.returncode)
        return 2
    except subprocess.TimeoutExpired as exc:
        log.error("%s did not finish within %.0f s", " ".join(map(str, exc.cmd)), exc.timeout)
        return 2


if __name__ == "__main__":
    sys.exit(main())
