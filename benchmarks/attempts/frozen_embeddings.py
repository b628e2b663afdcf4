"""Frozen: runs at commit b72b614; re-run by checking that commit out (attempts/README.md).

Attempt #26 (finished): the frozen MiniLM on the fixed test part.

Mean-pooled sentence embeddings of 256-token windows, averaged per call, + logistic regression; 5-fold CV
inside the tuning calls and one fit for the test part, as accuracy.py does, then blended with accuracy.py's
stored tf-idf probabilities. Run `accuracy.py run tfidf tfidf_char3` first. Figures: results/attempts.md.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accuracy import PROBS, confidence, fold_mean, scored, split  # noqa: E402
from common import real_calls, stratified_folds  # noqa: E402


def embed(texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from callsort.models.windows import encode_windows, padded_batches
    from callsort.registry import resolve_text_model

    base = resolve_text_model("minilm")
    tokenizer, network = AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(base).eval()
    windows = encode_windows(tokenizer, texts, 256, 32, "windows")
    vectors = np.zeros((len(windows["input_ids"]), network.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for ids, batch in padded_batches(tokenizer, windows, 32):
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (network(**batch).last_hidden_state * mask).sum(1) / mask.sum(1)
            vectors[ids] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    calls, index = np.zeros((len(texts), vectors.shape[1])), np.asarray(windows["call_index"])
    np.add.at(calls, index, vectors)
    return calls / np.bincount(index)[:, None]


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    table = real_calls()
    tune_idx, test_idx = split(table)
    labels, y = sorted(set(table.labels)), np.array(table.labels)
    started = time.perf_counter()
    x = embed(table.texts)
    print(f"embedded {len(table)} calls in {time.perf_counter() - started:.0f} s")
    tune_truth, test_truth = list(y[tune_idx]), list(y[test_idx])
    folds = stratified_folds(tune_truth, 5, 42)
    for c in (4, 16):
        def fitted(rows):  # called within this iteration: the loop's c is the one meant
            return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x[tune_idx][rows], y[tune_idx][rows])  # noqa: B023
        oof = np.zeros((len(tune_idx), len(labels)))
        for fit_rows, held in folds:
            oof[held] = fitted(fit_rows).predict_proba(x[tune_idx][held])
        test = fitted(np.arange(len(tune_idx))).predict_proba(x[test_idx])
        print(f"frozen C={c}: CV {fold_mean(tune_truth, oof, labels, folds)}, test {scored(test_truth, test, labels)}")
        for name in ("tfidf", "tfidf_char3"):
            tfidf = np.load(PROBS / f"{name}.npz")
            for w in (0.5, 0.6, 0.7, 0.8):
                print(f"  {name} + frozen at {w}: CV {fold_mean(tune_truth, w * tfidf['oof'] + (1 - w) * oof, labels, folds)}"
                      f", test {scored(test_truth, w * tfidf['test'] + (1 - w) * test, labels)}")
            blend = {"oof": 0.6 * tfidf["oof"] + 0.4 * oof, "val": None, "test": 0.6 * tfidf["test"] + 0.4 * test}
            for method, m in confidence(blend, tune_truth, None, test_truth, labels).items():
                print(f"    confidence at 0.6, {method}: {m}")


if __name__ == "__main__":
    main()
