import json

import numpy as np
import pytest

from callsort import TrainConfig, load_model, read_calls, train
from callsort.errors import ConfigError, InputError, ModelError
from callsort.models.train import cross_validate, split_stratified, train_and_save


def test_split_is_stratified(sample_table):
    train_part, val_part = split_stratified(sample_table, 0.25, seed=0)
    assert len(train_part) + len(val_part) == len(sample_table)
    assert set(val_part.labels) == set(sample_table.labels)  # every class held out at least once
    assert not set(train_part.sources) & set(val_part.sources)


def test_bad_settings_are_rejected(sample_table):
    with pytest.raises(ModelError, match="unknown model kind 'svm'"):
        train(sample_table, TrainConfig(model="svm"), progress=False)
    with pytest.raises(ConfigError):
        TrainConfig(stop_on="accuracy")
    with pytest.raises(ConfigError):
        TrainConfig(max_length=32, stride=31)


def test_tfidf_training_is_repeatable(sample_table):
    a = train(sample_table, TrainConfig(model="tfidf", seed=1), progress=False)
    b = train(sample_table, TrainConfig(model="tfidf", seed=1), progress=False)
    assert a.model.predict_proba(sample_table.texts[:4]).tolist() == b.model.predict_proba(sample_table.texts[:4]).tolist()
    assert a.val_metrics["n"] == len(sample_table) and 0 <= a.model.review_below <= 1.0001  # out of fold: every call


def test_training_calibrates_and_sets_the_review_threshold(sample_table, tmp_path):
    from callsort import load_model

    model = train(sample_table, TrainConfig(model="tfidf", val_fraction=0.3, calibration_folds=0), progress=False).model
    assert model.calibrator is not None and model.info.calibration == "temperature"
    assert model.info.auto_accuracy == 0.9 and 0 <= model.info.expected_coverage <= 1
    raw, calibrated = model.predict_proba(sample_table.texts[:5]), model.calibrated_proba(sample_table.texts[:5])
    assert (raw.argmax(axis=1) == calibrated.argmax(axis=1)).all() and not (raw == calibrated).all()
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.predict(sample_table.texts[0]).probabilities == model.predict(sample_table.texts[0]).probabilities
    plain = train(sample_table, TrainConfig(model="tfidf", calibration="none"), progress=False).model
    assert plain.calibrator is None and plain.info.calibration == "none"


@pytest.mark.slow
def test_calibration_on_out_of_fold_probabilities(sample_table, tmp_path):
    from callsort.models.tfidf import TfidfClassifier
    from callsort.models.train import out_of_fold_proba

    config = TrainConfig(model="tfidf", calibration="isotonic", calibration_folds=3)
    probs, splits = out_of_fold_proba(TfidfClassifier, sample_table, sorted(set(sample_table.labels)), config)
    assert probs.shape == (len(sample_table), len(set(sample_table.labels))) and np.allclose(probs.sum(axis=1), 1)
    held = np.concatenate([held for _, held in splits])  # row i of probs is call i, predicted by a model that never saw it
    assert len(splits) == 3 and sorted(held) == list(range(len(sample_table)))
    assert all(not set(fit) & set(h) for fit, h in splits)

    model = train(sample_table, config, progress=False).model
    assert model.info.calibrated_on == f"{len(sample_table)} out-of-fold calls (3 folds)" and model.calibrator is not None
    assert 0 < model.review_below <= 1 and 0 <= model.info.expected_coverage <= 1
    reloaded = load_model(model.save(tmp_path / "m"))
    assert reloaded.info.calibrated_on == model.info.calibrated_on
    assert np.allclose(reloaded.calibrated_proba(sample_table.texts[:4]), model.calibrated_proba(sample_table.texts[:4]))
    with pytest.raises(ConfigError, match="calibration_folds"):
        TrainConfig(calibration_folds=1)


@pytest.mark.slow
def test_fine_tune_records_history_and_learns(sample_table, sample_test_csv, tiny_config, tmp_path):
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 4, "model": "encoder"})
    test = read_calls(sample_test_csv)
    result = train_and_save(sample_table, tmp_path / "m", config, test=test, progress=False)
    history = result.history
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["eval_loss"] < history[0]["eval_loss"]  # the encoder itself learned
    info = json.loads((tmp_path / "m" / "callsort.json").read_text())
    assert info["kind"] == "encoder"  # TrainConfig(model="encoder"): the encoder alone, no blend
    assert info["training"]["settings"]["stop_on"] == "macro_f1" and info["training"]["test_metrics"]["n"] == 24
    assert info["training"]["test_metrics"]["accuracy"] > 1 / 8  # better than chance on unseen calls
    assert (tmp_path / "m" / "report" / "confusion_matrix.png").is_file()


@pytest.mark.slow
def test_stop_on_loss_with_given_validation(sample_table, sample_test_csv, tiny_config):
    val = read_calls(sample_test_csv)
    config = TrainConfig(**{**tiny_config.to_dict(), "stop_on": "loss", "epochs": 1})
    result = train(sample_table, config, val=val, progress=False)
    assert result.model.info.training["data"]["val_calls"] == len(val) and len(result.history) == 1


