"""Provides the checks that the mail tests' private Dovecot works as they expect."""

from __future__ import annotations

import socket
import ssl

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.channels.dovecot import Dovecot, Security

RAW = (
    b"From: Cashier <till-7@shop.example>\r\n"
    b"To: support@desk.example\r\n"
    b"Subject: =?utf-8?b?0JrQmtCiINC90LUg0L/QtdGH0LDRgtCw0LXRgg==?=\r\n"
    b"Message-ID: <till-7.1@shop.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "Фискальный накопитель не отвечает.\r\n".encode() + b"Trailing spaces stay   \r\n"
)
"""A Russian 8-bit message with CRLF line endings, the form in which IMAP carries mail."""


def fetch_raw(client: IMAPClient, uid: int) -> bytes:
    """The message with `uid` in the selected folder, exactly as the server keeps it."""
    raw = client.fetch([uid], [b"BODY.PEEK[]"])[uid][b"BODY[]"]
    assert isinstance(raw, bytes)
    return raw


@pytest.mark.parametrize("security", ["plain", "starttls", "tls"])
def test_login(dovecot: Dovecot, mailbox: tuple[str, str], security: Security) -> None:
    with dovecot.connect(*mailbox, security=security) as client:
        client.noop()
        sock = client.socket()
        assert isinstance(sock, ssl.SSLSocket) == (security != "plain")
        if isinstance(sock, ssl.SSLSocket):
            assert sock.version() in {"TLSv1.2", "TLSv1.3"}


def test_plain_port_offers_starttls(dovecot: Dovecot) -> None:
    client = dovecot.client("plain")
    try:
        assert b"STARTTLS" in client.capabilities()
    finally:
        client.shutdown()


def test_listens_on_127_0_0_1_only(dovecot: Dovecot) -> None:
    """A server bound to every address would answer on 127.0.0.2 too (still loopback)."""
    assert dovecot.host == "127.0.0.1"
    for port in (dovecot.port, dovecot.tls_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
    assert "starting up for imap" in dovecot.log_path.read_text(encoding="utf-8")


def test_wrong_password_is_refused(dovecot: Dovecot, mailbox: tuple[str, str]) -> None:
    user, _ = mailbox
    with pytest.raises(LoginError), dovecot.connect(user, "not the password"):
        pass


def test_certificate_is_checked(dovecot: Dovecot) -> None:
    context = ssl.create_default_context()  # the system's CAs only: the self-signed one fails
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, port=dovecot.tls_port, ssl_context=context, timeout=10)


def test_append_then_fetch_is_byte_identical(dovecot: Dovecot, mailbox: tuple[str, str]) -> None:
    uid = dovecot.append(*mailbox, RAW, flags=["\\Seen"])
    assert dovecot.uids(*mailbox) == [uid]
    with dovecot.connect(*mailbox, security="tls") as client:
        client.select_folder("INBOX", readonly=True)
        assert fetch_raw(client, uid) == RAW
        assert b"\\Seen" in client.get_flags([uid])[uid]


def test_append_many_into_a_new_folder(dovecot: Dovecot, mailbox: tuple[str, str]) -> None:
    dovecot.create_folder(*mailbox, "Support/Done")
    raws = [RAW.replace(b"till-7.1", f"till-7.{n}".encode()) for n in range(2, 6)]
    uids = dovecot.append_many(*mailbox, raws, folder="Support/Done")
    assert uids == sorted(uids) and len(set(uids)) == 4
    assert dovecot.uids(*mailbox, folder="Support/Done") == uids
    assert dovecot.uids(*mailbox) == []


def test_users_see_only_their_own_mailbox(dovecot: Dovecot) -> None:
    alice, bob = dovecot.add_user(), dovecot.add_user()
    dovecot.append(*alice, RAW)
    assert len(dovecot.uids(*alice)) == 1
    assert dovecot.uids(*bob) == []
    with pytest.raises(LoginError), dovecot.connect(alice[0], bob[1]):
        pass


def test_uidvalidity_is_stable_across_connections(
    dovecot: Dovecot, mailbox: tuple[str, str]
) -> None:
    first = dovecot.uidvalidity(*mailbox)
    uid = dovecot.append(*mailbox, RAW)
    assert dovecot.uidvalidity(*mailbox) == first
    with dovecot.connect(*mailbox, security="starttls") as client:
        assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] == first
        assert fetch_raw(client, uid) == RAW
    assert dovecot.uidvalidity(*mailbox) == first
