"""Diagnostic cards: validation with file and step, check rules, and runs replayed from answers."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sdconsole.domain.diagnostics import (
    FAIL,
    OK,
    CardAnswer,
    CardError,
    CardProgress,
    StepKind,
    evaluate_rule,
    parse_card,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

CARD: dict[str, Any] = {
    "id": "kkt-no-print",
    "version": 2,
    "title": {"ru": "ККТ не печатает чек", "en": "Register does not print"},
    "applies_to": {"checks": []},
    "owner": "line3-kkt",
    "reviewed": date(2026, 11, 20),
    "inputs": ["kkt.model", "kkt.serial"],
    "start": "paper",
    "steps": {
        "paper": {
            "kind": "question",
            "text": {"ru": "Бумага есть?"},
            "answers": {"yes": "cover", "no": "load"},
        },
        "load": {"kind": "resolve_with", "text": "Заправьте бумагу", "next": "test"},
        "cover": {
            "kind": "action",
            "text": {"ru": "Закройте крышку до щелчка"},
            "on_ok": "test",
            "on_fail": "esc",
        },
        "test": {
            "kind": "verify",
            "text": {"ru": "Тестовый чек печатается?"},
            "on_ok": "done",
            "on_fail": "paper",
            "max_visits": 2,
            "on_exhausted": "esc",
        },
        "done": {"kind": "resolved", "resolution": "kkt.print.restored"},
        "esc": {
            "kind": "escalate",
            "to": "line2",
            "reason": {"ru": "Не печатает после проверки бумаги и крышки"},
            "attach": ["kkt.serial"],
        },
    },
}


def card(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(CARD)
    data.update(changes)
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CardError) as raised:
        parse_card(data, source="card.yaml")
    return [str(p) for p in raised.value.problems]


def test_a_valid_card() -> None:
    parsed = parse_card(card(), source="card.yaml")
    assert parsed.id == "kkt-no-print" and parsed.version == 2
    assert parsed.steps["paper"].exits == {"yes": "cover", "no": "load"}
    assert parsed.steps["test"].exits == {OK: "done", FAIL: "paper"}
    assert parsed.steps["esc"].escalation_line == 2
    assert parsed.title.get("en") == "Register does not print"
    assert parsed.steps["load"].text is not None and parsed.steps["load"].text.get("en") == (
        "Заправьте бумагу"
    )


def test_unknown_target_and_dead_end() -> None:
    data = card()
    data["steps"]["cover"]["on_ok"] = "nowhere"
    del data["steps"]["load"]["next"]
    found = problems(data)
    assert "card.yaml: step cover: unknown target step 'nowhere'" in found
    assert "card.yaml: step load: dead end: the resolve_with step needs next" in found


def test_a_loop_needs_a_verify_step_with_a_cap() -> None:
    data = card()
    del data["steps"]["test"]["on_exhausted"]
    assert any("loop paper → cover → test → paper" in p for p in problems(data))

    data = card()
    data["steps"]["cover"]["on_fail"] = "paper"  # a loop through an action step
    assert any("loop" in p and "verify" in p for p in problems(data))


def test_unreachable_step_unknown_kind_field_rule_and_keys() -> None:
    data = card()
    data["steps"]["orphan"] = {"kind": "resolved", "resolution": "x"}
    data["steps"]["odd"] = {"kind": "dance", "text": "?"}
    data["steps"]["c"] = {
        "kind": "check",
        "text": "?",
        "field": "kkt.colour",
        "rule": "soon",
        "on_ok": "done",
        "on_fail": "esc",
        "colour": "red",
    }
    data["inputs"] = ["kkt.serial", "shop.mood"]
    found = problems(data)
    assert "card.yaml: step orphan: unreachable from the start step" in found
    assert any("step odd: kind 'dance' is not one of" in p for p in found)
    assert any("step c: unknown field 'kkt.colour'" in p for p in found)
    assert any("step c: unknown rule 'soon'" in p for p in found)
    assert "card.yaml: step c: unknown key 'colour' for a check step" in found
    assert "card.yaml: unknown input field 'shop.mood'" in found


def test_yes_no_must_be_quoted_and_russian_is_required() -> None:
    data = card()
    data["steps"]["paper"]["answers"] = {True: "cover", False: "load"}
    data["title"] = {"en": "English only"}
    data["steps"]["esc"]["reason"] = {"en": "English only"}
    found = problems(data)
    assert any("quote the answers yes and no" in p for p in found)
    assert any("title needs a Russian text" in p for p in found)
    assert any("step esc: an escalation needs a reason in Russian" in p for p in found)


def test_categories_belong_to_the_catalogue() -> None:
    found = problems(card(applies_to={"categories": ["kkt.print"]}))
    assert any("the catalogue links categories to cards" in p for p in found)


def run(*answers: tuple[str, str]) -> CardProgress:
    parsed = parse_card(card(), source="card.yaml")
    return CardProgress(
        parsed, [CardAnswer(step, answer, "a.smirnova", NOW) for step, answer in answers]
    )


def test_progress_follows_the_answers_and_finishes() -> None:
    progress = run(("paper", "no"), ("load", "done"), ("test", "ok"))
    assert progress.finished and progress.step.kind is StepKind.RESOLVED
    assert progress.step.resolution == "kkt.print.restored"


def test_a_failing_verify_loops_then_takes_on_exhausted() -> None:
    progress = run(("paper", "yes"), ("cover", "ok"), ("test", "fail"))
    assert progress.current == "paper"  # first failure: back to the start
    progress = run(
        ("paper", "yes"), ("cover", "ok"), ("test", "fail"), ("paper", "yes"), ("cover", "ok")
    )
    assert progress.next_for("fail") == "esc"  # second failure of max_visits 2
    progress.record(CardAnswer("test", "fail", "a.smirnova", NOW))
    assert progress.finished and progress.step.escalation_line == 2


def test_a_stale_or_wrong_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="the run is at step paper, not cover"):
        run(("cover", "ok"))
    with pytest.raises(ValueError, match="step paper accepts yes, no, not 'maybe'"):
        run(("paper", "maybe"))
    progress = run(("paper", "yes"), ("cover", "fail"))
    with pytest.raises(ValueError, match="ended"):
        progress.next_for("ok")


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("present", "0001234", True),
        ("present", "", False),
        ("absent", None, True),
        ("future", NOW + timedelta(days=1), True),
        ("future", date(2026, 11, 1), False),
        ("past", "2026-01-01T00:00:00+00:00", True),
        ("within 30d", NOW + timedelta(days=12), True),
        ("within 30d", NOW + timedelta(days=45), False),
        ("within 30d", NOW - timedelta(days=1), False),
        (">= 15", 14.9, False),
        (">= 15", "15", True),
        ("== 0", 0, True),
        ("< 90", 95, False),
        ("true", True, True),
        ("older 72h", NOW - timedelta(hours=73), True),
        ("older 3d", NOW - timedelta(hours=71), False),
        ("newer 24h", NOW - timedelta(hours=2), True),
        ("newer 24h", "2026-11-20T00:00:00+00:00", False),
        ("future", None, None),
        (">= 15", "много", None),
        ("future", "not a date", None),
    ],
)
def test_check_rules(rule: str, value: Any, expected: bool | None) -> None:
    assert evaluate_rule(rule, value, NOW) is expected
