"""Model folders saved before the sub-packages (2026-11-30) keep loading and predict what they predicted."""

import json
from pathlib import Path

import pytest

from callsort import classify_calls, load_model, read_calls
from callsort.demo import sample_path

SAVED = Path(__file__).parent / "data" / "model_saved_2026_11_29"


def test_a_model_saved_before_the_move_predicts_as_it_did():
    """tf-idf with isotonic calibration and a reason model, saved by callsort at 91180f2: its pickles name
    callsort.calibrate, callsort.textfeatures… The expected rows were written by that code, then."""
    model = load_model(SAVED / "model")
    assert model.info.calibration == "isotonic" and model.reasons is not None
    calls = read_calls(sample_path("sample_test.csv"), label_column=None)
    expected = [json.loads(line) for line in (SAVED / "expected.jsonl").read_text().splitlines()]
    rows = [r.to_dict() for r in classify_calls(calls, model)]
    assert len(rows) == len(expected) == 24
    for row, old in zip(rows, expected, strict=False):
        assert (row["label"], row["reason"], row["needs_review"]) == (old["label"], old["reason"], old["needs_review"])
        assert row["confidence"] == pytest.approx(old["confidence"], abs=1e-6)
        assert row["probabilities"] == pytest.approx(old["probabilities"], abs=1e-6)
        assert row["reason_confidence"] == pytest.approx(old["reason_confidence"], abs=1e-6)
    import sys

    assert "callsort.calibrate" not in sys.modules  # the old names are not left behind
