"""`execute_many`: the same rows as SQLAlchemy's own executemany writes, on both back ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update

from sdconsole.storage import Store
from sdconsole.storage.bulk import execute_many
from sdconsole.storage.tables import Client, Device

NOW = datetime(2026, 12, 8, 9, 30, 15, 123456, tzinfo=UTC)
COLUMNS = (
    Device.model,
    Device.fn_valid_until,
    Device.fn_memory_used_pct,
    Device.fn_registrations_left,
    Device.health_at,
    Device.health_state,
    Device.is_active,
)


def _fleet(store: Store, count: int) -> None:
    with store.transaction() as session:
        session.execute(
            insert(Client),
            [
                {
                    "id": 1,
                    "kind": "site",
                    "name": "Магазин",
                    "timezone": "Asia/Yekaterinburg",
                    "is_active": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
        if not count:
            return
        session.execute(
            insert(Device),
            [
                {"site_id": 1, "kind": "kkt", "serial": f"{n:014d}", "notes": "", "is_active": True}
                for n in range(count)
            ],
        )


def _changes(first: int, count: int) -> list[dict[str, object]]:
    moscow = timezone(timedelta(hours=3))
    return [
        {
            "_id": first + n,
            "model": f"АТОЛ {n}Ф" if n % 3 else None,
            "fn_valid_until": date(2027, 1, 1) + timedelta(days=n),
            "fn_memory_used_pct": n / 7,
            "fn_registrations_left": n % 30,
            # Aware in another zone: written as UTC, as the column type writes it.
            "health_at": (NOW + timedelta(seconds=n)).astimezone(moscow) if n % 4 else None,
            "health_state": "warning" if n % 2 else "ok",
            "is_active": bool(n % 5),
        }
        for n in range(count)
    ]


def _read(store: Store, ids: range) -> list[tuple[object, ...]]:
    with store.transaction() as session:
        rows = session.execute(
            select(*COLUMNS).where(Device.id.in_(list(ids))).order_by(Device.id)
        ).all()
    return [tuple(row) for row in rows]


def test_an_update_writes_what_sqlalchemys_executemany_writes(store: Store) -> None:
    _fleet(store, 40)
    table = Device.__table__
    statement = update(table).where(table.c.id == bindparam("_id"))
    with store.transaction() as session:
        session.execute(statement, _changes(1, 20))  # Core's executemany, rows 1-20
        execute_many(session, statement, _changes(21, 20))  # the same changes, rows 21-40
    ours, theirs = _read(store, range(21, 41)), _read(store, range(1, 21))
    assert ours == theirs
    assert ours[1][4] == NOW + timedelta(seconds=1)  # aware UTC, whatever zone it came in
    assert ours[0][1] == date(2027, 1, 1) and ours[0][4] is None


def test_an_insert_writes_its_rows(store: Store) -> None:
    _fleet(store, 0)
    rows = [
        {"site_id": 1, "kind": "kkt", "serial": f"S{n}", "notes": "", "health_at": NOW}
        for n in range(3)
    ]
    with store.transaction() as session:
        execute_many(session, insert(Device), rows)
        assert session.execute(select(Device.serial, Device.health_at)).all() == [
            (f"S{n}", NOW) for n in range(3)
        ]


def test_no_rows_run_nothing_and_a_missing_key_is_named(store: Store) -> None:
    _fleet(store, 1)
    table = Device.__table__
    statement = update(table).where(table.c.id == bindparam("_id"))
    with store.transaction() as session:
        execute_many(session, statement, [])
        with pytest.raises(KeyError, match="_id"):
            execute_many(session, statement, [{"model": "АТОЛ 30Ф"}])


def test_a_statement_that_returns_rows_or_expands_a_list_is_refused(store: Store) -> None:
    _fleet(store, 1)
    table = Device.__table__
    row = {"site_id": 1, "kind": "kkt", "serial": "S", "notes": ""}
    expanding = update(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
    with store.transaction() as session:
        with pytest.raises(ValueError, match="RETURNING"):
            execute_many(session, insert(table).returning(table.c.id), [row])
        with pytest.raises(ValueError, match="expanding"):
            execute_many(session, expanding, [{"model": "АТОЛ 30Ф", "ids": [1]}])
