"""Provides the store side of routing: who is on shift and how loaded, the client's manager,
the configured rules, and the routing of a new ticket with its reasons recorded.

The decision itself is `sdconsole.domain.routing.route` (pure); docs/routing.md has the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from sdconsole.config import RoutingSettings
from sdconsole.domain.model import OPEN_STATUSES, SYSTEM, Actor, EventKind
from sdconsole.domain.routing import Candidate, Route, RouteRequest, RoutingPolicy, RoutingRule
from sdconsole.services.sla import calendar_for_row
from sdconsole.storage import repositories
from sdconsole.storage.tables import BusinessCalendar, Client, Engineer, Event, Ticket

_OPEN = [s.value for s in OPEN_STATUSES]


def policy_from(session: Session, settings: RoutingSettings) -> RoutingPolicy:
    """The configured policy, client references (external id or ИНН) resolved to their ids and
    those of every client below them."""
    rules = []
    for rule in settings.rules:
        client_ids: list[int] = []
        for ref in rule.clients:
            client = repositories.client_by_ref(session=session, ref=ref)
            if client is not None and client.id is not None:
                client_ids.append(client.id)
        if rule.clients and not client_ids:
            continue  # a rule for clients this store does not have matches nothing
        rules.append(
            RoutingRule(
                name=rule.name,
                categories=tuple(rule.categories),
                priorities=tuple(rule.priorities),
                channels=tuple(rule.channels),
                clients=tuple(client_ids),
                line=rule.line,
                team=rule.team,
                skills=tuple(rule.skills),
            )
        )
    return RoutingPolicy(
        rules=tuple(rules),
        assign=settings.assign,
        prefer_manager=settings.prefer_manager,
        max_open=settings.max_open,
    )


def raises_impact(session: Session, settings: RoutingSettings, path: Sequence[int]) -> bool:
    """Whether a client on this path is one whose requests count one impact level higher."""
    return bool(raising_clients(session, settings, path))


def candidates(session: Session, now: datetime) -> list[Candidate]:
    """Every active engineer, whether on shift now, and their open tickets."""
    engineers = list(session.exec(select(Engineer).where(col(Engineer.is_active).is_(True))))
    if not engineers:
        return []
    ids = [e.id for e in engineers if e.id is not None]
    load: dict[int, int] = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(col(Ticket.assignee_id).in_(ids), col(Ticket.status).in_(_OPEN))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    calendars: dict[int | None, BusinessCalendar] | None = None
    found = []
    for engineer in engineers:
        assert engineer.id is not None
        on_shift = engineer.on_duty
        if on_shift and engineer.shift_calendar_id is not None:
            if calendars is None:
                calendars = {row.id: row for row in session.exec(select(BusinessCalendar)).all()}
            row = calendars.get(engineer.shift_calendar_id)
            if row is not None:
                calendar = calendar_for_row(row, engineer.timezone or "Europe/Moscow")
                on_shift = calendar.seconds_between(now, now + timedelta(seconds=1)) > 0
        found.append(
            Candidate(
                engineer_id=engineer.id,
                login=engineer.login,
                lines=tuple(engineer.lines),
                teams=tuple(engineer.teams),
                skills=tuple(engineer.skills),
                on_shift=on_shift,
                open_tickets=int(load.get(engineer.id, 0)),
            )
        )
    return found


def client_path(session: Session, anchor: int | None) -> tuple[tuple[int, ...], int | None]:
    """A ticket's clients from its site (or client) up, nearest first (site, legal entity,
    chain), and the nearest technical client manager among them."""
    if anchor is None:
        return (), None
    chain = repositories.client_chain(session=session, client_id=anchor)
    ids = tuple(c.id for c in chain if c.id is not None)
    manager = next((c.manager_id for c in chain if c.manager_id is not None), None)
    return ids, manager


def route_ticket(
    session: Session,
    ticket: Ticket,
    *,
    category: str | None,
    policy: RoutingPolicy,
    now: datetime,
    clients: tuple[tuple[int, ...], int | None] | None = None,
    actor: Actor = SYSTEM,
) -> Route:
    """Route a new ticket: set its line, team and assignee and record why (a ``routed`` event).

    Args:
        clients: the ticket's `client_path`, when the caller has it already.
    """
    path, manager = clients or client_path(session, ticket.site_id or ticket.client_id)
    request = RouteRequest(
        category=category,
        line=ticket.line,
        team=ticket.team,
        priority=ticket.priority,
        channel=ticket.channel,
        clients=path,
        manager_id=manager,
    )
    decision = routing_decision(session, request, policy, now)
    ticket.line = decision.line
    ticket.team = decision.team
    if decision.assignee_id is not None:
        ticket.assignee_id = decision.assignee_id
    session.add(Event(**routed_event(ticket.id, decision, now, actor)))
    return decision


def routed_event(
    ticket_id: int | None, decision: Route, now: datetime, actor: Actor = SYSTEM
) -> dict[str, Any]:
    """The ``routed`` event of a decision, as column values."""
    return {
        "ticket_id": ticket_id,
        "at": now,
        "actor_id": actor.engineer_id,
        "kind": EventKind.ROUTED.value,
        "before": None,
        "after": decision.assignee,
        "details": {
            "line": decision.line,
            "team": decision.team,
            "rule": decision.rule,
            "reasons": [r.as_json() for r in decision.reasons],
        },
    }


def raising_clients(
    session: Session, settings: RoutingSettings, client_ids: Iterable[int]
) -> frozenset[int]:
    """Which of these clients are ones whose requests count one impact level higher (what
    `raises_impact` asks of one path, for a batch's paths at once)."""
    wanted = sorted(set(client_ids))
    if not settings.raise_impact_clients or not wanted:
        return frozenset()
    refs = settings.raise_impact_clients
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.exec(
                select(Client.id).where(
                    col(Client.id).in_(wanted[start : start + 500]),
                    or_(col(Client.external_id).in_(refs), col(Client.inn).in_(refs)),
                )
            ).all()
        )
    return frozenset(i for i in found if i is not None)


def routing_decision(
    session: Session, request: RouteRequest, policy: RoutingPolicy, now: datetime
) -> Route:
    """The decision for a request, reading the engineers only when assigning."""
    from sdconsole.domain.routing import route

    people = candidates(session, now) if policy.assign else []
    return route(request, people, policy)
