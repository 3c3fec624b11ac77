"""Routing and priority: category defaults, rules, the client manager, the least-loaded engineer,
and the signals in a request's text."""

from __future__ import annotations

import pytest

from sdconsole.domain.model import Priority
from sdconsole.domain.priority import assess
from sdconsole.domain.routing import Candidate, RouteRequest, RoutingPolicy, RoutingRule, route

ENGINEERS = (
    Candidate(1, "a.smirnova", (1,), ("kkt",), open_tickets=4),
    Candidate(2, "b.orlov", (1,), ("kkt",), open_tickets=2),
    Candidate(3, "c.ivanova", (1, 2), ("kkt", "egais"), ("utm",), open_tickets=2),
    Candidate(4, "d.kim", (2,), ("egais",), ("utm",), on_shift=False),
    Candidate(5, "e.lee", (2,), ("egais",), ("utm", "chz"), open_tickets=7),
)


def request(**changes: object) -> RouteRequest:
    values: dict[str, object] = {
        "category": "kkt.atol.30f.no-print",
        "line": 1,
        "team": "kkt",
        "priority": 2,
        "channel": "email",
        "clients": (70, 7, 1),
    }
    values.update(changes)
    return RouteRequest(**values)


def reasons(decision: object) -> list[str]:
    return [r.template.format(**r.params) for r in decision.reasons]


def test_least_loaded_on_shift_in_line_and_team() -> None:
    decision = route(request(), ENGINEERS, RoutingPolicy())
    assert (decision.line, decision.team, decision.assignee) == (1, "kkt", "b.orlov")
    assert reasons(decision) == [
        "category kkt.atol.30f.no-print",
        "b.orlov has the fewest open tickets (2) on shift",
    ]


def test_the_client_manager_first_when_on_shift_and_fit() -> None:
    decision = route(request(manager_id=1), ENGINEERS, RoutingPolicy())
    assert decision.assignee == "a.smirnova"
    assert "client manager a.smirnova is on shift" in reasons(decision)
    # Off shift (d.kim) or not on the line: the least-loaded engineer, and the reason says so.
    decision = route(request(manager_id=4, line=2, team="egais"), ENGINEERS, RoutingPolicy())
    assert decision.assignee == "c.ivanova"
    assert "the client manager is not available" in reasons(decision)


def test_a_rule_overrides_line_and_team_and_requires_skills() -> None:
    policy = RoutingPolicy(
        rules=(
            RoutingRule(
                "alcohol at night",
                categories=("egais",),
                priorities=(1,),
                line=2,
                team="egais",
                skills=("chz",),
            ),
            RoutingRule("egais", categories=("egais",), line=2, team="egais", skills=("utm",)),
        )
    )
    p1 = route(request(category="egais.utm.down", priority=1), ENGINEERS, policy)
    assert (p1.line, p1.team, p1.assignee, p1.rule) == (2, "egais", "e.lee", "alcohol at night")
    p2 = route(request(category="egais.utm.down", priority=2), ENGINEERS, policy)
    assert (p2.assignee, p2.rule) == ("c.ivanova", "egais")
    assert "routing rule egais" in reasons(p2)
    # A prefix matches at a dot boundary only.
    assert route(request(category="egaisx.a"), ENGINEERS, policy).rule is None


def test_limits_and_nobody_fits() -> None:
    decision = route(request(), ENGINEERS, RoutingPolicy(max_open=2))
    assert decision.assignee is None
    assert reasons(decision)[-1] == "nobody on shift fits: left in the line's queue"
    assert route(request(), ENGINEERS, RoutingPolicy(assign=False)).assignee is None
    unclassified = route(request(category=None, team=None), ENGINEERS, RoutingPolicy())
    assert reasons(unclassified)[0] == "not classified yet" and unclassified.assignee == "b.orlov"


@pytest.mark.parametrize(
    ("impact", "urgency", "text", "only_till", "expected"),
    [
        (2, 1, "Касса не печатает чек", False, Priority.P2),
        (2, 1, "Все кассы не работают, не можем продавать!", False, Priority.P1),
        (2, 1, "Касса не печатает чек", True, Priority.P1),
        (1, 1, "На одной из касс не проходит оплата, остальные работают", False, Priority.P2),
        (2, 2, "Срочно! Стоит очередь, весы не взвешивают", False, Priority.P2),
        (2, 1, "Подскажите, как сделать чек коррекции?", False, Priority.P3),
        (3, 3, "вопрос по отчётам", False, Priority.P4),
        (2, 2, "ВСЕ КАССЫ СТОЯТ, СРОЧНО!", False, Priority.P1),  # in capitals, as typed
    ],
)
def test_priority_signals(
    impact: int, urgency: int, text: str, only_till: bool, expected: Priority
) -> None:
    assert assess(impact, urgency, text, only_till=only_till).priority is expected


def test_priority_reasons_and_contract_raise() -> None:
    result = assess(2, 2, "касса зависла", raise_impact=True)
    assert (result.impact, result.priority) == (1, Priority.P2)
    assert [r[0] for r in result.reasons] == ["the client's contract raises impact by a level"]
