"""Provides the classifier protocol, `Suggestion`, and re-exports the classifiers (pure).

* `rules.KeywordClassifier`: cold start from the catalogue's keywords;
* `features`: text normalisation and the entities of a request (ИНН, РН ККТ, ЗН ФН, phones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A category the text probably belongs to."""

    code: str
    confidence: float


class Classifier(Protocol):
    """Something that suggests incident categories for a request's text."""

    def classify(self, text: str, *, top: int = 3) -> list[Suggestion]:
        """Best categories first; empty when nothing matches."""
        ...


from sdconsole.classifier.features import normalise  # noqa: E402
from sdconsole.classifier.rules import KeywordClassifier  # noqa: E402

__all__ = ["Classifier", "KeywordClassifier", "Suggestion", "normalise"]
