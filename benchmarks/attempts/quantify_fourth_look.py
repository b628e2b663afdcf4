"""Frozen: runs at commit 91dcfac; re-run by checking that commit out (attempts/README.md).

Issue 21, fourth look (2026-11-30, session 10): the last estimators, a classifier for the booking question
alone, checked calls, and more labelled calls: can any of them bring the booking rate's median error to 0.03?

1. Estimators over the shipped probabilities: PACC on tempered probabilities (T < 1 leans towards adjusted
   counting), adjusted counting, and the mean of PACC and counting.
2. A classifier for the booking question: the customer side dropped (6 categories, New and Existing pooled, so
   each has twice the calls), at the shipped C = 10 and others; PACC on its 6 categories.
3. Checked calls: a person checks the week's k least confident calls (what the review queue offers first); the
   rest estimated by the shipped PACC or by PACC with one confusion per confidence band (terciles), since the
   unchecked calls are then the surer ones.
4. The interval: the shipped percentile bootstrap against the basic (reflected) one, which corrects a biased
   estimate, and BCa (bias and skew corrected, acceleration from the week's jackknife): coverage of the 90 %
   interval and its width on the tuning part's weeks.
5. More labelled calls: tf-idf trained as users do (callsort.train, calibration_folds=5) on 150 ... 580 tuning
   calls (two draws below 580).
Choices are read on weeks of the tuning part (each fold's out-of-fold calls, quantified with the other folds'
calls); the fixed test part is run once after (quantifier from all 580 tuning calls). Writes
results/quantify_fourth_look.md.

    python attempts/quantify_fourth_look.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import RESULTS, stratified_folds  # noqa: E402
from report_estimates import RATES, Questions, booking_errors, probabilities, real_part, trained, weeks  # noqa: E402

from callsort.insights.quantify import Quantifier  # noqa: E402
from callsort.insights.quantify import adjusted_shares as pacc  # noqa: E402
from callsort.models.textfeatures import build_tfidf  # noqa: E402


def confusion(probs, truth, k):
    """The shipped quantifier's confusion (C[k, j]: mean probability of k over the calls truly in j)."""
    return Quantifier([str(j) for j in range(k)], probs, truth).confusion()


def tempered(probs, t):
    logits = np.log(np.clip(probs, 1e-6, 1)) / t
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def estimators(qp, qy, k):
    """name -> f(probs of unchecked calls, counts of checked calls) -> expected calls per category."""
    hard = lambda p: np.eye(k)[p.argmax(1)]  # noqa: E731
    out = {}
    for t in (0.25, 0.5, 1.0, 1.5):
        c = confusion(tempered(qp, t), qy, k)
        out[f"PACC, T={t}" + (" (shipped)" if t == 1.0 else "")] = (
            lambda p, known, c=c, t=t: known + pacc(tempered(p, t).mean(0), c) * len(p))
    ch, c1 = confusion(hard(qp), qy, k), confusion(qp, qy, k)
    out["adjusted counting"] = lambda p, known: known + pacc(hard(p).mean(0), ch) * len(p)
    out["counting"] = lambda p, known: known + hard(p).sum(0)
    out["mean of PACC and counting"] = lambda p, known: known + (pacc(p.mean(0), c1) * len(p) + hard(p).sum(0)) / 2
    cuts = np.quantile(qp.max(1), [1 / 3, 2 / 3])
    banded = [confusion(qp[np.digitize(qp.max(1), cuts) == b], qy[np.digitize(qp.max(1), cuts) == b], k) for b in range(3)]

    def by_band(p, known):
        band, counts = np.digitize(p.max(1), cuts), known.astype(float)
        for b in range(3):
            if (band == b).any():
                counts = counts + pacc(p[band == b].mean(0), banded[b]) * (band == b).sum()
        return counts
    out["PACC, a confusion per confidence band"] = by_band
    return out


def week_errors(pool_p, pool_y, qp, qy, space, prior, seed, checks=0):
    """Median absolute booking-rate error per set rate and estimator; `space` maps the 8 categories to the
    classifier's own (`space[1]`: Questions of those)."""
    mapping, q = space
    k = len(q.labels)
    fns = estimators(qp, mapping[qy], k)
    errs = {name: {r: [] for r in RATES} for name in fns}
    for rate, week in weeks(np.random.default_rng(seed), pool_y, prior, *q8_masks(mapping, q)):
        truth = q.booking_rate(np.bincount(mapping[pool_y[week]], minlength=k).astype(float))
        if not np.isfinite(truth):
            continue
        order = np.argsort(pool_p[week].max(1))
        checked, rest = week[order[:checks]], week[order[checks:]]
        known = np.bincount(mapping[pool_y[checked]], minlength=k).astype(float)
        for name, f in fns.items():
            errs[name][rate].append(abs(q.booking_rate(f(pool_p[rest], known)) - truth))
    return errs


