"""Uploaded transcripts under --redact: redacted on arrival, so that their original text is never written."""

from __future__ import annotations

from pathlib import Path

from ..data import TABLE_FORMATS, read_table_frame
from ..errors import InputError
from .redact import Redactor, redact_fragment

FRAGMENT_WORDS = 6  # a cell of at most this many words is a name, a number, a place: no sentence around it


def is_transcript(name: str) -> bool:
    """Whether an upload's name says it holds text (a .txt transcript or a table of them), not a recording."""
    return Path(name).suffix.lower() in {".txt", *TABLE_FORMATS}


def redacted_upload(name: str, data: bytes, redactor: Redactor) -> bytes:
    """An uploaded transcript as it may be saved under --redact: a .txt's text, or every text cell of a table,
    with personal data replaced. InputError naming the file for text that is not UTF-8 or a table that cannot
    be read (then nothing is saved)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".txt":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not valid utf-8 text (byte {exc.start})") from None
        return redactor.redact(text)[0].encode()
    frame = read_table_frame(Path(name), data=data)
    frame = frame.map(lambda cell: _redacted_cell(cell, redactor) if isinstance(cell, str) and cell.strip() else cell)
    return table_bytes(frame, suffix)


def _redacted_cell(cell: str, redactor: Redactor) -> str:
    """A transcript is redacted as text; a short cell ("Marguerite Quillfeather", a caller's column) as a fragment."""
    return redactor.redact(cell)[0] if len(cell.split()) > FRAGMENT_WORDS else redact_fragment(cell, redactor)


def table_bytes(frame, suffix: str) -> bytes:
    """A DataFrame written in the table format of `suffix` (one of TABLE_FORMATS), as bytes."""
    import io

    fmt = TABLE_FORMATS[suffix.lower()]
    if fmt == "parquet":
        out = io.BytesIO()
        frame.to_parquet(out, index=False)
        return out.getvalue()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode()
    return frame.to_csv(index=False, sep="," if fmt == "csv" else "\t").encode()
