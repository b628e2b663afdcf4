"""The built-in demo: train on the shipped sample calls, evaluate, classify new calls and two recordings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .config import TrainConfig
from .data import CallTable, read_calls
from .predict import predict_calls, write_rows
from .train import train_and_save
from .transcribe import AsrConfig, Transcriber, transcribe_table

SAMPLE_RECORDINGS = ("sample_call_booked.mp3", "sample_call_voicemail.mp3")


def sample_path(name: str) -> Path:
    """Path of a shipped sample file: sample_calls.csv, sample_test.csv, sample_new_calls.csv, sample_call_*.mp3."""
    return Path(str(resources.files("callsort") / "samples" / name))


def run_demo(out_dir: str | Path = "callsort-demo", config: TrainConfig | None = None, progress: bool = True) -> dict:
    """Train the default model on the shipped sample, evaluate it on held-out sample calls, classify new ones."""
    out_dir = Path(out_dir)
    # the sample is tiny (64 short calls): more passes over it, same recipe otherwise
    config = config or TrainConfig(epochs=10, patience=3)
    train_table = read_calls(sample_path("sample_calls.csv"))
    test_table = read_calls(sample_path("sample_test.csv"))
    result = train_and_save(train_table, out_dir / "model", config, test=test_table, progress=progress)
    new_calls = read_calls(sample_path("sample_new_calls.csv"), label_column=None)
    rows = predict_calls(result.model, new_calls)
    write_rows(rows, out_dir / "predictions.csv")
    for row, text in zip(rows, new_calls.texts):
        row["text"] = text
    # the audio step: synthesised stereo calls (agent left, caller right) through Whisper tiny.en, then the model
    paths = [str(sample_path(name)) for name in SAMPLE_RECORDINGS]
    recordings = CallTable([""] * len(paths), paths, audio=paths)
    recordings = transcribe_table(recordings, Transcriber(AsrConfig()), progress=progress)
    audio_rows = predict_calls(result.model, recordings)
    write_rows(audio_rows, out_dir / "recordings.csv")
    return {
        "model_dir": str(out_dir / "model"),
        "report_dir": str(out_dir / "model" / "report"),
        "predictions": str(out_dir / "predictions.csv"),
        "test_metrics": result.model.info["test_metrics"],
        "train_seconds": round(result.seconds, 1),
        "rows": rows,
        "recordings": str(out_dir / "recordings.csv"),
        "audio_rows": audio_rows,
    }
