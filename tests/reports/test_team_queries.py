"""The CSAT, load and volume queries give the same figures on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import ChannelKind
from sdconsole.domain.reporting import ReportGroup, ReportScope
from sdconsole.services.ratings import RatingService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.team_reports import load_figures, ratings, volume_figures
from tests.conftest import NOW, add_engineer
from tests.reports import world

SCOPE = ReportScope(
    start=datetime(2026, 10, 25, tzinfo=UTC), end=datetime(2026, 11, 24, tzinfo=UTC)
)


def test_team_report_queries_on_both_back_ends(store: Store, clock: FixedClock) -> None:
    ids = world.build(store, clock)
    engineer = add_engineer(store, "petrov")
    RatingService(store, clock).record(ids["met"], 5, actor=engineer, channel=ChannelKind.PHONE)
    RatingService(store, clock).record(ids["late"], 1, actor=engineer, channel=ChannelKind.PHONE)
    clock.set(NOW - timedelta(hours=1))
    TicketService(store, clock).log_time(ids["silent"], 25, actor=engineer)
    clock.set(NOW)
    with store.reader() as session:
        rated, labels = ratings(session=session, scope=SCOPE, by=ReportGroup.PRIORITY)
        load, logins = load_figures(session=session, scope=SCOPE, by="engineer")
        days, _ = volume_figures(session=session, scope=SCOPE, by="day")
        lines, _ = volume_figures(session=session, scope=SCOPE, by="line")
    assert sorted((r.key, r.score, r.follow_up) for r in rated) == [(1, 1, "open"), (2, 5, None)]
    assert labels == {}
    by_login = {logins[k]: f for k, f in load.items()}
    assert by_login["petrov"].minutes == 25 and by_login["petrov"].resolved == 0
    assert by_login["ivanov"].resolved == 2 and by_login["ivanov"].taken == 3
    assert {k: f.received for k, f in days.items()} == {"2026-11-21": 6, "2026-11-23": 1}
    assert sum(f.received for f in lines.values()) == 7
