"""Why a lead was not booked: a second, small model over the calls of the categories that carry a reason.

The training data's reason column (e.g. "Price Shopper", "CSR Needs to Call Customer Back") is set on the
"Lead Not Booked" calls. The categories that carry reasons are learned from the data, not named in code;
a blank reason is unknown, not a class; reasons with too few calls are folded into "Other" with a warning.
The model is tf-idf + logistic regression (textfeatures.build_tfidf): ~150 calls are too few for anything bigger.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import InputError
from .textfeatures import build_tfidf

log = logging.getLogger(__name__)

REASONS_FILE = "reasons.joblib"
FOLD_INTO = "Other"


class ReasonModel:
    """Predicts a reason for calls of the categories in `for_labels`."""

    def __init__(self, pipeline, reasons: list[str], for_labels: list[str], folded: dict[str, int],
                 counts: dict[str, int] | None = None):
        self.pipeline, self.reasons, self.for_labels, self.folded = pipeline, reasons, for_labels, folded
        self.counts = counts or {}  # training calls per reason, after folding

    def target(self, reason: str) -> str:
        """A true reason as this model knows it: folded or unseen reasons are "Other"."""
        return reason if reason in self.reasons else FOLD_INTO

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], reasons: list[str], min_calls: int = 5,
            seed: int = 42) -> ReasonModel:
        """Fit on the calls that have a reason, in the categories where most calls have one (a stray reason
        on a booked call is noise, not a category that carries reasons); reasons with fewer than `min_calls`
        calls become "Other"."""
        with_reason, calls = Counter(labels[i] for i, r in enumerate(reasons) if r), Counter(labels)
        for_labels = sorted(label for label, n in with_reason.items() if n >= 0.5 * calls[label])
        rows = [i for i, r in enumerate(reasons) if r and labels[i] in for_labels]
        counts = Counter(reasons[i] for i in rows)
        folded = {r: n for r, n in counts.items() if n < min_calls and r != FOLD_INTO}
        if folded:
            log.warning("reasons with fewer than %d calls folded into %r: %s", min_calls, FOLD_INTO,
                        ", ".join(f"{r} ({n})" for r, n in sorted(folded.items())))
        targets = [FOLD_INTO if reasons[i] in folded else reasons[i] for i in rows]
        if len(set(targets)) < 2:
            raise InputError(f"reason column: needs at least two reasons with {min_calls} or more calls each, "
                             f"found {dict(counts) or 'none'}")
        pipeline = build_tfidf(seed, min_char=3).fit([texts[i] for i in rows], targets)
        return cls(pipeline, sorted(set(targets)), for_labels, folded, dict(Counter(targets)))

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """(reason, confidence) of each text."""
        if not texts:
            return [], np.zeros(0)
        probs = self.pipeline.predict_proba(list(texts))
        classes = [str(c) for c in self.pipeline.classes_]
        return [classes[i] for i in probs.argmax(axis=1)], probs.max(axis=1)

    def describe(self) -> dict:
        """What callsort.json records about it."""
        return {"reasons": self.reasons, "for_labels": self.for_labels, "folded_into_other": self.folded,
                "counts": self.counts}

    def save(self, folder: Path) -> None:
        import joblib

        joblib.dump(self.pipeline, Path(folder) / REASONS_FILE)

    @classmethod
    def load(cls, folder: Path, described: dict) -> ReasonModel:
        from .legacy import load_pickle

        return cls(load_pickle(Path(folder) / REASONS_FILE), described["reasons"], described["for_labels"],
                   described.get("folded_into_other", {}), described.get("counts", {}))
