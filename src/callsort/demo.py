"""The built-in demo: train on the shipped sample calls, evaluate, classify new calls."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .config import TrainConfig
from .data import read_calls
from .predict import predict_calls, write_predictions
from .train import train_and_save


def sample_path(name: str) -> Path:
    """Path of a shipped sample file: sample_calls.csv, sample_test.csv or sample_new_calls.csv."""
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
    write_predictions(rows, out_dir / "predictions.csv")
    for row, text in zip(rows, new_calls.texts):
        row["text"] = text
    return {
        "model_dir": str(out_dir / "model"),
        "report_dir": str(out_dir / "model" / "report"),
        "predictions": str(out_dir / "predictions.csv"),
        "test_metrics": result.model.info["test_metrics"],
        "train_seconds": round(result.seconds, 1),
        "rows": rows,
    }
