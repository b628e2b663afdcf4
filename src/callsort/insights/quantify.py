"""How many calls of each category a set of calls holds, estimated rather than counted.

Counting each call's top label carries the classifier's confusions into every figure. Probabilistic adjusted
counting (PACC, Bella et al. 2010) instead solves  mean probabilities = C @ shares  for the shares, where
C[k, j] is the mean probability of category k the model gives calls truly in category j, measured at training
on calls it did not learn from (validation or out-of-fold calls; `Quantifier.fit`). Intervals come from the
bootstrap: the calls and those training calls are both resampled. Calls a person labelled count at their label
with certainty; calls whose customer side the customer list set count on that side (`expected`). Chosen on
the fixed test part's shifting weeks (benchmarks/README.md, "Booking rate under shifting weeks"): PACC erred
least of counting, summed probabilities, adjusted counting and EM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import SIDES, side_of, without_side

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

    def confusion(self, rows: np.ndarray | None = None, folded: bool = False) -> np.ndarray:
        """C[k, j]: mean probability of k over the (chosen) calls truly in j; a category without calls: 1 on k=j.
        `folded`: over the categories with the customer side dropped (`side_free`)."""
        rows = np.arange(len(self.truth)) if rows is None else rows
        fold, names = side_free(self.labels) if folded else (np.arange(len(self.labels)), self.labels)
        probs, truth = self.probs @ np.eye(len(names))[fold], fold[self.truth]
        c = np.eye(len(names))
        for j in range(len(names)):
            mine = rows[truth[rows] == j]
            if len(mine):
                c[:, j] = probs[mine].mean(axis=0)
        return c

    def estimate(self, probs: np.ndarray, known: np.ndarray, measure, seed: int = 0,
                 sides: np.ndarray | None = None) -> tuple[float, float, float]:
        """`measure(expected calls per category)` of the calls (probabilities of the unlabelled calls, counts of
        the calls a person labelled), with a 90 % bootstrap interval: (estimate, low, high); NaN when undefined.
        `sides`: each call's customer side when the customer list set it ("existing"/"new", else "")."""
        value, draws = self.estimate_draws(probs, known, measure, seed, sides)
        return interval(value, draws)

    def estimate_draws(self, probs: np.ndarray, known: np.ndarray, measure, seed: int = 0,
                       sides: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The estimate and its `RESAMPLES` bootstrap draws (NaN where undefined): the calls and the training
        calls behind the confusion are resampled together. Draw i uses the same confusion for every set of
        calls, so draws of two sets of calls pair up for the interval of a difference."""
        sides = np.full(len(probs), "", dtype=object) if sides is None else np.asarray(sides, dtype=object)
        value = measure(self.expected(probs, known, sides))
        rng = np.random.default_rng(seed)
        draws = []
        for draw in range(RESAMPLES):
            calls = rng.integers(0, len(probs), len(probs)) if len(probs) else np.arange(0)
            draws.append(measure(self.expected(probs[calls], known, sides[calls], draw)))
        return float(value), np.array(draws, dtype=float)

    def expected(self, probs: np.ndarray, known: np.ndarray, sides: np.ndarray | None = None,
                 draw: int | None = None) -> np.ndarray:
        """Expected calls per category: PACC over the unlabelled calls plus the labelled ones' counts. Calls
        whose side the customer list set are estimated with the side dropped and counted on their side: the
        confusion describes the model alone, so correcting a side the list made certain would undo the list.
        `draw`: which bootstrap draw of the quantifier's calls to measure the confusion on (default all)."""
        sides = np.full(len(probs), "") if sides is None else np.asarray(sides)
        counts = np.asarray(known, dtype=float).copy()
        plain = sides == ""
        if plain.any():
            counts += adjusted_shares(probs[plain].mean(axis=0), self._confusion(draw, False)) * plain.sum()
        fold, names = side_free(self.labels)
        for side in SIDES:
            mine = sides == side
            if mine.any():
                folded = adjusted_shares((probs[mine] @ np.eye(len(names))[fold]).mean(axis=0),
                                         self._confusion(draw, True)) * mine.sum()
                counts += _on_side(folded, fold, self.labels, side)
        return counts

    def _confusion(self, draw: int | None, folded: bool) -> np.ndarray:
        """The confusion of all calls (draw None) or of bootstrap draw `draw` of them (seed fixed), kept."""
        if not hasattr(self, "_kept"):
            rng = np.random.default_rng(20261130)
            self._draws = [rng.integers(0, len(self.truth), len(self.truth)) for _ in range(RESAMPLES)]
            self._kept: dict = {}
        key = (draw, folded)
        if key not in self._kept:
            self._kept[key] = self.confusion(None if draw is None else self._draws[draw], folded)
        return self._kept[key]


def side_free(labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each category's index among the categories with the customer side dropped ("Existing Customer - X" and
    "New Customer - X" as one), and those categories' names."""
    names = [without_side(k) for k in labels]
    folded = list(dict.fromkeys(names))
    return np.array([folded.index(n) for n in names]), folded


def _on_side(folded: np.ndarray, fold: np.ndarray, labels: list[str], side: str) -> np.ndarray:
    """Side-free counts back on the categories: a pair's count on the `side` twin, a lone category's on itself."""
    counts = np.zeros(len(labels))
    for f, value in enumerate(folded):
        members = np.flatnonzero(fold == f)
        twin = [j for j in members if side_of(labels[j]) == side] if len(members) > 1 else list(members)
        counts[twin[0] if twin else members[0]] += value
    return counts


def interval(value: float, draws: np.ndarray) -> tuple[float, float, float]:
    """(value, 5th, 95th percentile of the finite draws); all NaN when the value or every draw is undefined."""
    draws = draws[np.isfinite(draws)]
    if not np.isfinite(value) or not len(draws):
        return float("nan"), float("nan"), float("nan")
    return float(value), float(np.percentile(draws, 5)), float(np.percentile(draws, 95))


def wilson(rate: float, n: float, confidence: float = 0.9) -> tuple[float, float]:
    """The Wilson score interval of a share `rate` of `n` trials. Written out rather than scipy's
    `binomtest(k, n).proportion_ci(method="wilson")` (the same for whole counts, tests/test_report.py) because
    PACC's expected leads are fractional."""
    from scipy.stats import norm

    z2n = float(norm.ppf(0.5 + confidence / 2)) ** 2 / n
    centre = (rate + z2n / 2) / (1 + z2n)
    half = np.sqrt(z2n * (rate * (1 - rate) + z2n / 4)) / (1 + z2n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def at_least_wilson(rate: float, low: float | None, high: float | None, n: float) -> tuple[float, float]:
    """The wider of an interval (None: no interval) and the Wilson interval of `rate` over `n` leads: a group
    resting on a few leads never looks certain, even when its bootstrap draws all agree."""
    w_low, w_high = wilson(rate, n)
    if low is None or high is None or not np.isfinite(low) or not np.isfinite(high):
        return w_low, w_high
    return min(low, w_low), max(high, w_high)


def adjusted_shares(mean_probs: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Shares s >= 0, sum 1, that best explain mean_probs = confusion @ s: non-negative least squares with the
    sum held to 1 by a heavily weighted extra row."""
    from scipy.optimize import nnls

    k = len(mean_probs)
    shares, _ = nnls(np.vstack([confusion, np.full((1, k), 100.0)]), np.append(mean_probs, 100.0))
    return shares / shares.sum() if shares.sum() > 0 else np.full(k, 1 / k)
