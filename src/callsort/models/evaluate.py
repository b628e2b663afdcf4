"""Metrics (scikit-learn), plots (matplotlib) and the report folder."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np

from ..data import known_labels_only
from ..output import safe_cell

log = logging.getLogger(__name__)


def classification_metrics(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro/weighted F1, macro precision/recall, per-class scores and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    present = support > 0  # macro scores over the classes that occur in this data
    macro = lambda values: float(np.mean(values[present])) if present.any() else 0.0  # noqa: E731
    weighted_f1 = float(np.average(f1, weights=support)) if support.sum() else 0.0
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": macro(f1),
        "weighted_f1": weighted_f1,
        "macro_precision": macro(precision),
        "macro_recall": macro(recall),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=False)
        },
        "labels": list(labels),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def evaluate(model, table, out_dir: str | Path | None = None, progress: bool = False, evidence=None) -> dict:
    """Score a model on labelled calls; with `out_dir`, write the full report there. `evidence`: each call's
    evidence (evidence.Evidence, e.g. the customer list's verdict), applied as `predict` applies it, so the
    labels scored are the labels predict gives."""
    from .calibrate import confidence_report  # scikit-learn: imported when used

    table = known_labels_only(table, model.labels, "evaluation data")
    predictions = model.predict(table.texts, progress=progress)
    if evidence is not None:
        predictions = with_evidence(predictions, table, evidence)
    predicted = [p.label for p in predictions]
    metrics = classification_metrics(table.labels, predicted, model.labels)
    confidence = np.array([p.confidence for p in predictions])
    metrics["confidence"] = confidence_report(confidence, np.array(predicted) == np.array(table.labels),
                                              model.review_below)
    metrics["questions"] = question_metrics(table.labels, [p.probabilities for p in predictions])
    reasons = reason_metrics(model, table)
    if reasons:
        metrics["reasons"] = reasons
    if out_dir is not None:
        write_report(out_dir, metrics, table, predictions)
    return metrics


def with_evidence(predictions: list, table, evidence: list) -> list:
    """The predictions with each call's evidence applied as the pipeline applies it (a live agent on a split
    recording included)."""
    from ..evidence import apply_evidence
    from ..speech.agent import agent_name

    decided = []
    for i, p in enumerate(predictions):
        details = table.details[i] if table.details else {}
        turns = details.get("turns")
        heard = agent_name(table.texts[i], details.get("transcript")) if turns is not None else ""
        decided.append(apply_evidence(p, evidence[i], heard, turns).prediction)
    return decided


def question_metrics(truth: list[str], probabilities: list[dict]) -> dict:
    """The questions behind the labels scored apart (insights/rules.py): is it a lead (every call), was it
    booked and is the caller an existing customer (the calls truly leads): accuracy of the probability at 0.5,
    its Brier score, and how many calls."""
    from ..insights.rules import LeadRules

    rules = LeadRules()
    asked = [rules.questions(p) for p in probabilities]
    tests = {"p_lead": (rules.is_lead, lambda label: True), "p_booked": (rules.is_booked, rules.is_lead),
             "p_existing": (rules.is_existing, rules.is_lead)}
    scores = {}
    for name, (answer, applies) in tests.items():
        pairs = [(float(answer(t)), q[name]) for t, q in zip(truth, asked, strict=False) if applies(t) and q[name] is not None]
        if pairs:
            y, p = np.array(pairs).T
            scores[name.removeprefix("p_")] = {"accuracy": round(float(np.mean((p >= 0.5) == (y == 1))), 4),
                                               "brier": round(float(np.mean((p - y) ** 2)), 4), "n": len(pairs)}
    return scores


def reason_metrics(model, table) -> dict | None:
    """Lost-lead reasons scored on the calls whose true category carries one and whose true reason is known
    (whatever the predicted category), beside always answering the commonest training reason."""
    if model.reasons is None or table.reasons is None:
        return None
    rows = [i for i, (label, reason) in enumerate(zip(table.labels, table.reasons, strict=False))
            if label in model.reasons.for_labels and reason]
    if not rows:
        return None
    truth = [model.reasons.target(table.reasons[i]) for i in rows]
    predicted, _ = model.reasons.predict([table.texts[i] for i in rows])
    metrics = classification_metrics(truth, predicted, model.reasons.reasons)
    majority = max(model.reasons.counts, key=model.reasons.counts.get) if model.reasons.counts else truth[0]
    baseline = classification_metrics(truth, [majority] * len(truth), model.reasons.reasons)
    return {**metrics, "majority": majority, "majority_accuracy": baseline["accuracy"],
            "majority_macro_f1": baseline["macro_f1"]}


def write_report(out_dir: str | Path, metrics: dict, table, predictions) -> Path:
    """metrics.json, classification_report.txt, errors.csv, confusion_matrix.png, per_class_f1.png."""
    from sklearn.metrics import classification_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    predicted = [p.label for p in predictions]
    (out / "classification_report.txt").write_text(
        classification_report(table.labels, predicted, labels=metrics["labels"], digits=3, zero_division=0))
    with open(out / "errors.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "true_label", "predicted_label", "confidence", "text"])
        for source, text, truth, p in zip(table.sources, table.texts, table.labels, predictions, strict=False):
            if truth != p.label:  # sources and texts are what callers said: inert in a spreadsheet
                writer.writerow([safe_cell(str(v)) for v in (source, truth, p.label, f"{p.confidence:.4f}", text)])
    plot_confusion_matrix(metrics, out / "confusion_matrix.png")
    plot_per_class_f1(metrics, out / "per_class_f1.png")
    plot_reliability(np.array([p.confidence for p in predictions]), np.array(predicted) == np.array(table.labels),
                     metrics["confidence"], out / "reliability.png")
    if metrics.get("reasons"):
        plot_confusion_matrix(metrics["reasons"], out / "reason_confusion_matrix.png")
    return out


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short(label: str, width: int = 22) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def plot_confusion_matrix(metrics: dict, path: Path) -> None:
    """Two panels: raw counts and rows normalised to recall."""
    plt = _pyplot()

    counts = np.asarray(metrics["confusion_matrix"], dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    names = [_short(label) for label in metrics["labels"]]
    size = max(6.0, 0.7 * len(names) + 3)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    for ax, data, title, fmt in ((axes[0], counts, "Counts", "{:.0f}"), (axes[1], normalised, "Row-normalised (recall)", "{:.2f}")):
        ax.imshow(data, cmap="Blues", vmin=0)
        ax.set_title(title)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        peak = data.max() if data.max() > 0 else 1
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                ax.text(j, i, fmt.format(data[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if data[i, j] > 0.6 * peak else "black")
    fig.suptitle(f"accuracy {metrics['accuracy']:.3f} · macro-F1 {metrics['macro_f1']:.3f} · n={metrics['n']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_per_class_f1(metrics: dict, path: Path) -> None:
    plt = _pyplot()

    labels = metrics["labels"]
    f1 = [metrics["per_class"][label]["f1"] for label in labels]
    support = [metrics["per_class"][label]["support"] for label in labels]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.5))
    ax.barh(range(len(labels)), f1, color="tab:blue")
    ax.set_yticks(range(len(labels)), [f"{_short(label, 34)} (n={n})" for label, n in zip(labels, support, strict=False)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(metrics["macro_f1"], color="tab:red", linestyle="--", label=f"macro-F1 {metrics['macro_f1']:.3f}")
    for i, value in enumerate(f1):
        ax.text(min(value + 0.01, 0.93), i, f"{value:.2f}", va="center", fontsize=8)
    ax.set_xlabel("F1")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(confidence, correct, report: dict, path: Path) -> None:
    """Reliability diagram (scikit-learn's calibration_curve on the top label) and the accuracy of the calls
    let through at each share of coverage."""
    from sklearn.calibration import calibration_curve

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=10, strategy="uniform")
    left.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    left.plot(mean_confidence, accuracy, "o-", color="tab:blue", label=f"model (ECE {report['ece']:.3f})")
    left.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title="Reliability")
    left.legend(loc="upper left")
    order = np.argsort(-confidence, kind="stable")
    share = np.arange(1, len(order) + 1) / len(order)
    right.plot(share, np.cumsum(correct[order]) / np.arange(1, len(order) + 1), color="tab:blue")
    for target in (0.9, 0.95):
        right.axhline(target, color="grey", linestyle=":")
    right.axvline(report.get("auto_share") or 0, color="tab:red", linestyle="--",
                  label=f"let through by the model's threshold ({report.get('auto_share') or 0:.0%})")
    right.set(xlabel="share of calls labelled automatically (most confident first)",
              ylabel="accuracy of those calls", xlim=(0, 1), ylim=(0, 1.02),
              title=f"coverage at 90 %: {report['coverage_at_90']:.0%} · at 95 %: {report['coverage_at_95']:.0%}")
    right.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def metric_line(m: dict) -> str:
    """Accuracy and F1 of a metrics dict on one line."""
    count = f" · n={m['n']}" if "n" in m else ""
    return f"accuracy {m['accuracy']:.3f} · macro-F1 {m['macro_f1']:.3f} · weighted-F1 {m['weighted_f1']:.3f}{count}"


def coverage_line(c: dict) -> str:
    """What the confidence is worth: how many calls can be labelled without a person, and how right they are."""
    let_through = (f"; the model's threshold lets {c['auto_share']:.0%} through, {c['auto_accuracy']:.0%} right"
                   if c.get("auto_accuracy") is not None else "; the model's threshold lets none through")
    return (f"coverage: {c['coverage_at_90']:.0%} of calls can be auto-labelled at ≥ 90 % accuracy, "
            f"{c['coverage_at_95']:.0%} at ≥ 95 % (ECE {c['ece']:.3f}){let_through}")
