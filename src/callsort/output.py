"""Rows out: result rows (or any dicts) to .csv or .jsonl files, and CSV text for HTTP downloads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .errors import InputError

OUTPUT_FORMATS = (".csv", ".jsonl")


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(f"{path}: unknown output format; use {' or '.join(OUTPUT_FORMATS)}")
    return path


def write_rows(rows: list, path: str | Path) -> Path:
    """Write rows (ResultRow or dict) to .csv (nested values as JSON, booleans as true/false) or .jsonl."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [r.to_dict() if hasattr(r, "to_dict") else r for r in rows]
    with open(path, "w", newline="", encoding="utf-8") as f:
        if path.suffix.lower() == ".jsonl":
            for row in rows:
                f.write(json.dumps(row) + "\n")
        else:
            f.write(csv_text(rows))
    return path


def csv_text(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as CSV text: nested values as JSON, booleans as true/false, formula-like text made inert
    (safe_cell); columns in first-seen order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(dict.fromkeys(k for row in rows for k in row)))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v, k) for k, v in row.items()})
    return out.getvalue()


NAME_LISTS = ("topics",)  # columns of names a person reads in a spreadsheet: "price; warranty", not JSON
NAME_SEPARATOR = "; "


def _csv_cell(value, column: str = ""):
    if column in NAME_LISTS and isinstance(value, list):
        return safe_cell(NAME_SEPARATOR.join(map(str, value)))
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return safe_cell(value) if isinstance(value, str) else value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BLANKS = " \t\r\n\u00a0"  # spreadsheets skip these before a formula


def name_list(cell) -> list[str]:
    """A NAME_LISTS cell read back: "price; warranty" -> ["price", "warranty"] (a list stays a list)."""
    if isinstance(cell, list):
        return cell
    return [name.strip() for name in str(cell or "").split(NAME_SEPARATOR.strip()) if name.strip()]


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula (OWASP: prefix "'" to a cell starting
    with = + - @ tab or CR, or with blanks before = + - @). Every CSV callsort writes goes through here."""
    return "'" + text if _formula_like(text) else text


def unsafe_cell(text: str) -> str:
    """`safe_cell` undone, for reading callsort's own CSV back."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START) or text.lstrip(BLANKS).startswith(FORMULA_START[:4])
