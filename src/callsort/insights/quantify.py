"""How many calls of each category a set of calls holds, estimated rather than counted.

Counting each call's top label carries the classifier's confusions into every figure. Probabilistic adjusted
counting (PACC, Bella et al. 2010) instead solves  mean probabilities = C @ shares  for the shares, where
C[k, j] is the mean probability of category k the model gives calls truly in category j, measured at training
on calls it did not learn from (validation or out-of-fold calls; `Quantifier.fit`). Intervals come from the
bootstrap: the calls and those training calls are both resampled. Calls a person labelled count at their label
with certainty. Chosen on the fixed test part's shifting weeks (benchmarks/README.md, "Booking rate under
shifting weeks"): PACC erred least of counting, summed probabilities, adjusted counting and EM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "quantifier.json"
RESAMPLES = 200


@dataclass
class Quantifier:
    """The calibrated probabilities (rows, in `labels` order) and true labels of calls the model never learned
    from: what PACC needs, saved beside the model."""

    labels: list[str]
    probs: np.ndarray
    truth: np.ndarray  # category index of each row

    @classmethod
    def fit(cls, probs: np.ndarray, truth: list[str], labels: list[str]) -> Quantifier:
        return cls(list(labels), np.round(np.asarray(probs, dtype=float), 4), np.array([labels.index(t) for t in truth]))

    def save(self, folder: str | Path) -> None:
        (Path(folder) / FILE).write_text(json.dumps({"method": "pacc", "labels": self.labels,
                                                     "probs": self.probs.tolist(), "truth": self.truth.tolist()}))

    @classmethod
    def load(cls, folder: str | Path) -> Quantifier | None:
        """The quantifier saved with a model folder, or None (models trained before 2026-11-30)."""
        path = Path(folder) / FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        return cls(data["labels"], np.array(data["probs"], dtype=float), np.array(data["truth"], dtype=int))

    def confusion(self, rows: np.ndarray | None = None) -> np.ndarray:
        """C[k, j]: mean probability of k over the (chosen) calls truly in j; a category without calls: 1 on k=j."""
        rows = np.arange(len(self.truth)) if rows is None else rows
        k = len(self.labels)
        c = np.eye(k)
        for j in range(k):
            mine = rows[self.truth[rows] == j]
            if len(mine):
                c[:, j] = self.probs[mine].mean(axis=0)
        return c

    def estimate(self, probs: np.ndarray, known: np.ndarray, measure, seed: int = 0) -> tuple[float, float, float]:
        """`measure(expected calls per category)` of the calls (probabilities of the unlabelled calls, counts of
        the calls a person labelled), with a 90 % bootstrap interval: (estimate, low, high); NaN when undefined."""
        value, draws = self.estimate_draws(probs, known, measure, seed)
        return interval(value, draws)

    def estimate_draws(self, probs: np.ndarray, known: np.ndarray, measure, seed: int = 0) -> tuple[float, np.ndarray]:
        """The estimate and its `RESAMPLES` bootstrap draws (NaN where undefined): the calls and the training
        calls behind the confusion are resampled together. Draw i uses the same confusion for every set of
        calls, so draws of two sets of calls pair up for the interval of a difference."""
        value = measure(_combined(probs, known, self.confusion()))
        rng = np.random.default_rng(seed)
        draws = []
        for confusion in self._draws():
            calls = probs[rng.integers(0, len(probs), len(probs))] if len(probs) else probs
            draws.append(measure(_combined(calls, known, confusion)))
        return float(value), np.array(draws, dtype=float)

    def _draws(self) -> list[np.ndarray]:
        """The confusion of `RESAMPLES` bootstrap draws of the training calls (drawn once, seed fixed)."""
        if not hasattr(self, "_cached"):
            rng = np.random.default_rng(20261130)
            self._cached = [self.confusion(rng.integers(0, len(self.truth), len(self.truth)))
                            for _ in range(RESAMPLES)]
        return self._cached


def interval(value: float, draws: np.ndarray) -> tuple[float, float, float]:
    """(value, 5th, 95th percentile of the finite draws); all NaN when the value or every draw is undefined."""
    draws = draws[np.isfinite(draws)]
    if not np.isfinite(value) or not len(draws):
        return float("nan"), float("nan"), float("nan")
    return float(value), float(np.percentile(draws, 5)), float(np.percentile(draws, 95))


def adjusted_shares(mean_probs: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Shares s >= 0, sum 1, that best explain mean_probs = confusion @ s: non-negative least squares with the
    sum held to 1 by a heavily weighted extra row."""
    from scipy.optimize import nnls

    k = len(mean_probs)
    shares, _ = nnls(np.vstack([confusion, np.full((1, k), 100.0)]), np.append(mean_probs, 100.0))
    return shares / shares.sum() if shares.sum() > 0 else np.full(k, 1 / k)


def _combined(probs: np.ndarray, known: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Expected calls per category: PACC over the unlabelled calls plus the labelled ones' counts."""
    estimated = adjusted_shares(probs.mean(axis=0), confusion) * len(probs) if len(probs) else np.zeros(len(known))
    return estimated + known
