"""Attempt: SetFit-style contrastive fine-tuning of MiniLM, then logistic regression on its call embeddings.

SetFit's recipe written out in plain PyTorch (the `setfit` package is not installed here): pairs of training
calls, labelled 1 when both have the same tag and 0 otherwise, pull the mean-pooled sentence embeddings of a
random 128-token window of each call together or apart (cosine-similarity loss, MSE to the pair label, as
SetFit's default CosineSimilarityLoss); then every call is embedded whole (256-token windows averaged, as in
frozen_embeddings.py) and a class-balanced logistic regression is fitted on the training calls. The untouched
encoder, embedded the same way, is the control; both are also blended with tf-idf. Same folds as accuracy.py.

    .venv/bin/python benchmarks/contrastive.py --folds 1,2 [--pairs-per-call 3]

Writes benchmarks/results/contrastive.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup  # noqa: E402

import callsort  # noqa: E402
from callsort.model import build_tfidf, encode_windows  # noqa: E402
from callsort.registry import resolve_text_model  # noqa: E402
from frozen_embeddings import DATA, RESULTS, embed_with, mean_pooled  # noqa: E402


def contrastive_fit(encoder, tokenizer, texts, labels, pairs_per_call: int, seed: int, batch_pairs: int = 16,
                    lr: float = 2e-5) -> float:
    """One pass over SetFit-style pairs; returns the seconds it took."""
    rng = np.random.default_rng(seed)
    windows = encode_windows(tokenizer, texts, 128, 32)
    by_call: dict[int, list[int]] = {}
    for w, c in enumerate(windows["call_index"]):
        by_call.setdefault(c, []).append(w)
    labels = np.array(labels)
    pairs = []
    for _ in range(pairs_per_call):
        for i in range(len(texts)):
            same = np.flatnonzero((labels == labels[i]) & (np.arange(len(labels)) != i))
            other = np.flatnonzero(labels != labels[i])
            pairs += [(i, int(rng.choice(same)), 1.0), (i, int(rng.choice(other)), 0.0)]
    rng.shuffle(pairs)

    def window(call: int) -> int:
        return int(rng.choice(by_call[call]))

    def pad(ids: list[int]):
        return tokenizer.pad({"input_ids": [windows["input_ids"][w] for w in ids],
                              "attention_mask": [windows["attention_mask"][w] for w in ids]}, return_tensors="pt")

    steps = (len(pairs) + batch_pairs - 1) // batch_pairs
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    encoder.train()
    started = time.perf_counter()
    for step in range(steps):
        chunk = pairs[step * batch_pairs:(step + 1) * batch_pairs]
        a, b = pad([window(p[0]) for p in chunk]), pad([window(p[1]) for p in chunk])
        target = torch.tensor([p[2] for p in chunk])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ua, ub = mean_pooled(encoder, a), mean_pooled(encoder, b)
        loss = torch.nn.functional.mse_loss(torch.cosine_similarity(ua.float(), ub.float()), target)
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 50 == 0:
            print(f"  step {step}/{steps} loss {loss.item():.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


def score(features, y, train_idx, test_idx, tfidf_probs) -> dict:
    head = LogisticRegression(C=10, max_iter=5000, class_weight="balanced").fit(features[train_idx], y[train_idx])
    probs = head.predict_proba(features[test_idx])
    out = {}
    for w in (0, 0.5, 0.7):
        predicted = head.classes_[(w * tfidf_probs + (1 - w) * probs).argmax(1)]
        out[f"tfidf_weight={w}"] = round(float(f1_score(y[test_idx], predicted, average="macro")), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="1,2")
    parser.add_argument("--pairs-per-call", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(42)
    table = callsort.read_calls(DATA, "Text", "Tag")
    y = np.array(table.labels)
    path = resolve_text_model("minilm")
    tokenizer = AutoTokenizer.from_pretrained(path)
    frozen = embed_with(AutoModel.from_pretrained(path), tokenizer, table.texts)
    splits = list(StratifiedKFold(5, shuffle=True, random_state=42).split(frozen, y))
    report = {"pairs_per_call": args.pairs_per_call, "folds": []}
    for n in [int(f) for f in args.folds.split(",")]:
        train_idx, test_idx = splits[n - 1]
        tfidf = build_tfidf().fit([table.texts[i] for i in train_idx], y[train_idx])
        tfidf_probs = tfidf.predict_proba([table.texts[i] for i in test_idx])
        encoder = AutoModel.from_pretrained(path)
        seconds = contrastive_fit(encoder, tokenizer, [table.texts[i] for i in train_idx], y[train_idx],
                                  args.pairs_per_call, seed=n)
        tuned = embed_with(encoder, tokenizer, table.texts)
        fold = {"fold": n, "contrastive_seconds": round(seconds, 1),
                "frozen": score(frozen, y, train_idx, test_idx, tfidf_probs),
                "contrastive": score(tuned, y, train_idx, test_idx, tfidf_probs),
                "tfidf": round(float(f1_score(y[test_idx], tfidf.classes_[tfidf_probs.argmax(1)], average="macro")), 4)}
        report["folds"].append(fold)
        print(json.dumps(fold), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "contrastive.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
