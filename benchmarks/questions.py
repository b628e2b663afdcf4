"""The questions behind the tags on real calls: is it a lead, was it booked (of the leads), is the caller an
existing customer (of the leads) — answered by the marginals of the classifier's calibrated probabilities
(what every row carries) against a tf-idf model trained for each question alone.

Fixed test part of accuracy.py (146 calls); both trained on the 580 tuning calls, the per-question models
calibrated by scikit-learn's CalibratedClassifierCV (5-fold sigmoid). Writes results/questions.{json,md}.

    python questions.py
"""

from __future__ import annotations

import json

import numpy as np
from accuracy import split
from common import RESULTS, real_calls

import callsort
from callsort.insights.rules import LeadRules
from callsort.models.evaluate import question_metrics


def per_question(train_texts, train_truth, test_texts) -> np.ndarray:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          CalibratedClassifierCV(LogisticRegression(C=10, max_iter=2000), cv=5, method="sigmoid"))
    return model.fit(train_texts, train_truth).predict_proba(test_texts)[:, 1]


def main() -> None:
    table = real_calls()
    tune, test = split(table)
    rules = LeadRules()
    model = callsort.train(table.subset(tune), callsort.TrainConfig(model="tfidf"), progress=False).model
    testing = table.subset(test)
    probs = [p.probabilities for p in model.predict(testing.texts)]
    marginal = question_metrics(testing.labels, probs)
    texts = [table.texts[i] for i in tune]
    labels = [table.labels[i] for i in tune]
    alone = {}
    for name, answer, applies in (("lead", rules.is_lead, lambda label: True),
                                  ("booked", rules.is_booked, rules.is_lead),
                                  ("existing", rules.is_existing, rules.is_lead)):
        fit = [i for i, label in enumerate(labels) if applies(label)]
        scored = [i for i, label in enumerate(testing.labels) if applies(label)]
        p = per_question([texts[i] for i in fit], [answer(labels[i]) for i in fit], [testing.texts[i] for i in scored])
        y = np.array([answer(testing.labels[i]) for i in scored], dtype=float)
        alone[name] = {"accuracy": round(float(np.mean((p >= 0.5) == (y == 1))), 4),
                       "brier": round(float(np.mean((p - y) ** 2)), 4), "n": len(scored)}
    result = {"marginals": marginal, "a model per question": alone}
    (RESULTS / "questions.json").write_text(json.dumps(result, indent=2))
    lines = ["# The questions behind the tags (fixed test part)", "",
             "| question | calls | marginals: accuracy | Brier | a model per question: accuracy | Brier |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in ("lead", "booked", "existing"):
        m, a = marginal[name], alone[name]
        lines.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['brier']:.3f} | {a['accuracy']:.3f} | {a['brier']:.3f} |")
    (RESULTS / "questions.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
