"""`UTCDateTime`: aware UTC in, aware UTC out; on SQLite, the text SQLite's DATETIME writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from sdconsole.storage.types import UTCDateTime

SQLITE = sqlite.dialect()
POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-9.5))])


# Bounds are naive for hypothesis; a day in from each end, so the zones do not overflow.
NAIVE_MIN = datetime.min + timedelta(days=1)  # noqa: DTZ901
NAIVE_MAX = datetime.max - timedelta(days=1)  # noqa: DTZ901


@given(st.datetimes(min_value=NAIVE_MIN, max_value=NAIVE_MAX, timezones=ZONES))
def test_sqlite_text_is_what_sqlalchemys_datetime_writes(aware: datetime) -> None:
    ours = UTCDateTime().bind_processor(SQLITE)
    theirs = DateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert ours is not None and theirs is not None
    assert ours(aware) == theirs(aware.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_refuses_what_the_column_refuses() -> None:
    process = UTCDateTime().bind_processor(SQLITE)
    assert process is not None
    assert process(None) is None
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 12, 8, 9, 0))  # noqa: DTZ001 - a naive one, refused
    with pytest.raises(TypeError, match="expected datetime"):
        process("2026-12-08 09:00:00")


def test_postgresql_is_given_aware_utc() -> None:
    moscow = datetime(2026, 12, 8, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    value = UTCDateTime().process_bind_param(moscow, POSTGRESQL)
    assert value == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert value is not None and value.tzinfo is UTC
