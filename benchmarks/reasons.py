"""Lost-lead reasons on the real calls: the reason model (reasons.py) against always answering the commonest
reason, 5-fold CV over all 726 calls and the fixed test part of accuracy.py.

Scored, as `callsort evaluate` does, on the calls whose true tag carries reasons (the "Not Booked" ones) and
whose reason is known; folded and unseen reasons count as "Other". Nothing is chosen on these folds (the
recipe is fixed: tf-idf + logistic regression, reasons under 5 calls folded). Writes results/reasons.{json,md}.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split  # noqa: E402
from common import CORES, TRANSCRIPTS, stratified_folds, write_results  # noqa: E402

from callsort.data import read_calls  # noqa: E402
from callsort.models.evaluate import classification_metrics  # noqa: E402
from callsort.models.reasons import ReasonModel  # noqa: E402


def score(fit, held) -> dict:
    """Reason model fitted on `fit`, scored on `held` (both CallTables with reasons)."""
    model = ReasonModel.fit(fit.texts, fit.labels, fit.reasons)
    rows = [i for i, (label, reason) in enumerate(zip(held.labels, held.reasons, strict=False))
            if label in model.for_labels and reason]
    truth = [model.target(held.reasons[i]) for i in rows]
    predicted, _ = model.predict([held.texts[i] for i in rows])
    majority = max(model.counts, key=model.counts.get)
    ours = classification_metrics(truth, predicted, model.reasons)
    base = classification_metrics(truth, [majority] * len(truth), model.reasons)
    return {"n": len(rows), "macro_f1": ours["macro_f1"], "accuracy": ours["accuracy"], "majority": majority,
            "majority_macro_f1": base["macro_f1"], "majority_accuracy": base["accuracy"],
            "per_reason_f1": {r: round(v["f1"], 3) for r, v in ours["per_class"].items()}}


def main() -> None:
    table = read_calls(TRANSCRIPTS, text_column="Text", label_column="Tag", reason_column="Reason")
    started = time.perf_counter()
    folds = [score(table.subset(fit), table.subset(held)) for fit, held in stratified_folds(table.labels, 5)]
    tune_idx, test_idx = split(table)
    test = score(table.subset(tune_idx), table.subset(test_idx))
    summary = {k: {"mean": round(float(np.mean([f[k] for f in folds])), 4),
                   "sd": round(float(np.std([f[k] for f in folds], ddof=1)), 4)}
               for k in ("macro_f1", "accuracy", "majority_macro_f1", "majority_accuracy")}
    result = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "calls": len(table),
              "with_reason": sum(1 for r in table.reasons if r), "cv": summary, "folds": folds, "test_part": test,
              "seconds": round(time.perf_counter() - started, 1)}
    cv = summary
    lines = [f"# Lost-lead reasons on the real calls ({result['date']}, {CORES} cores)", "",
             f"{result['with_reason']} of {len(table)} calls carry a reason. Scored on the not-booked calls with a "
             f"known reason; {result['seconds']:.0f} s in all.", "",
             "| | reason model macro-F1 | accuracy | always the commonest reason: macro-F1 | accuracy |",
             "|---|---|---|---|---|",
             f"| 5-fold CV (all 726 calls; ~{int(np.mean([f['n'] for f in folds]))} scored per fold) | "
             f"{cv['macro_f1']['mean']:.3f} ± {cv['macro_f1']['sd']:.3f} | {cv['accuracy']['mean']:.3f} ± "
             f"{cv['accuracy']['sd']:.3f} | {cv['majority_macro_f1']['mean']:.3f} | {cv['majority_accuracy']['mean']:.3f} |",
             f"| fixed test part ({test['n']} scored) | {test['macro_f1']:.3f} | {test['accuracy']:.3f} | "
             f"{test['majority_macro_f1']:.3f} | {test['majority_accuracy']:.3f} |", "",
             f"Commonest reason: {test['majority']}. F1 per reason on the test part: "
             + ", ".join(f"{r} {v:.2f}" for r, v in test["per_reason_f1"].items())]
    write_results("reasons", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
