"""Tags that disagree: the training calls the other calls contradict (`callsort train --label-issues FILE`).

Confident learning (Northcutt et al., 2021), without its package: each call's probabilities come from tf-idf
fits that never saw it (5 folds, fewer for small tags: seconds, whatever kind is trained); a call is a suspect when the
probability of its own tag is under that tag's threshold (the mean probability the tag gets on the calls
that carry it) and another tag is more probable. Most suspicious first: the lowest probability of
its own tag. Suspects are for a person to check, not for silent pruning (benchmarks/README.md, "Tags that
disagree"): the file loads into the service as a batch, a reviewer sets the right tags in the review queue,
and `train --corrections STORE` applies them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import TrainConfig
from ..data import CallTable

FOLDS = 5


def label_issues(table: CallTable, config: TrainConfig | None = None, progress: bool = False) -> list[dict]:
    """The suspects among `table`'s calls, most suspicious first: source, text, label, suggested, p_label,
    p_suggested."""
    from collections import Counter

    from .classifier import kind_class
    from .train import out_of_fold_proba

    labels = sorted(set(table.labels))
    folds = max(2, min(FOLDS, min(Counter(table.labels).values()) // 2))  # fewer folds for small tags
    settings = replace(config or TrainConfig(), model="tfidf", calibration_folds=folds)
    probs, _ = out_of_fold_proba(kind_class("tfidf"), table, labels, settings, progress)
    given = np.array([labels.index(x) for x in table.labels])
    thresholds = np.array([probs[given == j, j].mean() if (given == j).any() else 1.0 for j in range(len(labels))])
    suspects = []
    for i, j in enumerate(given):
        best = max((k for k in range(len(labels)) if k != j), key=lambda k: probs[i, k])
        if probs[i, j] < thresholds[j] and probs[i, best] > probs[i, j]:
            suspects.append({"source": table.sources[i], "text": table.texts[i], "label": labels[j],
                             "suggested": labels[best], "p_label": round(float(probs[i, j]), 4),
                             "p_suggested": round(float(probs[i, best]), 4)})
    return sorted(suspects, key=lambda s: s["p_label"])
