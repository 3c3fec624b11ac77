"""Queue read models: the SLA state at a glance, and filters saved as JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sdconsole.domain.model import ChannelKind, Priority, Status
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.domain.views import QueueFilter, QueueRow, SlaState

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ROW = QueueRow(
    id=1,
    subject="Касса не печатает",
    status=Status.OPEN,
    priority=Priority.P2,
    line=1,
    client_name="",
    site_name="",
    assignee_login=None,
    channel=ChannelKind.EMAIL,
    received_at=NOW - timedelta(hours=1),
    due_at=NOW + timedelta(hours=1),
    version=1,
    next_alert_at=NOW + timedelta(minutes=30),
)


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, SlaState.OK),
        ({"next_alert_at": NOW - timedelta(minutes=1)}, SlaState.WARNING),  # job not run yet
        ({"warned": True, "next_alert_at": NOW + timedelta(hours=1)}, SlaState.WARNING),
        ({"due_at": NOW}, SlaState.BREACHED),
        ({"breached": True}, SlaState.BREACHED),  # an earlier clock ran out
        ({"due_at": PAUSED_DUE, "next_alert_at": None}, SlaState.PAUSED),
        ({"due_at": PAUSED_DUE, "breached": True}, SlaState.BREACHED),
    ],
)
def test_sla_state(changes: dict[str, object], state: SlaState) -> None:
    assert replace(ROW, **changes).sla_state(NOW) == state


def test_filters_round_trip_through_json() -> None:
    queue = QueueFilter(
        line=2,
        teams=("kkt", "egais"),
        breached=True,
        priority=Priority.P1,
        channel=ChannelKind.TELEGRAM,
        category="fn",
        search="ключи",
    )
    data = queue.to_json()
    assert data["teams"] == ["kkt", "egais"] and data["priority"] == 1
    assert "assignee_id" not in data  # only what is set
    assert QueueFilter.from_json(data) == queue
    assert QueueFilter.from_json({**data, "from_the_future": 1}) == queue
    assert QueueFilter().is_default and not queue.is_default
