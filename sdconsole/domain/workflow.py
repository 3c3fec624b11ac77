"""Provides the ticket state machine: which status changes are allowed, and by whom."""

from __future__ import annotations

from sdconsole.domain.errors import IllegalTransition
from sdconsole.domain.model import Status
from sdconsole.i18n import N_

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {
            Status.OPEN,
            Status.WAITING_CLIENT,
            Status.WAITING_VENDOR,
            Status.RESOLVED,
            Status.CANCELLED,
        }
    ),
    Status.OPEN: frozenset(
        {Status.WAITING_CLIENT, Status.WAITING_VENDOR, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.WAITING_CLIENT: frozenset(
        {Status.OPEN, Status.WAITING_VENDOR, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.WAITING_VENDOR: frozenset(
        {Status.OPEN, Status.WAITING_CLIENT, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
    Status.CANCELLED: frozenset({Status.OPEN}),
}
"""Allowed moves. Reopening (→ open from resolved/closed/cancelled) is its own service action."""


def check_transition(current: Status, target: Status) -> None:
    """Raise `IllegalTransition` unless `current → target` is allowed.

    Raises:
        IllegalTransition: with both statuses named in the message.
    """
    if target == current:
        raise IllegalTransition(N_("The ticket is already {status}."), status=current.label)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            N_("A ticket cannot go from {current} to {target}."),
            current=current.label,
            target=target.label,
        )


def can_transition(current: Status, target: Status) -> bool:
    """Whether `current → target` is allowed."""
    return target != current and target in TRANSITIONS[current]
