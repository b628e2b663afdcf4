"""The speed-to-lead list on real calls: how many of the truly recoverable calls (lost leads, voicemail leads,
missed calls) it holds, and how many of its entries are recoverable, against the old list (lost leads whose
predicted reason says "call ... back").

The threshold (insights/callbacks.py, CALLBACK_THRESHOLD) was chosen on the tuning part: out-of-fold
probabilities of 5 tf-idf fits on the 580 tuning calls (the curve is written here too). The figures quoted are
the fixed test part's (146 calls no choice saw), from tf-idf trained with reasons on all 580 tuning calls.
Writes results/callbacks.{json,md}.

    python callbacks.py
"""

from __future__ import annotations

import json

import numpy as np
from accuracy import split
from common import RESULTS, TRANSCRIPTS, stratified_folds

import callsort
from callsort.insights.callbacks import CALLBACK_THRESHOLD, recoverable
from callsort.insights.report import LeadRules, calls_to_ring_back

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def scores(listed: set[int], truth: np.ndarray) -> dict:
    hits = sum(truth[i] for i in listed)
    return {"listed": len(listed), "recall": round(hits / truth.sum(), 3),
            "precision": round(hits / len(listed), 3) if listed else None, "recoverable": int(truth.sum())}


def rows_of(model, table) -> list[dict]:
    return [r.to_dict() for r in callsort.classify_calls(table, model)]


def main() -> None:
    table = callsort.read_calls(TRANSCRIPTS, text_column="Text", label_column="Tag", reason_column="Reason")
    tune, test = split(table)
    rules = LeadRules()
    tuning = table.subset(tune)
    oof_rows: list[dict | None] = [None] * len(tune)
    for a, b in stratified_folds(tuning.labels, 5):
        model = callsort.train(tuning.subset(a), callsort.TrainConfig(model="tfidf"), progress=False).model
        for i, row in zip(b, rows_of(model, tuning.subset(b)), strict=False):
            oof_rows[i] = row
    tune_truth = np.array([recoverable(x, rules) for x in tuning.labels])
    curve = {}
    for threshold in THRESHOLDS:
        listed = {int(c["source"].rsplit(":", 1)[1]) - 1 for c in calls_to_ring_back(
            [{**r, "source": f"tune.csv:{i + 1}"} for i, r in enumerate(oof_rows)], LeadRules(callback_threshold=threshold))}
        curve[str(threshold)] = scores(listed, tune_truth)

    model = callsort.train(tuning, callsort.TrainConfig(model="tfidf"), progress=False).model
    testing = table.subset(test)
    rows = rows_of(model, testing)
    truth = np.array([recoverable(x, rules) for x in testing.labels])
    index = {r["source"]: i for i, r in enumerate(rows)}
    new = {index[c["source"]] for c in calls_to_ring_back(rows)}
    old = {i for i, r in enumerate(rows) if rules.is_lead(r["label"]) and not rules.is_booked(r["label"])
           and all(w in (r["reason"] or "").lower() for w in ("call", "back"))}
    top = {i for i, r in enumerate(rows) if recoverable(r["label"], rules)}
    result = {"threshold": CALLBACK_THRESHOLD, "tuning_out_of_fold": curve,
              "test": {"new list": scores(new, truth), "top label recoverable": scores(top, truth),
                       "old list (reason says call back)": scores(old, truth)}}
    (RESULTS / "callbacks.json").write_text(json.dumps(result, indent=2))
    lines = ["# The speed-to-lead list on real calls", "",
             f"Fixed test part ({len(test)} calls, {int(truth.sum())} truly recoverable); tf-idf trained on the "
             f"580 tuning calls; threshold {CALLBACK_THRESHOLD} chosen on the tuning part (`benchmarks/callbacks.py`).", "",
             "| list | listed | recall | precision |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {s['listed']} | {s['recall']:.2f} | {s['precision'] or 0:.2f} |" for name, s in result["test"].items()]
    lines += ["", "Tuning part, out-of-fold (the choice):", "", "| threshold | listed | recall | precision |",
              "|---:|---:|---:|---:|"]
    lines += [f"| {t} | {s['listed']} | {s['recall']:.2f} | {s['precision'] or 0:.2f} |" for t, s in curve.items()]
    (RESULTS / "callbacks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
