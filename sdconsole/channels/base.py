"""Provides the contracts between channel adapters and the services that drive them.

Adapters talk to the outside world and return domain values; they never touch the store. The
intake and outbox loops in `sdconsole.services` call them from their own worker threads: every
method here is blocking and may be called from any one thread at a time (an adapter object is
not shared between threads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sdconsole.domain.outbound import OutboundMail


class ChannelError(Exception):
    """The remote side failed or could not be reached; the caller retries with backoff."""


class DeliveryError(ChannelError):
    """A letter was not accepted.

    Attributes:
        permanent: the server refused it for good (5xx: no such user, rejected); retrying
            will not help and the letter is marked as failed at once.
    """

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        """The server asked to wait this many seconds before the next attempt (Telegram 429)."""


@dataclass(frozen=True, slots=True)
class FetchedMail:
    """A letter as the mailbox holds it."""

    uid: int
    raw: bytes
    received_at: datetime | None
    """The server's INTERNALDATE (aware), when it gave one."""


class MailSource(Protocol):
    """A mailbox that intake reads (IMAP)."""

    name: str

    def open(self) -> int:
        """Connect, log in and select the folder.

        Returns:
            The folder's UIDVALIDITY.

        Raises:
            ChannelError: the server cannot be reached, refuses the login or the folder.
        """
        ...

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs of the letters after `last_uid`, ascending. Raises `ChannelError`."""
        ...

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        """The letters with these UIDs, without marking them seen. Raises `ChannelError`."""
        ...

    def done(self, uids: list[int]) -> None:
        """Letters safely stored: flag, move or delete them as configured. Raises `ChannelError`."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until new mail may have arrived (IDLE) or `timeout` seconds pass.

        Returns:
            True when the server said something arrived; False on timeout (poll anyway).
        """
        ...

    def close(self) -> None:
        """Log out; never raises."""
        ...


class MailSender(Protocol):
    """Sends letters (SMTP)."""

    def send(self, mail: OutboundMail) -> None:
        """Hand one letter to the server.

        Raises:
            DeliveryError: not accepted; `permanent` says whether a retry may succeed.
        """
        ...

    def close(self) -> None:
        """Close the connection; never raises."""
        ...
