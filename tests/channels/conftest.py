"""Provides the mail fixtures: `dovecot`, one IMAP server per session, and `mailbox`, a user on it.

Without Dovecot installed every test that uses them is skipped with the way to install it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.dovecot import DOVECOT, Dovecot

NOT_INSTALLED = (
    "Dovecot is not installed: run `make test`, which installs dovecot-imapd, "
    "or apt-get install dovecot-imapd"
)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A started private Dovecot on 127.0.0.1, shared by the session and stopped at its end."""
    if not DOVECOT.is_file():
        pytest.skip(NOT_INSTALLED)
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> tuple[str, str]:
    """A fresh (user, password) on `dovecot`, with an empty INBOX that no other test sees."""
    return dovecot.add_user()
