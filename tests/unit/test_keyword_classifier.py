"""The cold-start keyword classifier: leaves only, ancestors rank, ties are left to a person."""

from __future__ import annotations

from sdconsole.classifier.rules import KeywordClassifier

ROWS = [
    ("kkt", ["касс", "ккт"], None),
    ("kkt.atol", ["атол", "atol"], "kkt"),
    ("kkt.atol.30f", ["30ф"], "kkt.atol"),
    ("kkt.atol.30f.no-print", ["не печата", "чек не выход"], "kkt.atol.30f"),
    ("kkt.shtrih", ["штрих"], "kkt"),
    ("kkt.shtrih.m01f", ["м-01ф", "01ф"], "kkt.shtrih"),
    ("kkt.shtrih.m01f.no-print", ["не печата"], "kkt.shtrih.m01f"),
    ("fn", ["фн"], None),
    ("fn.expiry", ["срок фн", "замен фн", "фн заканчива"], "fn"),
]


def test_the_model_in_the_text_decides_between_equal_faults() -> None:
    classifier = KeywordClassifier.from_rows(ROWS)
    found = classifier.classify("Касса АТОЛ 30Ф не печатает чеки")
    assert found[0].code == "kkt.atol.30f.no-print"
    assert found[0].confidence > found[1].confidence
    assert found[1].code == "kkt.shtrih.m01f.no-print"


def test_a_tie_is_not_confident() -> None:
    found = KeywordClassifier.from_rows(ROWS).classify("не печатает")
    assert {s.code for s in found} == {"kkt.atol.30f.no-print", "kkt.shtrih.m01f.no-print"}
    assert all(s.confidence < 0.5 for s in found)


def test_only_leaves_are_suggested_and_short_keywords_work() -> None:
    classifier = KeywordClassifier.from_rows(ROWS)
    assert [s.code for s in classifier.classify("Добрый день, скоро заканчивается срок ФН")] == [
        "fn.expiry"
    ]
    assert classifier.classify("касса атол") == []  # ancestors alone suggest nothing
    assert classifier.classify("") == []


def test_flat_keywords_still_work() -> None:
    classifier = KeywordClassifier({"print": ["не печата", "бумаг"], "scales": ["весы"]})
    found = classifier.classify("не печатает, бумага есть")
    assert found[0].code == "print" and found[0].confidence == 1.0
