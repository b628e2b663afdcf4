"""Learning in place, the policy: how a candidate model is trained and checked, and when it replaces the
active one. The service (service/learning.py) and the replay benchmark (benchmarks/learning_in_place.py) both
call these, so the benchmark measures the policy as shipped.

The check is cross-validation that refits both recipes on the same folds: the candidate learns from every
label (--train-data and all of people's labels); its out-of-fold predictions (the fits that calibrate it,
models/train.py) score it on people's calls, and the active model's data (--train-data and the people's labels
it learned from, recorded with each version) is refitted on the same folds and scored on the same calls. The
comparison is paired, and no label is kept out of the model a company uses: with a few dozen labels, a
kept-back fifth taught nothing and held good candidates back by chance (benchmarks/README.md#learning-in-place-issue-33).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..config import TrainConfig
from ..data import CallTable
from .classifier import Classifier

BOOTSTRAP = 1000  # resamples of the checked calls for the macro-F1 interval
MIN_LABELLED = 2  # categories with at least one label before a first model can learn
SMALL_TABLE = 400  # calls to learn from below which the check repeats its cross-validation (repeats())


@dataclass
class Check:
    """Macro-F1 on people's calls out of fold, with a 90 % bootstrap interval (None without such calls)."""

    macro_f1: float | None = None
    low: float | None = None
    high: float | None = None
    calls: int = 0


@dataclass
class Candidate:
    """A trained candidate, its check, the active model's on the same calls (None without one), and the
    people's labels it learned from (key -> label: what a later check refits as this model's data)."""

    model: Classifier
    mine: Check
    theirs: Check | None
    learned: dict[str, str]


def score(truth: list[str], rounds: list[list[str | None]], seed: int = 0) -> Check:
    """Macro-F1 over the categories of `truth`, the mean over `rounds` of predictions of the same calls (a
    call some round did not predict, None, is left out), with a bootstrap over calls."""
    keep = [i for i in range(len(truth)) if all(r[i] is not None for r in rounds)]
    if not keep:
        return Check(calls=0)
    names = sorted({truth[i] for i in keep} | {r[i] for r in rounds for i in keep})
    code = {name: n for n, name in enumerate(names)}
    right = np.array([code[truth[i]] for i in keep])
    given = np.array([[code[r[i]] for i in keep] for r in rounds])

    def macro_f1(pick) -> float:
        return float(np.mean([_macro_f1(right[pick], said[pick], len(names)) for said in given]))

    rng = np.random.default_rng(seed)
    draws = [macro_f1(rng.integers(0, len(right), len(right))) for _ in range(BOOTSTRAP)]
    low, high = np.percentile(draws, [5, 95])
    return Check(round(macro_f1(np.arange(len(right))), 4), round(float(low), 4), round(float(high), 4), len(right))


def _macro_f1(right: np.ndarray, said: np.ndarray, n: int) -> float:
    """scikit-learn's f1_score(right, said, labels=present categories, average="macro", zero_division=0), on
    category numbers: vectorised, as the bootstrap calls it thousands of times a check."""
    hits = np.bincount(right[said == right], minlength=n)
    truth, given = np.bincount(right, minlength=n), np.bincount(said, minlength=n)
    present = truth > 0
    return float(np.mean(2 * hits[present] / (truth[present] + given[present])))


def learnable(table: CallTable) -> str:
    """'' when the labels can train a model, else why not: two categories at least, and two calls of one of
    them (a model calibrates on calls it did not learn from: with one call of each, there are none)."""
    counts = Counter(table.labels or [])
    if len(counts) < MIN_LABELLED:
        return f"labels of at least {MIN_LABELLED} categories are needed ({len(counts)} so far)"
    if max(counts.values()) < 2:
        return "two calls of one category at least are needed to learn from"
    return ""


def train_and_check(base: CallTable | None, people: CallTable, keys: list[str], active: Classifier | None,
                    active_learned: dict[str, str] | None, config: TrainConfig | None = None) -> Candidate:
    """Train a candidate of the default kind on `base` and every one of people's labels (`keys` name their
    calls), and check it and the active model on people's calls, out of fold (see the module's docstring)."""
    from .train import fold_splits, train

    config = config or TrainConfig()
    table = base.concat(people) if base is not None else people
    result = train(table, config, progress=False)
    first = len(table) - len(people)  # people's rows come after the --train-data table's
    learned = dict(zip(keys, people.labels, strict=True))
    if result.out_of_fold is None:  # too few calls for folds: nothing out of fold to check on
        return Candidate(result.model, Check(), None if active is None else Check(), learned)
    folds = [result.folds] + [fold_splits(table.labels, len(result.folds), config.seed + n)
                              for n in range(1, repeats(len(table)))]
    mine = [[result.model.labels[j] for j in result.out_of_fold[first:].argmax(axis=1)]]
    mine += [refitted(type(result.model), table, first, keys, learned, f, config) for f in folds[1:]]
    if active is None:
        return Candidate(result.model, score(people.labels, mine), None, learned)
    if active_learned is not None and type(active).cheap_to_fit:
        theirs = [refitted(type(active), table, first, keys, active_learned, f, config) for f in folds]
    else:
        theirs = [as_it_is(active, people, keys, active_learned)]
    paired = [[m if all(t[i] is not None for t in theirs) else None for i, m in enumerate(r)] for r in mine]
    return Candidate(result.model, score(people.labels, paired), score(people.labels, theirs), learned)


def repeats(calls: int) -> int:
    """Rounds of cross-validation (each its own folds): a few dozen labels move a single round's figure by
    chance more than 25 new labels move the model, and fits of a few hundred calls take a second."""
    return 3 if calls < SMALL_TABLE else 1


def refitted(kind, table: CallTable, first: int, keys: list[str], learned: dict[str, str], folds, config) -> list[str | None]:
    """People's calls as predicted by the active model's data (the --train-data rows and the people's calls
    it learned from, at the labels it learned) refitted without each call's fold."""
    said: list[str | None] = [None] * (len(table) - first)
    for fit_idx, held_idx in folds:
        rows = [i for i in fit_idx if i < first or keys[i - first] in learned]
        held = [i for i in held_idx if i >= first]
        if not rows or not held:
            continue
        labels = [table.labels[i] if i < first else learned[keys[i - first]] for i in rows]
        if len(set(labels)) == 1:  # one category learned: it is all this fit can say
            predicted = labels[:1] * len(held)
        else:
            fit = CallTable([table.texts[i] for i in rows], [table.sources[i] for i in rows], labels)
            predicted = [p.label for p in kind.fit(fit, None, config).predict([table.texts[i] for i in held])]
        for i, label in zip(held, predicted, strict=True):
            said[i - first] = label
    return said


def as_it_is(active: Classifier, people: CallTable, keys: list[str], learned: dict[str, str] | None) -> list[str | None]:
    """A model that cannot be refitted (an encoder, or a version that did not record its data) scored as it
    is on people's calls it did not learn from (all of them when unknown: then the check favours it)."""
    fresh = [i for i, key in enumerate(keys) if learned is None or key not in learned]
    said: list[str | None] = [None] * len(keys)
    for i, p in zip(fresh, active.predict([people.texts[i] for i in fresh]), strict=True):
        said[i] = p.label
    return said


def better_or_equal(candidate: Check, active: Check | None) -> bool:
    """The activation rule: no active model, or the candidate's check figure is not lower than the active's on
    the same calls. Without checked calls nothing says the candidate is not worse: it waits."""
    if active is None:
        return True
    if candidate.macro_f1 is None or active.macro_f1 is None:
        return False
    return candidate.macro_f1 >= active.macro_f1
