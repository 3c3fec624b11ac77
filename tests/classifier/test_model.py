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
