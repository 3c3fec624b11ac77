"""Provides the classifier's evaluation: k-fold figures beside a plain baseline on the same folds.

The baseline is what a team would try first: TF-IDF of words as scikit-learn tokenises them
(no stemming, no character n-grams) and a linear SVM. Both are trained and tested on the same
stratified folds, so their figures compare directly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sdconsole.classifier.model import TextModel, clean


@dataclass(frozen=True, slots=True)
class ClassFigures:
    """Precision, recall and F1 of one class over every fold."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """The figures of one model over the folds (predictions of every fold pooled)."""

    name: str
    accuracy: float
    macro_f1: float
    per_class: list[ClassFigures]
    confused: list[tuple[str, str, int]]
    """(true label, predicted label, count), most frequent first."""
    train_seconds: float
    predict_ms: float
    """Mean milliseconds to predict one text, one text at a time (as intake does)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "train_seconds": round(self.train_seconds, 2),
            "predict_ms": round(self.predict_ms, 3),
            "per_class": [
                {
                    "label": c.label,
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                    "support": c.support,
                }
                for c in self.per_class
            ],
            "most_confused": [{"true": t, "predicted": p, "count": n} for t, p, n in self.confused],
            **self.extra,
        }


def evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    baseline: bool = True,
    seed: int = 0,
    timed_predictions: int = 200,
) -> list[Evaluation]:
    """Cross-validate the model (and the baseline) on the same stratified folds.

    Args:
        timed_predictions: how many single-text predictions are timed per fold.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    counts = Counter(labels)
    # Stratification needs every class in every fold; rarer classes still count as errors.
    splits = min(folds, max(2, min(n for n in counts.values() if n >= 2)) if counts else 2)
    splitter = StratifiedKFold(n_splits=max(2, min(folds, splits)), shuffle=True, random_state=seed)
    runs: dict[str, dict[str, Any]] = {
        "sdconsole": {"pred": np.empty(len(y), dtype=object), "train": 0.0, "predict": []}
    }
    if baseline:
        runs["baseline"] = {"pred": np.empty(len(y), dtype=object), "train": 0.0, "predict": []}
    text_array = np.asarray(texts, dtype=object)
    stratify = np.asarray([label if counts[label] >= 2 else "__rare__" for label in labels])
    for train_index, test_index in splitter.split(text_array, stratify):
        train_texts = list(text_array[train_index])
        test_texts = list(text_array[test_index])
        for name, run in runs.items():
            started = time.perf_counter()
            model: Any = (
                TextModel.train(train_texts, list(y[train_index]), calibrate=False)
                if name == "sdconsole"
                else _Baseline.train(train_texts, list(y[train_index]))
            )
            run["train"] += time.perf_counter() - started
            run["pred"][test_index] = model.predict(test_texts)
            sample = test_texts[:timed_predictions]
            started = time.perf_counter()
            for text in sample:
                model.predict([text])
            run["predict"].append((time.perf_counter() - started) * 1000 / max(1, len(sample)))
    return [
        _figures(name, y, run["pred"], run["train"] / splitter.get_n_splits(), run["predict"])
        for name, run in runs.items()
    ]


class _Baseline:
    """Plain TF-IDF of words + linear SVM."""

    def __init__(self, vectorizer: Any, svm: Any) -> None:
        self.vectorizer, self.svm = vectorizer, svm

    @classmethod
    def train(cls, texts: list[str], labels: list[str]) -> _Baseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        vectorizer = TfidfVectorizer(preprocessor=clean)
        svm = LinearSVC(dual="auto")
        svm.fit(vectorizer.fit_transform(texts), labels)
        return cls(vectorizer, svm)

    def predict(self, texts: list[str]) -> list[str]:
        return [str(x) for x in self.svm.predict(self.vectorizer.transform(texts))]


def _figures(
    name: str, truth: np.ndarray, predicted: np.ndarray, train: float, predict: list[float]
) -> Evaluation:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth))
    predicted = predicted.astype(str)
    truth = truth.astype(str)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_class = [
        ClassFigures(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    per_class.sort(key=lambda c: (-c.support, c.label))
    mistakes = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return Evaluation(
        name=name,
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        per_class=per_class,
        confused=[(t, p, n) for (t, p), n in mistakes.most_common(10)],
        train_seconds=train,
        predict_ms=float(np.mean(predict)) if predict else 0.0,
    )
