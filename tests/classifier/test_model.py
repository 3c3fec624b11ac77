"""The trained classifier: fit, predict with probabilities, save and load without pickles."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sdconsole.classifier.evaluate import evaluate
from sdconsole.classifier.model import FORMAT, ModelError, TextModel, clean, word_tokens

PHRASES = {
    "kkt.no-print": [
        "касса не печатает чек",
        "не печатает чеки, бумага есть",
        "чек не выходит из кассы",
        "ККТ перестала печатать чеки",
        "принтер кассы не печатает",
    ],
    "fn.expiry": [
        "заканчивается срок фискального накопителя",
        "нужна замена ФН, срок истекает",
        "ФН скоро закончится, что делать",
        "срок ключей фискального накопителя истекает",
        "пришло уведомление о замене фискального накопителя",
    ],
    "egais.utm": [
        "УТМ не запускается",
        "не работает транспортный модуль ЕГАИС",
        "УТМ не видит ключ рутокен",
        "страница УТМ не открывается",
        "ошибка УТМ при продаже алкоголя",
    ],
    "scales": [
        "весы не взвешивают",
        "весы не связываются с кассой",
        "на весах не печатается этикетка",
        "весы показывают неверный вес",
        "не выгружаются товары на весы",
    ],
}


def dataset(repeat: int = 4) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for copy in range(repeat):
        for label, phrases in PHRASES.items():
            for phrase in phrases:
                texts.append(f"Добрый день! {phrase}. Магазин №{copy + 1}")
                labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TextModel:
    texts, labels = dataset()
    return TextModel.train(texts, labels, min_df=1)


def test_word_cut_joins_russian_forms() -> None:
    assert word_tokens(clean("Фискального фискальный ФН 0001234567")) == [
        "фискал",
        "фискал",
        "фн",
        "0001234567",
    ]


def test_predicts_unseen_wordings_with_probabilities(model: TextModel) -> None:
    top = model.classify("У нас касса вообще не печатает, помогите", top=3)
    assert top[0].code == "kkt.no-print"
    assert len(top) == 3 and sum(s.confidence for s in top) <= 1.001
    assert model.classify("Заменить фискальный накопитель")[0].code == "fn.expiry"
    assert model.classify("транспортный модуль не стартует")[0].code == "egais.utm"
    assert model.classify("   ") == []


def test_save_and_load_round_trip(model: TextModel, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = TextModel.load(path)
    texts = ["весы не печатают этикетки", "касса не печатает"]
    assert np.allclose(loaded.probabilities(texts), model.probabilities(texts), atol=1e-5)
    assert loaded.classes == model.classes
    assert loaded.meta["format"] == FORMAT


def test_files_that_are_not_models_are_refused(model: TextModel, tmp_path: Path) -> None:
    pickled = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(pickled, "w") as archive:
        archive.writestr("header.npy", buffer.getvalue())
        archive.writestr("evil.npy", pickle.dumps("never unpickled"))
    with pytest.raises(ModelError, match="not a readable model"):
        TextModel.load(pickled)

    (tmp_path / "text.npz").write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError):
        TextModel.load(tmp_path / "text.npz")

    other = tmp_path / "other.npz"
    np.savez(other, header=np.array('{"format": "someone-else/3"}'))
    with pytest.raises(ModelError, match="not an sdconsole.classifier/1 model"):
        TextModel.load(other)


def test_evaluation_reports_both_models_on_the_same_folds() -> None:
    texts, labels = dataset(repeat=3)
    results = evaluate(texts, labels, folds=3, timed_predictions=5)
    assert [r.name for r in results] == ["sdconsole", "baseline"]
    ours = results[0].as_json()
    assert ours["accuracy"] > 0.8 and 0 < ours["macro_f1"] <= 1
    assert {c["label"] for c in ours["per_class"]} == set(PHRASES)
    assert sum(c["support"] for c in ours["per_class"]) == len(texts)
    assert ours["predict_ms"] > 0


def topics(count: int = 30, per_topic: int = 20) -> tuple[list[str], list[str]]:
    """Texts of `count` topics, each with its own words, plus words every topic shares."""
    rng = np.random.default_rng(7)
    letters = list("абвгдежзиклмнопрстуфхцчшщэюя")

    def word() -> str:
        return "".join(rng.choice(letters, 7))

    shared = [word() for _ in range(40)]
    texts, labels = [], []
    for topic in range(count):
        own = [word() for _ in range(3)]
        for _ in range(per_topic):
            chosen = list(rng.choice(own, 2)) + list(rng.choice(shared, 2))
            texts.append(" ".join(chosen))
            labels.append(f"topic-{topic}")
    return texts, labels


def test_many_negatives_are_mined_not_all_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A category's problem starts from a sample of its negatives, then adds every negative that
    lands inside the margin: the hyperplane is the one fitted on all of them."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b))

    from sdconsole.classifier import model as model_module

    texts, labels = topics()
    matrix = sparse.csr_matrix(
        model_module.Features(min_df=1).fit_transform(texts), dtype=np.float64
    )
    positive = np.asarray(labels) == "topic-0"
    fitted_rows: list[int] = []
    real_getitem = model_module.sparse.csr_matrix.__getitem__

    def spy(self: sparse.csr_matrix, key: object) -> sparse.csr_matrix:
        result = real_getitem(self, key)
        fitted_rows.append(result.shape[0])
        return result

    exact, exact_bias = model_module._fit_one(matrix, positive, 1.0, 0.5, seed=0)
    monkeypatch.setattr(model_module, "NEGATIVE_SAMPLE", 100)
    monkeypatch.setattr(model_module.sparse.csr_matrix, "__getitem__", spy)
    mined, mined_bias = model_module._fit_one(matrix, positive, 1.0, 0.5, seed=0)
    assert len(fitted_rows) == 2
    assert fitted_rows[0] == int(positive.sum()) + 100  # first the sample, then the hard ones
    assert cosine(mined, exact) > 0.99
    sample = np.random.default_rng(0).choice(np.flatnonzero(~positive), 100, replace=False)
    rows = np.concatenate([np.flatnonzero(positive), sample])
    sampled = LinearSVC(C=0.5).fit(matrix[rows], positive[rows])
    assert cosine(sampled.coef_[0], exact) < cosine(mined, exact)  # the second round counts
    assert np.array_equal(matrix @ mined + mined_bias > 0, matrix @ exact + exact_bias > 0)
