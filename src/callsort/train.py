"""Training: split off validation calls, fit the configured kind, choose the review threshold, save."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .classifier import Classifier, kind_class
from .config import TrainConfig
from .data import CallTable, check_trainable, known_labels_only
from .errors import InputError
from .evaluate import classification_metrics, evaluate

log = logging.getLogger(__name__)

CV_METRICS = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")


@dataclass
class TrainResult:
    """A trained model and how it got there."""

    model: Classifier
    val_metrics: dict
    history: list[dict] = field(default_factory=list)  # one entry per epoch of an encoder
    seconds: float = 0.0


def train(table: CallTable, config: TrainConfig | None = None, val: CallTable | None = None,
          progress: bool = True) -> TrainResult:
    """Train a classifier of kind `config.model` on labelled calls. Without `val`, a stratified share of
    `table` is held out; the validation calls choose when to stop and the needs_review threshold."""
    config = config or TrainConfig()
    kind = kind_class(config.model)  # an unknown kind fails here, before any work
    started = time.perf_counter()
    check_trainable(table, "training data")
    fingerprint = table.fingerprint()  # of the data as given, before any split
    if val is None:
        table, val = split_stratified(table, config.val_fraction, config.seed)
    else:
        val = known_labels_only(val, sorted(set(table.labels)), "validation data")

    model = kind.fit(table, val, config, progress)
    val_metrics = calibrate_and_choose_threshold(model, val, config)
    seconds = time.perf_counter() - started
    history = model.info.training.get("history", [])
    model.info.training = {
        "settings": config.to_dict(),
        "data": {"fingerprint": fingerprint, "train_calls": len(table), "val_calls": len(val),
                 "class_counts": dict(Counter(table.labels))},
        "val_metrics": {k: val_metrics[k] for k in ("accuracy", "macro_f1", "weighted_f1")},
        "history": history, "seconds": round(seconds, 1), "versions": _versions(),
    }
    return TrainResult(model, val_metrics, history, seconds)


def calibrate_and_choose_threshold(model: Classifier, val: CallTable, config: TrainConfig) -> dict:
    """Calibrate the model on the validation calls (it never learned from them), then set needs_review below
    the confidence at which they are right `config.auto_accuracy` of the time; returns their metrics."""
    from .calibrate import apply_calibrator, fit_calibrator, threshold_for  # scikit-learn: imported when used

    raw = model.predict_proba(val.texts)
    model.calibrator = fit_calibrator(raw, val.labels, model.labels, config.calibration)
    probs = apply_calibrator(model.calibrator, raw, model.labels)
    predicted = [model.labels[i] for i in probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    correct = np.array(predicted) == np.array(val.labels)
    info = model.info
    info.calibration = config.calibration if model.calibrator is not None else "none"
    info.auto_accuracy = config.auto_accuracy
    info.review_below = threshold_for(confidence, correct, config.auto_accuracy)
    info.expected_coverage = round(float((confidence >= info.review_below).mean()), 4)
    return classification_metrics(val.labels, predicted, model.labels)


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
                   val: CallTable | None = None, test: CallTable | None = None, progress: bool = True) -> TrainResult:
    """Train, score on `test` (report in `out_dir/report`), and save the model folder."""
    result = train(table, config, val, progress)
    out_dir = Path(out_dir)
    if test is not None:
        metrics = evaluate(result.model, test, out_dir / "report", progress=progress)
        result.model.info.training["test_metrics"] = {
            k: metrics[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall",
                                    "confidence")}
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
