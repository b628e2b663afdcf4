"""Issue 21, third look (2026-11-30, session 9): is the booking rate's ≤ 0.03 median error within reach of an
estimator, or only of a sharper classifier?

Two measurements on report_estimates.py's shifting weeks (fixed test part, tf-idf trained on the tuning part):
1. PACC with the confusion measured on the test calls themselves (146 calls) beside the shipped one (580
   out-of-fold tuning calls): if a mis-measured confusion were the trouble, the test calls' own would help.
2. Sharper classifiers, simulated: each test call's probabilities moved a share `a` of the way to its true
   category; for each `a`, the accuracy of "booked?" on true leads and the oracle PACC's median error.
Nothing here is chosen: it bounds what choosing could reach. Writes results/quantify_floor.md.

    python attempts/quantify_floor.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import callsort  # noqa: E402
from accuracy import split  # noqa: E402
from common import RESULTS, real_calls  # noqa: E402
from report_estimates import RATES, Questions, weeks  # noqa: E402
from callsort.insights.quantify import Quantifier  # noqa: E402


def median_errors(quantifier, probs, y_test, prior, q) -> dict[float, float]:
    errors = {r: [] for r in RATES}
    for rate, week in weeks(np.random.default_rng(20261130), y_test, prior, q.lead, q.booked):
        truth = np.bincount(y_test[week], minlength=len(q.labels)).astype(float)
        if truth[q.lead].sum():
            errors[rate].append(abs(q.booking_rate(quantifier.expected(probs[week], np.zeros(len(q.labels))))
                                    - q.booking_rate(truth)))
    return {r: float(np.median(v)) for r, v in errors.items()}


def main() -> None:
    table = real_calls()
    tune, test = split(table)
    labels = sorted(set(table.labels))
    q = Questions(labels)
    y = np.array([labels.index(x) for x in table.labels])
    y_test, prior = y[test], np.bincount(y[tune], minlength=len(labels)) / len(tune)
    model = callsort.train(table.subset(tune), callsort.TrainConfig(model="tfidf", calibration_folds=5),
                           progress=False).model
    probs = np.array([[p.probabilities[k] for k in labels] for p in model.predict([table.texts[i] for i in test])])
    truth = [labels[j] for j in y_test]
    rows = {"shipped (confusion from 580 out-of-fold tuning calls)": median_errors(model.quantifier, probs, y_test, prior, q),
            "oracle (confusion from the test calls themselves)": median_errors(Quantifier.fit(probs, truth, labels),
                                                                               probs, y_test, prior, q)}
    leads = q.lead[y_test]
    sharper = []
    for a in (0.0, 0.1, 0.2, 0.25, 0.3, 0.5):
        moved = (1 - a) * probs + a * np.eye(len(labels))[y_test]
        booked_right = np.mean((moved[leads][:, q.booked].sum(1) > 0.5) == q.booked[y_test][leads])
        errs = median_errors(Quantifier.fit(moved, truth, labels), moved, y_test, prior, q)
        sharper.append((a, float(booked_right), float(moved[np.arange(len(y_test)), y_test].mean()), errs))
    lines = ["# How close can the booking rate get? (issue 21, third look)", "",
             "Median absolute booking-rate error, weeks of 100 test calls (`attempts/quantify_floor.py`).", "",
             "| quantifier | " + " | ".join(f"rate {r}" for r in RATES) + " |", "|---|" + "---:|" * len(RATES)]
    lines += [f"| {name} | " + " | ".join(f"{e[r]:.3f}" for r in RATES) + " |" for name, e in rows.items()]
    lines += ["", "Sharper classifiers, simulated (probabilities moved a share a towards the truth; oracle confusion):", "",
              "| a | booked? right on true leads | mean probability of the true category | "
              + " | ".join(f"rate {r}" for r in RATES) + " |", "|---:|---:|---:|" + "---:|" * len(RATES)]
    lines += [f"| {a} | {b:.2f} | {t:.2f} | " + " | ".join(f"{e[r]:.3f}" for r in RATES) + " |" for a, b, t, e in sharper]
    (RESULTS / "quantify_floor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
