"""Reading labelled or unlabelled calls (transcripts, or recordings to transcribe) from tables and folders."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .speech.audio import AUDIO_EXTENSIONS, is_audio

log = logging.getLogger(__name__)

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass
class CallTable:
    """Transcripts with where each came from and, when known, its label.

    Rows read from recordings carry the recording's path in `audio` and an empty text until
    `pipeline.transcribe_calls` fills it in, together with per-row `details` (transcript, duration, errors).
    """

    texts: list[str]
    sources: list[str]
    labels: list[str] | None = None
    skipped: int = 0  # rows dropped because their text was empty
    audio: list[str | None] | None = None  # recording per row, when the calls are audio
    details: list[dict] | None = None  # per row: transcript, duration_s, asr_model, error
    reasons: list[str] | None = None  # why a lead was not booked, when the data says ('' = unknown)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def has_audio(self) -> bool:
        """Whether any row is a recording (then the run needs speech recognition)."""
        return bool(self.audio and any(self.audio))

    def is_recording(self, i: int) -> bool:
        return bool(self.audio and self.audio[i])

    def subset(self, index) -> CallTable:
        def pick(values):
            return [values[i] for i in index] if values is not None else None

        return CallTable(pick(self.texts), pick(self.sources), pick(self.labels), 0, pick(self.audio),
                         pick(self.details), pick(self.reasons))

    def concat(self, other: CallTable) -> CallTable:
        """This table's rows followed by `other`'s (texts, sources and labels)."""
        labels = self.labels + other.labels if self.labels is not None and other.labels is not None else None
        reasons = self.reasons + other.reasons if self.reasons is not None and other.reasons is not None else None
        return CallTable(self.texts + other.texts, self.sources + other.sources, labels, reasons=reasons)

    def errors(self) -> list[str]:
        """Per row: why it could not be used (from transcription), or ''."""
        return [d.get("error", "") for d in self.details] if self.details else [""] * len(self)

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


def normalise_reason(value: object) -> str:
    """Like a label, with typographic apostrophes made plain ("Couldn’t" = "Couldn't"); blank stays ''."""
    text = normalise_label(re.sub(r"[\u2018\u2019\u02bc`\u00b4]", "'", "" if value is None else str(value)))
    return "" if text.lower() in ("nan", "none") else text


def read_calls(
    path: str | Path,
    text_column: str = "text",
    label_column: str | None = "label",
    encoding: str = "utf-8",
    drop_empty: bool = True,
    audio_column: str | None = None,
    reason_column: str | None = None,
    inside_only: bool = False,
) -> CallTable:
    """Read calls from CSV, TSV, JSONL, Parquet, .txt files, recordings, or a folder of them.

    With `label_column=None` labels are not read; in folders, labels are sub-folder names. A table's
    `audio_column` names recordings (relative to the table's folder) whose transcripts replace the text.
    Empty texts are dropped (and counted) when `drop_empty`, otherwise kept as empty strings so that
    prediction can report them row by row; rows with a recording are kept for transcription. With
    `inside_only` a folder's files whose real path is outside it (symlinks out) are skipped (the service's batches).
    """
    path = Path(path)
    want_labels = label_column is not None
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    audio = reasons = None
    if reason_column is not None and (path.is_dir() or is_audio(path)):
        raise InputError(f"{path}: a reason column needs a table (CSV, TSV, JSONL or Parquet)")
    if path.is_dir():
        texts, sources, labels, audio = _read_folder(path, text_column, encoding, want_labels, inside_only)
    elif path.suffix.lower() == ".txt" and not want_labels:
        texts, sources, labels = [_read_text_file(path, encoding)], [str(path)], None
    elif is_audio(path):
        if want_labels:
            raise InputError(f"{path}: a single recording carries no label; use a table with --audio-column "
                             "or a folder with one sub-folder per label")
        texts, sources, labels, audio = [""], [str(path)], None, [str(path)]
    else:
        texts, sources, labels, audio, reasons = _read_table(path, text_column, label_column, encoding, audio_column,
                                                             reason_column)
    table = CallTable(texts, sources, labels, audio=audio, reasons=reasons)
    if drop_empty:
        keep = [i for i, t in enumerate(texts) if t.strip() or (audio and audio[i])]
        if len(keep) < len(texts):
            skipped = len(texts) - len(keep)
            table = table.subset(keep)
            table.skipped = skipped
            log.warning("%s: skipped %d row(s) with an empty text", path, skipped)
    if len(table) == 0:
        raise InputError(f"{path}: no transcripts with text")
    return table


def usable_calls(table: CallTable, where: str) -> CallTable:
    """Drop (with a warning) rows that failed transcription or have no words: they cannot train or score."""
    errors = table.errors()
    keep = [i for i, text in enumerate(table.texts) if text.strip() and not errors[i]]
    if len(keep) < len(table):
        for error in filter(None, errors):
            log.warning("%s", error)
        log.warning("%s: left out %d call(s) without a usable transcript", where, len(table) - len(keep))
        table = table.subset(keep)
    if len(table) == 0:
        raise InputError(f"{where}: no call has a usable transcript")
    return table


def read_table_frame(path: Path, encoding: str = "utf-8", data: bytes | None = None):
    """A CSV, TSV, JSONL or Parquet file (or its bytes, `data`, named by `path`) as a pandas DataFrame of text;
    a clear InputError otherwise."""
    import io

    import pandas as pd

    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(TABLE_FORMATS))
        raise InputError(f"{path}: unknown format {path.suffix or '(no extension)'!r}; use {known}, a recording "
                         "or a folder of .txt or audio files")
    if (len(data) if data is not None else path.stat().st_size) == 0:
        raise InputError(f"{path}: file is empty")
    source = path if data is None else io.BytesIO(data)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(source)
        elif fmt == "jsonl":
            frame = pd.read_json(source, lines=True, encoding=encoding, dtype=False)
        else:
            frame = pd.read_csv(source, sep="," if fmt == "csv" else "\t", encoding=encoding, dtype=str,
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
    return frame


def _read_table(path: Path, text_column: str, label_column: str | None, encoding: str, audio_column: str | None,
                reason_column: str | None = None, frame=None):
    frame = read_table_frame(path, encoding) if frame is None else frame
    audio = None
    if audio_column is not None:
        audio_col = _find_column(frame, audio_column, path, "audio")
        audio = [str(path.parent / _as_text(v)) if _as_text(v).strip() else None for v in frame[audio_col]]
        sources = [a or f"{path}:{i + 1}" for i, a in enumerate(audio)]
        has_text = text_column.lower() in {str(c).lower() for c in frame.columns}
        texts = [_as_text(v) for v in frame[_find_column(frame, text_column, path, "text")]] if has_text else [""] * len(frame)
    else:
        texts = [_as_text(v) for v in frame[_find_column(frame, text_column, path, "text")]]
        sources = [f"{path}:{i + 1}" for i in range(len(frame))]
    labels = None
    if label_column is not None:
        label_col = _find_column(frame, label_column, path, "label")
        labels = [normalise_label(_as_text(v)) for v in frame[label_col]]
    reasons = None
    if reason_column is not None:
        reasons = [normalise_reason(_as_text(v)) for v in frame[_find_column(frame, reason_column, path, "reason")]]
    return texts, sources, labels, audio, reasons


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


def _folder_labels(folder: Path, files: list[Path], want_labels: bool) -> list[str] | None:
    """In a labelled folder each file's parent folder name is its label."""
    if not want_labels:
        return None
    if all(f.parent == folder for f in files):
        raise InputError(f"{folder}: files need one sub-folder per label (e.g. {folder}/Missed Call/{files[0].name})")
    return [normalise_label(f.parent.name) for f in files]


