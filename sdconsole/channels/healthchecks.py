"""Provides the sources of health reports: the HTTP endpoint and the spool folder.

Both hand JSON lines to a callback (the monitoring service) and know nothing of the store.

- `HealthEndpoint`: ``POST /v1/health`` with ``Authorization: Bearer TOKEN`` (one token per
  source) and a body of JSON lines (or one JSON object, or a JSON array). It answers 200 with the
  callback's counts, 401 without a valid token, 413 over the size limit, 400 for a body that is
  not UTF-8. A standard-library threading server: run `serve` in a worker thread.
- `spool_files`: the ``*.jsonl`` files waiting in a folder, oldest first; `finish` moves one to
  ``done/`` or ``failed/`` after it was taken.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Take = Callable[[str, Sequence[bytes]], dict[str, Any]]
"""The callback: (source name, lines) → counts to answer with. Raises to answer 500."""


def body_lines(body: bytes) -> list[bytes]:
    """The JSON lines of a body: lines, or one object, or an array of objects.

    Raises:
        ValueError: the body is not UTF-8.
    """
    text = body.decode("utf-8")
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError:
            return [line.encode() for line in text.splitlines()]
        if isinstance(items, list):
            return [json.dumps(item, ensure_ascii=False).encode() for item in items]
    return [line.encode() for line in text.splitlines() if line.strip()]


class HealthEndpoint:
    """The ``POST /v1/health`` endpoint."""

    def __init__(
        self, host: str, port: int, tokens: dict[str, str], take: Take, *, max_bytes: int
    ) -> None:
        """
        Args:
            host, port: where to listen (port 0: a free one; see `port`).
            tokens: source name → its bearer token.
            take: what to do with a source's lines.
            max_bytes: the largest body accepted.
        """
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "sdconsole"

            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                endpoint._post(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("health endpoint: " + format, *args)

        self._tokens = tokens
        self._take = take
        self._max = max_bytes
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def serve(
        self,
        stop: threading.Event,
        tick: Callable[[], None] | None = None,
        every: float = 30.0,
    ) -> None:
        """Answer requests until `stop` is set (checked twice a second); `tick` is called
        every `every` seconds (the worker's heartbeat)."""
        self.server.timeout = 0.5
        next_tick = 0.0
        try:
            while not stop.is_set():
                if tick is not None and time.monotonic() >= next_tick:
                    tick()
                    next_tick = time.monotonic() + every
                self.server.handle_request()
        finally:
            self.server.server_close()

    def _source(self, header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return None
        given = header[len("Bearer ") :].strip()
        for name, token in self._tokens.items():
            if token and hmac.compare_digest(given.encode(), token.encode()):
                return name
        return None

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.rstrip("/") != "/v1/health":
            _answer(request, HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        source = self._source(request.headers.get("Authorization"))
        if source is None:
            _answer(request, HTTPStatus.UNAUTHORIZED, {"error": "a valid bearer token is needed"})
            return
        try:
            length = int(request.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > self._max:
            _answer(request, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        body = request.rfile.read(length)
        try:
            lines = body_lines(body)
        except UnicodeDecodeError:
            _answer(request, HTTPStatus.BAD_REQUEST, {"error": "the body is not UTF-8"})
            return
        try:
            counts = self._take(source, lines)
        except Exception:  # noqa: BLE001 - the sender retries; the worker goes on
            log.exception("health reports from %s could not be taken", source)
            _answer(request, HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "not stored; retry"})
            return
        _answer(request, HTTPStatus.OK, counts)


def _answer(request: BaseHTTPRequestHandler, status: HTTPStatus, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


def spool_files(folder: Path) -> Iterator[Path]:
    """The ``*.jsonl`` files waiting in `folder`, oldest first (a file being written is
    expected under another name and renamed when complete)."""
    if not folder.is_dir():
        return
    waiting = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix == ".jsonl"),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    yield from waiting


def finish(path: Path, *, failed: bool) -> Path:
    """Move a taken spool file to ``done/`` (or ``failed/``); returns where it went."""
    target_dir = path.parent / ("failed" if failed else "done")
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    counter = 1
    while target.exists():
        target = target_dir / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    os.replace(path, target)
    return target
