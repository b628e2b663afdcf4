"""Training: split off validation calls, fit the configured kind, choose the review threshold, save."""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..data import CallTable, check_trainable, known_labels_only
from ..errors import InputError
from ..insights.quantify import Quantifier
from .classifier import Classifier, kind_class
from .evaluate import classification_metrics, evaluate

log = logging.getLogger(__name__)

DEFAULT_FOLDS = 5  # out-of-fold fits of a kind that fits in seconds (issue 31: the report needs >= 300 calls)
CV_METRICS = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")


@dataclass
class TrainResult:
    """A trained model and how it got there."""

    model: Classifier
    val_metrics: dict
    history: list[dict] = field(default_factory=list)  # one entry per epoch of an encoder
    seconds: float = 0.0
    # a kind calibrated out of fold: each training call's raw probabilities from the fit without its fold,
    # and the folds ((fit rows, held rows) of the training table), for a check that refits on the same folds
    out_of_fold: np.ndarray | None = None
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None


def train(table: CallTable, config: TrainConfig | None = None, val: CallTable | None = None,
          progress: bool = True) -> TrainResult:
    """Train a classifier of kind `config.model` on labelled calls.

    A kind that fits in seconds (tf-idf) is calibrated on out-of-fold probabilities of every call and its final
    model learns from every call; a kind that needs validation calls to stop (the encoders) holds out a
    stratified share of `table` unless `val` is given. The calls a model did not learn from choose the
    needs_review threshold and fit the report's quantifier."""
    config = config or TrainConfig()
    kind = kind_class(config.model)  # an unknown kind fails here, before any work
    started = time.perf_counter()
    # a kind that needs no validation calls trains with a category of one call (a new company's first calls)
    check_trainable(table, "training data", min_per_class=1 if kind.cheap_to_fit else 2)
    fingerprint = table.fingerprint()  # of the data as given, before any split
    folds, why = calibration_plan(kind, table.concat(val) if val is not None else table, config)
    if val is None and (folds == 0 or not kind.cheap_to_fit):
        table, val = split_stratified(table, config.val_fraction, config.seed)
    elif val is not None:
        val = known_labels_only(val, sorted(set(table.labels)), "validation data")
    every = table.concat(val) if val is not None else table

    model = kind.fit(table, val, config, progress)
    model.reasons = fit_reasons(every if val is None or (table.reasons is not None and val.reasons is not None)
                                else table, config)
    from ..privacy.keep import learn_keep_list

    model.keep_list = learn_keep_list(every.texts)  # what --redact must not take for personal data
    if folds:
        probs, splits = out_of_fold_proba(kind, every, model.labels, replace(config, calibration_folds=folds), progress)
        truth = list(every.labels)
    else:
        probs, truth = model.predict_proba(val.texts), val.labels
    calibrate_and_choose_threshold(model, probs, truth, config, folds)
    # scored on the validation calls when there are some, else on the out-of-fold ones (the model saw them all)
    scored_probs, scored = (model.predict_proba(val.texts), val.labels) if val is not None else (probs, truth)
    val_metrics = classification_metrics(
        scored, [model.labels[i] for i in model.calibrated(scored_probs).argmax(axis=1)], model.labels)
    seconds = time.perf_counter() - started
    history = model.info.training.get("history", [])
    model.info.training = {
        "settings": config.to_dict(),
        "data": {"fingerprint": fingerprint, "train_calls": len(table), "val_calls": len(val) if val else 0,
                 "class_counts": dict(Counter(table.labels))},
        "calibration_folds": {"used": folds, "why": why},
        "val_metrics": {k: val_metrics[k] for k in ("accuracy", "macro_f1", "weighted_f1")},
        "val_metrics_on": f"{len(scored)} {'validation' if val is not None else 'out-of-fold'} calls",
        "history": history, "seconds": round(seconds, 1), "versions": _versions(),
    }
    if model.reasons is not None:
        model.info.reasons = model.reasons.describe()
        model.info.training["data"]["reason_counts"] = dict(Counter(r for r in every.reasons or [] if r))
    if folds and val is None:
        return TrainResult(model, val_metrics, history, seconds, probs, splits)
    return TrainResult(model, val_metrics, history, seconds)