def _read_folder(folder: Path, text_column: str, encoding: str, want_labels: bool, inside_only: bool = False):
    """Every recording and .txt file of a folder (walked recursively) is one call, and without labels every
    table's rows are calls too; with labels wanted, a file's parent folder name is its label."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if inside_only:
        root = folder.resolve()
        outside = [p for p in files if not p.resolve().is_relative_to(root)]
        if outside:
            log.warning("%s: %d file(s) lead out of the folder (symlinks), not read", folder, len(outside))
        files = [p for p in files if p not in outside]
    tables = [] if want_labels else [p for p in files if p.suffix.lower() in TABLE_FORMATS]
    calls = [p for p in files if is_audio(p) or p.suffix.lower() == ".txt" or p in tables]
    if not calls:
        kinds = ".txt, audio" if want_labels else ".txt, table or audio"
        raise InputError(f"{folder}: folder holds no {kinds} files ({', '.join(sorted(AUDIO_EXTENSIONS))})")
    texts, sources, audio = [], [], []
    for file in calls:
        if file in tables:
            frame = read_table_frame(file, encoding)
            if text_column.lower() not in {str(c).lower() for c in frame.columns}:  # e.g. labels.csv by recordings
                log.warning("%s: no %r column, not read as calls", file, text_column)
                continue
            rows, names, _, recordings, _ = _read_table(file, text_column, None, encoding, None, None, frame)
            texts, sources, audio = texts + rows, sources + names, audio + (recordings or [None] * len(rows))
        else:
            texts.append("" if is_audio(file) else _read_text_file(file, encoding))
            sources.append(str(file))
            audio.append(str(file) if is_audio(file) else None)
    if not texts:
        raise InputError(f"{folder}: no table in the folder has a {text_column!r} column (use --text-column)")
    labels = _folder_labels(folder, calls, want_labels)
    return texts, sources, labels, audio if any(audio) else None



def _read_text_file(file: Path, encoding: str) -> str:
    try:
        return file.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not valid {encoding} text (byte {exc.start}); pass --encoding") from None


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
