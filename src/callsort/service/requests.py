"""Reading requests: JSON bodies (a clean 4xx for anything else), uploaded file names, and the calls of a
request (texts, or uploaded recordings, .txt transcripts and tables saved to temporary files)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from fastapi import HTTPException

from ..data import TABLE_FORMATS, CallTable, read_calls
from ..errors import InputError
from ..speech.audio import is_audio

UPLOAD_CHUNK = 1 << 20
MAX_NAME_BYTES = 200  # file systems take 255; the batch folder may add a suffix


async def read_json(request, what: str) -> object:
    """The request's JSON body; 415 unless sent as application/json, 422 for an empty, truncated or
    undecodable body (never a 500)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, f"send JSON with content-type: application/json ({what})")
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(422, f"the body is not UTF-8 text ({what})") from None
    except ValueError:
        raise HTTPException(422, f"the body is not valid JSON ({what})") from None


def upload_name(filename: str | None) -> str:
    """An upload's file name (never a path); InputError for a name no file system should get."""
    name = Path((filename or "upload").replace("\\", "/")).name or "upload"
    if "\0" in name or any(ord(c) < 32 for c in name):
        raise InputError(f"{name!r}: a file name with control characters")
    if name.startswith("."):
        raise InputError(f"{name}: a hidden file name (starting with a dot); rename the file")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InputError(f"{name[:40]}…: a file name over {MAX_NAME_BYTES} bytes")
    return name


async def read_calls_from(request, shown_name=lambda name: name) -> tuple[CallTable, list[str]]:
    """The calls of a request: texts from a JSON body, or uploads saved to temporary files (returned too,
    for the caller to delete) from a multipart body. Uploads are named by their file name (as `shown_name`
    gives it: redacted under --redact), never a path."""
    from fastapi.concurrency import run_in_threadpool

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
        if not files:
            raise HTTPException(422, "the multipart body holds no file (send it as file=@call.mp3)")
        names = [shown_name(upload_name(upload.filename)) for upload in files]  # all checked first
        tables, paths = [], []
        for upload, name in zip(files, names, strict=False):
            handle, path = tempfile.mkstemp(suffix=Path(name).suffix, prefix="callsort-")
            paths.append(path)
            with os.fdopen(handle, "wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out, UPLOAD_CHUNK)
            tables.append(_uploaded_calls(name, Path(path)))
        calls = tables[0]
        for more in tables[1:]:
            calls = _joined(calls, more)
        return calls, paths
    body = await read_json(request, 'send {"text": "..."} or a file')
    texts = body.get("texts", [body.get("text")]) if isinstance(body, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise HTTPException(422, "send {\"text\": \"...\"} or {\"texts\": [\"...\", ...]} with non-empty text")
    return CallTable(texts, [f"text:{i + 1}" for i in range(len(texts))]), []


def _uploaded_calls(name: str, path: Path) -> CallTable:
    """The calls of one uploaded file (a recording, a .txt transcript or a transcript table), named by the
    upload's file name, never the server's temporary path."""
    if is_audio(path) or path.suffix.lower() not in {".txt", *TABLE_FORMATS}:
        return CallTable([""], [name], audio=[str(path)])  # not audio either: its row says why it failed
    try:
        calls = read_calls(path, label_column=None, drop_empty=False)
    except InputError as exc:
        raise InputError(str(exc).replace(str(path), name)) from None
    return CallTable(calls.texts, [s.replace(str(path), name) for s in calls.sources])


def _joined(first: CallTable, second: CallTable) -> CallTable:
    audio = (first.audio or [None] * len(first)) + (second.audio or [None] * len(second))
    return CallTable(first.texts + second.texts, first.sources + second.sources, audio=audio if any(audio) else None)
