"""Domain rules: ticket numbers, state machine, priority matrix, SLA deadlines, threading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.errors import IllegalTransition
from sdconsole.domain.intake import InboundMessage, Sender, ticket_id_from_subject, ticket_tag
from sdconsole.domain.model import ChannelKind, Priority, Status, parse_ticket_number, ticket_number
from sdconsole.domain.priority import priority_for
from sdconsole.domain.sla import (
    DEFAULT_TARGETS,
    PAUSED_DUE,
    RoundTheClock,
    deadlines,
    queue_due,
)
from sdconsole.domain.workflow import TRANSITIONS, can_transition, check_transition

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_ticket_numbers_round_trip() -> None:
    assert ticket_number(123) == "SD-000123"
    assert parse_ticket_number("SD-000123") == 123
    assert parse_ticket_number("sd-42") == 42
    assert parse_ticket_number(" 7 ") == 7
    assert parse_ticket_number("SD-") is None
    assert parse_ticket_number("hello") is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [SD-000123] Касса", 123),
        ("Fwd: Re: [sd-000007] x [SD-000009]", 9),
        ("[ SD-12 ]", 12),
        ("SD-000123 without brackets", None),
        ("", None),
    ],
)
def test_ticket_tag_in_subject(subject: str, expected: int | None) -> None:
    assert ticket_id_from_subject(subject) == expected


def test_ticket_tag_format() -> None:
    assert ticket_tag(5) == "[SD-000005]"
    assert ticket_id_from_subject(ticket_tag(5)) == 5


def test_every_status_has_a_way_out_except_none_is_a_dead_end() -> None:
    for status in Status:
        assert TRANSITIONS[status], f"{status} is a dead end"


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Status.NEW, Status.OPEN, True),
        (Status.OPEN, Status.WAITING_CLIENT, True),
        (Status.WAITING_CLIENT, Status.OPEN, True),
        (Status.OPEN, Status.RESOLVED, True),
        (Status.RESOLVED, Status.CLOSED, True),
        (Status.CLOSED, Status.RESOLVED, False),
        (Status.CANCELLED, Status.CLOSED, False),
        (Status.NEW, Status.CLOSED, False),
        (Status.OPEN, Status.NEW, False),
        (Status.OPEN, Status.OPEN, False),
    ],
)
def test_transitions(current: Status, target: Status, allowed: bool) -> None:
    assert can_transition(current, target) is allowed
    if not allowed:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


def test_illegal_transition_message_names_both_statuses() -> None:
    with pytest.raises(IllegalTransition, match="from closed to resolved"):
        check_transition(Status.CLOSED, Status.RESOLVED)


def test_priority_matrix() -> None:
    assert priority_for(1, 1) is Priority.P1
    assert priority_for(1, 2) is Priority.P2
    assert priority_for(2, 2) is Priority.P3
    assert priority_for(3, 3) is Priority.P4
    with pytest.raises(ValueError, match="1-3"):
        priority_for(0, 1)


def test_round_the_clock_deadlines() -> None:
    due = deadlines(T0, DEFAULT_TARGETS[Priority.P1], RoundTheClock())
    assert due.registration == T0 + timedelta(minutes=15)
    assert due.response == T0 + timedelta(minutes=15)
    assert due.resolution == T0 + timedelta(hours=4)
    assert RoundTheClock().minutes_between(T0, T0 + timedelta(minutes=90)) == 90
    assert RoundTheClock().minutes_between(T0, T0 - timedelta(minutes=5)) == 0


def test_queue_due_is_the_nearest_running_clock() -> None:
    response, resolution = T0 + timedelta(minutes=30), T0 + timedelta(hours=8)
    assert (
        queue_due(response_due=response, resolution_due=resolution, responded=False, paused=False)
        == response
    )
    assert (
        queue_due(response_due=response, resolution_due=resolution, responded=True, paused=False)
        == resolution
    )
    assert (
        queue_due(response_due=response, resolution_due=resolution, responded=False, paused=True)
        == PAUSED_DUE
    )


def test_fixed_clock_refuses_naive_time_and_advances() -> None:
    clock = FixedClock(T0)
    clock.advance(timedelta(minutes=5))
    assert clock.now() == T0 + timedelta(minutes=5)
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_inbound_message_needs_aware_time_and_a_key() -> None:
    with pytest.raises(ValueError, match="aware"):
        InboundMessage(
            channel=ChannelKind.EMAIL,
            idempotency_key="k",
            received_at=datetime(2026, 1, 1),  # noqa: DTZ001
            sender=Sender(),
            subject="",
            body="",
            raw=b"",
        )
    with pytest.raises(ValueError, match="idempotency_key"):
        InboundMessage(
            channel=ChannelKind.EMAIL,
            idempotency_key="",
            received_at=T0,
            sender=Sender(),
            subject="",
            body="",
            raw=b"",
        )
