"""`sdconsole workers run` and `mail fetch` as real processes: SIGTERM stops them cleanly, and
SIGKILL at any moment loses and duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sdconsole.storage import Store
from sdconsole.storage.tables import Inbound, Message, Ticket, WorkerBeat
from tests.channels.dovecot import Dovecot
from tests.channels.test_imap_intake import PASSWORD_ENV, flags, letter, write_config


def sdconsole(store: Store, *args: str, password: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, PASSWORD_ENV: password}
    return subprocess.Popen(
        [sys.executable, "-m", "sdconsole", "--db", store.url, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def scalar(store: Store, query: object) -> int:
    with store.reader() as session:
        return int(session.execute(query).scalar_one())


def test_workers_run_takes_mail_and_stops_on_sigterm(
    sqlite_store: Store, dovecot: Dovecot, mailbox: tuple[str, str], tmp_path: Path
) -> None:
    user, password = mailbox
    write_config(tmp_path / "config.toml", dovecot, user)
    dovecot.append(user, password, letter(1))
    process = sdconsole(sqlite_store, "workers", "run", "--only", "sla,imap", password=password)
    try:
        deadline = time.monotonic() + 20
        while scalar(sqlite_store, select(func.count()).select_from(Ticket)) < 1:
            assert time.monotonic() < deadline, process.stderr
            time.sleep(0.1)
        dovecot.append(user, password, letter(2))
        while scalar(sqlite_store, select(func.count()).select_from(Ticket)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err.decode()
    assert b"Stopped." in err
    with sqlite_store.reader() as session:
        names = set(session.execute(select(WorkerBeat.name)).scalars())
    assert names == {"sla", "imap:support"}


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    sqlite_store: Store, dovecot: Dovecot, mailbox: tuple[str, str], tmp_path: Path
) -> None:
    user, password = mailbox
    total = 600  # enough letters for many passes to be cut short
    write_config(tmp_path / "config.toml", dovecot, user, batch=4)
    dovecot.append_many(user, password, [letter(n) for n in range(1, total + 1)])
    rng = random.Random(20261123)
    kills = 0
    for _cycle in range(15):
        process = sdconsole(sqlite_store, "mail", "fetch", "--once", password=password)
        try:
            process.wait(timeout=rng.uniform(0.4, 1.2))  # start-up takes ~0.4 s
        except subprocess.TimeoutExpired:
            process.kill()
            kills += 1
        process.communicate(timeout=20)
        if scalar(sqlite_store, select(func.count()).select_from(Inbound)) == total:
            break
    final = sdconsole(sqlite_store, "mail", "fetch", "--once", password=password)
    _out, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()
    assert kills >= 4, kills  # the test really interrupted the intake, many times
    assert scalar(sqlite_store, select(func.count()).select_from(Inbound)) == total
    assert scalar(sqlite_store, select(func.count()).select_from(Ticket)) == total
    with sqlite_store.reader() as session:
        ids = session.execute(
            select(Message.channel_message_id, func.count())
            .where(Message.kind == "inbound")
            .group_by(Message.channel_message_id)
        ).all()
    assert len(ids) == total and all(n == 1 for _id, n in ids)
    assert flags(dovecot, user, password) == [b"\\Seen"] * total
