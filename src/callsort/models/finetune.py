"""Fine-tuning an encoder with transformers' Trainer, the loss taken per call on its pooled window logits.

SetFit keeps its model and its trainer apart; so does callsort: encoder.py predicts, this module trains.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter

import numpy as np

from ..registry import resolve_text_model
from .windows import encode_windows

log = logging.getLogger(__name__)


class CallWindows:
    """Labelled calls as token windows for the Trainer: item i is call i with its windows.

    `pick="all"` gives every window of the call (the loss is taken on their pooled logits, as predicted);
    `pick="one"` gives one window chosen at random anew each epoch: an epoch then costs one window per call,
    and over the epochs every part of a long call is seen (docs/models.md, "Long calls").
    """

    def __init__(self, windows: dict, call_label_ids: list[int], pick: str = "all", seed: int = 0):
        self.windows, self.label_ids, self.pick, self.seed = windows, call_label_ids, pick, seed
        self.by_call: list[list[int]] = [[] for _ in call_label_ids]
        for w, c in enumerate(windows["call_index"]):
            self.by_call[c].append(w)
        self.epoch = 0  # set by EpochLog at the start of every epoch

    def __len__(self) -> int:
        return len(self.label_ids)

    def __getitem__(self, i: int) -> dict:
        chosen = self.by_call[i]
        if self.pick == "one":
            chosen = [chosen[np.random.default_rng((self.seed, self.epoch, i)).integers(len(chosen))]]
        return {"input_ids": [self.windows["input_ids"][w] for w in chosen],
                "attention_mask": [self.windows["attention_mask"][w] for w in chosen], "labels": self.label_ids[i]}


def collate_calls(tokenizer):
    """Batch of calls -> their windows padded into one tensor, `call_index` (window -> call in the batch), labels."""
    import torch

    def collate(calls: list[dict]) -> dict:
        batch = tokenizer.pad({"input_ids": [w for c in calls for w in c["input_ids"]],
                               "attention_mask": [m for c in calls for m in c["attention_mask"]]}, return_tensors="pt")
        batch["call_index"] = torch.tensor([i for i, c in enumerate(calls) for _ in c["input_ids"]])
        batch["labels"] = torch.tensor([c["labels"] for c in calls])
        return batch
    return collate


def _trainer_classes():
    """The Trainer subclass and callback, defined once transformers is imported (it is slow to import)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import Trainer, TrainerCallback

    class CallTrainer(Trainer):
        """The Trainer with the loss taken per call: each call's window logits are averaged first, as in
        prediction (encoder.pool_windows), then class-weighted cross-entropy."""

        class_weights = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs = dict(inputs)
            call_index, targets = inputs.pop("call_index"), inputs.pop("labels")
            outputs = model(**inputs)
            window = outputs.logits.float()
            sums = torch.zeros(len(targets), window.shape[1]).index_add(0, call_index, window)
            outputs.logits = sums / torch.bincount(call_index, minlength=len(targets)).unsqueeze(1)
            loss = torch.nn.functional.cross_entropy(outputs.logits, targets, weight=self.class_weights)
            return (loss, outputs) if return_outputs else loss

    class EpochLog(TrainerCallback):
        """One progress bar for the whole fine-tuning and one short line per epoch; keeps the history."""

        def __init__(self, train_set: CallWindows, progress: bool):
            self.train_set, self.progress, self.history, self.bar, self.loss = train_set, progress, [], None, None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(total=state.max_steps, desc="fine-tuning", unit="step", disable=not self.progress)

        def on_epoch_begin(self, args, state, control, **kwargs):
            self.train_set.epoch = int(round(state.epoch or 0))

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(1)

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.loss = (logs or {}).get("loss", self.loss)

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            entry = {"epoch": round(state.epoch or 0, 2), "loss": self.loss, "eval_loss": metrics.get("eval_loss"),
                     "eval_macro_f1": metrics.get("eval_macro_f1"), "eval_accuracy": metrics.get("eval_accuracy")}
            self.history.append(entry)
            if self.progress:
                loss = f"{self.loss:.3f}" if self.loss is not None else "-"
                self.bar.write(f"epoch {entry['epoch']:g}/{args.num_train_epochs:g}  loss {loss}  "
                               f"val loss {entry['eval_loss']:.3f}  val macro-F1 {entry['eval_macro_f1']:.3f}")

        def on_train_end(self, args, state, control, **kwargs):
            self.bar.close()

    return CallTrainer, EpochLog


