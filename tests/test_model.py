import numpy as np
import pytest

from callsort import ModelError, Prediction, load_model
from callsort.model import encode_windows, pool_windows


def test_windows_cover_the_whole_call(transformer_dir):
    model = load_model(transformer_dir)
    text = " ".join(f"word{i}" for i in range(400))
    windows = encode_windows(model.tokenizer, [text, "short call"], max_length=48, stride=8)
    first_call = [ids for ids, c in zip(windows["input_ids"], windows["call_index"]) if c == 0]
    assert len(first_call) > 5 and windows["call_index"].count(1) == 1
    # the last window ends with the call's last token: nothing was cut off
    last_token = model.tokenizer(text)["input_ids"][-2]  # before [SEP]
    assert first_call[-1][-2] == last_token


def test_pool_windows_averages_per_call():
    logits = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 5.0]])
    pooled = pool_windows(logits, [0, 0, 1], 2)
    np.testing.assert_allclose(pooled, [[2.0, 1.0], [0.0, 5.0]])


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
    assert info["labels"] == model.labels and info["data"]["fingerprint"] and info["versions"]["torch"]


def test_folder_loads_with_transformers_pipeline(transformer_dir):
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(transformer_dir))
    out = classify("Hello? Hello? Is anyone there?")
    assert out[0]["label"] in load_model(transformer_dir).labels


def test_tfidf_model_alone(tfidf_dir, sample_table):
    model = load_model(tfidf_dir)
    assert model.transformer is None and model.tfidf_weight == 1.0
    accuracy = np.mean([p.label == t for p, t in zip(model.predict(sample_table.texts), sample_table.labels)])
    assert accuracy > 0.9  # it has seen these calls


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match="not a callsort model"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nope")
    (tmp_path / "callsort.json").write_text("{broken")
    with pytest.raises(ModelError, match="unreadable"):
        load_model(tmp_path)
