"""Saved queue views: own and shared, replaced by name, deleted by their owner."""

from __future__ import annotations

import pytest

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.errors import InvalidInput, PermissionDenied
from sdconsole.domain.model import Priority, Role
from sdconsole.domain.views import QueueFilter
from sdconsole.services import views
from sdconsole.storage import Store
from tests.conftest import add_engineer


def test_saved_views_are_own_or_shared(store: Store, clock: FixedClock) -> None:
    ivanov = add_engineer(store, "ivanov")
    petrov = add_engineer(store, "petrov")
    lead = add_engineer(store, "lead", Role.LEAD)
    p1 = QueueFilter(priority=Priority.P1)
    views.save_view(store, clock, ivanov, "Срочные", p1)
    views.save_view(store, clock, lead, "ККТ", QueueFilter(teams=("kkt",)), shared=True)
    views.save_view(store, clock, ivanov, "  Срочные  ", QueueFilter(priority=Priority.P2))
    mine = views.saved_views(store, ivanov)
    assert [(v.title, v.shared) for v in mine] == [("ККТ", True), ("Срочные", False)]
    assert mine[1].queue == QueueFilter(priority=Priority.P2)  # replaced by name
    assert [v.title for v in views.saved_views(store, petrov)] == ["ККТ"]
    with pytest.raises(PermissionDenied):
        views.save_view(store, clock, ivanov, "Общий", p1, shared=True)
    with pytest.raises(InvalidInput):
        views.save_view(store, clock, ivanov, "   ", p1)
    with pytest.raises(PermissionDenied):
        views.delete_view(store, petrov, mine[1].saved_id or 0)
    with pytest.raises(PermissionDenied):
        views.delete_view(store, ivanov, mine[0].saved_id or 0)
    views.delete_view(store, ivanov, mine[1].saved_id or 0)
    assert [v.title for v in views.saved_views(store, ivanov)] == ["ККТ"]
