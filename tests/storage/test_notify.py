"""The change watcher: another connection's commit ends the wait; nothing else does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sdconsole.storage import Store
from sdconsole.storage.notify import ChangeWatcher
from sdconsole.storage.tables import Client

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _add_ticket(store: Store, name: str) -> None:
    from sdconsole.storage.tables import Ticket

    with store.transaction() as session:
        client = Client(kind="chain", name=name, created_at=T0, updated_at=T0)
        session.add(client)
        session.flush()
        session.add(
            Ticket(
                subject=name,
                client_id=client.id,
                channel="email",
                received_at=T0,
                created_at=T0,
                updated_at=T0,
                due_at=T0,
            )
        )


def test_a_commit_elsewhere_ends_the_wait(store: Store) -> None:
    with ChangeWatcher(store).open() as watcher:
        assert watcher.wait(0.2) is False  # nothing yet
        _add_ticket(store, "Первая")
        assert watcher.wait(5.0) is True
        assert watcher.wait(0.2) is False  # seen once
        # A commit while the watcher waits, from another thread (another connection).
        timer = threading.Timer(0.3, _add_ticket, args=(store, "Вторая"))
        timer.start()
        try:
            assert watcher.wait(5.0) is True
        finally:
            timer.join(5.0)
