"""Reading labelled or unlabelled call transcripts from tables and folders."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

log = logging.getLogger(__name__)

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass
class CallTable:
    """Transcripts with where each came from and, when known, its label."""

    texts: list[str]
    sources: list[str]
    labels: list[str] | None = None
    skipped: int = 0  # rows dropped because their text was empty

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index) -> CallTable:
        labels = [self.labels[i] for i in index] if self.labels is not None else None
        return CallTable([self.texts[i] for i in index], [self.sources[i] for i in index], labels)

    def fingerprint(self) -> str:
        """A short hash of the texts and labels, stored with a model to say what it was trained on."""
        digest = hashlib.sha256()
        for i, text in enumerate(self.texts):
            digest.update(text.encode())
            digest.update(b"\0" + (self.labels[i] if self.labels else "").encode() + b"\1")
        return digest.hexdigest()[:16]


def normalise_label(label: object) -> str:
    """Collapse runs of whitespace and trim: 'New Customer -  Lead' and 'New Customer - Lead ' are one label."""
    return re.sub(r"\s+", " ", str(label)).strip()


def read_calls(
    path: str | Path,
    text_column: str = "text",
    label_column: str | None = "label",
    encoding: str = "utf-8",
    drop_empty: bool = True,
) -> CallTable:
    """Read transcripts from CSV, TSV, JSONL, Parquet, or a folder of .txt files.

    With `label_column=None` labels are not read. Empty texts are dropped (and counted) when `drop_empty`,
    otherwise kept as empty strings so that prediction can report them row by row.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        texts, sources, labels = _read_txt_folder(path, encoding, label_column is not None)
    else:
        texts, sources, labels = _read_table(path, text_column, label_column, encoding)
    table = CallTable(texts, sources, labels)
    if drop_empty:
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if len(keep) < len(texts):
            skipped = len(texts) - len(keep)
            table = table.subset(keep)
            table.skipped = skipped
            log.warning("%s: skipped %d row(s) with an empty text", path, skipped)
    if len(table) == 0:
        raise InputError(f"{path}: no transcripts with text")
    return table


def _read_table(path: Path, text_column: str, label_column: str | None, encoding: str):
    import pandas as pd

    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(TABLE_FORMATS))
        raise InputError(f"{path}: unknown format {path.suffix or '(no extension)'!r}; use {known} or a folder of .txt")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "jsonl":
            frame = pd.read_json(path, lines=True, encoding=encoding, dtype=False)
        else:
            frame = pd.read_csv(path, sep="," if fmt == "csv" else "\t", encoding=encoding, dtype=str,
                                keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid {encoding} text (byte {exc.start}); pass --encoding, e.g. --encoding latin-1") from None
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {fmt}: {first}") from None
    if frame.empty:
        raise InputError(f"{path}: no rows")
    text_col = _find_column(frame, text_column, path, "text")
    texts = [_as_text(v) for v in frame[text_col]]
    sources = [f"{path}:{i + 1}" for i in range(len(frame))]
    labels = None
    if label_column is not None:
        label_col = _find_column(frame, label_column, path, "label")
        labels = [normalise_label(_as_text(v)) for v in frame[label_col]]
    return texts, sources, labels


def _find_column(frame, name: str, path: Path, role: str) -> str:
    by_lower = {str(c).lower(): c for c in frame.columns}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    have = ", ".join(map(str, frame.columns))
    raise InputError(f"{path}: no {role} column {name!r}; columns are: {have} (use --{role}-column)")


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN from parquet/jsonl
        return ""
    return str(value)


def _read_txt_folder(folder: Path, encoding: str, want_labels: bool):
    """Each .txt file is one call; with labels wanted, the file's parent folder name is its label."""
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise InputError(f"{folder}: folder holds no .txt files")
    texts, sources, labels = [], [], []
    for file in files:
        try:
            texts.append(file.read_text(encoding=encoding))
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: not valid {encoding} text (byte {exc.start}); pass --encoding") from None
        sources.append(str(file))
        labels.append(normalise_label(file.parent.name))
    if want_labels and all(f.parent == folder for f in files):
        raise InputError(f"{folder}: .txt files need one sub-folder per label (e.g. {folder}/Missed Call/call1.txt)")
    return texts, sources, labels if want_labels else None


def check_trainable(table: CallTable, where: str, min_per_class: int = 2) -> None:
    """Raise unless the labels can train a classifier: two classes or more, each with enough examples."""
    counts = Counter(table.labels or [])
    if len(counts) < 2:
        only = next(iter(counts), "none")
        raise InputError(f"{where}: the label column has a single class ({only!r}); a classifier needs at least two")
    small = {label: n for label, n in counts.items() if n < min_per_class}
    if small:
        listed = ", ".join(f"{label!r} ({n})" for label, n in sorted(small.items()))
        raise InputError(f"{where}: fewer than {min_per_class} examples in class {listed}")


def known_labels_only(table: CallTable, labels: list[str], where: str) -> CallTable:
    """Drop (with a warning) calls whose label the model was not trained on."""
    unknown = Counter(label for label in table.labels if label not in labels)
    if unknown:
        log.warning("%s: ignoring %d call(s) whose label was not in the training data: %s",
                    where, sum(unknown.values()), ", ".join(sorted(unknown)))
        table = table.subset([i for i, label in enumerate(table.labels) if label in labels])
    if len(table) == 0:
        raise InputError(f"{where}: no calls with a label seen in training")
    return table
