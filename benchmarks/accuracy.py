"""Accuracy and confidence on the real calls under an honest protocol: a fixed test part no choice ever sees.

The 726 labelled calls are split once (stratified, 20 %, seed 20261129; the test part's row numbers are
committed in benchmarks/test_part.json). The other 80 % are the tuning calls. Every component model is
  - cross-validated inside the tuning calls (stratified 5-fold): its out-of-fold probabilities;
  - trained on all tuning calls (the same 12 % validation split `callsort train` holds out) and run once on
    the test part.
Blends, combiners and calibration are then chosen on the out-of-fold (or validation) probabilities only and
scored on the test part: the CV figure and the test figure side by side, every run.

    .venv/bin/python benchmarks/accuracy.py run tfidf encoder      # fit components (probabilities to runs/)
    .venv/bin/python benchmarks/accuracy.py report                 # choose and score; results/accuracy.md

Writes benchmarks/results/accuracy.json and accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import CORES, ROOT, real_calls, stratified_folds, write_results

import callsort
from callsort.models.calibrate import apply_calibrator, confidence_report, fit_calibrator, threshold_for
from callsort.models.evaluate import classification_metrics

TEST_PART = ROOT / "benchmarks" / "test_part.json"
PROBS = ROOT / "runs" / "accuracy"  # per-call probabilities: derived from third-party data, never committed
TEST_SEED, TEST_SHARE, FOLDS = 20261129, 0.2, 5

COMPONENTS = {  # name -> TrainConfig settings
    "tfidf": {"model": "tfidf"},
    "tfidf_char3": {"model": "tfidf", "tfidf_min_char": 3},
    "encoder": {"model": "encoder"},  # the 2026-11-28 default's encoder: 128-token windows, early stopping
    "encoder_stop_loss": {"model": "encoder", "stop_on": "loss"},  # the seed's stopping rule
    "encoder_ht256": {"model": "encoder", "view": "head_tail", "max_length": 256, "stop_on": "none", "bf16": True},
    "encoder_ht256_e12": {"model": "encoder", "view": "head_tail", "max_length": 256, "stop_on": "none",
                          "epochs": 12, "bf16": True},
    "encoder_seed7": {"model": "encoder", "seed": 7},  # the default encoder with other seeds: averaged with
    "encoder_seed1234": {"model": "encoder", "seed": 1234},  # seed 42 (`encoder`) in the report
}


def split(table):
    """(tuning rows, test rows): the test part read from test_part.json, or drawn once and written there."""
    rows = [int(s.rsplit(":", 1)[1]) for s in table.sources]  # 1-based row numbers in transcripts.csv
    if not TEST_PART.is_file():
        from sklearn.model_selection import train_test_split

        _, test_idx = train_test_split(np.arange(len(table)), test_size=TEST_SHARE, stratify=table.labels,
                                       random_state=TEST_SEED)
        TEST_PART.write_text(json.dumps({"what": "1-based row numbers of transcripts.csv: the fixed test part",
                                         "seed": TEST_SEED, "share": TEST_SHARE,
                                         "rows": sorted(rows[i] for i in test_idx)}) + "\n")
    chosen = set(json.loads(TEST_PART.read_text())["rows"])
    return [i for i, r in enumerate(rows) if r not in chosen], [i for i, r in enumerate(rows) if r in chosen]


def fit_component(name: str, table, folds: int = FOLDS) -> None:
    """Out-of-fold probabilities on the tuning calls; validation and test probabilities of the final model."""
    from callsort.models.train import split_stratified

    config = callsort.TrainConfig(**COMPONENTS[name])
    tune_idx, test_idx = split(table)
    tune, test = table.subset(tune_idx), table.subset(test_idx)
    labels = sorted(set(table.labels))
    oof, fold_seconds = np.zeros((len(tune), len(labels))), []
    splits = stratified_folds(tune.labels, folds, config.seed) if folds > 1 else []  # --folds 0: test figure only
    for n, (train_idx, held_idx) in enumerate(splits, start=1):
        result = callsort.train(tune.subset(train_idx), config, progress=False)
        oof[held_idx] = result.model.predict_proba(tune.subset(held_idx).texts)
        fold_seconds.append(result.seconds)
        print(f"  {name} fold {n}: {result.seconds:.0f} s", flush=True)
    fit_part, val = split_stratified(tune, config.val_fraction, config.seed)  # as `callsort train` does
    started = time.perf_counter()
    final = callsort.train(fit_part, config, val=val, progress=False)
    seconds = time.perf_counter() - started
    started = time.process_time()
    test_probs = final.model.predict_proba(test.texts)
    cpu_per_call = (time.process_time() - started) / len(test)
    PROBS.mkdir(parents=True, exist_ok=True)
    np.savez(PROBS / f"{name}{'' if splits else '.test-only'}.npz", oof=oof, val=final.model.predict_proba(val.texts),
             test=test_probs,
             meta=json.dumps({"settings": config.to_dict(), "labels": labels, "fold_seconds": fold_seconds,
                              "folds": folds,
                              "final_seconds": seconds, "cpu_s_per_test_call": cpu_per_call,
                              "date": time.strftime("%Y-%m-%d"), "cores": CORES}))


def macro_f1(truth, probs, labels) -> float:
    return classification_metrics(truth, [labels[i] for i in probs.argmax(axis=1)], labels)["macro_f1"]


def scored(truth, probs, labels) -> dict:
    m = classification_metrics(truth, [labels[i] for i in probs.argmax(axis=1)], labels)
    return {"macro_f1": round(m["macro_f1"], 4), "accuracy": round(m["accuracy"], 4)}


def fold_mean(truth, probs, labels, folds) -> dict:
    """Mean ± sd over the CV folds of macro-F1 from out-of-fold probabilities."""
    values = [macro_f1([truth[i] for i in held], probs[held], labels) for _, held in folds]
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values, ddof=1)), 4)}


def load_components(table) -> dict:
    tune_idx, test_idx = split(table)
    out = {}
    for name in COMPONENTS:
        if (PROBS / f"{name}.npz").is_file():
            data = np.load(PROBS / f"{name}.npz")
            out[name] = {"oof": data["oof"], "val": data["val"], "test": data["test"],
                         **json.loads(str(data["meta"]))}
    return out


def combiner_probs(parts: list[dict], folds, tune_truth, labels) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on the log-probabilities of the parts: out-of-fold on the tuning calls (nested in
    the same folds), and on the test part (fitted on all out-of-fold rows)."""
    from sklearn.linear_model import LogisticRegression

    def features(key):
        return np.hstack([np.log(np.clip(p[key], 1e-6, 1)) for p in parts])

    x, y = features("oof"), np.asarray(tune_truth)
    oof = np.zeros((len(y), len(labels)))
    for train_idx, held_idx in folds:
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(x[train_idx], y[train_idx])
        oof[held_idx] = lr.predict_proba(x[held_idx])[:, [list(lr.classes_).index(c) for c in labels]]
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(x, y)
    return oof, lr.predict_proba(features("test"))[:, [list(lr.classes_).index(c) for c in labels]]


