"""Attempt: does the tf-idf model gain from other views of a call? 5-fold CV on the real calls (same folds as
accuracy.py): the call's length as a feature, a second model on the last third of the call (where the booking
is usually settled), and removing boilerplate sentences (IVR menus, greetings) seen in >= 5/10/20 % of the
training calls. Also prints the confusion matrix of the plain tf-idf model over all folds.

    .venv/bin/python benchmarks/text_views.py      # writes benchmarks/results/text_views.txt
"""
import re
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import callsort
from callsort.model import build_tfidf

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "calls" / "transcripts.csv"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def normalised(sentence: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", sentence.lower()).strip()


def common_sentences(texts, share: float) -> set[str]:
    counts = Counter()
    for text in texts:
        counts.update({normalised(s) for s in sentences(text)})
    return {s for s, n in counts.items() if n >= share * len(texts)}


def without(text: str, common: set[str]) -> str:
    kept = [s for s in sentences(text) if normalised(s) not in common]
    return " ".join(kept) or text


def last_third(text: str) -> str:
    words = text.split()
    return " ".join(words[len(words) * 2 // 3:])


def plain(train, y, test):
    return build_tfidf().fit(train, y).predict(test)


def with_length(train, y, test):
    model = build_tfidf()
    length = make_pipeline(FunctionTransformer(lambda X: np.log1p([[len(t.split())] for t in X])), StandardScaler())
    model.steps[0][1].transformer_list.append(("length", length))
    return model.fit(train, y).predict(test)


def with_tail_model(train, y, test):
    whole, tail = build_tfidf().fit(train, y), build_tfidf().fit([last_third(t) for t in train], y)
    probs = whole.predict_proba(test) + tail.predict_proba([last_third(t) for t in test])
    return whole.classes_[probs.argmax(axis=1)]


def stripped(share: float):
    def run(train, y, test):
        common = common_sentences(train, share)
        return build_tfidf().fit([without(t, common) for t in train], y).predict([without(t, common) for t in test])
    return run


def main() -> None:
    table = callsort.read_calls(DATA, "Text", "Tag")
    texts, y = table.texts, np.array(table.labels)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=42).split(texts, y))
    lines = []
    variants = {"tf-idf": plain, "+ log length feature": with_length, "+ model on the last third": with_tail_model,
                **{f"boilerplate sentences (>= {s:.0%} of calls) removed": stripped(s) for s in (0.05, 0.1, 0.2)}}
    for name, run in variants.items():
        scores = []
        for train, test in folds:
            predicted = run([texts[i] for i in train], y[train], [texts[i] for i in test])
            scores.append(f1_score(y[test], predicted, average="macro"))
        lines.append(f"{name}: macro-F1 {np.mean(scores):.3f} ± {np.std(scores, ddof=1):.3f}")
        print(lines[-1], flush=True)
    predicted = np.empty(len(y), dtype=object)
    for train, test in folds:
        predicted[test] = plain([texts[i] for i in train], y[train], [texts[i] for i in test])
    labels = sorted(set(y))
    lines += ["", "tf-idf confusion matrix over the 5 folds (rows true, columns predicted):"]
    lines += [f"  {i}: {label}" for i, label in enumerate(labels)]
    lines += ["     " + " ".join(f"{i:>4}" for i in range(len(labels)))]
    lines += [f"  {i}: " + " ".join(f"{n:4d}" for n in row)
              for i, row in enumerate(confusion_matrix(y, predicted, labels=labels))]
    (ROOT / "benchmarks" / "results" / "text_views.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-12:]))


if __name__ == "__main__":
    main()
