"""The commands train and evaluate."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ..config import AsrConfig, EvidenceConfig, TrainConfig
from ..errors import CallsortError
from ..models.evaluate import coverage_line, metric_line
from .app import (
    AudioColumn,
    CustomersComplete,
    CustomersTable,
    Encoding,
    LabelColumn,
    MetaTable,
    ModelDir,
    ReasonColumn,
    TextColumn,
    app,
    emit,
    setup,
)
from .options import Output, settings_options


@app.command()
@settings_options(config=TrainConfig, asr=AsrConfig, output=Output)
def train(
    data: Annotated[Path, typer.Argument(
        help="Labelled calls: CSV, TSV, JSONL, Parquet, or a folder of .txt or recordings (one sub-folder per label).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (or the CV report folder).")],
    config: TrainConfig, asr: AsrConfig, output: Output,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    val: Annotated[Path | None, typer.Option(help="Validation calls for early stopping.")] = None,
    test: Annotated[Path | None, typer.Option(help="Test calls: scored after training, report in OUT/report.")] = None,
    cv: Annotated[int, typer.Option(help="Run stratified K-fold cross-validation instead (K >= 2).")] = 0,
    corrections: Annotated[str | None, typer.Option(
        help="Results store whose reviewed calls join the training data (a corrected label wins).")] = None,
    reason_column: ReasonColumn = None,
    audio_column: AudioColumn = None,
    encoding: Encoding = "utf-8",
    label_issues: Annotated[Path | None, typer.Option(
        "--label-issues", help="Also write the training calls the other calls contradict (.csv/.jsonl), most "
                               "suspicious first: upload it to the service as a batch to check them.")] = None,
) -> None:
    """Train a classifier on labelled transcripts or recordings (or cross-validate with --cv)."""
    from ..jobs.corrections import add_corrections
    from ..models.train import train_and_save
    from ..pipeline import load_calls

    progress = setup(output)

    def load(path):
        return load_calls(path, text_column, label_column, encoding, audio_column, asr, progress, reason_column)

    table, used = load(data), None
    if corrections:
        table, used = add_corrections(table, corrections)
        logging.getLogger("callsort").info("corrections from %s: %d used (%d relabelled a call of the data, "
                                           "%d added)", corrections, used["used"], used["relabelled"], used["added"])
    if cv:
        return _cross_validate(table, cv, out, config, output, progress)
    if label_issues:
        _write_label_issues(table, label_issues, config, progress)
    result = train_and_save(table, out, config, load(val) if val else None, load(test) if test else None, progress,
                            corrections=used)
    training = result.model.info.training
    summary = {"model_dir": str(out), "labels": result.model.labels, "train_seconds": round(result.seconds, 1),
               "val_metrics": training["val_metrics"], "test_metrics": training.get("test_metrics"),
               "review_below": result.model.review_below, "calibration": result.model.info.calibration,
               "calibrated_on": result.model.info.calibrated_on, "val_metrics_on": training["val_metrics_on"],
               "expected_coverage": result.model.info.expected_coverage, "skipped_empty": table.skipped,
               "corrections": used}
    lines = [f"trained {config.model} model on {training['data']['train_calls']} calls in {result.seconds:.0f} s → {out}",
             f"scored on {training['val_metrics_on']}: {metric_line(training['val_metrics'])}",
             f"review:     calls under confidence {result.model.review_below:.2f} need review "
             f"({result.model.info.calibration} calibration); {result.model.info.expected_coverage:.0%} of the "
             f"{result.model.info.calibrated_on} were above it, for ≥ {result.model.info.auto_accuracy:.0%} accuracy"]
    if training.get("test_metrics"):
        lines += [f"test:       {metric_line(training['test_metrics'])}", f"report:     {out / 'report'}"]
    emit(summary, output, lines)


def _cross_validate(table, cv: int, out: Path, config: TrainConfig, output: Output, progress: bool) -> None:
    from ..models.train import cross_validate

    if cv < 2:
        raise CallsortError("--cv needs K >= 2")
    summary = cross_validate(table, cv, out, config, progress)
    lines = [f"{cv}-fold cross-validation on {len(table)} calls ({config.model}):"]
    lines += [f"  {m:16s} {summary[m]['mean']:.3f} ± {summary[m]['std']:.3f}"
              for m in ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")]
    emit(summary, output, lines + [f"report: {out}/cv_metrics.json"])


def _write_label_issues(table, path: Path, config: TrainConfig, progress: bool) -> None:
    from ..models.label_issues import label_issues
    from ..output import check_output_path, write_rows

    check_output_path(path)
    suspects = label_issues(table, config, progress)
    write_rows(suspects, path)
    logging.getLogger("callsort").info("%d of %d training calls contradicted by the others -> %s",
                                       len(suspects), len(table), path)


@app.command()
@settings_options(asr=AsrConfig, output=Output)
def evaluate(
    data: Annotated[Path, typer.Argument(help="Labelled calls to score the model on.")],
    model: ModelDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder to write.")],
    asr: AsrConfig, output: Output,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    reason_column: ReasonColumn = None,
    audio_column: AudioColumn = None,
    encoding: Encoding = "utf-8",
    customers: CustomersTable = None,
    customers_complete: CustomersComplete = False,
    meta: MetaTable = None,
) -> None:
    """Score a trained model on labelled calls or recordings and write a report (metrics, plots, errors)."""
    from ..evidence import EvidenceSources
    from ..models.classifier import load_model, read_model_info
    from ..models.evaluate import evaluate as run_evaluate
    from ..pipeline import load_calls

    progress = setup(output)
    read_model_info(model)  # a bad --model fails before any recognition
    table = load_calls(data, text_column, label_column, encoding, audio_column, asr, progress, reason_column, model)
    # the evidence predict applies (under --redact the list is matched on the redacted text and the caller number)
    sources = EvidenceSources.build(EvidenceConfig(meta, None, customers, customers_complete), model_dir=model)
    evidence = [sources.of(source, text) for source, text in zip(table.sources, table.texts, strict=True)]
    metrics = run_evaluate(load_model(model), table, out, progress=progress, evidence=evidence)
    lines = [metric_line(metrics), coverage_line(metrics["confidence"])]
    lines.append("questions: " + ", ".join(f"{name} right on {q['accuracy']:.0%} of {q['n']}"
                                           for name, q in metrics["questions"].items()))
    if metrics.get("reasons"):
        r = metrics["reasons"]
        lines.append(f"reasons: macro-F1 {r['macro_f1']:.3f}, accuracy {r['accuracy']:.3f} on {r['n']} not-booked "
                     f"calls (always '{r['majority']}': accuracy {r['majority_accuracy']:.3f})")
    emit(metrics, output, lines + [f"report: {out}"])
