"""Training: fine-tune an encoder with transformers.Trainer, fit the tf-idf model, blend, save."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .config import TrainConfig
from .data import CallTable, check_trainable, known_labels_only
from .errors import InputError
from .evaluate import classification_metrics, choose_review_threshold
from .model import CallClassifier, build_tfidf, encode_windows
from .registry import resolve_text_model

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """A trained model and how it got there."""

    model: CallClassifier
    val_metrics: dict
    history: list[dict] = field(default_factory=list)  # one entry per evaluation (epoch) of the encoder
    seconds: float = 0.0


def train(
    table: CallTable,
    config: TrainConfig | None = None,
    val: CallTable | None = None,
    progress: bool = True,
    monitor: CallTable | None = None,
) -> TrainResult:
    """Train a classifier on labelled calls. Without `val`, a stratified share of `table` is held out.

    `monitor` (optional) is a labelled table scored after every epoch, for benchmarks: its per-epoch
    window-pooled logits are kept in the history so that stopping rules can be compared after the fact.
    """
    config = config or TrainConfig()
    started = time.perf_counter()
    check_trainable(table, "training data")
    labels = sorted(set(table.labels))
    fingerprint = table.fingerprint()  # of the data as given, before any split
    if val is None:
        table, val = split_stratified(table, config.val_fraction, config.seed)
    else:
        val = known_labels_only(val, labels, "validation data")

    tfidf = None
    if config.model == "tfidf" or config.tfidf_weight > 0:
        tfidf = build_tfidf(config.seed).fit(table.texts, table.labels)
    transformer = tokenizer = None
    history: list[dict] = []
    if config.model == "transformer":
        transformer, tokenizer, history = fine_tune(table, val, labels, config, progress, monitor)

    info = {
        "callsort_version": __version__,
        "kind": config.model,
        "base": config.base if config.model == "transformer" else None,
        "max_length": config.max_length,
        "stride": config.stride,
        "tfidf_weight": config.tfidf_weight if config.model == "transformer" else 1.0,
        "train_settings": config.to_dict(),
        "data": {"fingerprint": fingerprint, "train_calls": len(table), "val_calls": len(val),
                 "class_counts": dict(Counter(table.labels))},
        "versions": _versions(),
    }
    model = CallClassifier(labels, transformer, tokenizer, tfidf, info)
    val_probs = model.predict_proba(val.texts, progress=False)
    val_pred = [labels[i] for i in val_probs.argmax(axis=1)]
    val_metrics = classification_metrics(val.labels, val_pred, labels)
    model.info["review_below"] = choose_review_threshold(val.labels, val_pred, val_probs.max(axis=1),
                                                         config.review_precision)
    model.info["val_metrics"] = {k: val_metrics[k] for k in ("accuracy", "macro_f1", "weighted_f1")}
    model.info["history"] = [{k: v for k, v in h.items() if k != "monitor_logits"} for h in history]
    seconds = time.perf_counter() - started
    model.info["train_seconds"] = round(seconds, 1)
    return TrainResult(model, val_metrics, history, seconds)


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


class _Calls:
    """Labelled calls as token windows for the Trainer: item i is call i with its windows.

    `pick="all"` gives every window of the call (the loss is taken on their pooled logits, as predicted);
    `pick="one"` gives one window chosen at random anew each epoch: an epoch then costs one window per call,
    and over the epochs every part of a long call is seen (see README, "Long calls").
    """

    def __init__(self, windows: dict, call_label_ids: list[int], pick: str = "all", seed: int = 0):
        self.windows = windows
        self.label_ids = call_label_ids
        self.by_call: list[list[int]] = [[] for _ in call_label_ids]
        for w, c in enumerate(windows["call_index"]):
            self.by_call[c].append(w)
        self.pick = pick
        self.seed = seed
        self.epoch = 0  # set by the trainer callback at the start of every epoch

    def __len__(self) -> int:
        return len(self.label_ids)

    def __getitem__(self, i: int) -> dict:
        chosen = self.by_call[i]
        if self.pick == "one":
            chosen = [chosen[np.random.default_rng((self.seed, self.epoch, i)).integers(len(chosen))]]
        return {"input_ids": [self.windows["input_ids"][w] for w in chosen],
                "attention_mask": [self.windows["attention_mask"][w] for w in chosen], "labels": self.label_ids[i]}


def _collate_calls(tokenizer):
    """Batch of calls -> their windows padded into one tensor, `call_index` (window -> call in the batch), labels."""
    import torch

    def collate(calls: list[dict]) -> dict:
        batch = tokenizer.pad({"input_ids": [w for c in calls for w in c["input_ids"]],
                               "attention_mask": [m for c in calls for m in c["attention_mask"]]}, return_tensors="pt")
        batch["call_index"] = torch.tensor([i for i, c in enumerate(calls) for _ in c["input_ids"]])
        batch["labels"] = torch.tensor([c["labels"] for c in calls])
        return batch
    return collate


def fine_tune(train_table, val_table, labels, config: TrainConfig, progress: bool, monitor=None):
    """Fine-tune the base encoder with transformers.Trainer; returns (model, tokenizer, history)."""
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, EarlyStoppingCallback,
                              PrinterCallback, Trainer, TrainerCallback, TrainingArguments, set_seed)
    from transformers.utils import logging as hf_logging

    if config.threads:
        torch.set_num_threads(config.threads)
    set_seed(config.seed)
    base = resolve_text_model(config.base)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id)

    def calls_of(table, pick):
        return _Calls(encode_windows(tokenizer, table.texts, config.max_length, config.stride),
                      [label2id[label] for label in table.labels], pick, config.seed)

    train_set, val_set = calls_of(train_table, config.train_windows), calls_of(val_table, "all")
    log.info("training on %d calls (%d windows, %s a call each epoch); validating on %d calls",
             len(train_table), len(train_set.windows["call_index"]), config.train_windows, len(val_table))

    weights = None
    if config.class_weight == "balanced":
        counts = Counter(train_table.labels)
        weights = torch.tensor([len(train_table) / (len(labels) * counts[label]) for label in labels],
                               dtype=torch.float32)

    class CallTrainer(Trainer):
        """The Trainer with the loss taken per call: each call's window logits are averaged first, as in
        prediction (model.pool_windows), then class-weighted cross-entropy."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs = dict(inputs)
            call_index, targets = inputs.pop("call_index"), inputs.pop("labels")
            outputs = model(**inputs)
            window_logits = outputs.logits.float()
            sums = torch.zeros(len(targets), window_logits.shape[1]).index_add(0, call_index, window_logits)
            outputs.logits = sums / torch.bincount(call_index, minlength=len(targets)).unsqueeze(1)
            loss = torch.nn.functional.cross_entropy(outputs.logits, targets, weight=weights)
            return (loss, outputs) if return_outputs else loss

    def call_metrics(eval_pred):
        predicted = [labels[i] for i in eval_pred.predictions.argmax(axis=1)]
        scores = classification_metrics(val_table.labels, predicted, labels)
        return {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"]}

    history: list[dict] = []

    class Record(TrainerCallback):
        def on_epoch_begin(self, args, state, control, **kwargs):
            train_set.epoch = int(round(state.epoch or 0))

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            entry = {"epoch": round(state.epoch or 0, 2), "eval_loss": metrics.get("eval_loss"),
                     "eval_macro_f1": metrics.get("eval_macro_f1"), "eval_accuracy": metrics.get("eval_accuracy")}
            if monitor is not None:
                probe = CallClassifier(labels, model, tokenizer, None,
                                       {"max_length": config.max_length, "stride": config.stride})
                entry["monitor_logits"] = probe.transformer_logits(monitor.texts)
                model.train()
            history.append(entry)

    stop_on_loss = config.stop_on == "loss"
    with tempfile.TemporaryDirectory(prefix="callsort-train-") as scratch:
        args = TrainingArguments(
            output_dir=scratch, num_train_epochs=config.epochs, learning_rate=config.learning_rate,
            per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=16, bf16=config.bf16,
            warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, lr_scheduler_type="linear",
            eval_strategy="epoch", save_strategy="epoch", save_total_limit=1, save_only_model=True,
            load_best_model_at_end=True, metric_for_best_model="loss" if stop_on_loss else "macro_f1",
            greater_is_better=not stop_on_loss, logging_strategy="epoch", report_to="none",
            seed=config.seed, use_cpu=True, disable_tqdm=not progress, dataloader_num_workers=0,
        )
        trainer = CallTrainer(
            model=model, args=args, train_dataset=train_set, eval_dataset=val_set,
            data_collator=_collate_calls(tokenizer), processing_class=tokenizer, compute_metrics=call_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience), Record()],
        )
        if not progress:  # --quiet / --json: no per-epoch dicts on stdout, no checkpoint-writing bars
            trainer.remove_callback(PrinterCallback)
            hf_logging.disable_progress_bar()
        trainer.train()
        model = trainer.model
    model.eval()
    return model, tokenizer, history


def _versions() -> dict:
    import importlib.metadata as md

    versions = {}
    for package in ("torch", "transformers", "scikit-learn", "numpy"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return versions


def train_and_save(
    table: CallTable,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    val: CallTable | None = None,
    test: CallTable | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train, score on `test` (report in `out_dir/report`), and save the model folder."""
    from .evaluate import evaluate

    result = train(table, config, val, progress)
    out_dir = Path(out_dir)
    if test is not None:
        metrics = evaluate(result.model, test, out_dir / "report", progress=progress)
        result.model.info["test_metrics"] = {k: metrics[k] for k in
                                             ("n", "accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")}
    result.model.save(out_dir)
    return result


def cross_validate(
    table: CallTable, k: int, out_dir: str | Path | None = None, config: TrainConfig | None = None,
    progress: bool = True,
) -> dict:
    """Stratified k-fold: train on k-1 folds (validation split from them), score the held-out fold.

    Returns (and writes to `out_dir/cv_metrics.json`) the mean and standard deviation of every metric,
    with each fold's figures; each fold's full report goes to `out_dir/fold_N/`.
    """
    from sklearn.model_selection import StratifiedKFold

    from .evaluate import evaluate

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


CV_METRICS = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")
