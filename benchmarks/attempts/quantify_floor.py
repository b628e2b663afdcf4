"""Frozen: runs at commit 91dcfac; re-run by checking that commit out (attempts/README.md).

Issue 21, third look (2026-11-30, session 9): is the booking rate's ≤ 0.03 median error within reach of an
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
from common import RESULTS  # noqa: E402
from report_estimates import RATES, booking_errors, probabilities, real_part, trained  # noqa: E402

from callsort.insights.quantify import Quantifier  # noqa: E402


def median_errors(quantifier, probs, y_test, prior, q) -> dict[float, float]:
    errors = booking_errors(lambda p: quantifier.expected(p, np.zeros(len(q.labels))), probs, y_test, prior, q)
    return {r: float(np.median(v)) for r, v in errors.items()}


def main() -> None:
    part = real_part()
    labels, q, y_test, prior = part.labels, part.q, part.y_test, part.prior
    model = trained(part.table, part.tune)
    probs = probabilities(model.predict(part.test_texts()), labels)
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
