"""Provides `ImapMailbox`: one IMAP folder read with imapclient (blocking; run it in a thread).

It reads by UID and never marks a letter seen while fetching (``BODY.PEEK[]``); the caller says
when a letter is safely stored (`done`), and only then is it flagged, moved or deleted. IDLE is
used where the server offers it, with polling as the fallback.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError

from sdconsole.channels.base import ChannelError, FetchedMail
from sdconsole.config import MailboxSettings

log = logging.getLogger(__name__)

_NETWORK_ERRORS = (IMAPClientError, OSError, ssl.SSLError, socket.timeout, EOFError)


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying TLS context; `ca_file` adds a certificate to trust (a self-signed server)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class ImapMailbox:
    """One mailbox folder, as `MailSource` describes."""

    def __init__(self, settings: MailboxSettings, password: str, *, timeout: float = 30.0):
        self.name = settings.name
        self.settings = settings
        self._password = password
        self._timeout = timeout
        self._client: imapclient.IMAPClient | None = None
        self._can_idle = False
        self._can_move = False

    # -- connection ------------------------------------------------------------------------

    def open(self) -> int:
        s = self.settings
        context = tls_context(str(s.ca_file) if s.ca_file else None)
        port = s.port or (993 if s.security == "tls" else 143)
        try:
            client = imapclient.IMAPClient(
                s.host,
                port=port,
                ssl=s.security == "tls",
                ssl_context=context if s.security == "tls" else None,
                timeout=self._timeout,
            )
            client.normalise_times = False
            if s.security == "starttls":
                client.starttls(context)
            client.login(s.user, self._password)
            status = client.select_folder(s.folder)
            self._can_idle = s.idle and client.has_capability("IDLE")
            self._can_move = client.has_capability("MOVE")
            if s.after == "move" and not client.folder_exists(s.move_to):
                client.create_folder(s.move_to)
        except _NETWORK_ERRORS as error:
            self.close()
            raise ChannelError(f"{s.name}: {s.host}:{port}: {error}") from error
        self._client = client
        return int(status[b"UIDVALIDITY"])

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - closing a broken connection must not raise
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def client(self) -> imapclient.IMAPClient:
        if self._client is None:
            raise ChannelError(f"{self.name}: not connected")
        return self._client

    # -- reading ---------------------------------------------------------------------------

    def uids_after(self, last_uid: int) -> list[int]:
        try:
            # "n:*" always matches the newest letter, even when its UID is below n.
            found = self.client.search(["UID", f"{last_uid + 1}:*"])
        except _NETWORK_ERRORS as error:
            raise ChannelError(f"{self.name}: search: {error}") from error
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        if not uids:
            return
        try:
            found: dict[int, dict[bytes, Any]] = self.client.fetch(
                uids, [b"BODY.PEEK[]", b"INTERNALDATE"]
            )
        except _NETWORK_ERRORS as error:
            raise ChannelError(f"{self.name}: fetch: {error}") from error
        for uid in uids:
            item = found.get(uid)
            if item is None:
                continue  # expunged by someone else meanwhile
            raw = item.get(b"BODY[]")
            if not isinstance(raw, bytes):
                # The server answered without the letter: never take (or delete) it as empty.
                raise ChannelError(f"{self.name}: UID {uid} came without its body")
            when = item.get(b"INTERNALDATE")
            if isinstance(when, datetime) and when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            yield FetchedMail(
                uid=uid,
                raw=raw,
                received_at=when if isinstance(when, datetime) else None,
            )

    def done(self, uids: list[int]) -> None:
        if not uids or self.settings.after == "keep":
            return
        client = self.client
        try:
            match self.settings.after:
                case "flag":
                    client.add_flags(uids, [imapclient.SEEN])
                case "move" if self._can_move:
                    client.move(uids, self.settings.move_to)
                case "move":
                    client.copy(uids, self.settings.move_to)
                    self._delete(uids)
                case "delete":
                    self._delete(uids)
        except _NETWORK_ERRORS as error:
            raise ChannelError(f"{self.name}: {self.settings.after}: {error}") from error

    def _delete(self, uids: list[int]) -> None:
        client = self.client
        client.delete_messages(uids)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        if not self._can_idle:
            return False  # the caller sleeps; nothing to wait on
        client = self.client
        try:
            client.idle()
            try:
                responses = client.idle_check(timeout=timeout)
            finally:
                client.idle_done()
        except _NETWORK_ERRORS as error:
            raise ChannelError(f"{self.name}: idle: {error}") from error
        return any(
            len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT")
            for r in responses
            if isinstance(r, tuple)
        )

    @property
    def can_idle(self) -> bool:
        """Whether `wait` really waits on the server (else the caller polls)."""
        return self._can_idle
