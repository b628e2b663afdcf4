"""The HTTP service: FastAPI routes over pipeline.classify_calls, for transcripts (JSON) and uploads (multipart).

The routes are thin: read the request, build the calls, classify them on the one path, answer ResultRows.
"""

import hmac
import os
import shutil
import tempfile
from pathlib import Path

from ..config import AsrConfig, ServeConfig
from ..data import TABLE_FORMATS, CallTable, read_calls
from ..errors import CallsortError, InputError
from ..jobs.queue import WorkQueue
from ..models.classifier import load_model
from ..needs import RunNeeds
from ..pipeline import classify_calls
from ..speech.audio import is_audio
from .batches import BatchRunner
from .limits import BodyLimit
from .routes import add_review_routes

UPLOAD_CHUNK = 1 << 20


class Service:
    """What the routes share, built once at start: the text model, the run's needs (Whisper, and the redactor
    under --redact), the settings, and with a results store the batches (batches.BatchRunner), resumed if a
    stopped service left some unfinished. Requests and batches all share them."""

    def __init__(self, model_dir: str | Path, config: ServeConfig, asr: AsrConfig):
        self.model_dir, self.config = Path(model_dir), config
        self.model = load_model(model_dir)
        self.needs = RunNeeds.build(asr, recordings=True)
        self.needs.recogniser.load()
        self.work = self.batches = None
        if config.store:
            self.work = WorkQueue(config.store)
            self.batches = BatchRunner(self.work, self.model, self.needs, Path(config.uploads),
                                       review_below=config.review_below)
            self.batches.resume()

    def classify(self, calls: CallTable) -> list[dict]:
        return [row.to_dict() for row in classify_calls(calls, self.model, self.needs, self.config.review_below)]

    def role(self, headers, cookie: str | None = None) -> str | None:
        """Who is asking: 'admin' (the API key, or no key configured), 'reviewer' (the reviewer key) or None.
        `cookie` is the page's key cookie, accepted where an <audio> element cannot send a header."""
        if not self.config.api_key:
            return "admin"
        given = headers.get("x-api-key") or ""
        auth = headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        given = (given or cookie or "").encode()
        if hmac.compare_digest(given, self.config.api_key.encode()):  # constant time
            return "admin"
        if self.config.reviewer_key and hmac.compare_digest(given, self.config.reviewer_key.encode()):
            return "reviewer"
        return None


async def read_calls_from(request) -> tuple[CallTable, list[str]]:
    """The calls of a request: texts from a JSON body, or uploads saved to temporary files (returned too,
    for the caller to delete) from a multipart body. Uploads are named by their file name, never a path."""
    from fastapi import HTTPException
    from fastapi.concurrency import run_in_threadpool

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
        if not files:
            raise HTTPException(422, "the multipart body holds no file (send it as file=@call.mp3)")
        tables, paths = [], []
        for upload in files:
            name = Path(upload.filename or "upload").name
            handle, path = tempfile.mkstemp(suffix=Path(name).suffix, prefix="callsort-")
            paths.append(path)
            with os.fdopen(handle, "wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out, UPLOAD_CHUNK)
            tables.append(_uploaded_calls(name, Path(path)))
        calls = tables[0]
        for more in tables[1:]:
            calls = _joined(calls, more)
        return calls, paths
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(422, "the body is not valid JSON (send {\"text\": \"...\"} or a file)") from None
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


async def classify_request(service: Service, request) -> list[dict]:
    """Classify every call of a request off the event loop (CPU-bound); temporary uploads are always deleted."""
    from fastapi.concurrency import run_in_threadpool

    calls, temporary = await read_calls_from(request)
    try:
        return await run_in_threadpool(service.classify, calls)
    finally:
        for path in temporary:
            Path(path).unlink(missing_ok=True)


def create_app(model_dir: str | Path, config: ServeConfig | None = None, asr: AsrConfig | None = None):
    """Build the app: the text model and Whisper load once, here, not per request."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    service = Service(model_dir, config or ServeConfig(), asr or AsrConfig(use_cache=False))
    app = FastAPI(title="callsort", version=service.model.info.callsort_version,
                  description="Classify call transcripts and recordings into business categories.")

    def require_key(request: Request) -> None:
        if service.role(request.headers) is None:
            raise HTTPException(401, "missing or wrong API key (x-api-key or Authorization: Bearer)")

    @app.get("/healthz")
    def healthz() -> dict:
        """Liveness, and what the service classifies with (no call content, so no API key needed)."""
        return {"status": "ok", "model": service.model_dir.name, "labels": service.model.labels,
                "asr_model": service.needs.recogniser.model_name, "review": service.batches is not None}

    @app.post("/v1/classify", dependencies=[Depends(require_key)])
    async def classify_one(request: Request) -> dict:
        """One call: JSON {"text": "..."} or a multipart upload file=@call.mp3. A recording that cannot be
        used answers 415 with the reason."""
        row = (await classify_request(service, request))[0]
        if row["error"]:
            raise HTTPException(415, row["error"])
        return row

    @app.post("/v1/classify/batch", dependencies=[Depends(require_key)])
    async def classify_batch(request: Request) -> dict:
        """Several calls: JSON {"texts": [...]} or several multipart files; a bad file fails only its own row."""
        return {"results": await classify_request(service, request)}

    @app.exception_handler(CallsortError)
    async def callsort_error(_request, exc: CallsortError):
        return JSONResponse({"detail": str(exc)}, 422)

    add_review_routes(app, service)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        from importlib import resources

        return (resources.files(__package__) / "page.html").read_text()

    app.add_middleware(BodyLimit, max_bytes=int(service.config.max_upload_mb * 2**20))
    return app


def serve(model_dir: str | Path, config: ServeConfig | None = None, asr: AsrConfig | None = None) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    config = config or ServeConfig()
    uvicorn.run(create_app(model_dir, config, asr), host=config.host, port=config.port, log_level="info")
