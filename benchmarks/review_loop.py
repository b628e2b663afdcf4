"""How many corrections buy how much: the review loop simulated on the real calls.

Start from a few labelled calls; in rounds, classify the unlabelled calls, let a "reviewer" correct N of them
(their true tags, as `callsort train --corrections` would add them), retrain, and score macro-F1 on the fixed
test part of accuracy.py (no round ever sees it). Two ways to pick the N: the least confident first (what the
review queue shows) and at random. Several starting sets, averaged. The tf-idf kind: it fits in seconds and
the encoder adds no measurable accuracy on this protocol (results/accuracy.md).

    python benchmarks/review_loop.py [--start 120] [--per-round 30] [--rounds 10] [--repeats 3]

Writes results/review_loop.{json,md,png}.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split  # noqa: E402
from common import CORES, RESULTS, real_calls, write_results  # noqa: E402

import callsort  # noqa: E402
from callsort.models.evaluate import classification_metrics  # noqa: E402


def one_loop(table, tune_idx, test, start: int, per_round: int, rounds: int, pick: str, seed: int) -> list[dict]:
    """Macro-F1 on the test part after 0, N, 2N … corrections, picking the calls to correct by `pick`."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    tune_labels = [table.labels[i] for i in tune_idx]
    labelled, pool = train_test_split(np.asarray(tune_idx), train_size=start, stratify=tune_labels, random_state=seed)
    labelled, pool = list(labelled), list(pool)
    config = callsort.TrainConfig(model="tfidf", seed=seed)
    curve = []
    for round_no in range(rounds + 1):
        model = callsort.train(table.subset(labelled), config, progress=False).model
        predicted = [p.label for p in model.predict(test.texts)]
        metrics = classification_metrics(test.labels, predicted, sorted(set(table.labels)))
        curve.append({"corrections": round_no * per_round, "macro_f1": round(metrics["macro_f1"], 4),
                      "accuracy": round(metrics["accuracy"], 4)})
        if round_no == rounds or not pool:
            break
        if pick == "least_confident":
            confidence = model.calibrated_proba([table.texts[i] for i in pool]).max(axis=1)
            chosen = set(np.argsort(confidence, kind="stable")[:per_round].tolist())
        else:
            chosen = set(rng.choice(len(pool), size=min(per_round, len(pool)), replace=False).tolist())
        labelled += [pool[i] for i in sorted(chosen)]
        pool = [c for i, c in enumerate(pool) if i not in chosen]
    return curve


def summarise(curves: list[list[dict]]) -> list[dict]:
    out = []
    for step in zip(*curves, strict=False):
        values = np.array([s["macro_f1"] for s in step])
        out.append({"corrections": step[0]["corrections"], "macro_f1_mean": round(float(values.mean()), 4),
                    "macro_f1_sd": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4)})
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for pick, colour in (("least_confident", "#2a6"), ("random", "#888")):
        rows = result["curves"][pick]
        x = [r["corrections"] for r in rows]
        mean, sd = np.array([r["macro_f1_mean"] for r in rows]), np.array([r["macro_f1_sd"] for r in rows])
        ax.plot(x, mean, "o-", color=colour,
                label="correct the least confident calls" if pick != "random" else "correct calls at random")
        ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.15)
    ax.set_xlabel(f"corrections made (starting from {result['start']} labelled calls)")
    ax.set_ylabel(f"macro-F1 on the {result['test_calls']} test calls")
    ax.set_title("The review loop on the real calls (tf-idf, mean ± sd of "
                 f"{result['repeats']} starting sets)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result: dict) -> list[str]:
    lines = [f"# The review loop on the real calls ({result['date']}, {result['cores']} cores)", "",
             f"Start: {result['start']} labelled tuning calls (stratified); each round corrects {result['per_round']} "
             f"calls of the unlabelled tuning calls and retrains the tf-idf kind; macro-F1 on the fixed "
             f"{result['test_calls']}-call test part; mean ± sd over {result['repeats']} starting sets. "
             f"{result['seconds']:.0f} s in all.", "",
             "| corrections | least confident first | random |", "|---:|---|---|"]
    for a, b in zip(result["curves"]["least_confident"], result["curves"]["random"], strict=False):
        lines.append(f"| {a['corrections']} | {a['macro_f1_mean']:.3f} ± {a['macro_f1_sd']:.3f} | "
                     f"{b['macro_f1_mean']:.3f} ± {b['macro_f1_sd']:.3f} |")
    lines += ["", "![macro-F1 against corrections](review_loop.png)"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=120, help="labelled calls to start from")
    parser.add_argument("--per-round", type=int, default=30, help="corrections per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="starting sets (seeds) averaged")
    args = parser.parse_args()
    table = real_calls()
    tune_idx, test_idx = split(table)
    test = table.subset(test_idx)
    started = time.perf_counter()
    curves = {pick: [one_loop(table, tune_idx, test, args.start, args.per_round, args.rounds, pick, seed)
                     for seed in range(1, args.repeats + 1)] for pick in ("least_confident", "random")}
    result = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "start": args.start, "per_round": args.per_round,
              "rounds": args.rounds, "repeats": args.repeats, "test_calls": len(test),
              "seconds": round(time.perf_counter() - started, 1),
              "curves": {pick: summarise(c) for pick, c in curves.items()}, "runs": curves}
    plot(result, RESULTS / "review_loop.png")
    write_results("review_loop", result, markdown(result))
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
