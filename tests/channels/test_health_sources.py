"""Health reports over HTTP (POST /v1/health with a bearer token) and from a spool folder."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sdconsole.channels.healthchecks import HealthEndpoint, body_lines
from sdconsole.domain.clock import FixedClock
from sdconsole.services.intake import IntakeService
from sdconsole.services.monitoring import Monitoring, take_spool
from sdconsole.storage import Store
from tests.services.test_monitoring import line, seed, tickets

TOKEN = "s3cret-token-of-atol"


@pytest.fixture
def fleet(sqlite_store: Store, clock: FixedClock) -> None:
    seed(sqlite_store, clock)


@pytest.fixture
def endpoint(sqlite_store: Store, clock: FixedClock, fleet: None) -> Iterator[HealthEndpoint]:
    monitoring = Monitoring(sqlite_store, clock, IntakeService(sqlite_store, clock))

    def take(source: str, lines: Sequence[bytes]) -> dict[str, Any]:
        summary = monitoring.ingest_lines(lines)
        return {**summary.as_json(), "source": source,
                "refused": [n for n, _r in summary.errors]}  # fmt: skip

    server = HealthEndpoint("127.0.0.1", 0, {"atol": TOKEN}, take, max_bytes=10_000)
    stop = threading.Event()
    thread = threading.Thread(target=server.serve, args=(stop,))
    thread.start()
    yield server
    stop.set()
    thread.join(10)


def post(server: HealthEndpoint, body: bytes, token: str | None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/v1/health", data=body, method="POST"
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_endpoint_takes_reports_from_known_sources_only(
    endpoint: HealthEndpoint, sqlite_store: Store, clock: FixedClock
) -> None:
    t0 = clock.now() - timedelta(minutes=10)
    body = line(t0, host={"disk_used_pct": 96}) + b"\n{broken\n"
    assert post(endpoint, body, None)[0] == 401
    assert post(endpoint, body, "guess")[0] == 401
    status, counts = post(endpoint, body, TOKEN)
    assert status == 200
    assert counts["source"] == "atol" and counts["tickets_opened"] == 1
    assert counts["refused"] == [2]
    assert post(endpoint, b"x" * 20_000, TOKEN)[0] == 413
    assert post(endpoint, b"\xff\xfe", TOKEN)[0] == 400
    # One object, or an array, are taken too.
    status, counts = post(endpoint, json.dumps([]).encode(), TOKEN)
    assert status == 200 and counts["lines"] == 0
    assert len(tickets(sqlite_store)) == 1


def test_body_lines_accepts_lines_an_object_or_an_array() -> None:
    assert body_lines(b'{"a": 1}\n\n{"b": 2}\n') == [b'{"a": 1}', b'{"b": 2}']
    assert body_lines(b'[{"a": 1}, {"b": 2}]') == [b'{"a": 1}', b'{"b": 2}']


def test_the_spool_folder(
    sqlite_store: Store, clock: FixedClock, fleet: None, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    t0 = clock.now() - timedelta(minutes=10)
    (spool / "a.jsonl").write_bytes(line(t0, host={"disk_used_pct": 96}) + b"\n")
    (spool / "b.jsonl").write_bytes(b"{broken\n")
    (spool / "c.jsonl.part").write_bytes(b"being written")
    assert take_spool(sqlite_store, clock, spool) == 1
    assert sorted(p.name for p in (spool / "done").iterdir()) == ["a.jsonl"]
    assert sorted(p.name for p in (spool / "failed").iterdir()) == ["b.jsonl"]
    assert (spool / "c.jsonl.part").exists()
    assert len(tickets(sqlite_store)) == 1
    # The same file again (a crash before the move): its reports are replays.
    (spool / "a.jsonl").write_bytes((spool / "done" / "a.jsonl").read_bytes())
    assert take_spool(sqlite_store, clock, spool) == 0
    assert len(tickets(sqlite_store)) == 1
    assert (spool / "done" / "a.1.jsonl").exists()