def q8_masks(mapping, q):
    return q.lead[mapping], q.booked[mapping]


def tuning_then_test(oof, y_tune, test_p, y_test, space, prior, checks=0):
    tuned = None
    for f, (a, b) in enumerate(stratified_folds([str(v) for v in y_tune], 5, seed=7)):
        a, b = np.array(a), np.array(b)
        e = week_errors(oof[b], y_tune[b], oof[a], y_tune[a], space, prior, f, checks)
        tuned = e if tuned is None else {n: {r: tuned[n][r] + e[n][r] for r in RATES} for n in e}
    tested = week_errors(test_p, y_test, oof, y_tune, space, prior, 20261130, checks)
    return {n: (medians(tuned[n]), medians(tested[n])) for n in tuned}


def medians(by_rate):
    return [float(np.nanmedian(by_rate[r])) for r in RATES] + [float(np.nanmedian(sum(by_rate.values(), [])))]


def tfidf_probs(texts_a, y_a, texts_b, c):
    pipeline = build_tfidf(42, 3).set_params(logisticregression__C=c).fit(texts_a, y_a)
    out = np.zeros((len(texts_b), y_a.max() + 1))
    out[:, pipeline.classes_] = pipeline.predict_proba(texts_b)
    return out


def side_free_runs(table, tune, test, y, labels, prior):
    """The booking question's own classifier: out-of-fold and test probabilities over 6 side-free categories."""
    names = [k.replace("Existing Customer", "New Customer") for k in labels]
    six = sorted(set(names))
    mapping, q6 = np.array([six.index(n) for n in names]), Questions(six)
    texts = [table.texts[i] for i in tune]
    rows = {}
    for label, m, q, cs in (("8 categories", np.arange(len(labels)), Questions(labels), (10.0,)),
                            ("6 side-free categories", mapping, q6, (3.0, 10.0, 30.0))):
        for c in cs:
            yt, oof = m[y[tune]], np.zeros((len(tune), len(q.labels)))
            for a, b in stratified_folds([labels[i] for i in y[tune]], 5):
                oof[b] = tfidf_probs([texts[i] for i in a], yt[a], [texts[i] for i in b], c)
            test_p = tfidf_probs(texts, yt, [table.texts[i] for i in test], c)
            result = tuning_then_test(oof, y[tune], test_p, y[test], (m, q), prior)
            rows[f"{label}, C={c}"] = result["PACC, T=1.0 (shipped)"]
    return rows


def bca(quantifier, probs, value, draws, measure):
    """The BCa 90 % interval (Efron 1987): percentiles moved by the draws' bias and the jackknife's skew."""
    from scipy.stats import norm

    draws = draws[np.isfinite(draws)]
    z0 = norm.ppf(np.clip(np.mean(draws < value), 1e-3, 1 - 1e-3))
    jack = np.array([measure(quantifier.expected(np.delete(probs, i, 0), np.zeros(probs.shape[1])))
                     for i in range(len(probs))])
    spread = np.nanmean(jack) - jack[np.isfinite(jack)]
    accel = np.sum(spread ** 3) / (6 * np.sum(spread ** 2) ** 1.5) if np.sum(spread ** 2) > 0 else 0.0
    z = norm.ppf([0.05, 0.95])
    return np.percentile(draws, 100 * norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z))))


def interval_kinds(oof, y_oof, labels, prior):
    """Coverage and mean width per set rate of the percentile, basic and BCa bootstrap intervals, tuning weeks."""
    q = Questions(labels)
    found = {kind: {r: [] for r in RATES} for kind in ("percentile (shipped)", "basic", "BCa")}
    for f, (a, b) in enumerate(stratified_folds([str(v) for v in y_oof], 5, seed=7)):
        quantifier, a, b = Quantifier(labels, oof[a], y_oof[a]), np.array(a), np.array(b)
        for rate, week in weeks(np.random.default_rng(f), y_oof[b], prior, q.lead, q.booked):
            truth = q.booking_rate(np.bincount(y_oof[b][week], minlength=len(labels)).astype(float))
            if len(found["basic"][rate]) >= 200 * (f + 1) // 5 or not np.isfinite(truth):
                continue  # 40 weeks a rate and fold: 200 bootstrap draws each
            value, draws = quantifier.estimate_draws(oof[b][week], np.zeros(len(labels)), q.booking_rate)
            low, high = np.percentile(draws[np.isfinite(draws)], [5, 95])
            found["percentile (shipped)"][rate].append((low <= truth <= high, high - low))
            low, high = np.clip(2 * value - high, 0, 1), np.clip(2 * value - low, 0, 1)
            found["basic"][rate].append((low <= truth <= high, high - low))
            low, high = bca(quantifier, oof[b][week], value, draws, q.booking_rate)
            found["BCa"][rate].append((low <= truth <= high, high - low))
    return {kind: ([float(np.mean([c for c, _ in by[r]])) for r in RATES],
                   [float(np.mean([w for _, w in by[r]])) for r in RATES]) for kind, by in found.items()}


