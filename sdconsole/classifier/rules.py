"""Provides the cold-start classifier: the catalogue's keywords scored against a request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sdconsole.classifier import Suggestion
from sdconsole.classifier.features import normalise


class KeywordClassifier:
    """Scores categories by the catalogue keywords (word prefixes) found in the text.

    A keyword matches a word that starts with it, which covers Russian endings
    ("фискальн" → "фискального", "фискальный"). Confidence is the share of the best category's
    keywords present, raised when several keywords agree.
    """

    def __init__(self, keywords: dict[str, Sequence[str]]) -> None:
        self._keywords = {
            code: [tuple(normalise(k)) for k in words if normalise(k)]
            for code, words in keywords.items()
            if words
        }

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, Sequence[str]]]) -> KeywordClassifier:
        """Build from ``(code, keywords)`` pairs."""
        return cls({code: list(words or ()) for code, words in rows})

    def classify(self, text: str, *, top: int = 3) -> list[Suggestion]:
        words = normalise(text)
        if not words:
            return []
        scored: list[Suggestion] = []
        for code, phrases in self._keywords.items():
            hits = sum(1 for phrase in phrases if _contains(words, phrase))
            if hits:
                confidence = min(1.0, 0.4 + 0.2 * hits + 0.2 * hits / len(phrases))
                scored.append(Suggestion(code, round(confidence, 3)))
        scored.sort(key=lambda s: (-s.confidence, s.code))
        return scored[:top]


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    for i in range(len(words) - n + 1):
        if all(words[i + j].startswith(phrase[j]) for j in range(n)):
            return True
    return False
