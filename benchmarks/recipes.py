"""Fine-tuning recipes compared on the same folds of the real call transcripts, one after another in one run.

Each recipe is the default TrainConfig with some fields changed. For every fold it records the fine-tuned
encoder alone and blended with tf-idf (the epoch the default stopping rule restores, and every epoch's test
macro-F1), and the fine-tuning time; the folds are those of accuracy.py (same seed), so the figures compare
with its tables too.

    .venv/bin/python benchmarks/recipes.py --folds 1,2 \
        --recipe "one window=" --recipe "all windows 256=train_windows=all,max_length=256,epochs=4"

Appends to benchmarks/results/recipes.json and rewrites recipes.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import callsort  # noqa: E402
from accuracy import DEFAULT_DATA, RESULTS, run_fold  # noqa: E402


def parse_recipe(text: str) -> tuple[str, dict]:
    """'name=field=value,field=value' -> (name, overrides) with values typed like the TrainConfig defaults."""
    name, _, settings = text.partition("=")
    defaults = callsort.TrainConfig().to_dict()
    overrides = {}
    for item in filter(None, settings.split(",")):
        key, value = item.split("=")
        kind = type(defaults[key])
        overrides[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return name.strip(), overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", default="1,2", help="which of the 5 folds to run, e.g. 1,2 or 3,4,5")
    parser.add_argument("--recipe", action="append", required=True, help="'name=field=value,...'")
    args = parser.parse_args()
    from sklearn.model_selection import StratifiedKFold

    table = callsort.read_calls(args.data, "Text", "Tag")
    out_json = RESULTS / "recipes.json"
    report = json.loads(out_json.read_text()) if out_json.exists() else {"runs": []}
    splits = list(StratifiedKFold(5, shuffle=True, random_state=42).split(table.texts, table.labels))
    wanted = [int(n) for n in args.folds.split(",")]
    for recipe in map(parse_recipe, args.recipe):
        name, overrides = recipe
        config = callsort.TrainConfig(**overrides)
        run = {"recipe": name, "overrides": overrides, "date": time.strftime("%Y-%m-%d"), "folds": []}
        for n in wanted:
            train_idx, test_idx = splits[n - 1]
            fold = run_fold(table, train_idx, test_idx, config)
            run["folds"].append({"fold": n, "train_seconds": fold["train_seconds"],
                                 "test_f1_per_epoch": [round(e["test_macro_f1"], 3) for e in fold["epochs"]],
                                 "finetuned": fold["variants"][f"finetuned_stop_{config.stop_on}"]["macro_f1"],
                                 "blend": fold["variants"]["default"]["macro_f1"],
                                 "tfidf": fold["variants"]["tfidf"]["macro_f1"]})
            print(f"{name} fold {n}: {run['folds'][-1]}", flush=True)
        report["runs"].append(run)
        out_json.write_text(json.dumps(report, indent=2))
        write_markdown(report)


def write_markdown(report: dict) -> None:
    lines = ["# Fine-tuning recipes on the same folds (macro-F1 on the held-out fold; `recipes.py`)", "",
             "| recipe | changed settings | folds | fine-tuned | blended (tf-idf 0.7) | tf-idf | s per fold |"
             " test F1 per epoch (first fold) |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for run in report["runs"]:
        folds = run["folds"]
        mean = {k: np.mean([f[k] for f in folds]) for k in ("finetuned", "blend", "tfidf", "train_seconds")}
        numbers = ",".join(str(f["fold"]) for f in folds)
        lines.append(f"| {run['recipe']} ({run['date']}) | {json.dumps(run['overrides'])} | {numbers} | "
                     f"{mean['finetuned']:.3f} | {mean['blend']:.3f} | {mean['tfidf']:.3f} | "
                     f"{mean['train_seconds']:.0f} | {folds[0]['test_f1_per_epoch']} |")
    accuracy = json.loads((RESULTS / "accuracy.json").read_text())  # the default of that run, same folds
    for run in report["runs"]:
        numbers = [f["fold"] for f in run["folds"]]
        folds = [f for f in accuracy["folds"] if f["fold"] in numbers]
        v = [f["variants"] for f in folds]
        lines.append(f"| accuracy.py's run, same folds: one random 128-token window per epoch, 8 epochs | "
                     f"(defaults of that run) | {','.join(map(str, numbers))} | "
                     f"{np.mean([x['finetuned_stop_macro_f1']['macro_f1'] for x in v]):.3f} | "
                     f"{np.mean([x['blend0.7_stop_macro_f1']['macro_f1'] for x in v]):.3f} | "
                     f"{np.mean([x['tfidf']['macro_f1'] for x in v]):.3f} | "
                     f"{np.mean([f['train_seconds'] for f in folds]):.0f} | "
                     f"{[round(e['test_macro_f1'], 3) for e in folds[0]['epochs']]} |")
    (RESULTS / "recipes.md").write_text("\n".join(dict.fromkeys(lines)) + "\n")


if __name__ == "__main__":
    main()
