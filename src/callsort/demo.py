"""The built-in demo: train on the shipped sample calls, evaluate, classify new calls and two recordings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .config import TrainConfig
from .data import CallTable, read_calls
from .models.evaluate import coverage_line, metric_line
from .models.train import train_and_save
from .output import write_rows
from .pipeline import classify_calls

SAMPLE_RECORDINGS = ("sample_call_booked.mp3", "sample_call_voicemail.mp3")


def sample_path(name: str) -> Path:
    """Path of a shipped sample file: sample_calls.csv, sample_test.csv, sample_new_calls.csv, sample_call_*.mp3."""
    return Path(str(resources.files("callsort") / "samples" / name))


def run_demo(out_dir: str | Path = "callsort-demo", config: TrainConfig | None = None, progress: bool = True) -> dict:
    """Fine-tune the encoder blended with tf-idf (the seed's recipe, so that it is seen working) on the shipped
    sample, evaluate it on held-out sample calls, classify new ones and the shipped recordings."""
    out_dir = Path(out_dir)
    # the sample is tiny (64 short calls): more passes over it, same recipe otherwise
    config = config or TrainConfig(model="blend", epochs=10, patience=3)
    train_table = read_calls(sample_path("sample_calls.csv"), reason_column="reason")
    test_table = read_calls(sample_path("sample_test.csv"), reason_column="reason")
    result = train_and_save(train_table, out_dir / "model", config, test=test_table, progress=progress)
    new_calls = read_calls(sample_path("sample_new_calls.csv"), label_column=None)
    rows = list(classify_calls(new_calls, result.model))
    write_rows(rows, out_dir / "predictions.csv")
    # the audio step: synthesised stereo calls (agent left, caller right) through Whisper tiny.en, then the model
    paths = [str(sample_path(name)) for name in SAMPLE_RECORDINGS]
    recordings = CallTable([""] * len(paths), paths, audio=paths)
    audio_rows = list(classify_calls(recordings, result.model, progress=progress))
    write_rows(audio_rows, out_dir / "recordings.csv")
    return {
        "model_dir": str(out_dir / "model"),
        "report_dir": str(out_dir / "model" / "report"),
        "predictions": str(out_dir / "predictions.csv"),
        "test_metrics": result.model.info.training["test_metrics"],
        "test_confidence": result.model.info.training["test_metrics"]["confidence"],
        "test_reasons": result.model.info.training["test_metrics"].get("reasons"),
        "train_seconds": round(result.seconds, 1),
        "rows": [{**row.to_dict(), "text": text} for row, text in zip(rows, new_calls.texts, strict=False)],
        "recordings": str(out_dir / "recordings.csv"),
        "audio_rows": [row.to_dict() for row in audio_rows],
    }


def print_summary(summary: dict) -> None:
    """The demo's summary for people: the new calls, the recordings and their transcripts, the figures."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="callsort demo: new calls classified", show_lines=True)
    for column in ("call", "label", "confidence", "review?", "why not booked"):
        table.add_column(column)
    for row in summary["rows"]:
        snippet = row["text"][:90] + ("…" if len(row["text"]) > 90 else "")
        table.add_row(snippet, row["label"], f"{row['confidence']:.2f}", "yes" if row["needs_review"] else "",
                      row["reason"])
    console.print(table)
    for row in summary["audio_rows"]:
        console.print(f"\n[bold]{Path(row['source']).name}[/bold] ({row['duration_s']:.0f} s, Whisper "
                      f"{row['asr_model']}) → [bold]{row['label']}[/bold] ({row['confidence']:.2f})")
        console.print(row["transcript"], highlight=False)
    console.print()
    console.print(f"held-out sample calls: {metric_line(summary['test_metrics'])}")
    console.print(coverage_line(summary["test_confidence"]))
    if summary.get("test_reasons"):
        r = summary["test_reasons"]
        console.print(f"lost-lead reasons: accuracy {r['accuracy']:.3f} on {r['n']} not-booked calls "
                      f"(always '{r['majority']}': {r['majority_accuracy']:.3f})")
    console.print(f"model:  {summary['model_dir']}  (trained in {summary['train_seconds']:.0f} s)")
    console.print(f"report: {summary['report_dir']}")
    console.print(f"predictions: {summary['predictions']}, {summary['recordings']}")
