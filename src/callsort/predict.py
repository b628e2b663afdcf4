"""Batch prediction over a table of transcripts, written as CSV or JSONL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .data import CallTable
from .errors import InputError

OUTPUT_FORMATS = (".csv", ".jsonl")
COLUMNS = ["source", "label", "confidence", "probabilities", "needs_review", "error"]


def predict_calls(model, table: CallTable, review_below: float | None = None, progress: bool = False) -> list[dict]:
    """One row per input call; a call that cannot be classified gets an `error` instead of a label."""
    threshold = model.review_below if review_below is None else review_below
    ok = [i for i, text in enumerate(table.texts) if text.strip()]
    predictions = dict(zip(ok, model.predict([table.texts[i] for i in ok], progress=progress)))
    rows = []
    for i, source in enumerate(table.sources):
        p = predictions.get(i)
        if p is None:
            rows.append({"source": source, "label": "", "confidence": None, "probabilities": {},
                         "needs_review": True, "error": "empty transcript"})
            continue
        rows.append({"source": source, "label": p.label, "confidence": round(p.confidence, 4),
                     "probabilities": {k: round(v, 4) for k, v in p.probabilities.items()},
                     "needs_review": p.confidence < threshold, "error": ""})
    return rows


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(f"{path}: unknown output format; use {' or '.join(OUTPUT_FORMATS)}")
    return path


def write_predictions(rows: list[dict], path: str | Path) -> Path:
    """Write prediction rows to .csv (probabilities as a JSON string) or .jsonl."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        if path.suffix.lower() == ".jsonl":
            for row in rows:
                f.write(json.dumps(row) + "\n")
        else:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "probabilities": json.dumps(row["probabilities"]),
                                 "confidence": "" if row["confidence"] is None else row["confidence"],
                                 "needs_review": str(row["needs_review"]).lower()})
    return path
