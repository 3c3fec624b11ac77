"""The incident catalogue model: inheritance, templates and validation with file and node."""

from __future__ import annotations

from typing import Any

import pytest

from sdconsole.domain.catalogue import (
    CatalogueError,
    CatalogueSource,
    Names,
    build_catalogue,
)

TEAMS = {"kkt": Names("ККТ", "Registers"), "pos": Names("Кассовое ПО", "POS software")}


def area(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "kkt",
        "name": {"ru": "ККТ", "en": "Registers"},
        "defaults": {"impact": 2, "urgency": 2, "line": 1, "team": "kkt"},
        "keywords": ["касс"],
        "templates": {
            "faults": [
                {
                    "code": "no-print",
                    "name": {"ru": "не печатает чек", "en": "does not print"},
                    "urgency": 1,
                    "card": "kkt-no-print",
                    "keywords": ["не печата"],
                },
                {
                    "code": "no-power",
                    "name": {"ru": "не включается", "en": "does not power on"},
                    "keywords": ["не включа"],
                },
            ]
        },
        "children": [
            {
                "code": "atol",
                "name": {"ru": "АТОЛ", "en": "ATOL"},
                "keywords": ["атол"],
                "children": [
                    {
                        "code": "30f",
                        "name": {"ru": "АТОЛ 30Ф", "en": "ATOL 30F"},
                        "include": "faults",
                    },
                    {
                        "code": "sigma",
                        "name": {"ru": "Sigma", "en": "Sigma"},
                        "team": "pos",
                        "line": 2,
                        "include": "faults",
                    },
                ],
            },
            {
                "code": "rereg",
                "name": {"ru": "Перерегистрация", "en": "Re-registration"},
                "impact": 3,
                "urgency": 3,
                "description": {"ru": "Смена ОФД, адреса или ФН."},
                "keywords": ["перерегистр"],
            },
        ],
    }
    data.update(overrides)
    return data


def build(*sources: Any, cards: set[str] | None = None) -> Any:
    return build_catalogue(
        [CatalogueSource(f"{i}.yaml", data) for i, data in enumerate(sources)],
        teams=TEAMS,
        cards={"kkt-no-print"} if cards is None else cards,
    )


def test_codes_names_and_inherited_values() -> None:
    catalogue = build(area())

    leaf = catalogue.get("kkt.atol.30f.no-print")
    assert leaf is not None and leaf.leaf
    assert leaf.names == Names("АТОЛ 30Ф: не печатает чек", "ATOL 30F: does not print")
    assert (leaf.impact, leaf.urgency, leaf.line, leaf.team) == (2, 1, 1, "kkt")
    assert leaf.card == "kkt-no-print"
    # The template item sets card on its own node only: the sibling has none.
    assert catalogue.get("kkt.atol.30f.no-power").card is None
    sigma = catalogue.get("kkt.atol.sigma.no-power")
    assert sigma is not None and (sigma.team, sigma.line) == ("pos", 2)
    rereg = catalogue.get("kkt.rereg")
    assert rereg is not None and rereg.description == "Смена ОФД, адреса или ФН."
    assert not catalogue.get("kkt.atol").leaf


def test_tree_navigation_and_stats() -> None:
    catalogue = build(area())

    assert [n.code for n in catalogue.areas] == ["kkt"]
    assert [n.code for n in catalogue.ancestors("kkt.atol.30f.no-print")] == [
        "kkt",
        "kkt.atol",
        "kkt.atol.30f",
    ]
    assert catalogue.path_names("kkt.atol.30f", "en") == "Registers › ATOL › ATOL 30F"
    stats = catalogue.stats()
    assert stats["nodes"] == 9
    assert stats["leaves"] == 5
    assert stats["levels"] == {"1": 1, "2": 2, "3": 2, "4": 4}
    assert stats["areas"]["kkt"] == {"nodes": 9, "leaves": 5, "with_card": 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "KKT"}, "code 'KKT' must be lower-case"),
        ({"name": {"ru": "ККТ"}}, "kkt: name needs both ru and en"),
        ({"defaults": {"impact": 4, "urgency": 2, "line": 1, "team": "kkt"}}, "impact must be"),
        ({"defaults": {"impact": 2, "urgency": 2, "line": 1, "team": "hr"}}, "team 'hr' is not"),
        ({"colour": "red"}, "kkt: unknown key 'colour'"),
    ],
)
def test_problems_name_the_file_and_node(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError) as raised:
        build(area(**change))
    assert any(message in str(p) for p in raised.value.problems), raised.value.problems
    assert all(str(p).startswith("0.yaml:") for p in raised.value.problems)


def test_unknown_card_template_and_missing_keywords_are_reported_together() -> None:
    data = area()
    data["children"][0]["children"][0]["include"] = "no-such-template"
    data["children"][1]["keywords"] = []
    with pytest.raises(CatalogueError) as raised:
        build(data, cards=set())
    text = str(raised.value)
    assert "kkt.atol.30f: unknown template 'no-such-template'" in text
    assert "kkt.atol.sigma.no-print: card 'kkt-no-print' does not exist" in text
    assert "kkt.rereg: an incident type needs keywords" in text


def test_duplicate_codes_across_files() -> None:
    other = {
        "code": "kkt",
        "name": {"ru": "ККТ", "en": "Registers"},
        "defaults": {"impact": 2, "urgency": 2, "line": 1, "team": "kkt"},
        "keywords": ["касс"],
    }
    with pytest.raises(CatalogueError) as raised:
        build(area(), other)
    assert "1.yaml: kkt: duplicate code (first in 0.yaml)" in str(raised.value)


def test_template_defined_twice() -> None:
    second = area(code="pos", children=[])
    with pytest.raises(CatalogueError, match="template defined again"):
        build(area(), second)
