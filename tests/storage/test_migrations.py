"""Migrations: create from empty, repeat safely, match the table models; UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from sdconsole.storage import Store, StoreNotReady, migrate
from sdconsole.storage.tables import Client


def test_upgrade_from_empty_reaches_head_and_is_idempotent(store_url: str) -> None:
    store = Store(store_url)
    try:
        with pytest.raises(StoreNotReady):
            store.check_ready()
        store.upgrade()
        store.upgrade()
        store.check_ready()
        assert migrate.current_revision(store.engine) == migrate.head_revision(store.engine)
    finally:
        store.dispose()


def test_the_quick_head_is_alembics_head(store: Store) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(store.engine))
    assert migrate.head_revision() == script.get_current_head()


def test_migrations_match_the_table_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": migrate.include_object},
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], "tables.py and the migrations disagree; write a migration"


def test_timestamps_are_stored_in_utc_and_read_back_aware(store: Store) -> None:
    moscow = timezone(timedelta(hours=3))
    written = datetime(2026, 3, 2, 10, 15, tzinfo=moscow)
    with store.transaction() as session:
        client = Client(kind="site", name="Магазин №1", created_at=written, updated_at=written)
        session.add(client)
        session.flush()
        client_id = client.id
    with store.reader() as session:
        read = session.get(Client, client_id)
        assert read is not None
        assert read.created_at == written
        assert read.created_at is not None and read.created_at.tzinfo is not None
        assert read.created_at.utcoffset() == timedelta(0)
        assert read.created_at.hour == 7


def test_naive_timestamps_are_refused(store: Store) -> None:
    naive = datetime(2026, 3, 2, 10, 15)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive"), store.transaction() as session:
        session.add(Client(kind="site", name="x", created_at=naive, updated_at=naive))
        session.flush()


def test_sqlite_store_uses_wal_and_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_nested_transactions_join_the_outer_one(sqlite_store: Store) -> None:
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), sqlite_store.transaction() as outer:
        outer.add(Client(kind="chain", name="A", created_at=now, updated_at=now))
        with sqlite_store.transaction() as inner:
            assert inner is outer
            inner.add(Client(kind="chain", name="B", created_at=now, updated_at=now))
        raise RuntimeError("roll back both")
    with sqlite_store.reader() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Client)).scalar_one() == 0


def test_a_failing_inner_transaction_is_undone_alone(sqlite_store: Store) -> None:
    now = datetime.now(UTC)
    with sqlite_store.transaction() as outer:
        outer.add(Client(kind="chain", name="kept", created_at=now, updated_at=now))
        with pytest.raises(RuntimeError), sqlite_store.transaction() as inner:
            inner.add(Client(kind="chain", name="undone", created_at=now, updated_at=now))
            inner.flush()
            raise RuntimeError("this use case fails")
    with sqlite_store.reader() as session:
        names = session.execute(sa.select(Client.name)).scalars().all()
    assert names == ["kept"]


def test_upgrade_indexes_the_tickets_already_there(store_url: str) -> None:
    from sdconsole.domain.views import QueueFilter
    from sdconsole.storage import repositories
    from sdconsole.storage.tables import Ticket

    store = Store(store_url)
    try:
        migrate.upgrade(store.engine, "0005")
        now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        with store.transaction() as session:
            client = Client(kind="chain", name="Ёлки-Палки", created_at=now, updated_at=now)
            session.add(client)
            session.flush()
            ticket = Ticket(
                subject="Сканер не читает марки",
                client_id=client.id,
                channel="email",
                received_at=now,
                created_at=now,
                updated_at=now,
                due_at=now,
            )
            # Written as the 0005 schema knew it: today's ORM has columns 0005 lacks.
            known = {c["name"] for c in sa.inspect(session.connection()).get_columns("ticket")}
            values = {k: v for k, v in ticket.model_dump().items() if k in known and k != "id"}
            ticket.id = session.execute(
                sa.insert(Ticket.__table__).values(values).returning(Ticket.__table__.c.id)
            ).scalar_one()
            session.execute(
                sa.text(
                    "INSERT INTO message (ticket_id, kind, channel, author_name, body, created_at,"
                    " is_auto) VALUES (:ticket, 'inbound', 'email', '', :body, :at, false)"
                ),
                {"ticket": ticket.id, "body": "DataMatrix не распознаётся", "at": now},
            )
        store.upgrade()
        for words in ("елки", "сканера", "распознается", "datamatrix"):
            with store.reader() as session:
                rows = repositories.queue_page(session=session, queue=QueueFilter(search=words))
            assert [r.subject for r in rows] == ["Сканер не читает марки"], words
    finally:
        store.dispose()
