"""Provides the trained classifier: TF-IDF text features suited to Russian and a linear model.

Features (`Features`): words cut to their first `STEM` letters (a light stemmer: Russian
inflects at the end of the word, so «фискального», «фискальный» and «фискальном» share
«фиска…»; the same works for English), their unigrams and bigrams, plus character 2–5-grams
inside words (which catch what the cut misses: prefixes, typos, Latin model names). Both
TF-IDF weighted with sublinear term frequency, then a one-vs-rest linear SVM; scores become
probabilities by a softmax whose temperature is fitted on held-out data.

Models are saved in NumPy's ``.npz`` format **without pickles** (``allow_pickle=False``): the
vocabularies, IDF weights, the weights of the linear model (sparse) and a JSON header with the
format version, the classes, the training parameters and the evaluation figures. Loading an
untrusted file can therefore never run code; a malformed one is refused with `ModelError`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from sdconsole.classifier import Suggestion

FORMAT = "sdconsole.classifier/1"
"""The saved model's format name; loading refuses any other."""

STEM = 6
"""Words are cut to this many letters for the word features."""

_TOKEN = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]{0,200}>|&[a-z]{2,8};|&#\d{1,5};")


class ModelError(ValueError):
    """A model file that is not a valid sdconsole classifier model."""


def clean(text: str) -> str:
    """Lower-case text without HTML tags and entities, ё folded to е."""
    return _TAGS.sub(" ", text).lower().replace("ё", "е")


def word_tokens(text: str) -> list[str]:
    """The cut words of a cleaned text (`STEM` letters; numbers kept whole up to 12 digits)."""
    return [w if w.isdigit() else w[:STEM] for w in _TOKEN.findall(text) if len(w) > 1]


