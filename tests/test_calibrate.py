import numpy as np
import pytest

from callsort.models.calibrate import (
    apply_calibrator,
    confidence_report,
    coverage_at,
    expected_calibration_error,
    fit_calibrator,
    threshold_for,
)

LABELS = ["a", "b", "c"]


def overconfident(n: int = 600, seed: int = 0):
    """Probabilities that claim ~0.95 for the top label while it is right ~70 % of the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    top = np.where(rng.random(n) < 0.7, truth, (truth + rng.integers(1, 3, n)) % 3)
    probs = np.full((n, 3), 0.025)
    probs[np.arange(n), top] = 0.95
    return probs, [LABELS[t] for t in truth]


@pytest.mark.parametrize("method", ["temperature", "isotonic"])
def test_calibration_brings_confidence_down_to_accuracy(method):
    probs, truth = overconfident()
    correct = probs.argmax(axis=1) == np.array([LABELS.index(t) for t in truth])
    before = expected_calibration_error(probs.max(axis=1), correct)
    calibrated = apply_calibrator(fit_calibrator(probs, truth, LABELS, method), probs, LABELS)
    after = expected_calibration_error(calibrated.max(axis=1), correct)
    assert before > 0.2 and after < 0.05
    assert np.allclose(calibrated.sum(axis=1), 1) and (calibrated.argmax(axis=1) == probs.argmax(axis=1)).all()


def test_no_calibration_leaves_probabilities_alone():
    probs, truth = overconfident(30)
    assert fit_calibrator(probs, truth, LABELS, "none") is None
    assert apply_calibrator(None, probs, LABELS) is probs


def test_coverage_and_threshold_for_a_target_accuracy():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    correct = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    assert coverage_at(confidence, correct, 0.9) == 0.5  # the five most confident are all right; six are 5/6
    assert threshold_for(confidence, correct, 0.9) == 0.7
    assert threshold_for(confidence, np.zeros(10, dtype=bool), 0.9) > 1  # nothing reaches it: all reviewed
    report = confidence_report(confidence, correct, review_below=0.7)
    assert report["auto_share"] == 0.5 and report["auto_accuracy"] == 1.0 and 0 <= report["ece"] <= 1
