"""Provides `Dovecot`: a private Dovecot IMAP server on 127.0.0.1 for the mail tests.

The server is the real Dovecot 2.3 of Debian's `dovecot-imapd` (`make test` installs it), run
in the foreground as a child process with a configuration of its own, never as a system service:

- everything it writes (configuration, certificate, passwd-file, maildirs, sockets, PID and state
  files, log) lives in one temporary directory, removed by `stop()`; no system configuration is
  read (`-c` names ours, and it includes nothing);
- it listens on 127.0.0.1 only, on two ports free at `start()`: `port`, plain IMAP that offers
  STARTTLS, and `tls_port`, IMAPS (implicit TLS), both with the self-signed certificate made at
  start (`ca_file`, so a client can verify it);
- users live in passwd-files with plain passwords, one file per user that Dovecot reads at the
  user's first login, so `add_user()` works while the server runs and each test can have a
  mailbox of its own.

Running as root is the usual case on CI: Dovecot's own processes then run as the `dovecot` and
`dovenull` users of the package, and the mail processes as `dovecot` too, since Dovecot refuses
uid 0 for mail. Run as another user, every process is that user.

The helpers speak IMAP with imapclient, the client sdconsole itself uses. Its APPEND goes through
the standard library's imaplib, which turns bare LF and CR into CRLF: a message comes back byte for
byte when it was written with CRLF line endings, the form IMAP carries anyway.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

DOVECOT = Path("/usr/sbin/dovecot")
"""Where Debian's dovecot-core puts the server."""

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
"""Seconds `start()` waits for both ports to greet."""
STOP_TIMEOUT = 5.0
"""Seconds `stop()` waits after SIGTERM, and again after SIGKILL."""
CLIENT_TIMEOUT = 10.0
"""Seconds a helper's connection waits on any socket operation."""
START_ATTEMPTS = 3
"""Tries with fresh ports when another process took one between picking and binding it."""

Security = Literal["plain", "starttls", "tls"]
"""How a client connects: plain IMAP, plain IMAP upgraded by STARTTLS, or implicit TLS."""

_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


class DovecotError(RuntimeError):
    """The server did not start, or answered an IMAP helper unexpectedly."""