def test_cross_validation_reports_mean_and_spread(sample_table, tmp_path):
    summary = cross_validate(sample_table, 3, tmp_path / "cv", TrainConfig(model="tfidf"), progress=False)
    assert len(summary["folds"]) == 3
    assert 0 <= summary["macro_f1"]["mean"] <= 1 and summary["macro_f1"]["std"] >= 0
    assert (tmp_path / "cv" / "cv_metrics.json").is_file() and (tmp_path / "cv" / "fold_1" / "metrics.json").is_file()


def test_cv_needs_k_examples_per_class(sample_table):
    with pytest.raises(InputError, match="fewer than 20 examples"):
        cross_validate(sample_table, 20, None, TrainConfig(model="tfidf"), progress=False)


def test_train_on_real_calls_tfidf(shared_calls):
    table = read_calls(shared_calls / "transcripts.csv", "Text", "Tag")
    assert len(set(table.labels)) == 8 and "New Customer - Lead Not Booked" in table.labels
    result = train(table, TrainConfig(model="tfidf"), progress=False)
    assert result.val_metrics["macro_f1"] > 0.5


def test_calls_dataset_gives_all_windows_or_one(sample_table):
    from transformers import AutoTokenizer

    from callsort.models.finetune import CallWindows, collate_calls
    from callsort.models.windows import encode_windows
    from callsort.registry import resolve_text_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_text_model("minilm"))
    windows = encode_windows(tokenizer, sample_table.texts[:6], max_length=24, stride=4)
    per_call = [windows["call_index"].count(c) for c in range(6)]
    every = CallWindows(windows, [0, 1, 2, 0, 1, 2], pick="all")
    assert [len(every[i]["input_ids"]) for i in range(6)] == per_call and max(per_call) > 1
    one = CallWindows(windows, [0, 1, 2, 0, 1, 2], pick="one", seed=3)
    assert all(len(one[i]["input_ids"]) == 1 for i in range(6))
    batch = collate_calls(tokenizer)([every[0], every[1]])
    assert batch["input_ids"].shape[0] == per_call[0] + per_call[1]
    assert batch["call_index"].tolist() == [0] * per_call[0] + [1] * per_call[1]
    assert batch["labels"].tolist() == [0, 1]


@pytest.mark.slow
def test_fine_tune_on_whole_calls_in_bf16(sample_table, tiny_config):
    config = TrainConfig(**{**tiny_config.to_dict(), "train_windows": "all", "bf16": True, "model": "encoder"})
    result = train(sample_table, config, progress=False)
    assert len(result.history) == 2 and all(h["eval_loss"] > 0 for h in result.history)
    assert result.model.info.training["settings"]["train_windows"] == "all"
    probs = result.model.predict_proba(sample_table.texts[:3])
    assert probs.shape == (3, len(result.model.labels)) and abs(probs.sum(axis=1) - 1).max() < 1e-5


@pytest.mark.slow
def test_head_and_tail_for_fixed_epochs(sample_table, tiny_config, tmp_path):
    """--view head_tail --stop-on none: one window a call, every epoch trained, nothing restored."""
    from callsort import load_model

    config = TrainConfig(**{**tiny_config.to_dict(), "model": "encoder", "view": "head_tail", "max_length": 64,
                            "stop_on": "none", "epochs": 2})
    result = train(sample_table, config, progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2] and result.model.info.params["view"] == "head_tail"
    result.model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.info.params["view"] == "head_tail"
    assert again.predict_proba(sample_table.texts[:3]) == pytest.approx(result.model.predict_proba(sample_table.texts[:3]))


def test_plain_tfidf_training_calibrates_out_of_fold_and_learns_from_every_call(sample_table):
    """The default (issue 31): no validation split for a kind that fits in seconds; every call is both in the
    final model and in the quantifier (out of fold)."""
    model = train(sample_table, TrainConfig(), progress=False).model
    data = model.info.training["data"]
    assert data["train_calls"] == len(sample_table) and data["val_calls"] == 0
    assert model.info.training["calibration_folds"]["used"] == 5
    assert len(model.quantifier.truth) == len(sample_table)
    assert model.info.training["val_metrics_on"] == f"{len(sample_table)} out-of-fold calls"


def test_few_labels_use_fewer_folds_or_validation_calls(sample_table):
    """A new company's first calls: the folds adapt to the smallest category, and callsort.json says so."""
    from collections import Counter

    def first(per_label: int):
        seen, keep = Counter(), []
        for i, label in enumerate(sample_table.labels):
            if seen[label] < per_label:
                seen[label] += 1
                keep.append(i)
        return sample_table.subset(keep)

    three = train(first(3), TrainConfig(), progress=False).model
    assert three.info.training["calibration_folds"] == {
        "used": 3, "why": "3 folds, not 5: the smallest category has 3 calls"}
    assert three.info.training["data"]["train_calls"] == len(first(3))
    blend_like = TrainConfig(calibration_folds=5)
    from callsort.models.classifier import kind_class
    from callsort.models.train import calibration_plan

    assert calibration_plan(kind_class("encoder"), first(3), blend_like)[0] == 0  # 3 // 2 < 2: validation calls
    assert calibration_plan(kind_class("encoder"), first(3), TrainConfig())[0] == 0  # encoders: validation by default
    rare = sample_table.labels[0]
    one = sample_table.subset([0] + [i for i, x in enumerate(sample_table.labels) if x != rare])  # a lone call
    model = train(one, TrainConfig(), progress=False).model
    assert model.info.training["calibration_folds"]["used"] == 2 and len(model.quantifier.truth) == len(one)
    assert set(model.labels) == set(sample_table.labels)
