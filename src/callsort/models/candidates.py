"""Learning in place, the policy: which of people's labels are kept back for checking, how a candidate model is
trained, and when it replaces the active one. The service (service/learning.py) and the replay benchmark
(benchmarks/learning_in_place.py) both call these, so the benchmark measures the policy as shipped.

The check: a fixed share of people's labels (chosen by a hash of the call, so a call stays on its side as
labels come) is never learned from; the candidate and the active model are scored on the same check calls,
and the candidate is activated only when its macro-F1 there is not lower. Cross-validation refitting both
recipes would use every label for the final model, but costs 2 x k fits per check and cannot score the
active model as it is (its folder is what was activated); a kept-back share is one fit and scores both as
they are.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..config import TrainConfig
from ..data import CallTable
from .classifier import Classifier

CHECK_SHARE = 0.2  # of people's labels, kept back to check candidates
BOOTSTRAP = 1000  # resamples of the check calls for the macro-F1 interval
MIN_LABELLED = 2  # categories with at least one label before a first model can learn


def is_check_call(key: str, share: float = CHECK_SHARE) -> bool:
    """Whether the call named by `key` (its source and content hash) is kept back for checking."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8 < share


def split_for_checking(people: CallTable, keys: list[str], share: float = CHECK_SHARE) -> tuple[CallTable, CallTable]:
    """People's labelled calls as (to learn from, to check on)."""
    check = [i for i, key in enumerate(keys) if is_check_call(key, share)]
    learn = [i for i in range(len(keys)) if i not in set(check)]
    return people.subset(learn), people.subset(check)


@dataclass
class Check:
    """A model's macro-F1 on the check calls, with a 90 % bootstrap interval (None without check calls)."""

    macro_f1: float | None = None
    low: float | None = None
    high: float | None = None
    calls: int = 0


def score(model: Classifier | None, check: CallTable, seed: int = 0) -> Check:
    """Macro-F1 over the categories people gave the check calls (a category the model does not know scores 0)."""
    from sklearn.metrics import f1_score

    if model is None or not len(check):
        return Check(calls=len(check))
    truth = np.array(check.labels)
    predicted = np.array([p.label for p in model.predict(check.texts)])

    def macro_f1(pick) -> float:
        return float(f1_score(truth[pick], predicted[pick], labels=sorted(set(truth[pick])), average="macro",
                              zero_division=0))

    rng = np.random.default_rng(seed)
    draws = [macro_f1(rng.integers(0, len(truth), len(truth))) for _ in range(BOOTSTRAP)]
    low, high = np.percentile(draws, [5, 95])
    return Check(round(macro_f1(np.arange(len(truth))), 4), round(float(low), 4), round(float(high), 4), len(truth))


def learnable(table: CallTable) -> str:
    """'' when the labels can train a model, else why not: two categories at least, and two calls of one of
    them (a model calibrates on calls it did not learn from: with one call of each, there are none)."""
    counts = Counter(table.labels or [])
    if len(counts) < MIN_LABELLED:
        return f"labels of at least {MIN_LABELLED} categories are needed ({len(counts)} so far, less the check share)"
    if max(counts.values()) < 2:
        return "two calls of one category at least are needed to learn from (less the check share)"
    return ""


def train_candidate(table: CallTable, config: TrainConfig | None = None) -> Classifier:
    """A candidate model of the default kind (tf-idf: seconds on 1,000 calls) on every call it may learn from."""
    from .train import train

    return train(table, config or TrainConfig(), progress=False).model


def better_or_equal(candidate: Check, active: Check | None) -> bool:
    """The activation rule: no active model, or the candidate's check figure is not lower than the active's on
    the same calls. Without check calls nothing says the candidate is not worse: it waits."""
    if active is None:
        return True
    if candidate.macro_f1 is None or active.macro_f1 is None:
        return False
    return candidate.macro_f1 >= active.macro_f1