def learning_curve(part):
    """(training calls, draw, mean probability of the true category, accuracy, median errors) on the test part."""
    from sklearn.model_selection import train_test_split

    tune, y_test, rows = part.tune, part.y_test, []
    for n in (150, 290, 435, 580):
        for draw in ((1, 2) if n < len(tune) else (0,)):
            sub = tune if n == len(tune) else train_test_split(
                tune, train_size=n, stratify=[part.table.labels[i] for i in tune], random_state=draw)[0]
            model = trained(part.table, sub)
            p = probabilities(model.predict(part.test_texts()), part.labels)
            errs = booking_errors(lambda w, m=model: m.quantifier.expected(w, np.zeros(len(part.labels))),
                                  p, y_test, part.prior, part.q)
            rows.append((n, draw, float(p[np.arange(len(y_test)), y_test].mean()),
                         float((p.argmax(1) == y_test).mean()), medians(errs)))
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    part = real_part()
    table, tune, test, labels, y, prior = part.table, part.tune, part.test, part.labels, part.y, part.prior
    model = trained(table, tune)
    test_p = probabilities(model.predict(part.test_texts()), labels)
    # the quantifier's rows are the tuning calls in its own order: its `truth` labels them
    oof, y_oof = model.quantifier.probs, model.quantifier.truth
    space = (np.arange(len(labels)), Questions(labels))
    sections = [("Estimators over the shipped probabilities", tuning_then_test(oof, y_oof, test_p, y[test], space, prior))]
    for checks in (10, 20, 30):
        result = tuning_then_test(oof, y_oof, test_p, y[test], space, prior, checks)
        sections.append((f"{checks} least confident calls of each week checked by a person",
                         {n: result[n] for n in ("PACC, T=1.0 (shipped)", "PACC, a confusion per confidence band")}))
    sections.append(("A classifier for the booking question (tf-idf, uncalibrated, PACC)",
                     side_free_runs(table, tune, test, y, labels, prior)))
    write(sections, interval_kinds(oof, y_oof, labels, prior), learning_curve(part))


def write(sections, intervals, curve) -> None:
    head = " | ".join(f"rate {r}" for r in RATES)
    lines = ["# The booking rate, fourth look (issue 21, session 10)", "",
             "Median absolute booking-rate error, weeks of 100 calls (`attempts/quantify_fourth_look.py`): on the "
             "tuning part's weeks (choice) and on the fixed test part's (run once after).", ""]
    for title, rows in sections:
        lines += [f"## {title}", "", f"| | part | {head} | all |", "|---|---|" + "---:|" * (len(RATES) + 1)]
        for name, (tuned, tested) in rows.items():
            lines.append(f"| {name} | tuning | " + " | ".join(f"{v:.3f}" for v in tuned) + " |")
            lines.append("| | test | " + " | ".join(f"{v:.3f}" for v in tested) + " |")
        lines.append("")
    lines += ["## The 90 % interval (tuning part's weeks)", "", f"| interval | | {head} |",
              "|---|---|" + "---:|" * len(RATES)]
    for kind, (coverage, width) in intervals.items():
        lines.append(f"| {kind} | coverage | " + " | ".join(f"{v:.2f}" for v in coverage) + " |")
        lines.append("| | mean width | " + " | ".join(f"{v:.2f}" for v in width) + " |")
    lines += ["", "## More labelled calls (test part; tf-idf trained by callsort.train, calibration_folds=5)", "",
              f"| training calls | draw | mean probability of the true category | accuracy | {head} | all |",
              "|---:|---:|---:|---:|" + "---:|" * (len(RATES) + 1)]
    lines += [f"| {n} | {d} | {t:.3f} | {a:.3f} | " + " | ".join(f"{v:.3f}" for v in e) + " |"
              for n, d, t, a, e in curve]
    (RESULTS / "quantify_fourth_look.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
