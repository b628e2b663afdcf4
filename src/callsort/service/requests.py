"""Reading requests: JSON bodies (a clean 4xx for anything else), uploaded file names, and the calls of a
request (texts, or uploaded recordings, .txt transcripts and tables saved to temporary files)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from fastapi import HTTPException

from ..data import TABLE_FORMATS, CallTable, read_calls
from ..errors import InputError
from ..privacy.uploads import is_transcript, redacted_upload
from ..speech.audio import is_audio

UPLOAD_CHUNK = 1 << 20
MAX_NAME_BYTES = 200  # file systems take 255; the batch folder may add a suffix
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
SURROGATE = re.compile("[\ud800-\udfff]")  # half a UTF-16 pair: JSON allows it, UTF-8 cannot hold it
MAX_DEPTH = 32  # JSON nesting: callsort's bodies are two levels deep; Python's parser recurses (a 500 at ~1000)


async def read_json(request, what: str) -> object:
    """The request's JSON body; 415 unless sent as application/json, 422 for an empty, truncated or
    undecodable body (never a 500)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, f"send JSON with content-type: application/json ({what})")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, f"the body is not UTF-8 text ({what})") from None
    if _depth(text) > MAX_DEPTH:
        raise HTTPException(422, f"the body is nested more than {MAX_DEPTH} levels deep ({what})")
    try:
        return _clean(json.loads(text))
    except ValueError:
        raise HTTPException(422, f"the body is not valid JSON ({what})") from None


def _depth(text: str) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _clean(value: object) -> object:
    """JSON values with every lone surrogate ("\\ud800", which no UTF-8 store or answer can hold) replaced by
    U+FFFD, in strings and keys alike."""
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


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


async def read_calls_from(request, shown_name=lambda name: name, max_texts: int = 10_000,
                          max_text_chars: int = 100_000, redactor=None) -> tuple[CallTable, list[str]]:
    """The calls of a request: texts from a JSON body (at most `max_texts`, each at most `max_text_chars`
    long: 413 above), or uploads saved to temporary files (returned too, for the caller to delete; removed
    here when the request is refused) from a multipart body. Uploads are named by their file name (as
    `shown_name` gives it: redacted under --redact), never a path. With a `redactor` (--redact) an uploaded
    transcript is saved redacted: its original is never written."""
    from fastapi.concurrency import run_in_threadpool

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
        if not files:
            raise HTTPException(422, "the multipart body holds no file (send it as file=@call.mp3)")
        names = [shown_name(upload_name(upload.filename)) for upload in files]  # all checked first
        tables, paths = [], []
        try:
            for upload, name in zip(files, names, strict=True):
                handle, path = tempfile.mkstemp(suffix=Path(name).suffix, prefix="callsort-")
                paths.append(path)
                with os.fdopen(handle, "wb") as out:
                    if redactor is not None and is_transcript(name):
                        out.write(await run_in_threadpool(redacted_upload, name, await upload.read(), redactor))
                    else:
                        await run_in_threadpool(shutil.copyfileobj, upload.file, out, UPLOAD_CHUNK)
                tables.append(_uploaded_calls(name, Path(path)))
        except BaseException:  # a refused upload (e.g. a .txt that is not UTF-8) leaves no file behind
            for path in paths:
                Path(path).unlink(missing_ok=True)
            raise
        calls = tables[0]
        for more in tables[1:]:
            calls = _joined(calls, more)
        return calls, paths
    body = await read_json(request, 'send {"text": "..."} or a file')
    texts = body.get("texts", [body.get("text")]) if isinstance(body, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise HTTPException(422, "send {\"text\": \"...\"} or {\"texts\": [\"...\", ...]} with non-empty text")
    if len(texts) > max_texts:
        raise HTTPException(413, f"{len(texts)} texts in one request, over the limit of {max_texts} (--max-texts): "
                                 "send fewer, or a table as a batch")
    longest = max(len(t) for t in texts)
    if longest > max_text_chars:
        raise HTTPException(413, f"a text of {longest} characters, over the limit of {max_text_chars} "
                                 "(--max-text-chars)")
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