def calibration_plan(kind, table: CallTable, config: TrainConfig) -> tuple[int, str]:
    """How many out-of-fold fits calibrate the model (0: the validation calls), and why: as asked, 5 by
    default for kinds that fit in seconds, fewer when the smallest category cannot fill every fold."""
    asked = config.calibration_folds
    if asked is None:
        asked = DEFAULT_FOLDS if kind.cheap_to_fit else 0
    if not asked:
        return 0, "validation calls" + (" (asked)" if config.calibration_folds == 0 else f" ({kind.kind} default)")
    smallest = min(Counter(table.labels).values())
    # each fit of a kind that stops on validation calls holds out its own: 2 calls of each category a fold
    most = smallest if kind.cheap_to_fit else smallest // 2
    if most >= asked:
        return asked, f"{asked} folds"
    if most >= 2:
        return most, f"{most} folds, not {asked}: the smallest category has {smallest} calls"
    if kind.cheap_to_fit and len(table) >= 4:  # a single call is never predicted out of fold: a known gap
        return 2, f"2 folds, not {asked}: the smallest category has 1 call (never predicted out of fold)"
    if smallest < 2:  # nothing to calibrate on: the same error as check_trainable's
        check_trainable(table, "training data", min_per_class=2)
    return 0, f"validation calls, not {asked} folds: the smallest category has {smallest} calls"


def fit_reasons(table: CallTable, config: TrainConfig):
    """The lost-lead reason model (reasons.py) when the calls carry reasons, else None."""
    if table.reasons is None:
        return None
    from .reasons import ReasonModel

    return ReasonModel.fit(table.texts, table.labels, table.reasons, config.reason_min_calls, config.seed)


def calibrate_and_choose_threshold(model: Classifier, raw: np.ndarray, truth: list[str], config: TrainConfig,
                                   folds: int = 0) -> None:
    """Calibrate the model on probabilities of calls it never learned from (validation or out-of-fold), then
    set needs_review below the confidence at which those calls are right `config.auto_accuracy` of the time."""
    from .calibrate import fit_calibrator, threshold_for  # scikit-learn: imported when used

    model.calibrator = fit_calibrator(raw, truth, model.labels, config.calibration)
    probs = model.calibrated(raw)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.array([model.labels.index(t) for t in truth])
    info = model.info
    info.calibration = config.calibration if model.calibrator is not None else "none"
    info.calibrated_on = f"{len(truth)} out-of-fold calls ({folds} folds)" if folds else f"{len(truth)} validation calls"
    info.auto_accuracy = config.auto_accuracy
    info.review_below = threshold_for(confidence, correct, config.auto_accuracy)
    info.expected_coverage = round(float((confidence >= info.review_below).mean()), 4)
    model.quantifier = Quantifier.fit(probs, truth, model.labels)  # what the report's estimates need


