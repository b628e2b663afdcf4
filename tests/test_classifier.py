"""The classifier seam: every kind loads through load_model, and a new kind is one class plus one table entry."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import LOCAL
from fastapi.testclient import TestClient

from callsort import Classifier, TrainConfig, classify_calls, load_model, read_calls, train
from callsort.demo import sample_path
from callsort.errors import ModelError
from callsort.models.classifier import KINDS, Prediction, read_model_info
from callsort.service.app import create_app
from callsort.service_config import ServeConfig


class KeywordClassifier(Classifier):
    """A kind defined here, outside callsort: each label's word counts, scored by overlap with a call's words."""

    kind = "keywords"

    def __init__(self, labels, counts: dict):
        super().__init__(labels, {"vocabulary": len({w for c in counts.values() for w in c})})
        self.counts = counts

    @classmethod
    def fit(cls, train, val, config, progress=False):
        counts: dict = {}
        for text, label in zip(train.texts, train.labels, strict=False):
            for word in text.lower().split():
                counts.setdefault(label, {}).setdefault(word, 0)
                counts[label][word] += 1
        return cls(sorted(counts), counts)

    def predict_proba(self, texts, progress=False):
        scores = np.array([[1 + sum(self.counts[label].get(w, 0) for w in t.lower().split()) for label in self.labels]
                           for t in texts], dtype=float)
        return scores / scores.sum(axis=1, keepdims=True) if len(texts) else scores.reshape(0, len(self.labels))

    def save_files(self, folder: Path) -> None:
        (folder / "keywords.json").write_text(json.dumps(self.counts))

    @classmethod
    def load_files(cls, folder, info):
        return cls(info.labels, json.loads((folder / "keywords.json").read_text()))


def test_a_new_kind_trains_saves_loads_and_serves(monkeypatch, sample_table, tmp_path):
    monkeypatch.setitem(KINDS, "keywords", KeywordClassifier)  # the one table entry
    model = train(sample_table, TrainConfig(model="keywords"), progress=False).model
    model.save(tmp_path / "kw")
    assert read_model_info(tmp_path / "kw").kind == "keywords"
    loaded = load_model(tmp_path / "kw")
    assert isinstance(loaded, KeywordClassifier) and loaded.identity == model.identity
    np.testing.assert_allclose(loaded.predict_proba(sample_table.texts[:4]), model.predict_proba(sample_table.texts[:4]))
    row = next(classify_calls(read_calls(sample_path("sample_new_calls.csv"), label_column=None), tmp_path / "kw"))
    assert row.label in model.labels and row.model == loaded.identity
    client = TestClient(create_app(tmp_path / "kw", ServeConfig(no_auth=True)), base_url=LOCAL)
    answer = client.post("/v1/classify", json={"text": "please leave a message after the tone"})
    assert answer.status_code == 200 and answer.json()["label"] in model.labels
    assert answer.json()["model"] == loaded.identity


def test_every_builtin_kind_is_in_the_table_and_loads(tfidf_dir, transformer_dir):
    assert {"tfidf", "encoder", "blend"} <= set(KINDS)
    assert type(load_model(tfidf_dir)).kind == "tfidf" and type(load_model(transformer_dir)).kind == "blend"


def test_predict_single_and_batch(transformer_dir, sample_table):
    model = load_model(transformer_dir)
    one = model.predict(sample_table.texts[0])
    many = model.predict(sample_table.texts[:3])
    assert isinstance(one, Prediction) and len(many) == 3
    assert one.label in model.labels and abs(sum(one.probabilities.values()) - 1) < 1e-6
    assert one.confidence == max(one.probabilities.values())
    assert many[0].probabilities == pytest.approx(one.probabilities)


def test_save_load_roundtrip_gives_same_probabilities(transformer_dir, sample_table, tmp_path):
    model = load_model(transformer_dir)
    before = model.predict_proba(sample_table.texts[:5])
    model.save(tmp_path / "copy")
    after = load_model(tmp_path / "copy").predict_proba(sample_table.texts[:5])
    np.testing.assert_allclose(before, after, atol=1e-5)
    info = load_model(tmp_path / "copy").info
    assert info.labels == model.labels and info.training["data"]["fingerprint"] and info.training["versions"]["torch"]


def test_folder_loads_with_transformers_pipeline(transformer_dir):
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(transformer_dir))
    out = classify("Hello? Hello? Is anyone there?")
    assert out[0]["label"] in load_model(transformer_dir).labels


def test_tfidf_model_alone(tfidf_dir, sample_table):
    model = load_model(tfidf_dir)
    accuracy = np.mean([p.label == t for p, t in zip(model.predict(sample_table.texts), sample_table.labels, strict=False)])
    assert accuracy > 0.9  # it has seen these calls


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match="not a callsort model"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nope")
    (tmp_path / "callsort.json").write_text("{broken")
    with pytest.raises(ModelError, match="not a callsort 2 model description"):
        load_model(tmp_path)
    (tmp_path / "callsort.json").write_text(json.dumps({"kind": "svm", "labels": ["a", "b"]}))
    with pytest.raises(ModelError, match="unknown model kind 'svm'"):
        load_model(tmp_path)
