"""Attempt: variations of the tf-idf + logistic-regression baseline, 5-fold CV on the real calls (same folds as accuracy.py).

    .venv/bin/python benchmarks/tfidf_grid.py      # prints one line per variant: macro-F1 mean ± std (seconds)
"""
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.metrics import f1_score

import callsort

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "calls" / "transcripts.csv"
t = callsort.read_calls(DATA, "Text", "Tag")
X = np.array(t.texts, dtype=object); y = np.array(t.labels)
folds = list(StratifiedKFold(5, shuffle=True, random_state=42).split(X, y))
def run(name, make):
    s=time.time(); f=[]
    for a,b in folds:
        m = make().fit(X[a], y[a]); f.append(f1_score(y[b], m.predict(X[b]), average="macro"))
    print(f"{name}: {np.mean(f):.3f} ± {np.std(f,ddof=1):.3f}  ({time.time()-s:.0f}s)", flush=True)
def pipe(word=(1,2), char=(2,5), C=10, min_df=1, cw="balanced", use_char=True, use_word=True, wmax=100_000, cmax=200_000):
    parts=[]
    if use_word: parts.append(TfidfVectorizer(ngram_range=word, sublinear_tf=True, min_df=min_df, max_features=wmax))
    if use_char: parts.append(TfidfVectorizer(analyzer="char_wb", ngram_range=char, sublinear_tf=True, min_df=min_df, max_features=cmax))
    return lambda: make_pipeline(make_union(*parts), LogisticRegression(C=C, class_weight=cw, max_iter=3000))
run("current", pipe())
run("word only (1,2) C10", pipe(use_char=False))
run("char only C10", pipe(use_word=False))
for C in (3, 30, 100): run(f"C{C}", pipe(C=C))
run("min_df2", pipe(min_df=2))
run("word(1,3)", pipe(word=(1,3)))
run("char(3,6)", pipe(char=(3,6)))
run("no class weight", pipe(cw=None))
run("word(1,3) min_df2 C30", pipe(word=(1,3), min_df=2, C=30))
