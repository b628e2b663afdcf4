"""The report's figures under shifting weeks: booking rate and category shares, with and without the customer list.

Artificial-prevalence protocol on accuracy.py's fixed test part (no choice sees it): tf-idf is trained on the
580 tuning calls by `callsort.train` as users do, once with its quantifier from the validation calls (the
default) and once from out-of-fold calls (`calibration_folds=5`). Weeks of 100 test calls are drawn with
replacement: a category mix from a Dirichlet around the training mix, the leads' booked share set to 0.2 … 0.8
(200 weeks a rate; the same weeks for every variant, so they compare pair by pair). For each week: counting top
labels, the training prior (a constant), and the report's estimate (insights/quantify.py: PACC with a 90 %
bootstrap interval), scored on the booking rate, on each category's share and on the existing customers' share
of the leads.

Customer list on (issue 24): the simulated list of customers.py (the test-part readers' marks of who the
Existing callers are, spelled as heard or with ASR-like errors, plus 300 other customers, `complete`) sets the
side of the 60 annotated test calls as `callsort predict --customers` does (customers.with_customer: probability
moved from New to Existing or back); the other 86 calls keep the model's side (as callers who give nothing the
list knows). Writes results/report_estimates.{json,md}.

    python report_estimates.py
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import numpy as np
from accuracy import split
from common import RESULTS, real_calls

import callsort

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


def booking_errors(expected, probs, y_test, prior, q) -> dict[float, list[float]]:
    """Absolute booking-rate error of each shifting week that has leads, by set rate; `expected(probs of a
    week's calls)` gives its expected calls per category."""
    errors = {r: [] for r in RATES}
    for rate, week in weeks(np.random.default_rng(20261130), y_test, prior, q.lead, q.booked):
        truth = np.bincount(y_test[week], minlength=len(q.labels)).astype(float)
        if truth[q.lead].sum():
            errors[rate].append(abs(q.booking_rate(expected(probs[week])) - q.booking_rate(truth)))
    return errors


class Questions:
    """The figures scored, each a function of expected calls per category (in `labels` order)."""

    def __init__(self, labels: list[str]):
        from callsort.insights.rules import LeadRules

        rules = LeadRules()
        self.labels = labels
        self.lead = np.array([rules.is_lead(k) for k in labels])
        self.booked = np.array([rules.is_booked(k) for k in labels])
        self.existing = np.array([rules.is_existing(k) for k in labels]) & self.lead

    def booking_rate(self, counts):
        return counts[self.booked].sum() / counts[self.lead].sum() if counts[self.lead].sum() else float("nan")

    def existing_share(self, counts):
        return counts[self.existing].sum() / counts[self.lead].sum() if counts[self.lead].sum() else float("nan")


def list_verdicts(table, tune, test, spelling: str) -> dict[int, str]:
    """Test-part position → "existing"/"new" from the simulated customer list (customers.py), annotated calls only."""
    from customers import customer_of, others
    from redaction_real import marks_of

    from callsort.evidence.customers import CustomerList, CustomerMatcher
    from callsort.insights.rules import LeadRules
    from callsort.privacy.keep import learn_keep_list
    from callsort.privacy.redact import Redactor

    rules, marks, rng = LeadRules(), marks_of("test"), random.Random(20261130)
    row_of = {int(table.sources[i].rsplit(":", 1)[1]): n for n, i in enumerate(test)}
    listed = [customer_of(table.texts[test[row_of[r]]], m, rng if spelling == "perturbed" else None)
              for r, m in sorted(marks.items()) if rules.is_existing(table.labels[test[row_of[r]]])]
    matcher = CustomerMatcher(CustomerList([c for c in listed if c] + others(random.Random(7))),
                              Redactor(keep=learn_keep_list([table.texts[i] for i in tune])), complete=True)
    return {row_of[r]: matcher.verdict(table.texts[test[row_of[r]]])[0] for r in marks}


def with_list(predictions, labels: list[str], verdicts: dict[int, str]) -> np.ndarray:
    from callsort.evidence.customers import with_customer

    return np.array([[with_customer(p.label, p.probabilities, verdicts.get(n, ""))[1][k] for k in labels]
                     for n, p in enumerate(predictions)])


def scored(model, probs, y_test, prior, q: Questions, shares: bool, sides=None) -> dict:
    """Median absolute errors, coverage and width over the shifting weeks for one model's test probabilities
    (`sides`: each test call's customer side from the list, or none)."""
    k = len(q.labels)
    sides = np.full(len(probs), "", dtype=object) if sides is None else sides
    errors = {f: {m: {r: [] for r in RATES} for m in ("counting", "prior", "estimate")} for f in ("booking", "existing")}
    covered, widths = {r: [] for r in RATES}, {r: [] for r in RATES}
    share_errors = {m: [] for m in ("counting", "prior", "estimate")}
    for rate, week in weeks(np.random.default_rng(20261130), y_test, prior, q.lead, q.booked):
        truth = np.bincount(y_test[week], minlength=k).astype(float)
        if not truth[q.lead].sum():
            continue
        value, low, high = model.quantifier.estimate(probs[week], np.zeros(k), q.booking_rate, sides=sides[week])
        covered[rate].append(low <= q.booking_rate(truth) <= high)
        widths[rate].append(high - low)
        guesses = {"counting": np.bincount(probs[week].argmax(1), minlength=k).astype(float),
                   "prior": prior * len(week), "estimate": model.quantifier.expected(probs[week], np.zeros(k), sides[week])}
        for m, counts in guesses.items():
            errors["booking"][m][rate].append(abs((value if m == "estimate" else q.booking_rate(counts)) - q.booking_rate(truth)))
            errors["existing"][m][rate].append(abs(q.existing_share(counts) - q.existing_share(truth)))
            if shares:
                share_errors[m].append(np.abs(counts - truth) / len(week))
    median = lambda v: {str(r): float(np.nanmedian(v[r])) for r in RATES}  # noqa: E731
    result = {"quantifier_calls": len(model.quantifier.truth),
              "median_abs_error": {m: median(v) for m, v in errors["booking"].items()},
              "existing_share_median_abs_error": {m: median(v) for m, v in errors["existing"].items()},
              "coverage": {str(r): float(np.mean(covered[r])) for r in RATES},
              "mean_width": {str(r): float(np.mean(widths[r])) for r in RATES}}
    if shares:
        result["share_median_abs_error"] = {m: dict(zip(q.labels, np.median(np.array(v), axis=0).round(4).tolist(), strict=False))
                                            for m, v in share_errors.items()}
    return result


@dataclass
class Part:
    """The real calls, split into accuracy.py's tuning and fixed test part, with what the weeks need."""

    table: object
    tune: list[int]
    test: list[int]
    labels: list[str]
    q: Questions
    y: np.ndarray  # every call's category index
    prior: np.ndarray  # the tuning calls' category mix

    @property
    def y_test(self) -> np.ndarray:
        return self.y[self.test]

    def test_texts(self) -> list[str]:
        return [self.table.texts[i] for i in self.test]


def real_part() -> Part:
    table = real_calls()
    tune, test = split(table)
    labels = sorted(set(table.labels))
    y = np.array([labels.index(x) for x in table.labels])
    return Part(table, tune, test, labels, Questions(labels), y, np.bincount(y[tune], minlength=len(labels)) / len(tune))


def trained(table, rows, folds: int = 5):
    """tf-idf trained on `rows` by callsort.train as users do; its quantifier from `folds` out-of-fold fits."""
    return callsort.train(table.subset(rows), callsort.TrainConfig(model="tfidf", calibration_folds=folds),
                          progress=False).model


def probabilities(predictions, labels: list[str]) -> np.ndarray:
    return np.array([[p.probabilities[k] for k in labels] for p in predictions])


def main() -> None:
    part = real_part()
    table, tune, test, labels, q, y_test, prior = (part.table, part.tune, part.test, part.labels, part.q,
                                                   part.y_test, part.prior)
    results = {}
    for name, folds in (("validation calls", 0), ("5 out-of-fold fits", 5)):
        model = trained(table, tune, folds)
        predictions = model.predict(part.test_texts())
        probs = probabilities(predictions, labels)
        results[name] = scored(model, probs, y_test, prior, q, shares=folds > 0)
        if folds:
            for spelling in ("exact", "perturbed"):
                verdicts = list_verdicts(table, tune, test, spelling)
                results[f"{name}, customer list on ({spelling} spelling)"] = dict(
                    scored(model, with_list(predictions, labels, verdicts), y_test, prior, q, shares=True,
                           sides=np.array([verdicts.get(n, "") for n in range(len(test))], dtype=object)),
                    calls_with_verdict=sum(1 for v in verdicts.values() if v))
    (RESULTS / "report_estimates.json").write_text(json.dumps(results, indent=2))
    write_markdown(results, labels)


def write_markdown(results: dict, labels: list[str]) -> None:
    row = lambda title, values: f"| {title} | " + " | ".join(values) + " |"  # noqa: E731
    lines = ["# The report's figures under shifting weeks", "",
             f"Weeks of {WEEK_CALLS} real test calls (fixed test part), {WEEKS} a set booking rate; tf-idf trained "
             "on the 580 tuning calls; `benchmarks/report_estimates.py`.", ""]
    for name, r in results.items():
        lines += [f"## Quantifier from {name} ({r['quantifier_calls']} calls)", "",
                  row("", [f"rate {x}" for x in RATES]), "|---|" + "---:|" * len(RATES)]
        for m in ("counting", "prior", "estimate"):
            lines.append(row(f"booking rate, median abs. error, {m}", [f"{r['median_abs_error'][m][str(x)]:.3f}" for x in RATES]))
        lines.append(row("booking rate, 90 % interval coverage", [f"{r['coverage'][str(x)]:.2f}" for x in RATES]))
        lines.append(row("booking rate, mean interval width", [f"{r['mean_width'][str(x)]:.2f}" for x in RATES]))
        for m in ("counting", "prior", "estimate"):
            lines.append(row(f"existing customers' share of leads, median abs. error, {m}",
                             [f"{r['existing_share_median_abs_error'][m][str(x)]:.3f}" for x in RATES]))
        if "share_median_abs_error" in r:
            lines += ["", "Each category's share of the week, median absolute error (all rates):", "",
                      row("category", ["counting", "prior", "estimate"]), "|---|---:|---:|---:|"]
            lines += [row(k, [f"{r['share_median_abs_error'][m][k]:.3f}" for m in ("counting", "prior", "estimate")])
                      for k in labels]
        if "calls_with_verdict" in r:
            lines += ["", f"The list set the side of {r['calls_with_verdict']} of the 146 test calls."]
        lines.append("")
    (RESULTS / "report_estimates.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
