"""Attempt: frozen MiniLM sentence embeddings + logistic regression, alone and blended with tf-idf.

No fine-tuning: each call is embedded once (mean-pooled token states of every 256-token window, the
windows averaged), so 5-fold CV costs one forward pass over the data. Same folds as accuracy.py.

    .venv/bin/python benchmarks/frozen_embeddings.py     # writes results/frozen_embeddings.json
    .venv/bin/python benchmarks/frozen_embeddings.py --base /path/to/all-mpnet-base-v2   # -> frozen_embeddings_<folder>.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

import callsort  # noqa: E402
from callsort.model import build_tfidf, encode_windows, padded_batches, pool_windows  # noqa: E402
from callsort.registry import resolve_text_model  # noqa: E402

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "calls" / "transcripts.csv"


def mean_pooled(encoder, batch) -> torch.Tensor:
    """(B, H): the mean of each sequence's token states over its real (unpadded) tokens."""
    states = encoder(**batch).last_hidden_state  # (B, T, H)
    mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1)


def embed_with(encoder, tokenizer, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """(calls, hidden): L2-normalised mean-pooled embedding of each 256-token window, averaged over a call's windows."""
    windows = encode_windows(tokenizer, texts, 256, 32)
    vectors = np.zeros((len(windows["input_ids"]), encoder.config.hidden_size), dtype=np.float32)
    encoder.eval()
    with torch.inference_mode():
        for ids, batch in padded_batches(tokenizer, windows, batch_size):
            vectors[ids] = torch.nn.functional.normalize(mean_pooled(encoder, batch), dim=1).numpy()
    return pool_windows(vectors, windows["call_index"], len(texts))


def embed_calls(texts: list[str], base: str = "minilm", batch_size: int = 32) -> np.ndarray:
    """`embed_with` the untouched encoder `base` ('minilm' or a local Hugging Face model folder)."""
    path = resolve_text_model(base)
    return embed_with(AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path), texts, batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="minilm", help="'minilm' or a local Hugging Face model folder")
    args = parser.parse_args()
    table = callsort.read_calls(DATA, "Text", "Tag")
    started = time.perf_counter()
    features = embed_calls(table.texts, args.base)
    embed_seconds = time.perf_counter() - started
    y = np.array(table.labels)
    scores: dict[str, list[float]] = {}
    folds = StratifiedKFold(5, shuffle=True, random_state=42).split(features, y)
    for train_idx, test_idx in folds:
        tfidf = build_tfidf().fit([table.texts[i] for i in train_idx], y[train_idx])
        tfidf_probs = tfidf.predict_proba([table.texts[i] for i in test_idx])
        for C in (1, 10, 100):
            head = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(features[train_idx], y[train_idx])
            head_probs = head.predict_proba(features[test_idx])
            for w in (0, 0.3, 0.5, 0.7, 1):
                probs = w * tfidf_probs + (1 - w) * head_probs
                predicted = head.classes_[probs.argmax(1)]
                scores.setdefault(f"C={C} tfidf_weight={w}", []).append(f1_score(y[test_idx], predicted, average="macro"))
    report = {"base": args.base if args.base == "minilm" else Path(args.base).name, "embed_seconds": round(embed_seconds, 1),
              "macro_f1": {k: {"mean": round(float(np.mean(v)), 4), "std": round(float(np.std(v, ddof=1)), 4)}
                           for k, v in scores.items()}}
    RESULTS.mkdir(exist_ok=True)
    name = "frozen_embeddings.json" if args.base == "minilm" else f"frozen_embeddings_{report['base']}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
