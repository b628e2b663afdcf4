"""Lost-lead reasons: read, normalised, folded when rare, predicted for not-booked calls only, saved, scored."""

import json
import logging

import pytest
from conftest import run_cli

from callsort import TrainConfig, classify_calls, evaluate, load_model, read_calls, train
from callsort.data import normalise_reason
from callsort.errors import InputError
from callsort.models.reasons import ReasonModel


def test_reasons_are_normalised_like_labels():
    assert normalise_reason("Couldn\u2019t  Satisfy Time Requirement ") == "Couldn't Satisfy Time Requirement"
    assert normalise_reason("Couldn't Satisfy Time Requirement") == "Couldn't Satisfy Time Requirement"
    assert normalise_reason(None) == normalise_reason("  ") == normalise_reason("nan") == ""


def test_reason_model_on_the_shipped_calls(sample_csv, sample_test_csv, tmp_path, caplog):
    table = read_calls(sample_csv, reason_column="reason")
    with caplog.at_level(logging.WARNING):
        model = train(table, TrainConfig(model="tfidf"), progress=False).model
    assert "folded into 'Other': Price Shopper (1)" in caplog.text  # rare reasons are folded, not fatal
    assert model.reasons.for_labels == ["Existing Customer - Lead Not Booked", "New Customer - Lead Not Booked"]
    assert "Price Shopper" not in model.reasons.reasons and "Other" in model.reasons.reasons

    saved = load_model(model.save(tmp_path / "m"))
    assert json.loads((tmp_path / "m" / "callsort.json").read_text())["reasons"]["folded_into_other"] == {
        "Price Shopper": 1}
    test = read_calls(sample_test_csv, reason_column="reason")
    rows = list(classify_calls(test, saved))
    for row in rows:  # a reason exactly for the calls predicted not booked
        assert bool(row.reason) == (row.label in saved.reasons.for_labels)
        assert (row.reason_confidence is None) == (not row.reason)
    scored = evaluate(saved, test, tmp_path / "report")["reasons"]
    assert scored["n"] == 6 and scored["accuracy"] > scored["majority_accuracy"]
    assert (tmp_path / "report" / "reason_confusion_matrix.png").is_file()


def test_too_few_reasons_is_a_clear_error():
    with pytest.raises(InputError, match="at least two reasons"):
        ReasonModel.fit(["a b", "c d", "e f"], ["X", "X", "Y"], ["late", "late", ""], min_calls=1)


def test_reason_column_through_the_cli(sample_csv, sample_test_csv, tmp_path):
    run_cli("train", sample_csv, "--out", tmp_path / "m", "--model", "tfidf", "--reason-column", "reason", "-q")
    out = run_cli("evaluate", sample_test_csv, "--model", tmp_path / "m", "--out", tmp_path / "r",
                  "--reason-column", "reason")
    assert "reasons: macro-F1" in out.stdout
    run_cli("predict", sample_test_csv, "--model", tmp_path / "m", "--out", tmp_path / "p.csv", "-q")
    header = (tmp_path / "p.csv").read_text().splitlines()[0].split(",")
    assert "reason" in header and "reason_confidence" in header
    bad = run_cli("train", sample_csv, "--out", tmp_path / "x", "--reason-column", "why", check_code=2)
    assert "no reason column 'why'" in bad.stderr
