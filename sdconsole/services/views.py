"""Provides the saved queue views: an engineer's own, and the team's shared ones.

A view is a `QueueFilter` under a name. Engineers save their own; a team lead or an
administrator may also save one for everybody (`shared`). Names are unique per owner: saving
under a name that exists replaces that view's filter.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput, NotFound, PermissionDenied
from sdconsole.domain.model import Actor
from sdconsole.domain.views import QueueFilter, QueueView
from sdconsole.i18n import N_
from sdconsole.storage import Store
from sdconsole.storage.tables import SavedView

MAX_NAME = 100


def saved_views(store: Store, actor: Actor) -> list[QueueView]:
    """The team's shared views, then the engineer's own, each in the order they were saved."""
    with store.reader() as session:
        rows = session.execute(
            select(SavedView)
            .where(or_(SavedView.engineer_id.is_(None), SavedView.engineer_id == actor.engineer_id))
            .order_by(SavedView.engineer_id.is_not(None), SavedView.position, SavedView.id)
        ).scalars()
        return [
            QueueView(
                key=f"saved:{row.id}",
                title=row.name,
                queue=QueueFilter.from_json(row.filter),
                saved_id=row.id,
                shared=row.engineer_id is None,
            )
            for row in rows
        ]


def save_view(
    store: Store, clock: Clock, actor: Actor, name: str, queue: QueueFilter, *, shared: bool = False
) -> QueueView:
    """Save (or replace) a view under `name`; `shared` views need a team lead or an admin."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(N_("A view needs a name."))
    if len(name) > MAX_NAME:
        raise InvalidInput(N_("A view's name is at most {n} characters."), n=MAX_NAME)
    if shared and not actor.role.can_manage:
        raise PermissionDenied(N_("Only a team lead shares views with the team."))
    if not shared and actor.engineer_id is None:
        raise PermissionDenied(N_("Start the console with --as LOGIN to save views."))
    owner = None if shared else actor.engineer_id
    owned = SavedView.engineer_id.is_(None) if owner is None else SavedView.engineer_id == owner
    with store.transaction() as session:
        row = session.execute(
            select(SavedView).where(owned, SavedView.name == name)
        ).scalar_one_or_none()
        if row is None:
            count = len(session.execute(select(SavedView.id).where(owned)).all())
            row = SavedView(engineer_id=owner, name=name, position=count, created_at=clock.now())
        row.filter = queue.to_json()
        session.add(row)
        session.flush()
        assert row.id is not None
        return QueueView(f"saved:{row.id}", name, queue, row.id, shared=owner is None)


def delete_view(store: Store, actor: Actor, view_id: int) -> None:
    """Delete one of the engineer's views (a shared one: team leads and admins only)."""
    with store.transaction() as session:
        row = session.get(SavedView, view_id)
        if row is None:
            raise NotFound(N_("No saved view {id}."), id=view_id)
        if row.engineer_id is None and not actor.role.can_manage:
            raise PermissionDenied(N_("Only a team lead deletes shared views."))
        if row.engineer_id is not None and row.engineer_id != actor.engineer_id:
            raise PermissionDenied(N_("This view belongs to another engineer."))
        session.delete(row)
