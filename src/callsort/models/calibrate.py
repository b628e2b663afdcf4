"""Confidence people can act on: calibrated probabilities, and the review threshold for a target accuracy.

Calibration is scikit-learn's (CalibratedClassifierCV, temperature scaling or isotonic) fitted on
probabilities the model gave for calls it was not trained on. It works for every kind of classifier because
the "estimator" it calibrates is the table of those probabilities itself (`GivenProbabilities`).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

log = logging.getLogger(__name__)


class GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A classifier whose input rows are already class probabilities (columns in `labels` order)."""

    def __init__(self, labels=None):
        self.labels = labels

    def fit(self, X, y=None):
        self.classes_ = np.asarray(self.labels)
        return self

    def predict_proba(self, X):
        return np.clip(np.asarray(X, dtype=float), 1e-12, 1.0)

    def predict(self, X):
        return self.classes_[np.asarray(X).argmax(axis=1)]


def fit_calibrator(probs: np.ndarray, truth: list[str], labels: list[str], method: str = "temperature"):
    """A fitted calibrator (its `predict_proba` maps raw probabilities to calibrated ones), or None."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    if method == "none":
        return None
    if set(truth) != set(labels):  # a class the calibration calls lack could not be mapped
        log.warning("not calibrated: the calibration calls lack %s", ", ".join(sorted(set(labels) - set(truth))))
        return None
    frozen = FrozenEstimator(GivenProbabilities(labels).fit(probs))
    every_call = np.arange(len(truth))  # one "split" whose test part is every call: the model is already fitted
    return CalibratedClassifierCV(frozen, method=method, cv=[(every_call, every_call)]).fit(probs, np.asarray(truth))


def apply_calibrator(calibrator, probs: np.ndarray, labels: list[str]) -> np.ndarray:
    """Calibrated probabilities, columns in `labels` order (unchanged without a calibrator)."""
    if calibrator is None or len(probs) == 0:
        return probs
    calibrated = calibrator.predict_proba(probs)
    order = [list(calibrator.classes_).index(label) for label in labels]
    return calibrated[:, order]


def coverage_at(confidence, correct, target: float) -> float:
    """The largest share of calls that, taken most confident first, are right at least `target` of the time."""
    ok = _prefix_accuracy_ok(confidence, correct, target)
    return float((ok[-1] + 1) / len(confidence)) if len(ok) else 0.0


def threshold_for(confidence, correct, target: float) -> float:
    """Lowest confidence t such that calls predicted with confidence >= t are right at least `target` of the time
    (1.0 + nothing passes when no share of the calls reaches it)."""
    confidence = np.asarray(confidence, dtype=float)
    ok = _prefix_accuracy_ok(confidence, correct, target)
    return round(float(np.sort(confidence)[::-1][ok[-1]]), 4) if len(ok) else 1.0001


def _prefix_accuracy_ok(confidence, correct, target: float) -> np.ndarray:
    confidence = np.asarray(confidence, dtype=float)
    order = np.argsort(-confidence, kind="stable")
    running = np.cumsum(np.asarray(correct, dtype=float)[order]) / np.arange(1, len(order) + 1)
    return np.nonzero(running >= target)[0]


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """Top-label ECE: the call-weighted mean gap between confidence and accuracy over equal-width bins."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = sum(abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).sum()
              for b in range(bins) if (which == b).any())
    return float(gap / max(len(confidence), 1))


def confidence_report(confidence, correct, review_below: float | None = None) -> dict:
    """Coverage at 90 % and 95 % accuracy, ECE, and what the model's own threshold lets through."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)
    report = {"coverage_at_90": round(coverage_at(confidence, correct, 0.90), 4),
              "coverage_at_95": round(coverage_at(confidence, correct, 0.95), 4),
              "ece": round(expected_calibration_error(confidence, correct), 4)}
    if review_below is not None:
        auto = confidence >= review_below
        report.update({"review_below": review_below, "auto_share": round(float(auto.mean()), 4),
                       "auto_accuracy": round(float(correct[auto].mean()), 4) if auto.any() else None})
    return report
