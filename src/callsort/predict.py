"""Batch prediction over calls (transcripts or transcribed recordings), written as CSV or JSONL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .data import CallTable
from .errors import InputError

OUTPUT_FORMATS = (".csv", ".jsonl")
COLUMNS = ["source", "label", "confidence", "probabilities", "needs_review", "error"]
AUDIO_COLUMNS = ["transcript", "duration_s", "asr_model"]  # added when the calls were recordings


def predict_calls(model, table: CallTable, review_below: float | None = None, progress: bool = False) -> list[dict]:
    """One row per input call; a call that cannot be classified gets an `error` instead of a label.

    A recording in which no words were recognised (silence, a hang-up) is still classified, from its empty
    transcript, and always flagged for review; an empty row of a transcript table is an error.
    """
    threshold = model.review_below if review_below is None else review_below
    errors = table.errors()
    from_audio = [bool(table.audio and table.audio[i]) for i in range(len(table))]
    ok = [i for i, text in enumerate(table.texts) if not errors[i] and (text.strip() or from_audio[i])]
    predictions = dict(zip(ok, model.predict([table.texts[i] for i in ok], progress=progress)))
    rows = []
    for i, source in enumerate(table.sources):
        p = predictions.get(i)
        if p is None:
            row = {"source": source, "label": "", "confidence": None, "probabilities": {},
                   "needs_review": True, "error": errors[i] or "empty transcript"}
        else:
            row = {"source": source, **prediction_fields(p, threshold, table.texts[i]), "error": ""}
        if table.details is not None:
            row.update({k: table.details[i].get(k) for k in AUDIO_COLUMNS})
        rows.append(row)
    return rows


def prediction_fields(p, review_below: float, text: str) -> dict:
    """label, confidence, probabilities and needs_review of one prediction; a call with no words is always
    flagged for review."""
    return {"label": p.label, "confidence": round(p.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in p.probabilities.items()},
            "needs_review": p.confidence < review_below or not text.strip()}


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(f"{path}: unknown output format; use {' or '.join(OUTPUT_FORMATS)}")
    return path


def write_rows(rows: list[dict], path: str | Path) -> Path:
    """Write dict rows to .csv (nested values as JSON strings, booleans as true/false) or .jsonl."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="", encoding="utf-8") as f:
        if path.suffix.lower() == ".jsonl":
            for row in rows:
                f.write(json.dumps(row) + "\n")
        else:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return path


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value