def out_of_fold_proba(kind, table: CallTable, labels: list[str], config: TrainConfig,
                      progress: bool = False) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Probabilities of every call from a model of `kind` fitted without it (stratified
    `config.calibration_folds`-fold; each fit of a kind that stops on validation calls holds out its own);
    returns (probs, the folds' (fit rows, held rows))."""
    from tqdm.auto import tqdm

    # 2 x folds calls a class: every fit then keeps some of each class after holding out its validation calls
    per_fold = 1 if kind.cheap_to_fit else 2  # a kind that stops on validation calls holds out its own
    if not kind.cheap_to_fit:
        check_trainable(table, f"training data for {config.calibration_folds} calibration folds",
                        min_per_class=per_fold * config.calibration_folds)
    probs = np.zeros((len(table), len(labels)))
    splits = fold_splits(table.labels, config.calibration_folds, config.seed)
    for fit_idx, held_idx in tqdm(splits, desc="calibration folds", unit="fit", disable=not progress):
        fit_part, fit_val = table.subset(fit_idx), None
        if not kind.cheap_to_fit:
            fit_part, fit_val = split_stratified(fit_part, config.val_fraction, config.seed)
        part = kind.fit(fit_part, fit_val, config, progress=False)
        held = part.predict_proba(table.subset(held_idx).texts)
        for j, label in enumerate(labels):  # a category missing from this fit's calls: probability 0
            probs[held_idx, j] = held[:, part.labels.index(label)] if label in part.labels else 0.0
    return probs, splits


def fold_splits(labels: list[str], k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (fit rows, held rows) of a labelled table: the same folds for the same labels and seed."""
    from sklearn.model_selection import StratifiedKFold

    with warnings.catch_warnings():  # "the least populated class has only 1 member": planned (calibration_plan)
        warnings.simplefilter("ignore", UserWarning)
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(folds.split(np.zeros(len(labels)), labels))


def split_stratified(table: CallTable, fraction: float, seed: int) -> tuple[CallTable, CallTable]:
    """Hold out a stratified share (at least one call per class) of a labelled table."""
    from sklearn.model_selection import train_test_split

    n_classes = len(set(table.labels))
    n_val = max(int(round(fraction * len(table))), n_classes)
    if len(table) - n_val < n_classes:
        raise InputError(f"training data: {len(table)} calls are too few to hold out {n_val} for validation; pass --val")
    train_idx, val_idx = train_test_split(
        np.arange(len(table)), test_size=n_val, stratify=table.labels, random_state=seed)
    return table.subset(sorted(train_idx)), table.subset(sorted(val_idx))


def _versions() -> dict:
    import importlib.metadata as md

    versions = {}
    for package in ("torch", "transformers", "scikit-learn", "numpy"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return versions


def train_and_save(table: CallTable, out_dir: str | Path, config: TrainConfig | None = None,
                   val: CallTable | None = None, test: CallTable | None = None, progress: bool = True,
                   corrections: dict | None = None) -> TrainResult:
    """Train, score on `test` (report in `out_dir/report`), and save the model folder. `corrections` (the
    counts of review.add_corrections) is recorded in callsort.json."""
    result = train(table, config, val, progress)
    if corrections is not None:
        result.model.info.training["corrections"] = corrections
    out_dir = Path(out_dir)
    if test is not None:
        metrics = evaluate(result.model, test, out_dir / "report", progress=progress)
        result.model.info.training["test_metrics"] = {
            k: metrics[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall",
                                    "confidence", "reasons") if k in metrics}
    result.model.save(out_dir)
    return result


def cross_validate(table: CallTable, k: int, out_dir: str | Path | None = None, config: TrainConfig | None = None,
                   progress: bool = True) -> dict:
    """Stratified k-fold: train on k-1 folds (validation split from them), score the held-out fold.

    Returns (and writes to `out_dir/cv_metrics.json`) the mean and standard deviation of every metric,
    with each fold's figures; each fold's full report goes to `out_dir/fold_N/`.
    """
    from sklearn.model_selection import StratifiedKFold

    config = config or TrainConfig()
    check_trainable(table, "training data", min_per_class=max(k, 2))
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed)
    per_fold = []
    for n, (train_idx, test_idx) in enumerate(folds.split(np.zeros(len(table)), table.labels), start=1):
        log.info("fold %d/%d: %d training calls, %d test calls", n, k, len(train_idx), len(test_idx))
        result = train(table.subset(train_idx), config, progress=progress)
        report = Path(out_dir) / f"fold_{n}" if out_dir else None
        metrics = evaluate(result.model, table.subset(test_idx), report)
        per_fold.append({"fold": n, "train_seconds": round(result.seconds, 1),
                         **{m: metrics[m] for m in CV_METRICS}})
    summary = {"k": k, "calls": len(table), "settings": config.to_dict(), "folds": per_fold}
    for m in CV_METRICS + ("train_seconds",):
        values = np.array([f[m] for f in per_fold], dtype=float)
        summary[m] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if k > 1 else 0.0}
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "cv_metrics.json").write_text(json.dumps(summary, indent=2))
    return summary
