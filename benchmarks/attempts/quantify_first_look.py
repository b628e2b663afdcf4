"""Issue 21, a first look (2026-11-30): how far is the booking rate of a "week" of real calls from what each
estimator says, when weeks differ from the training mix? Results: results/quantify_first_look.md.

Protocol (the artificial-prevalence protocol, on accuracy.py's fixed test part, which no choice here sees):
tf-idf (the product's kind, temperature-calibrated on its validation calls as `callsort train` does) is trained
on the 580 tuning calls; out-of-fold probabilities of 5 more fits on them give what the adjusted estimators need
(the confusion of predictions with true labels). Weeks of 100 test calls are drawn with replacement: a category
mix from a Dirichlet around the training mix, the leads' booked share set to 0.2 … 0.8. Estimators: counting
top labels (CC), the training prior (a constant), probabilistic counting (PCC), adjusted counting (ACC, PACC),
EM prior adjustment (SLD). No intervals yet: this is to choose which estimator to build.

    python attempts/quantify_first_look.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import callsort

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
TRANSCRIPTS = ROOT / ".." / "shared" / "data" / "calls" / "transcripts.csv"
TEST_PART = ROOT / "benchmarks" / "test_part.json"


# Copies of benchmarks/common.py's and accuracy.py's helpers as they were when this attempt ran, so that the
# attempt imports only callsort's public API.
def real_calls():
    """The real labelled transcripts (726 calls, 8 tags) as a CallTable."""
    if not TRANSCRIPTS.is_file():
        sys.exit(f"{TRANSCRIPTS}: not found; this attempt needs the real calls in ../shared/data/calls")
    return callsort.read_calls(TRANSCRIPTS, text_column="Text", label_column="Tag")


def stratified_folds(labels: list[str], k: int, seed: int = 42) -> list[tuple[list[int], list[int]]]:
    """(train, test) index lists of stratified k-fold (scikit-learn), as every benchmark draws them."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(a), list(b)) for a, b in splitter.split([[0]] * len(labels), labels)]


def split(table):
    """(tuning rows, test rows): the fixed test part committed in benchmarks/test_part.json."""
    rows = [int(s.rsplit(":", 1)[1]) for s in table.sources]  # 1-based row numbers in transcripts.csv
    chosen = set(json.loads(TEST_PART.read_text())["rows"])
    return [i for i, r in enumerate(rows) if r not in chosen], [i for i, r in enumerate(rows) if r in chosen]


RATES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
WEEKS, WEEK_CALLS = 300, 100


def probabilities(train_table, texts: list[str], labels: list[str]) -> np.ndarray:
    model = callsort.train(train_table, callsort.TrainConfig(model="tfidf"), progress=False).model
    return np.array([[p.probabilities.get(k, 0.0) for k in labels] for p in model.predict(texts)])


def adjusted(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Shares p >= 0 summing to 1 that best explain q = m @ p (least squares on the simplex)."""
    from scipy.optimize import minimize

    k = len(q)
    found = minimize(lambda p: np.sum((m @ p - q) ** 2), np.full(k, 1 / k), bounds=[(0, 1)] * k,
                     constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1}], method="SLSQP")
    return found.x


def em(probs: np.ndarray, prior: np.ndarray, steps: int = 100) -> np.ndarray:
    """Saerens-Latinne-Decaestecker: re-weight the posteriors by new/old priors until the priors settle."""
    shares = prior.copy()
    for _ in range(steps):
        weighted = probs * (shares / prior)
        weighted /= weighted.sum(axis=1, keepdims=True)
        new = weighted.mean(axis=0)
        if np.abs(new - shares).max() < 1e-6:
            break
        shares = new
    return shares


def booking(shares: np.ndarray, booked: np.ndarray, lead: np.ndarray) -> float:
    leads = shares[lead].sum()
    return float(shares[booked].sum() / leads) if leads > 0 else float("nan")


def main() -> None:
    table = real_calls()
    tune, test = split(table)
    labels = sorted(set(table.labels))
    y = np.array([labels.index(x) for x in table.labels])
    lead = np.array(["Lead Booked" in x or "Lead Not Booked" in x for x in labels])
    booked = lead & np.array(["Not Booked" not in x for x in labels])
    tune_table = table.subset(tune)
    oof = np.zeros((len(tune), len(labels)))
    for a, b in stratified_folds([table.labels[i] for i in tune], 5):
        oof[b] = probabilities(tune_table.subset(a), [tune_table.texts[i] for i in b], labels)
    test_probs = probabilities(tune_table, [table.texts[i] for i in test], labels)
    y_tune, y_test = y[tune], y[test]
    prior = np.bincount(y_tune, minlength=len(labels)) / len(y_tune)
    m_cc = np.array([[np.mean(oof[y_tune == j].argmax(1) == k) for j in range(len(labels))] for k in range(len(labels))])
    m_p = np.array([[oof[y_tune == j, k].mean() for j in range(len(labels))] for k in range(len(labels))])
    rng = np.random.default_rng(20261130)
    by_class = [np.flatnonzero(y_test == j) for j in range(len(labels))]
    errors = {name: {r: [] for r in RATES} for name in ("CC", "prior", "PCC", "ACC", "PACC", "EM")}
    for rate in RATES:
        for _ in range(WEEKS):
            mix = rng.dirichlet(prior * 20 + 0.5)
            lead_share = mix[lead].sum()
            mix[booked] = lead_share * rate * rng.dirichlet(np.ones(booked.sum()))
            mix[lead & ~booked] = lead_share * (1 - rate) * rng.dirichlet(np.ones((lead & ~booked).sum()))
            counts = rng.multinomial(WEEK_CALLS, mix)
            week = np.concatenate([rng.choice(by_class[j], n) for j, n in enumerate(counts) if n])
            truth = booking(np.bincount(y_test[week], minlength=len(labels)) / len(week), booked, lead)
            if np.isnan(truth):
                continue
            probs = test_probs[week]
            cc = np.bincount(probs.argmax(1), minlength=len(labels)) / len(week)
            pcc = probs.mean(0)
            estimates = {"CC": cc, "prior": prior, "PCC": pcc, "ACC": adjusted(cc, m_cc), "PACC": adjusted(pcc, m_p),
                         "EM": em(probs, prior)}
            for name, shares in estimates.items():
                errors[name][rate].append(abs(booking(shares, booked, lead) - truth))
    lines = ["# Booking rate under shifting weeks: a first look (issue 21)", "",
             "Median absolute error of the booking rate, weeks of 100 real test calls (fixed test part), 300 weeks "
             "per set rate; tf-idf trained on the 580 tuning calls; out-of-fold confusion for ACC/PACC "
             "(`attempts/quantify_first_look.py`, 2026-11-30). No intervals yet.", "",
             "| estimator | " + " | ".join(f"rate {r}" for r in RATES) + " | all |",
             "|---|" + "---:|" * (len(RATES) + 1)]
    for name, by_rate in errors.items():
        cells = [f"{np.median(by_rate[r]):.3f}" for r in RATES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.median([e for r in RATES for e in by_rate[r]]):.3f} |")
    (RESULTS / "quantify_first_look.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
