"""Provides `SmtpServer`: an aiosmtpd server on 127.0.0.1 that keeps what it receives.

A test can make it answer every DATA with a temporary (4xx) or permanent (5xx) refusal, or stop
and start it to stage an outage.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class _Handler:
    received: list[Envelope] = field(default_factory=list)
    answer: str | None = None
    """When set, every letter gets this reply instead of 250 (e.g. ``"451 try later"``)."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.answer is not None:
            return self.answer
        self.received.append(envelope)
        return "250 OK"


class SmtpServer:
    """One SMTP server on a free loopback port."""

    def __init__(self) -> None:
        self.handler = _Handler()
        self.host = "127.0.0.1"
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            self.port = int(probe.getsockname()[1])
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Message]:
        """The letters received, parsed."""
        out: list[Message] = []
        for envelope in self.handler.received:
            content: Any = envelope.content
            data = content if isinstance(content, bytes) else str(content).encode()
            out.append(email.message_from_bytes(data, policy=email.policy.default))
        return out

    def refuse(self, answer: str | None) -> None:
        """Answer every letter with `answer` from now on (None: accept again)."""
        self.handler.answer = answer
