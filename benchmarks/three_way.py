"""Attempt: blend three models — tf-idf, the fine-tuned encoder, and logistic regression on frozen MiniLM
embeddings — on the folds of accuracy.py, with the two-way blends of the same run alongside.

    .venv/bin/python benchmarks/three_way.py --folds 1,2 [--bf16]

Adds the folds run to benchmarks/results/three_way.json (re-running a fold replaces it).
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

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

import callsort  # noqa: E402
from accuracy import DEFAULT_DATA, RESULTS, score, stop_epoch  # noqa: E402
from callsort.model import softmax  # noqa: E402
from frozen_embeddings import embed_calls  # noqa: E402

WEIGHTS = {  # (tf-idf, fine-tuned, frozen-embedding head)
    "tfidf": (1, 0, 0), "finetuned": (0, 1, 0), "frozen": (0, 0, 1),
    "tfidf+finetuned 0.7/0.3 (default)": (0.7, 0.3, 0), "tfidf+frozen 0.7/0.3": (0.7, 0, 0.3),
    "tfidf+frozen 0.5/0.5": (0.5, 0, 0.5), "three 0.5/0.25/0.25": (0.5, 0.25, 0.25),
    "three 0.4/0.3/0.3": (0.4, 0.3, 0.3), "three 1/3 each": (1 / 3, 1 / 3, 1 / 3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="1,2")
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()
    table = callsort.read_calls(DEFAULT_DATA, "Text", "Tag")
    frozen = embed_calls(table.texts)
    y = np.array(table.labels)
    splits = list(StratifiedKFold(5, shuffle=True, random_state=42).split(table.texts, table.labels))
    config = callsort.TrainConfig(bf16=args.bf16, patience=10_000)  # every epoch; stopping simulated below
    wanted = [int(f) for f in args.folds.split(",")]
    out = RESULTS / "three_way.json"
    report = json.loads(out.read_text()) if out.exists() else {"bf16": args.bf16, "folds": []}
    report["folds"] = [f for f in report["folds"] if f["fold"] not in wanted]  # earlier runs of other folds stay
    for n in wanted:
        train_idx, test_idx = splits[n - 1]
        train, test = table.subset(train_idx), table.subset(test_idx)
        started = time.perf_counter()
        result = callsort.train(train, config, progress=False, monitor=test)
        labels = result.model.labels
        e = stop_epoch(result.history, "macro_f1", callsort.TrainConfig().patience)
        probs = {"finetuned": softmax(result.history[e]["monitor_logits"]),
                 "tfidf": result.model._tfidf_proba(test.texts)}
        head = LogisticRegression(C=10, max_iter=5000, class_weight="balanced").fit(frozen[train_idx], y[train_idx])
        order = [list(head.classes_).index(label) for label in labels]
        probs["frozen"] = head.predict_proba(frozen[test_idx])[:, order]
        fold = {"fold": n, "seconds": round(time.perf_counter() - started, 1), "epoch": e + 1,
                "macro_f1": {name: round(score(labels, test.labels, w[0] * probs["tfidf"] + w[1] * probs["finetuned"]
                                               + w[2] * probs["frozen"])["macro_f1"], 4)
                             for name, w in WEIGHTS.items()}}
        report["folds"].append(fold)
        print(json.dumps(fold), flush=True)
        report["mean"] = {name: round(float(np.mean([f["macro_f1"][name] for f in report["folds"]])), 4)
                          for name in WEIGHTS}
        out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
