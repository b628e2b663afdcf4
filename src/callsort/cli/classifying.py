"""The commands predict, jobs, transcribe."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ..config import AsrConfig, EvidenceConfig, JobConfig
from ..errors import CallsortError
from .app import (
    EXIT_PARTIAL,
    AudioColumn,
    CustomersComplete,
    CustomersTable,
    Encoding,
    MetaPattern,
    MetaTable,
    ModelDir,
    TextColumn,
    TopicsFile,
    app,
    emit,
    setup,
)
from .options import Output, settings_options


@app.command()
@settings_options(jobs=JobConfig, asr=AsrConfig, output=Output)
def predict(
    data: Annotated[Path, typer.Argument(
        help="Calls to classify: CSV, TSV, JSONL, Parquet, a recording, or a folder of .txt or recordings.")],
    model: ModelDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file: .csv or .jsonl.")],
    jobs: JobConfig, asr: AsrConfig, output: Output,
    text_column: TextColumn = "text",
    review_below: Annotated[float | None, typer.Option(
        help="Flag predictions under this confidence (default: chosen on validation data at training).")] = None,
    store: Annotated[str | None, typer.Option(
        help="Results store (SQLite file or SQLAlchemy URL): makes the batch resumable after a crash.")] = None,
    meta: MetaTable = None,
    meta_pattern: MetaPattern = None,
    customers: CustomersTable = None,
    customers_complete: CustomersComplete = False,
    audio_column: AudioColumn = None,
    encoding: Encoding = "utf-8",
    topics: TopicsFile = None,
) -> None:
    """Classify calls; one output row per input with label, confidence, probabilities and needs_review
    (and, with --topics, the topics each call mentions)."""
    from ..data import read_calls
    from ..evidence.metadata import attach_meta
    from ..models.classifier import read_model_info
    from ..needs import RunNeeds
    from ..output import check_output_path, write_rows
    from ..pipeline import classify_calls

    progress = setup(output)
    check_output_path(out)
    read_model_info(model)
    if jobs.engine != "local" and not store:
        raise CallsortError("--engine ray needs --store: the workers' results land in the results store")
    calls = read_calls(data, text_column, None, encoding, drop_empty=False, audio_column=audio_column)
    needs = RunNeeds.for_calls(calls, asr, model)  # under --redact: the words the model learned to keep
    evidence = EvidenceConfig(meta, meta_pattern, customers, customers_complete,
                              str(topics.resolve()) if topics else None)  # absolute: Ray workers read it too
    needs.with_evidence(evidence, model)  # answered? on file? which topics?
    if store:
        from ..jobs.queue import WorkQueue
        from ..jobs.run import run_stored

        work = WorkQueue(store)
        rows = run_stored(calls, model, work, needs, jobs, review_below, progress)
        work.close()
        for row in rows if needs.evidence.topics is not None else []:  # calls done by an earlier run, too
            row.topics = needs.evidence.topics.of(row.transcript)
    else:
        rows = list(classify_calls(calls, model, needs, review_below, progress))
    rows = [needs.names.shown_row(row) for row in attach_meta(rows, meta, meta_pattern)]  # joined on the real names first
    write_rows(rows, out)
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
    emit(summary, output, lines)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@settings_options(output=Output)
def jobs(
    store: Annotated[str, typer.Argument(help="Results store: SQLite file or SQLAlchemy URL.")],
    output: Output,
) -> None:
    """Show the progress and failures of the batches in a results store."""
    from ..jobs.queue import WorkQueue, job_summary
    from ..jobs.store import open_database

    setup(Output(quiet=True, json=output.json))
    summary = job_summary(WorkQueue(open_database(store, must_exist=True)))
    lines = []
    for job in summary:
        done = job["done"] / job["total"] if job["total"] else 0
        lines.append(f"job {job['job']}: {job['done']}/{job['total']} done ({done:.0%}), {job['failed']} failed, "
                     f"{job['running']} running, {job['pending']} pending")
        lines += [f"  failed ×{f['attempts']}: {f['error'] or f['source']}" for f in job["failures"]]
    emit({"jobs": summary}, output, lines or [f"{store}: no jobs yet"])


@app.command()
@settings_options(asr=AsrConfig, output=Output)
def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Recordings and folders of recordings (walked recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Transcripts file: .jsonl (with segments) or .csv.")],
    asr: AsrConfig, output: Output,
) -> None:
    """Transcribe recordings to a table (source, transcript, text, duration_s, asr_model, channels, error)."""
    from ..needs import RunNeeds
    from ..output import check_output_path, write_rows
    from ..speech.audio import find_recordings

    progress = setup(output)
    check_output_path(out)
    jsonl = out.suffix.lower() == ".jsonl"
    rows = []
    for t in RunNeeds.build(asr).transcriber.transcripts(find_recordings(inputs), progress):
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
    emit(summary, output, lines + [f"  {r['error']}" for r in failed])
    if failed:
        raise typer.Exit(EXIT_PARTIAL)