@dataclass
class Features:
    """The text features: word and character TF-IDF, fitted on the training texts."""

    min_df: int = 2
    max_features: int = 200_000
    word: Any = field(default=None, repr=False)
    char: Any = field(default=None, repr=False)

    def _make(self, vocabulary: tuple[Any, Any] | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        common: dict[str, Any] = {
            "preprocessor": clean,
            "sublinear_tf": True,
            "dtype": np.float32,
        }
        if vocabulary is None:
            common.update(min_df=self.min_df, max_features=self.max_features)
        self.word = TfidfVectorizer(
            tokenizer=word_tokens,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            vocabulary=None if vocabulary is None else vocabulary[0],
            **common,
        )
        self.char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            lowercase=False,
            vocabulary=None if vocabulary is None else vocabulary[1],
            **common,
        )

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        self._make()
        return sparse.hstack(
            [self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr"
        )

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")


@dataclass
class TextModel:
    """A trained classifier: features, a linear model and its softmax temperature."""

    features: Features
    classes: list[str]
    weights: sparse.csr_matrix
    """(features × classes)"""
    bias: np.ndarray
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    # -- training ----------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        c: float = 0.5,
        min_df: int = 2,
        calibrate: bool = True,
    ) -> TextModel:
        """Fit on labelled texts (at least two classes).

        With `calibrate`, a tenth of the data (at most 5,000 texts) is held out first to fit the
        softmax temperature, then the model is refitted on everything.
        """
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two categories")
        temperature = 1.0
        if calibrate and len(texts) >= 50:
            temperature = _fit_temperature(texts, labels, c=c, min_df=min_df)
        features = Features(min_df=min_df)
        matrix = features.fit_transform(texts)
        classes, coef, bias = _fit_svm(matrix, labels, c)
        if len(classes) == 2:  # binary: one hyperplane; make it two opposite scores
            coef = np.vstack([-coef[0], coef[0]])
            bias = np.array([-bias[0], bias[0]], dtype=np.float32)
        coef[np.abs(coef) < 1e-4] = 0.0  # weights this small never change a ranking
        weights = sparse.csr_matrix(coef.T)
        return cls(features, classes, weights, bias, temperature, {"c": c, "min_df": min_df})

    # -- prediction --------------------------------------------------------------------------

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Decision scores (texts × classes)."""
        matrix = self.features.transform(texts)
        result: np.ndarray = np.asarray((matrix @ self.weights).todense()) + self.bias
        return result

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Softmax of the scores at the fitted temperature (texts × classes)."""
        return _softmax(self.scores(texts) / self.temperature)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The best class of each text."""
        return [self.classes[i] for i in np.argmax(self.scores(texts), axis=1)]

    def classify(self, text: str, *, top: int = 3) -> list[Suggestion]:
        """The `top` categories with their probabilities (the `Classifier` protocol)."""
        if not text.strip():
            return []
        probabilities = self.probabilities([text])[0]
        best = np.argsort(-probabilities)[:top]
        return [Suggestion(self.classes[i], round(float(probabilities[i]), 3)) for i in best]

    # -- files -------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model as ``.npz`` (no pickles); the parent folder must exist."""
        word_vocab = _vocabulary_array(self.features.word.vocabulary_)
        char_vocab = _vocabulary_array(self.features.char.vocabulary_)
        header = {
            "format": FORMAT,
            "classes": self.classes,
            "temperature": self.temperature,
            "stem": STEM,
            **self.meta,
        }
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                header=np.array(json.dumps(header, ensure_ascii=False)),
                word_vocabulary=word_vocab,
                word_idf=self.features.word.idf_.astype(np.float32),
                char_vocabulary=char_vocab,
                char_idf=self.features.char.idf_.astype(np.float32),
                weights_data=self.weights.data,
                weights_indices=self.weights.indices,
                weights_indptr=self.weights.indptr,
                weights_shape=np.array(self.weights.shape),
                bias=self.bias,
            )

    @classmethod
    def load(cls, path: Path) -> TextModel:
        """Read a model saved by `save`.

        Raises:
            ModelError: not an sdconsole model, another format version, or inconsistent arrays.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if not isinstance(header, dict) or header.get("format") != FORMAT:
                    raise ModelError(f"{path.name}: not an {FORMAT} model")
                if header.get("stem") != STEM:
                    raise ModelError(
                        f"{path.name}: made for another word cut ({header.get('stem')})"
                    )
                features = Features()
                word_vocab = [str(t) for t in data["word_vocabulary"]]
                char_vocab = [str(t) for t in data["char_vocabulary"]]
                features._make((word_vocab, char_vocab))
                features.word.idf_ = data["word_idf"]
                features.char.idf_ = data["char_idf"]
                shape = tuple(int(x) for x in data["weights_shape"])
                weights = sparse.csr_matrix(
                    (data["weights_data"], data["weights_indices"], data["weights_indptr"]),
                    shape=shape,
                )
                bias = data["bias"]
        except ModelError:
            raise
        except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
            raise ModelError(f"{path.name}: not a readable model ({error})") from None
        classes = [str(c) for c in header.get("classes", [])]
        if (
            shape != (len(word_vocab) + len(char_vocab), len(classes))
            or bias.shape != (len(classes),)
            or len(classes) < 2
        ):
            raise ModelError(f"{path.name}: the model's arrays do not fit together")
        temperature = float(header.get("temperature", 1.0))
        meta = {k: v for k, v in header.items() if k not in ("classes", "temperature", "stem")}
        return cls(features, classes, weights, bias, temperature, meta)


PARALLEL_CLASSES = 8
"""From this many categories on, the one-vs-rest problems are solved on several threads
(liblinear releases the GIL while it trains)."""

NEGATIVE_SAMPLE = 5_000
"""Each one-vs-rest problem with more than twice this many negatives starts from a sample of
them (see `_fit_one`)."""


def _fit_svm(
    matrix: sparse.csr_matrix, labels: Sequence[str], c: float
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes, weights (classes × features) and biases of a one-vs-rest linear SVM.

    Each category's problem weights its own examples by n / (categories × its count), as
    liblinear's multi-class "balanced" weighting does, so rare categories are not drowned.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.svm import LinearSVC

    y = np.asarray(labels)
    classes = sorted(set(labels))
    if len(classes) < PARALLEL_CLASSES:
        svm = LinearSVC(C=c, class_weight="balanced", dual="auto", max_iter=5000).fit(matrix, y)
        return (
            [str(x) for x in svm.classes_],
            np.atleast_2d(svm.coef_).astype(np.float32),
            np.atleast_1d(svm.intercept_).astype(np.float32),
        )
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)  # liblinear's type: converted once

    def one(index: int) -> tuple[np.ndarray, float]:
        positive = y == classes[index]
        weight = len(y) / (len(classes) * int(positive.sum()))
        return _fit_one(matrix, positive, weight, c, seed=index)

    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
        fitted = list(pool.map(one, range(len(classes))))
    coef = np.vstack([w for w, _ in fitted])
    bias = np.array([b for _, b in fitted], dtype=np.float32)
    return [str(x) for x in classes], coef, bias


def _fit_one(
    matrix: sparse.csr_matrix, positive: np.ndarray, weight: float, c: float, *, seed: int
) -> tuple[np.ndarray, float]:
    """One category's hyperplane against all the others.

    A linear SVM is decided by the examples on or inside its margin; most negatives of a
    category lie far outside it. So where there are many, the problem is first solved on the
    positives and a random `NEGATIVE_SAMPLE` of the negatives, then every negative that this
    first hyperplane scores above −1 (inside the margin or wrong) joins, and the problem is
    solved again. On 50,000 texts in 180 categories this halves the training time with the same
    accuracy and macro-F1 (BENCHMARKS.md, "Classifier").
    """
    from sklearn.svm import LinearSVC

    def fit(rows: np.ndarray | None) -> tuple[np.ndarray, float]:
        svm = LinearSVC(C=c, class_weight={1: weight, 0: 1.0}, dual="auto", max_iter=5000)
        if rows is None:
            svm.fit(matrix, positive.astype(np.int8))
        else:
            svm.fit(matrix[rows], positive[rows].astype(np.int8))
        return svm.coef_[0], float(svm.intercept_[0])

    negatives = np.flatnonzero(~positive)
    if len(negatives) <= 2 * NEGATIVE_SAMPLE:
        coef, bias = fit(None)
        return coef.astype(np.float32), bias
    sample = np.random.default_rng(seed).choice(negatives, NEGATIVE_SAMPLE, replace=False)
    coef, bias = fit(np.concatenate([np.flatnonzero(positive), sample]))
    hard = np.flatnonzero((matrix @ coef + bias > -1.0) & ~positive)
    rows = np.concatenate([np.flatnonzero(positive), np.union1d(sample, hard)])
    coef, bias = fit(np.sort(rows))
    return coef.astype(np.float32), bias


def _vocabulary_array(vocabulary: dict[str, int]) -> np.ndarray:
    """Terms ordered by their column (so the array index is the column)."""
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    return np.array(terms, dtype=str)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


CALIBRATION_TEXTS = 10_000
"""The temperature is fitted on a sample of at most this many texts: it depends on how sure the
model is, which a sample shows as well as the whole set, at a fraction of a second training."""


def _fit_temperature(
    texts: Sequence[str], labels: Sequence[str], *, c: float, min_df: int
) -> float:
    """The softmax temperature that minimises the log loss on a held-out tenth of a sample."""
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))[:CALIBRATION_TEXTS]
    held = order[: max(10, len(order) // 10)]
    kept = order[len(held) :]
    train_labels = [labels[i] for i in kept]
    if len(set(train_labels)) < 2:
        return 1.0
    model = TextModel.train(
        [texts[i] for i in kept], train_labels, c=c, min_df=min_df, calibrate=False
    )
    scores = model.scores([texts[i] for i in held])
    index = {name: i for i, name in enumerate(model.classes)}
    rows = [(r, index[labels[i]]) for r, i in enumerate(held) if labels[i] in index]
    if not rows:
        return 1.0
    best, best_loss = 1.0, math.inf
    for temperature in np.geomspace(0.05, 5.0, 40):
        probabilities = _softmax(scores / temperature)
        loss = -float(np.mean([math.log(probabilities[r, k] + 1e-12) for r, k in rows]))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best
