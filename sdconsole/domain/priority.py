"""Provides the impact × urgency priority matrix (ITIL; DOMAIN.md §4)."""

from __future__ import annotations

from sdconsole.domain.model import Priority

IMPACT_LEVELS = (1, 2, 3)
"""1 high (store cannot sell), 2 medium (one of several tills), 3 low (one user, a question)."""
URGENCY_LEVELS = (1, 2, 3)
"""1 high (now), 2 medium (today), 3 low (can be planned)."""

_MATRIX: dict[tuple[int, int], Priority] = {
    (1, 1): Priority.P1,
    (1, 2): Priority.P2,
    (1, 3): Priority.P3,
    (2, 1): Priority.P2,
    (2, 2): Priority.P3,
    (2, 3): Priority.P4,
    (3, 1): Priority.P3,
    (3, 2): Priority.P4,
    (3, 3): Priority.P4,
}


def priority_for(impact: int, urgency: int) -> Priority:
    """Priority from impact and urgency (1 = high … 3 = low); P5 of the ITIL table folds into P4.

    Raises:
        ValueError: for levels outside 1–3.
    """
    try:
        return _MATRIX[(impact, urgency)]
    except KeyError:
        raise ValueError(f"impact and urgency must be 1-3, got {impact}, {urgency}") from None
