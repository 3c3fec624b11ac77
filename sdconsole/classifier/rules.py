"""Provides the cold-start classifier: the catalogue's keywords scored against a request.

A keyword matches a word that starts with it, which covers Russian endings ("фискальн" →
"фискального", "фискальный"); a keyword of several words matches consecutive words. Only leaf
categories (incident types) are suggested. A leaf's own keywords decide whether it is a
candidate; its ancestors' keywords (the model, the product, the area) rank the candidates, so
"АТОЛ 30Ф не печатает" prefers the 30Ф's printing fault over the same fault of other models.

Keywords are indexed by their first letters, so a request is compared only with the keywords
that can match its words, not with the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sdconsole.classifier import Suggestion
from sdconsole.classifier.features import normalise

_KEY = 3
"""Keywords are indexed by the first this-many letters of their first word."""

TIE_FACTOR = 0.45
"""Confidence of candidates that rank equal first: under 0.5 even at full confidence."""


class KeywordClassifier:
    """Suggests leaf categories by the keywords found in a text.

    Candidates rank by the own keywords found plus half the ancestor keywords found.
    Confidence: 0.4, plus 0.2 per distinct own keyword found (and 0.2 × the share of the
    leaf's keywords found), plus 0.1 per ancestor keyword found, capped at 1; when the best
    two candidates rank the same, the tied ones are scaled by `TIE_FACTOR`, below any sensible
    threshold (the text does not decide between them, so intake leaves the choice to an
    engineer).
    """

    def __init__(
        self,
        keywords: Mapping[str, Sequence[str]],
        *,
        parents: Mapping[str, str | None] | None = None,
    ) -> None:
        """
        Args:
            keywords: each category's keywords.
            parents: each category's parent code; categories that are a parent of another are
                not suggested, and their keywords count for their descendants.
        """
        parents = dict(parents or {})
        inner = {p for p in parents.values() if p is not None}
        self._phrases: list[tuple[str, ...]] = []
        phrase_ids: dict[tuple[str, ...], int] = {}
        own: dict[str, list[int]] = {}
        for code, words in keywords.items():
            ids = []
            for keyword in words or ():
                phrase = tuple(normalise(keyword))
                if not phrase:
                    continue
                if phrase not in phrase_ids:
                    phrase_ids[phrase] = len(self._phrases)
                    self._phrases.append(phrase)
                ids.append(phrase_ids[phrase])
            own[code] = sorted(set(ids))
        self._own = {code: ids for code, ids in own.items() if ids and code not in inner}
        self._context: dict[str, list[int]] = {}
        for code in self._own:
            context: set[int] = set()
            parent = parents.get(code)
            seen = {code}
            while parent is not None and parent not in seen:
                seen.add(parent)
                context.update(own.get(parent, ()))
                parent = parents.get(parent)
            self._context[code] = sorted(context - set(self._own[code]))
        # Which leaves each phrase speaks for, as their own keyword or as context.
        self._owners: dict[int, list[str]] = {}
        for code, ids in self._own.items():
            for i in ids:
                self._owners.setdefault(i, []).append(code)
        self._index: dict[str, list[int]] = {}
        for i, phrase in enumerate(self._phrases):
            self._index.setdefault(phrase[0][:_KEY], []).append(i)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, Sequence[str]] | tuple[str, Sequence[str], str | None]]
    ) -> KeywordClassifier:
        """Build from ``(code, keywords)`` or ``(code, keywords, parent code)`` rows."""
        keywords: dict[str, Sequence[str]] = {}
        parents: dict[str, str | None] = {}
        for row in rows:
            keywords[row[0]] = list(row[1] or ())
            if len(row) > 2:
                parents[row[0]] = row[2]
        return cls(keywords, parents=parents)

    def found(self, words: Sequence[str]) -> set[int]:
        """The ids of the keywords present in `words`."""
        hits: set[int] = set()
        for start, word in enumerate(words):
            for size in range(1, min(_KEY, len(word)) + 1):
                for i in self._index.get(word[:size], ()):
                    if i in hits:
                        continue
                    # Keys of different lengths never collide: a hit here starts right.
                    phrase = self._phrases[i]
                    end = start + len(phrase)
                    if end <= len(words) and all(
                        words[start + j].startswith(part) for j, part in enumerate(phrase)
                    ):
                        hits.add(i)
        return hits

    def classify(self, text: str, *, top: int = 3) -> list[Suggestion]:
        words = normalise(text)
        if not words:
            return []
        hits = self.found(words)
        candidates = {code for i in hits for code in self._owners.get(i, ())}
        scored: list[tuple[float, float, str]] = []
        for code in candidates:
            own = self._own[code]
            own_hits = sum(1 for i in own if i in hits)
            context_hits = sum(1 for i in self._context[code] if i in hits)
            weight = own_hits + 0.5 * context_hits
            confidence = 0.4 + 0.2 * own_hits + 0.2 * own_hits / len(own) + 0.1 * context_hits
            scored.append((weight, min(1.0, confidence), code))
        scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            tied = scored[0][0]
            scored = [(w, c * TIE_FACTOR if w == tied else c, code) for w, c, code in scored]
        return [Suggestion(code, round(confidence, 3)) for _, confidence, code in scored[:top]]
