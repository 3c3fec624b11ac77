"""Provides routing: which support line, team and engineer a new ticket goes to, and why.

The rule (docs/routing.md):

1. **Line and team** come from the ticket's category (the catalogue's defaults); the first
   routing rule of the config that matches the ticket (category prefix, priority, channel,
   client) overrides them and may require skills.
2. **The client's technical client manager** (the nearest manager up the client tree) takes the
   ticket when they are on shift, work that line, belong to that team (or have the skills), and
   are under the open-ticket limit.
3. Otherwise the **least-loaded engineer on shift** who works that line in that team and has
   the skills (fewest open tickets; ties by login).
4. Nobody fits: the ticket waits in the line's queue, unassigned.

Every decision carries its reasons as message templates with values, so the ticket can say
"line 2, team kkt: category …; client manager …" in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sdconsole.i18n import N_


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """A routing rule of the config: when it matches, it sets line, team and required skills.

    Empty conditions match anything; a category condition is a code prefix at a dot boundary
    (``egais`` matches ``egais.utm.down``, not ``egaisx``).
    """

    name: str
    categories: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    clients: tuple[int, ...] = ()
    line: int | None = None
    team: str | None = None
    skills: tuple[str, ...] = ()

    def matches(self, request: RouteRequest) -> bool:
        if self.categories and not any(
            _under(request.category, prefix) for prefix in self.categories
        ):
            return False
        if self.priorities and request.priority not in self.priorities:
            return False
        if self.channels and request.channel not in self.channels:
            return False
        return not self.clients or any(c in self.clients for c in request.clients)


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """How tickets are routed: the rules, and whether to assign at all."""

    rules: tuple[RoutingRule, ...] = ()
    assign: bool = True
    prefer_manager: bool = True
    max_open: int | None = None
    """An engineer with this many open tickets or more gets no new ones (None: no limit)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An engineer as routing sees them."""

    engineer_id: int
    login: str
    lines: tuple[int, ...]
    teams: tuple[str, ...]
    skills: tuple[str, ...] = ()
    on_shift: bool = True
    open_tickets: int = 0


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What routing knows of a new ticket.

    Attributes:
        category: the category code, None when not classified.
        line, team: the category's defaults (line 1, no team when not classified).
        clients: the ticket's client path, nearest first (site, legal entity, chain).
        manager_id: the technical client manager found up that path.
    """

    category: str | None
    line: int
    team: str | None
    priority: int
    channel: str
    clients: tuple[int, ...] = ()
    manager_id: int | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a routing decision: a message template and its values."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"template": self.template, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a ticket goes, and why."""

    line: int
    team: str | None
    assignee_id: int | None
    assignee: str | None
    reasons: tuple[Reason, ...]
    rule: str | None = None


def route(request: RouteRequest, candidates: Sequence[Candidate], policy: RoutingPolicy) -> Route:
    """Decide line, team and engineer for a new ticket (see the module docstring)."""
    line, team = request.line, request.team
    skills: tuple[str, ...] = ()
    reasons: list[Reason] = []
    if request.category:
        reasons.append(Reason(N_("category {category}"), {"category": request.category}))
    else:
        reasons.append(Reason(N_("not classified yet")))
    rule = next((r for r in policy.rules if r.matches(request)), None)
    if rule is not None:
        line = rule.line or line
        team = rule.team or team
        skills = rule.skills
        reasons.append(Reason(N_("routing rule {rule}"), {"rule": rule.name}))

    assignee: Candidate | None = None
    if policy.assign:
        fit = [
            c
            for c in candidates
            if c.on_shift
            and line in c.lines
            and (team is None or team in c.teams or (skills and set(skills) <= set(c.skills)))
            and set(skills) <= set(c.skills)
            and (policy.max_open is None or c.open_tickets < policy.max_open)
        ]
        manager = next((c for c in fit if c.engineer_id == request.manager_id), None)
        if policy.prefer_manager and manager is not None:
            assignee = manager
            reasons.append(
                Reason(N_("client manager {login} is on shift"), {"login": manager.login})
            )
        elif fit:
            assignee = min(fit, key=lambda c: (c.open_tickets, c.login))
            if request.manager_id is not None and policy.prefer_manager:
                reasons.append(Reason(N_("the client manager is not available")))
            reasons.append(
                Reason(
                    N_("{login} has the fewest open tickets ({count}) on shift"),
                    {"login": assignee.login, "count": assignee.open_tickets},
                )
            )
        else:
            reasons.append(Reason(N_("nobody on shift fits: left in the line's queue")))
    return Route(
        line=line,
        team=team,
        assignee_id=assignee.engineer_id if assignee else None,
        assignee=assignee.login if assignee else None,
        reasons=tuple(reasons),
        rule=rule.name if rule else None,
    )


def _under(code: str | None, prefix: str) -> bool:
    return code is not None and (code == prefix or code.startswith(prefix + "."))