def candidates(comps: dict, tune_truth, labels, folds) -> dict:
    """Every component alone, every tf-idf x encoder blend (weight chosen on out-of-fold macro-F1), and the
    learned combiner of each pair: {name: {"oof", "val", "test", "how"}}."""
    out = {name: {k: c[k] for k in ("oof", "val", "test")} | {"how": "alone"} for name, c in comps.items()}
    tfidfs = [n for n in comps if n.startswith("tfidf")]
    for enc in (n for n in comps if n.startswith("encoder")):
        for tf in tfidfs:
            a, b = comps[tf], comps[enc]
            best = max((0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
                       key=lambda w: macro_f1(tune_truth, w * a["oof"] + (1 - w) * b["oof"], labels))
            out[f"{tf}+{enc} (w={best})"] = {k: best * a[k] + (1 - best) * b[k] for k in ("oof", "val", "test")} | {
                "how": f"tf-idf weight {best}, chosen on out-of-fold macro-F1"}
            oof, test = combiner_probs([a, b], folds, tune_truth, labels)
            out[f"{tf}+{enc} (LR)"] = {"oof": oof, "val": None, "test": test, "how": "logistic regression on "
                                       "out-of-fold log-probabilities"}
    return out


def confidence(chosen: dict, tune_truth, val_truth, test_truth, labels) -> dict:
    """Calibration (none / temperature / isotonic, fitted on out-of-fold or validation probabilities), the
    review threshold for 90 % accuracy chosen on the same probabilities, and what both do on the test part."""
    out = {}
    for source, probs, truth in (("oof", chosen["oof"], tune_truth), ("val", chosen["val"], val_truth)):
        if probs is None:
            continue
        for method in ("none", "temperature", "isotonic"):
            calibrator = fit_calibrator(probs, truth, labels, method)
            fitted = apply_calibrator(calibrator, probs, labels)
            correct = fitted.argmax(axis=1) == np.array([labels.index(t) for t in truth])
            threshold = threshold_for(fitted.max(axis=1), correct, 0.90)
            test = apply_calibrator(calibrator, chosen["test"], labels)
            test_correct = test.argmax(axis=1) == np.array([labels.index(t) for t in test_truth])
            out[f"{method} on {source}"] = confidence_report(test.max(axis=1), test_correct, threshold)
    return out


def test_only(table, comps: dict, labels, test_truth) -> dict:
    """Components fitted with --folds 0: their test figure alone and blended with tf-idf at weights fixed in
    advance (0.5, as issue 12 specifies, and the shipped 0.7). No choice is made on them."""
    rows, runs = {}, [(p.name.split(".")[0], np.load(p)) for p in sorted(PROBS.glob("*.test-only.npz"))]
    seeds = [data["test"] for name, data in runs if name.startswith("encoder_seed")]
    if seeds and "encoder" in comps:  # fine-tuning seeds averaged: the default encoder (seed 42) and the others
        averaged = np.mean([comps["encoder"]["test"], *seeds], axis=0)
        runs.append((f"encoder ({len(seeds) + 1} seeds averaged)", {"test": averaged, "meta": json.dumps(
            {"settings": comps["encoder"]["settings"], "seeds": 1 + len(seeds)})}))
    for name, data in runs:
        variants = {name: data["test"]}
        if "tfidf" in comps:
            for w in (0.5, 0.7):
                variants[f"tfidf+{name} (w={w}, fixed)"] = w * comps["tfidf"]["test"] + (1 - w) * data["test"]
        for label, probs in variants.items():
            rows[label] = {"cv_macro_f1": None, "test": scored(test_truth, probs, labels),
                           "how": "test part only (no CV run yet)", "meta": json.loads(str(data["meta"]))}
    return rows


def report(table) -> dict:
    tune_idx, test_idx = split(table)
    labels = sorted(set(table.labels))
    tune_truth, test_truth = [table.labels[i] for i in tune_idx], [table.labels[i] for i in test_idx]
    from callsort.models.train import split_stratified

    _, val = split_stratified(table.subset(tune_idx), 0.12, 42)
    folds = stratified_folds(tune_truth, FOLDS, 42)
    comps = load_components(table)
    cands = candidates(comps, tune_truth, labels, folds)
    rows = {name: {"cv_macro_f1": fold_mean(tune_truth, c["oof"], labels, folds),
                   "test": scored(test_truth, c["test"], labels), "how": c["how"]} for name, c in cands.items()}
    best = max(rows, key=lambda n: rows[n]["cv_macro_f1"]["mean"])
    rows.update(test_only(table, comps, labels, test_truth))
    wrong_everywhere = [i for i in range(len(test_idx))
                        if all(labels[int(c["test"][i].argmax())] != test_truth[i] for c in cands.values())]
    out = {"calls": len(table), "tuning": len(tune_idx), "test": len(test_idx), "folds": FOLDS,
           "date": time.strftime("%Y-%m-%d"), "cores": CORES, "candidates": rows, "best_by_cv": best,
           "components": {n: {k: c[k] for k in ("settings", "fold_seconds", "final_seconds", "cpu_s_per_test_call",
                                                "date")} for n, c in comps.items()},
           "confidence": {n: confidence(cands[n], tune_truth, val.labels, test_truth, labels)
                          for n in dict.fromkeys([best, *(n for n in cands if "(w=" in n)])},
           "wrong_in_every_candidate": {"calls": len(wrong_everywhere), "by_true_label": dict(sorted(
               __import__("collections").Counter(test_truth[i] for i in wrong_everywhere).items()))}}
    return out


def markdown(r: dict) -> list[str]:
    lines = [f"# Accuracy on the real calls: {r['folds']}-fold CV inside {r['tuning']} tuning calls, and a fixed test "
             f"part of {r['test']} calls ({r['date']}, {r['cores']} cores)", "",
             "Every choice (blend weight, combiner, calibration, threshold) is made on out-of-fold or validation "
             "probabilities of the tuning calls; the test part is scored once. A blend's CV figure is read at "
             "the weight chosen on the same out-of-fold probabilities (slightly optimistic); its test figure is not.",
             "", "| candidate | CV macro-F1 (mean ± sd) | test macro-F1 | test accuracy |", "|---|---|---|---|"]
    for name, c in sorted(r["candidates"].items(), key=lambda kv: -(kv[1]["cv_macro_f1"] or {"mean": -1})["mean"]):
        mark = "**" if name == r["best_by_cv"] else ""
        cv = f"{c['cv_macro_f1']['mean']:.3f} ± {c['cv_macro_f1']['std']:.3f}" if c["cv_macro_f1"] else "not run"
        lines.append(f"| {mark}{name}{mark} | {cv} | {c['test']['macro_f1']:.3f} | {c['test']['accuracy']:.3f} |")
    lines += ["", "| component | median s per CV fold (465 calls) | s on all tuning calls (511 + 70 val) | "
                  "CPU s per test call |", "|---|---:|---:|---:|"]
    for name, c in r["components"].items():
        lines.append(f"| {name} | {np.median(c['fold_seconds']):.0f} | {c['final_seconds']:.0f} | "
                     f"{c['cpu_s_per_test_call']:.3f} |")
    for name, conf in r["confidence"].items():
        lines += ["", f"Confidence of {name} on the test part (threshold chosen for 90 % accuracy on the "
                      "calibration probabilities):", "",
                  "| calibration | coverage at 90 % | coverage at 95 % | ECE | auto-labelled share | their accuracy |",
                  "|---|---:|---:|---:|---:|---:|"]
        for method, m in conf.items():
            acc = f"{m['auto_accuracy']:.3f}" if m["auto_accuracy"] is not None else "-"
            lines.append(f"| {method} | {m['coverage_at_90']:.3f} | {m['coverage_at_95']:.3f} | {m['ece']:.3f} | "
                         f"{m['auto_share']:.3f} | {acc} |")
    w = r["wrong_in_every_candidate"]
    lines += ["", f"Test calls that every candidate gets wrong: {w['calls']} of {r['test']}, by true label: "
              + ", ".join(f"{k} {v}" for k, v in w["by_true_label"].items())]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("run", "report"))
    parser.add_argument("components", nargs="*", help=f"with run: of {', '.join(COMPONENTS)}")
    parser.add_argument("--folds", type=int, default=FOLDS, help="CV folds for the out-of-fold probabilities "
                        "(blends and combiners are always chosen and scored on the same 5 folds)")
    args = parser.parse_args()
    table = real_calls()
    for name in args.components:
        print(f"{name}: {COMPONENTS[name]}", flush=True)
        fit_component(name, table, args.folds)
    if args.step == "report":
        result = report(table)
        write_results("accuracy", result, markdown(result))
        print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
