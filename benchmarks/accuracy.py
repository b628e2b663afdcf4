"""Stratified 5-fold cross-validation on the real call transcripts: default model vs the tf-idf baseline.

One fine-tuning run per fold gives every comparison: the test fold is scored after each epoch (its
window-pooled logits kept), so early stopping on validation loss and on validation macro-F1, and blends
with the tf-idf model, are all read off the same run, side by side.

    .venv/bin/python benchmarks/accuracy.py [--data ../shared/data/calls/transcripts.csv] [--folds 5]

Writes benchmarks/results/accuracy.json and accuracy.md (updated after every fold).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import callsort  # noqa: E402
from callsort.evaluate import classification_metrics  # noqa: E402
from callsort.model import softmax  # noqa: E402

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "calls" / "transcripts.csv"


def stop_epoch(history: list[dict], stop_on: str, patience: int) -> int:
    """The epoch index the Trainer would restore: best by criterion until `patience` evaluations without gain."""
    best, best_i, waited = None, 0, 0
    for i, h in enumerate(history):
        value = -h["eval_loss"] if stop_on == "loss" else h["eval_macro_f1"]
        if best is None or value > best:
            best, best_i, waited = value, i, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best_i


def score(labels, truth, probs) -> dict:
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    m = classification_metrics(truth, predicted, labels)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "weighted_f1": m["weighted_f1"]}


def run_fold(table, train_idx, test_idx, config) -> dict:
    train, test = table.subset(train_idx), table.subset(test_idx)
    started = time.perf_counter()
    tfidf = callsort.train(train, callsort.TrainConfig(model="tfidf", seed=config.seed), progress=False)
    tfidf_seconds = time.perf_counter() - started
    tfidf_probs = tfidf.model.predict_proba(test.texts)
    # run every epoch (patience beyond the epoch count) and simulate early stopping afterwards
    full = callsort.TrainConfig(**{**config.to_dict(), "patience": 10_000})
    result = callsort.train(train, full, progress=False, monitor=test)
    labels = result.model.labels
    history = result.history
    out = {"train_seconds": round(result.seconds, 1), "tfidf_train_seconds": round(tfidf_seconds, 1),
           "epochs": [{k: h[k] for k in ("epoch", "eval_loss", "eval_macro_f1")} for h in history],
           "variants": {"tfidf": score(labels, test.labels, tfidf_probs)}}
    for i, h in enumerate(history):
        out["epochs"][i]["test_macro_f1"] = score(labels, test.labels, softmax(h["monitor_logits"]))["macro_f1"]
    for stop_on in ("macro_f1", "loss"):
        e = stop_epoch(history, stop_on, config.patience)
        probs = softmax(history[e]["monitor_logits"])
        out["variants"][f"finetuned_stop_{stop_on}"] = {**score(labels, test.labels, probs), "epoch": e + 1}
        for w in (0.3, 0.5, 0.7, 0.85):
            blend = (1 - w) * probs + w * tfidf_probs
            out["variants"][f"blend{w}_stop_{stop_on}"] = score(labels, test.labels, blend)
    out["variants"]["default"] = out["variants"][f"blend{config.tfidf_weight}_stop_{config.stop_on}"]
    return out


def summarise(folds: list[dict]) -> dict:
    names = folds[0]["variants"].keys()
    summary = {}
    for name in names:
        summary[name] = {}
        for metric in ("accuracy", "macro_f1", "weighted_f1"):
            values = np.array([f["variants"][name][metric] for f in folds])
            summary[name][metric] = {"mean": round(float(values.mean()), 4),
                                     "std": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4)}
    return summary


def write(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "accuracy.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Accuracy: stratified {report['folds_planned']}-fold CV on {report['calls']} real calls",
             f"folds done: {len(report['folds'])}; settings: {json.dumps(report['settings'])}", "",
             "| variant | accuracy | macro-F1 | weighted-F1 |", "|---|---|---|---|"]
    for name, m in report.get("summary", {}).items():
        lines.append(f"| {name} | {m['accuracy']['mean']:.3f} ± {m['accuracy']['std']:.3f} | "
                     f"{m['macro_f1']['mean']:.3f} ± {m['macro_f1']['std']:.3f} | "
                     f"{m['weighted_f1']['mean']:.3f} ± {m['weighted_f1']['std']:.3f} |")
    times = [f["train_seconds"] for f in report["folds"]]
    if times:
        lines.append(f"\nfine-tuning seconds per fold: median {np.median(times):.0f} "
                     f"(tf-idf: median {np.median([f['tfidf_train_seconds'] for f in report['folds']]):.1f})")
    if report["folds"]:
        lines += ["", "Per epoch, mean over folds (validation = the 12 % held out of each fold's training calls;",
                  "test = the held-out fold; fine-tuned encoder alone):", "",
                  "| epoch | val loss | val macro-F1 | test macro-F1 |", "|---|---|---|---|"]
        n_epochs = min(len(f["epochs"]) for f in report["folds"])
        for e in range(n_epochs):
            mean = {k: np.mean([f["epochs"][e][k] for f in report["folds"]])
                    for k in ("eval_loss", "eval_macro_f1", "test_macro_f1")}
            lines.append(f"| {e + 1} | {mean['eval_loss']:.3f} | {mean['eval_macro_f1']:.3f} | {mean['test_macro_f1']:.3f} |")
        for stop_on in ("macro_f1", "loss"):
            chosen = [f["variants"][f"finetuned_stop_{stop_on}"]["epoch"] for f in report["folds"]]
            lines.append(f"\nepoch restored when stopping on validation {stop_on}: {chosen}")
    if report.get("full"):
        lines.append("\nTraining the default model on all calls, then classifying all of them (CLI, subprocess):")
    for key, value in report.get("full", {}).items():
        lines.append(f"- {key}: {value}")
    (RESULTS / "accuracy.md").write_text("\n".join(lines) + "\n")


def full_run(data: Path, report: dict) -> None:
    """Train the default model on every call with the CLI, then classify every call: time and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cli = [sys.executable, "-m", "callsort.cli"]
        subprocess.run(cli + ["train", str(data), "--text-column", "Text", "--label-column", "Tag",
                              "--out", f"{tmp}/m", "--quiet"], check=True)
        train_seconds = time.perf_counter() - started
        train_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        started = time.perf_counter()
        # a fresh child so that its peak RSS is its own (RUSAGE_CHILDREN keeps the maximum over children)
        code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],check=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024)")
        out = subprocess.run([sys.executable, "-c", code, *cli, "predict", str(data), "--model", f"{tmp}/m",
                              "--text-column", "Text", "--out", f"{tmp}/p.csv", "--quiet"],
                             check=True, capture_output=True, text=True)
        report["full"] = {"train_all_calls_seconds": round(train_seconds, 1),
                          "train_peak_rss_mb": round(train_rss),
                          "predict_all_calls_seconds": round(time.perf_counter() - started, 1),
                          "predict_peak_rss_mb": round(float(out.stdout.strip().splitlines()[-1]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-full", action="store_true", help="skip training on all calls")
    parser.add_argument("--report-only", action="store_true", help="rewrite accuracy.md from accuracy.json")
    args = parser.parse_args()
    if args.report_only:
        write(json.loads((RESULTS / "accuracy.json").read_text()))
        return
    if not args.data.exists():
        sys.exit(f"{args.data}: not found (the real call data lives in ../shared/data/calls/)")
    from sklearn.model_selection import StratifiedKFold

    table = callsort.read_calls(args.data, "Text", "Tag")
    config = callsort.TrainConfig()
    report = {"calls": len(table), "folds_planned": args.folds, "settings": config.to_dict(), "folds": []}
    splits = StratifiedKFold(args.folds, shuffle=True, random_state=config.seed).split(table.texts, table.labels)
    for n, (train_idx, test_idx) in enumerate(splits, start=1):
        fold = run_fold(table, train_idx, test_idx, config)
        report["folds"].append({"fold": n, **fold})
        report["summary"] = summarise(report["folds"])
        write(report)
        print(f"fold {n}: " + ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in fold["variants"].items()), flush=True)
    if not args.no_full:
        full_run(args.data, report)
        write(report)
    print((RESULTS / "accuracy.md").read_text())


if __name__ == "__main__":
    main()