class Dovecot:
    """A private Dovecot IMAP server: `start()`, add users, put messages in, `stop()`.

    Usable as a context manager. Attributes valid after `start()`: `host`, `port` (plain IMAP
    with STARTTLS), `tls_port` (IMAPS), `ca_file` (the self-signed certificate to verify both
    against), `log_path` (Dovecot's log) and `root` (the temporary directory).
    """

    def __init__(self, executable: Path = DOVECOT) -> None:
        self.executable = executable
        self.host = HOST
        self.port = 0
        self.tls_port = 0
        self.root = Path()
        self._process: subprocess.Popen[bytes] | None = None
        self._passwords: dict[str, str] = {}

    # -- paths inside the temporary directory ------------------------------------------------

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate, PEM: the CA file a client verifies against."""
        return self.root / "cert.pem"

    @property
    def log_path(self) -> Path:
        """Dovecot's log (every process of it logs here)."""
        return self.root / "dovecot.log"

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def _users_dir(self) -> Path:
        """One passwd-file per user, named after the user."""
        return self.root / "users"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Write the configuration, start Dovecot and wait until both ports greet.

        Raises `DovecotError` with the end of the log when the server does not come up within
        `START_TIMEOUT` seconds (after up to `START_ATTEMPTS` tries with fresh ports).
        """
        if self.running:
            raise DovecotError("Dovecot is already running")
        if not self.executable.is_file():
            raise DovecotError(f"{self.executable} is missing: apt-get install dovecot-imapd")
        self.root = Path(tempfile.mkdtemp(prefix="sdconsole-dovecot-"))
        try:
            # Dovecot's unprivileged processes must reach their files: traversable, not listable.
            self.root.chmod(0o711)
            self._make_certificate()
            self._users_dir.mkdir(mode=0o755)
            for attempt in range(1, START_ATTEMPTS + 1):
                self.port, self.tls_port = _free_ports(2)
                self._write_config()
                self._launch()
                if self._wait_for_greetings(START_TIMEOUT):
                    return
                log = self._log_tail()
                self._halt()
                if "Address already in use" not in log or attempt == START_ATTEMPTS:
                    raise DovecotError(f"Dovecot did not start:\n{log}")
        except BaseException:
            self._halt()
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL, each waited on at most `STOP_TIMEOUT`).

        Removes the temporary directory with its maildirs and log. Safe to call twice.
        """
        self._halt()
        if self.root != Path() and self.root.is_dir():
            shutil.rmtree(self.root, ignore_errors=True)
        self._passwords.clear()

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- users -------------------------------------------------------------------------------

    def add_user(self, name: str | None = None) -> tuple[str, str]:
        """Add a user with a random password and an empty mailbox; return (user, password).

        Without a name the user is `user-<random hex>`, so each test can have its own. The user
        can log in at once: no restart, no wait.
        """
        user = name if name is not None else f"user-{secrets.token_hex(6)}"
        if not _USER_NAME.fullmatch(user):
            raise ValueError(f"not a usable user name: {user!r}")
        if user in self._passwords:
            raise ValueError(f"user {user!r} exists already")
        password = secrets.token_urlsafe(12)
        self._write_passwd(user, password)
        self._passwords[user] = password
        return user, password

    # -- IMAP helpers ------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts `ca_file` only and checks the host name (127.0.0.1)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, security: Security = "plain") -> IMAPClient:
        """A connected `IMAPClient`, not logged in: over TLS for "starttls" and "tls"."""
        if security == "tls":
            return IMAPClient(
                self.host,
                port=self.tls_port,
                ssl=True,
                ssl_context=self.ssl_context(),
                timeout=CLIENT_TIMEOUT,
            )
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=CLIENT_TIMEOUT)
        if security == "starttls":
            client.starttls(self.ssl_context())
        return client

    @contextlib.contextmanager
    def connect(
        self, user: str, password: str, security: Security = "plain"
    ) -> Iterator[IMAPClient]:
        """A logged-in `IMAPClient`, logged out at the end of the `with` block."""
        client = self.client(security)
        try:
            client.login(user, password)
            yield client
        finally:
            with contextlib.suppress(IMAPClientError, OSError):
                client.logout()

    def append(
        self,
        user: str,
        password: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
    ) -> int:
        """APPEND one message to `folder` (with `flags`, e.g. `\\Seen`); return its UID."""
        return self.append_many(user, password, [raw], folder, flags)[0]

    def append_many(
        self,
        user: str,
        password: str,
        raws: Iterable[bytes],
        folder: str = "INBOX",
        flags: Sequence[str] = (),
    ) -> list[int]:
        """APPEND messages over one connection, in order; return their UIDs."""
        uids: list[int] = []
        with self.connect(user, password) as client:
            for raw in raws:
                response = client.append(folder, raw, flags=flags)
                found = _APPENDUID.search(response)
                if found is None:
                    raise DovecotError(f"APPEND answered without APPENDUID: {response!r}")
                uids.append(int(found.group(2)))
        return uids

    def uids(self, user: str, password: str, folder: str = "INBOX") -> list[int]:
        """The UIDs in `folder`, ascending."""
        with self.connect(user, password) as client:
            client.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in client.search("ALL"))

    def uidvalidity(self, user: str, password: str, folder: str = "INBOX") -> int:
        """The UIDVALIDITY of `folder`, from STATUS."""
        with self.connect(user, password) as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def create_folder(self, user: str, password: str, folder: str) -> None:
        """CREATE `folder` (the hierarchy separator is `/`, as in `Support/Done`)."""
        with self.connect(user, password) as client:
            client.create_folder(folder)

    # -- internals ---------------------------------------------------------------------------

    def _accounts(self) -> tuple[str, str, str]:
        """(internal user, its group, login user) for Dovecot's own processes.

        As root: the package's `dovecot` and `dovenull`. Otherwise Dovecot cannot switch users,
        so all three are the current user and group.
        """
        if os.geteuid() == 0:
            return "dovecot", "dovecot", "dovenull"
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, grp.getgrgid(os.getegid()).gr_name, me

    def _make_certificate(self) -> None:
        """A self-signed P-256 certificate for 127.0.0.1 and localhost, valid for two days."""
        subprocess.run(
            [
                "openssl", "req", "-x509", "-nodes", "-days", "2",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-keyout", str(self.root / "key.pem"),
                "-out", str(self.ca_file),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )  # fmt: skip

    def _write_passwd(self, user: str, password: str) -> None:
        """Write `user`'s passwd-file, whole, under a temporary name renamed into place.

        One file per user: Dovecot looks at a passwd-file again at most once a second, so a user
        added to a shared file right after a login would stay unknown for up to a second; a new
        file is read at its first lookup.
        """
        staged = self._users_dir / f".{user}.new"
        staged.write_text(f"{user}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
        # Read by the auth process, which runs as the internal user when we are root.
        if os.geteuid() == 0:
            os.chown(staged, 0, grp.getgrnam(self._accounts()[1]).gr_gid)
        staged.chmod(0o640)
        staged.replace(self._users_dir / user)

    def _write_config(self) -> None:
        internal_user, internal_group, login_user = self._accounts()
        mail = pwd.getpwnam(internal_user)
        mail_root = self.root / "mail"
        mail_root.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(mail_root, mail.pw_uid, mail.pw_gid)
        for sub in ("run", "state"):
            (self.root / sub).mkdir(mode=0o755, exist_ok=True)
        root = self.root
        config = f"""\
# Written by tests/channels/dovecot.py for one test session; nothing else is read.
protocols = imap
listen = {self.host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = {root.name}
log_path = {self.log_path}
info_log_path = {self.log_path}
auth_verbose = yes
# A refused login answers within half a second (default: 2 s), and does not slow down the logins
# that follow from 127.0.0.1: the auth penalty (2 to 15 s per address; login_trusted_networks
# does not lift it in 2.3) is off when the auth process cannot reach its anvil socket, which the
# listener's mode 0 below ensures.
auth_failure_delay = 0
shutdown_clients = yes

# Started as root, the master's helpers run as the package's users, and mail processes as the
# internal user: Dovecot refuses uid 0 for mail, and first_valid_uid (default 500) must admit it.
# Started as anyone else, all of these are that user.
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_uid = {mail.pw_uid}
mail_gid = {mail.pw_gid}
first_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}

ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{root}/key.pem
auth_mechanisms = plain login
disable_plaintext_auth = no

mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self._users_dir}/%u
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={mail_root}/%u
}}

# No chroot: only root may chroot, and these throwaway processes gain nothing from it.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
"""
        self.config_path.write_text(config, encoding="utf-8")

    def _launch(self) -> None:
        with open(self.root / "stderr.log", "ab") as stderr:
            # A session of its own, so `_halt()` can end every Dovecot process and only those.
            self._process = subprocess.Popen(
                [str(self.executable), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )

    def _wait_for_greetings(self, timeout: float) -> bool:
        """True once both ports answer `* OK`; False if Dovecot exits or `timeout` runs out."""
        deadline = time.monotonic() + timeout
        pending = [self.port, self.tls_port]
        while pending and time.monotonic() < deadline:
            if not self.running:
                return False
            port = pending[0]
            if _greets(self.host, port, port == self.tls_port, self.ssl_context()):
                pending.pop(0)
            else:
                time.sleep(0.05)
        return not pending

    def _halt(self) -> None:
        """End the server's processes, SIGTERM then SIGKILL, each step bounded in time.

        They all share the session `_launch()` opened, whose id is the master's pid. SIGTERM goes
        to each of them at once: sent to the master alone, it takes a second or two to stop its
        children.
        """
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)
        # The master is gone; a child still shutting down would write into the directory.
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        _signal_group(process.pid, signal.SIGKILL)

    def _log_tail(self, lines: int = 30) -> str:
        text = ""
        for path in (self.root / "stderr.log", self.log_path):
            with contextlib.suppress(OSError):
                text += path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(no log)"


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports on 127.0.0.1 that are free now (held open together while picked)."""
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


def _greets(host: str, port: int, tls: bool, context: ssl.SSLContext) -> bool:
    """Whether `port` answers with an IMAP `* OK` greeting (through TLS when `tls`)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as raw:
            if tls:
                with context.wrap_socket(raw, server_hostname=host) as wrapped:
                    return wrapped.recv(64).startswith(b"* OK")
            return raw.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
