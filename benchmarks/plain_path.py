"""The plain path (issue 31): what `callsort train calls.csv` with no options gives, before and after the change.

Before: tf-idf held out 12 % of the calls for validation, calibrated on them, and its quantifier (~70 calls) was
too small, so `report` counted top labels. After: tf-idf calibrated on 5 out-of-fold fits of every call, the
final model fitted on every call, the quantifier resting on every call (the report estimates). Both trained by
`callsort.train` on accuracy.py's 580 tuning calls, scored on the fixed test part (146 calls no choice saw), side
by side in one run: macro-F1; the report's booking rate over shifting weeks (report_estimates.py's weeks:
the figure the plain report shows — counting when the quantifier is under 300 calls, else the estimate); the
whole test part as one period (estimate, interval, truth); the ring-back list's recall and precision.
Writes results/plain_path.{json,md}.

    python plain_path.py
"""

from __future__ import annotations

import json

import numpy as np
from common import RESULTS
from report_estimates import RATES, probabilities, real_part, scored

import callsort
from callsort.insights.callbacks import recoverable
from callsort.insights.report import LeadRules, calls_to_ring_back, summarise

SETTINGS = {"before (validation calls)": callsort.TrainConfig(model="tfidf", calibration_folds=0),
            "after (default: out-of-fold, every call)": callsort.TrainConfig()}


def ring_back(rows: list[dict], labels: list[str]) -> dict:
    truth = np.array([recoverable(x, LeadRules()) for x in labels])
    index = {r["source"]: i for i, r in enumerate(rows)}
    listed = {index[c["source"]] for c in calls_to_ring_back(rows)}
    hits = sum(truth[i] for i in listed)
    return {"listed": len(listed), "recall": round(hits / truth.sum(), 3), "precision": round(hits / len(listed), 3)}


def paired_f1_difference(truth: list[str], a: list[str], b: list[str], labels: list[str], draws: int = 2000) -> list:
    """90 % paired bootstrap interval of macro-F1(b) - macro-F1(a) over the same resampled calls."""
    from sklearn.metrics import f1_score

    rng, n = np.random.default_rng(20261204), len(truth)
    truth, a, b = np.array(truth), np.array(a), np.array(b)
    diffs = []
    for _ in range(draws):
        i = rng.integers(0, n, n)
        diffs.append(f1_score(truth[i], b[i], labels=labels, average="macro", zero_division=0)
                     - f1_score(truth[i], a[i], labels=labels, average="macro", zero_division=0))
    return [round(float(x), 4) for x in np.percentile(diffs, [5, 95])]