def _arguments(config, scratch: str):
    from transformers import TrainingArguments

    stop_on_loss, fixed = config.stop_on == "loss", config.stop_on == "none"
    return TrainingArguments(
        output_dir=scratch, num_train_epochs=config.epochs, learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=16, bf16=config.bf16,
        warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, lr_scheduler_type="linear",
        eval_strategy="epoch", save_strategy="no" if fixed else "epoch", save_total_limit=1, save_only_model=True,
        load_best_model_at_end=not fixed, metric_for_best_model="loss" if stop_on_loss else "macro_f1",
        greater_is_better=not stop_on_loss, logging_strategy="epoch", report_to="none",
        seed=config.seed, use_cpu=True, disable_tqdm=True, dataloader_num_workers=0,
    )


def fine_tune(train_table, val_table, labels: list[str], config, progress: bool = False):
    """Fine-tune the base encoder on labelled calls; returns (network, tokenizer, per-epoch history)."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        EarlyStoppingCallback,
        PrinterCallback,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no weight-loading or checkpoint-writing bars: EpochLog shows progress

    if config.threads:
        torch.set_num_threads(config.threads)
    set_seed(config.seed)
    base = resolve_text_model(config.base)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(base)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the new classification head is missing from the base, as it should be
    network = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id)
    hf_logging.set_verbosity(verbosity)

    def calls_of(table, pick):
        return CallWindows(encode_windows(tokenizer, table.texts, config.max_length, config.stride, config.view),
                           [label2id[label] for label in table.labels], pick, config.seed)

    train_set, val_set = calls_of(train_table, config.train_windows), calls_of(val_table, "all")
    log.info("fine-tuning on %d calls (%d windows, %s a call each epoch); validating on %d calls",
             len(train_table), len(train_set.windows["call_index"]), config.train_windows, len(val_table))

    def call_metrics(eval_pred):
        from sklearn.metrics import accuracy_score, f1_score

        predicted = [labels[i] for i in eval_pred.predictions.argmax(axis=1)]
        present = sorted(set(val_table.labels))  # macro over the classes the validation calls hold, as evaluate does
        return {"macro_f1": f1_score(val_table.labels, predicted, labels=present, average="macro", zero_division=0),
                "accuracy": accuracy_score(val_table.labels, predicted)}

    CallTrainer, EpochLog = _trainer_classes()
    if config.class_weight == "balanced":
        counts = Counter(train_table.labels)
        CallTrainer.class_weights = torch.tensor(
            [len(train_table) / (len(labels) * counts[label]) for label in labels], dtype=torch.float32)
    epochs = EpochLog(train_set, progress)
    with tempfile.TemporaryDirectory(prefix="callsort-train-") as scratch:
        trainer = CallTrainer(
            model=network, args=_arguments(config, scratch), train_dataset=train_set, eval_dataset=val_set,
            data_collator=collate_calls(tokenizer), processing_class=tokenizer, compute_metrics=call_metrics,
            callbacks=[epochs] if config.stop_on == "none" else
            [EarlyStoppingCallback(early_stopping_patience=config.patience), epochs])
        trainer.remove_callback(PrinterCallback)  # our EpochLog prints one short line per epoch instead
        trainer.train()
        network = trainer.model
    network.eval()
    return network, tokenizer, epochs.history

