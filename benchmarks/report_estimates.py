"""The report's booking rate under shifting weeks: error and 90 % interval coverage of the shipped estimator.

Artificial-prevalence protocol on accuracy.py's fixed test part (no choice sees it): tf-idf is trained on the
580 tuning calls by `callsort.train` as users do, once with its quantifier from the validation calls (the
default) and once from out-of-fold calls (`calibration_folds=5`). Weeks of 100 test calls are drawn with
replacement: a category mix from a Dirichlet around the training mix, the leads' booked share set to 0.2 … 0.8
(200 weeks a rate). For each: counting top labels, the training prior (a constant), and the report's estimate
(insights/quantify.py: PACC with a bootstrap interval). Writes results/report_estimates.{json,md}.

    python report_estimates.py
"""

from __future__ import annotations

import json

import numpy as np

import callsort
from accuracy import split
from common import RESULTS, real_calls

RATES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
WEEKS, WEEK_CALLS = 200, 100


def weeks(rng, y_test, prior, lead, booked):
    by_class = [np.flatnonzero(y_test == j) for j in range(len(prior))]
    for rate in RATES:
        for _ in range(WEEKS):
            mix = rng.dirichlet(prior * 20 + 0.5)
            share = mix[lead].sum()
            mix[booked] = share * rate * rng.dirichlet(np.ones(booked.sum()))
            mix[lead & ~booked] = share * (1 - rate) * rng.dirichlet(np.ones((lead & ~booked).sum()))
            counts = rng.multinomial(WEEK_CALLS, mix)
            yield rate, np.concatenate([rng.choice(by_class[j], n) for j, n in enumerate(counts) if n])


def main() -> None:
    from callsort.insights.report import LeadRules

    table = real_calls()
    tune, test = split(table)
    labels = sorted(set(table.labels))
    rules = LeadRules()
    lead, booked = np.array([rules.is_lead(k) for k in labels]), np.array([rules.is_booked(k) for k in labels])
    y = np.array([labels.index(x) for x in table.labels])
    y_test = y[test]
    prior = np.bincount(y[tune], minlength=len(labels)) / len(tune)
    texts = [table.texts[i] for i in test]

    def rate_of(counts):
        return counts[booked].sum() / counts[lead].sum() if counts[lead].sum() else float("nan")

    results = {}
    for name, folds in (("validation calls", 0), ("5 out-of-fold fits", 5)):
        model = callsort.train(table.subset(tune), callsort.TrainConfig(model="tfidf", calibration_folds=folds),
                               progress=False).model
        probs = np.array([[p.probabilities[k] for k in labels] for p in model.predict(texts)])
        rows = {m: {r: [] for r in RATES} for m in ("counting", "prior", "estimate")}
        covered, widths = {r: [] for r in RATES}, {r: [] for r in RATES}
        for rate, week in weeks(np.random.default_rng(20261130), y_test, prior, lead, booked):
            truth = rate_of(np.bincount(y_test[week], minlength=len(labels)).astype(float))
            if not np.isfinite(truth):
                continue
            value, low, high = model.quantifier.estimate(probs[week], np.zeros(len(labels)), rate_of)
            rows["estimate"][rate].append(abs(value - truth))
            rows["counting"][rate].append(abs(rate_of(np.bincount(probs[week].argmax(1), minlength=len(labels)).astype(float)) - truth))
            rows["prior"][rate].append(abs(rate_of(prior) - truth))
            covered[rate].append(low <= truth <= high)
            widths[rate].append(high - low)
        results[name] = {"quantifier_calls": len(model.quantifier.truth),
                         "median_abs_error": {m: {str(r): float(np.median(v[r])) for r in RATES} for m, v in rows.items()},
                         "coverage": {str(r): float(np.mean(covered[r])) for r in RATES},
                         "mean_width": {str(r): float(np.mean(widths[r])) for r in RATES}}
    (RESULTS / "report_estimates.json").write_text(json.dumps(results, indent=2))
    lines = ["# The report's booking rate under shifting weeks", "",
             f"Weeks of {WEEK_CALLS} real test calls (fixed test part), {WEEKS} a set rate; tf-idf trained on the "
             "580 tuning calls; `benchmarks/report_estimates.py`.", ""]
    for name, r in results.items():
        lines += [f"## Quantifier from {name} ({r['quantifier_calls']} calls)", "",
                  "| | " + " | ".join(f"rate {x}" for x in RATES) + " |", "|---|" + "---:|" * len(RATES)]
        for m in ("counting", "prior", "estimate"):
            lines.append(f"| median abs. error, {m} | " + " | ".join(f"{r['median_abs_error'][m][str(x)]:.3f}" for x in RATES) + " |")
        lines.append("| 90 % interval coverage | " + " | ".join(f"{r['coverage'][str(x)]:.2f}" for x in RATES) + " |")
        lines.append("| mean interval width | " + " | ".join(f"{r['mean_width'][str(x)]:.2f}" for x in RATES) + " |")
        lines.append("")
    (RESULTS / "report_estimates.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