def tuning_cv(part, repeats: int = 3) -> dict:
    """On the tuning part only (5-fold, `repeats` shuffles): macro-F1 of tf-idf fitted on 88 % of each training
    fold (the old final model) against all of it (the new one); calibration does not move the top label."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from callsort.models.tfidf import TfidfClassifier
    from callsort.models.train import split_stratified

    tuning, config = part.table.subset(part.tune), callsort.TrainConfig()
    scores = {"88 %": [], "every call": []}
    for seed in range(repeats):
        for fit, held in StratifiedKFold(5, shuffle=True, random_state=seed).split(tuning.texts, tuning.labels):
            every = tuning.subset(fit)
            for name, table in (("88 %", split_stratified(every, 0.12, 42)[0]), ("every call", every)):
                model = TfidfClassifier.fit(table, None, config)
                predicted = [model.labels[i] for i in model.predict_proba(tuning.subset(held).texts).argmax(axis=1)]
                scores[name].append(f1_score(tuning.subset(held).labels, predicted, average="macro"))
    diff = np.array(scores["every call"]) - np.array(scores["88 %"])
    return {"folds": len(diff), **{k: round(float(np.mean(v)), 4) for k, v in scores.items()},
            "mean_difference": round(float(diff.mean()), 4), "folds_better": int((diff > 0).sum())}


def one_variant(part, config) -> dict:
    model = callsort.train(part.table.subset(part.tune), config, progress=False).model
    testing = part.table.subset(part.test)
    rows = [r.to_dict() for r in callsort.classify_calls(testing, model)]
    predicted = [r["label"] for r in rows]
    from callsort.models.evaluate import classification_metrics

    metrics = classification_metrics(testing.labels, predicted, part.labels)
    probs = probabilities(model.predict(testing.texts), part.labels)
    weeks = scored(model, probs, part.y_test, part.prior, part.q, shares=False)
    estimates = len(model.quantifier.truth) >= 300  # the report's rule (insights/report.py)
    shown = weeks["median_abs_error"]["estimate" if estimates else "counting"]
    summary = summarise(rows, quantifier=model.quantifier, model=model.identity)
    truth = part.q.booking_rate(np.bincount(part.y_test, minlength=len(part.labels)).astype(float))
    return {"predicted": predicted, "quantifier_calls": len(model.quantifier.truth), "report_estimates": estimates,
            "macro_f1": round(metrics["macro_f1"], 4), "accuracy": round(metrics["accuracy"], 4),
            "weeks_median_abs_error_shown": shown, "weeks_coverage": weeks["coverage"] if estimates else None,
            "weeks_mean_width": weeks["mean_width"] if estimates else None,
            "test_part": {"truth": round(truth, 4), "booking_rate": summary["booking_rate"],
                          "interval": summary["booking_rate_interval"], "estimated_by": summary["estimated_by"]},
            "ring_back": ring_back(rows, testing.labels)}


def main() -> None:
    part = real_part()
    results = {name: one_variant(part, config) for name, config in SETTINGS.items()}
    before, after = (r.pop("predicted") for r in results.values())
    checks = {"macro_f1_difference_90": paired_f1_difference(part.table.subset(part.test).labels, before, after,
                                                             part.labels),
              "tuning_cv": tuning_cv(part)}
    (RESULTS / "plain_path.json").write_text(json.dumps({**results, **checks}, indent=2))
    row = lambda title, values: f"| {title} | " + " | ".join(values) + " |"  # noqa: E731
    lines = ["# The plain path: `callsort train` with no options, before and after issue 31", "",
             "tf-idf trained on the 580 tuning calls, scored on the fixed test part (146 calls); "
             "`benchmarks/plain_path.py`.", "",
             row("", list(results)), "|---|" + "---:|" * len(results)]
    get = lambda f: [f(r) for r in results.values()]  # noqa: E731
    lines += [row("quantifier rests on (calls)", get(lambda r: str(r["quantifier_calls"]))),
              row("report", get(lambda r: "estimates (PACC)" if r["report_estimates"] else "counts")),
              row("macro-F1 (test part)", get(lambda r: f"{r['macro_f1']:.3f}")),
              row("accuracy (test part)", get(lambda r: f"{r['accuracy']:.3f}"))]
    for rate in RATES:
        lines.append(row(f"weeks at booking rate {rate}: median abs. error of the figure shown",
                         get(lambda r, x=rate: f"{r['weeks_median_abs_error_shown'][str(x)]:.3f}")))
    lines += [row("weeks: 90 % interval coverage (rates 0.2–0.8)",
                  get(lambda r: "–" if not r["weeks_coverage"] else
                      f"{min(r['weeks_coverage'].values()):.2f}–{max(r['weeks_coverage'].values()):.2f}")),
              row("whole test part: booking rate shown (truth)",
                  get(lambda r: f"{r['test_part']['booking_rate']:.3f} ({r['test_part']['truth']:.3f})")),
              row("whole test part: 90 % interval",
                  get(lambda r: "none" if not r["test_part"]["interval"] else
                      "{:.3f}–{:.3f}".format(*r["test_part"]["interval"]))),
              row("ring-back list: recall / precision",
                  get(lambda r: f"{r['ring_back']['recall']:.2f} / {r['ring_back']['precision']:.2f}"))]
    cv = checks["tuning_cv"]
    lines += ["", "Macro-F1, after minus before, on the test part: paired bootstrap 90 % interval "
              "{:+.3f} … {:+.3f}.".format(*checks["macro_f1_difference_90"]),
              f"On the tuning part alone (5-fold × 3 shuffles, {cv['folds']} folds): tf-idf on 88 % of each training "
              f"fold {cv['88 %']:.3f}, on all of it {cv['every call']:.3f} (mean difference "
              f"{cv['mean_difference']:+.3f}; better in {cv['folds_better']} of {cv['folds']} folds)."]
    (RESULTS / "plain_path.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
