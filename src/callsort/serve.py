"""The HTTP service: FastAPI routes over pipeline.classify_calls, for transcripts (JSON) and uploads (multipart).

The routes are thin: read the request, build the calls, classify them on the one path, answer ResultRows.
"""

import hmac
import os
import shutil
import tempfile
from pathlib import Path

from .classifier import load_model
from .config import AsrConfig, ServeConfig
from .data import CallTable
from .errors import CallsortError
from .batches import BatchRunner
from .pipeline import classify_calls
from .review_routes import add_review_routes
from .store import JobStore
from .transcribe import Transcriber

KEY_COOKIE = "callsort_key"

UPLOAD_CHUNK = 1 << 20


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a request body over the limit gets 413 before it is read into memory or onto disk."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse

        declared = dict(scope["headers"]).get(b"content-length")
        too_large = JSONResponse({"detail": f"upload over the {self.max_bytes / 2**20:g} MB limit"}, 413)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await too_large(scope, receive, send)
        seen, started = 0, False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # a chunked upload that declared no length
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await too_large(scope, receive, send)


class Service:
    """What the routes share: the text model and Whisper (loaded once, at start), the settings, and with a
    results store the batches (batches.BatchRunner), resumed if a stopped service left some unfinished."""

    def __init__(self, model_dir: str | Path, config: ServeConfig, asr: AsrConfig):
        self.model_dir, self.config = Path(model_dir), config
        self.model = load_model(model_dir)
        self.transcriber = Transcriber(asr)
        self.transcriber.load()
        self.store = self.batches = None
        if config.store:
            self.store = JobStore(config.store)
            self.batches = BatchRunner(self.store, self.model, asr, Path(config.uploads),
                                       review_below=config.review_below)
            self.batches.resume()

    def classify(self, calls: CallTable) -> list[dict]:
        return [row.to_dict() for row in classify_calls(calls, self.model, self.transcriber, self.config.review_below)]

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
        names, paths = [], []
        for upload in files:
            names.append(Path(upload.filename or "upload").name)
            handle, path = tempfile.mkstemp(suffix=Path(names[-1]).suffix, prefix="callsort-")
            paths.append(path)
            with os.fdopen(handle, "wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out, UPLOAD_CHUNK)
        return CallTable([""] * len(paths), names, audio=paths), paths
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(422, "the body is not valid JSON (send {\"text\": \"...\"} or a file)") from None
    texts = body.get("texts", [body.get("text")]) if isinstance(body, dict) else None
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise HTTPException(422, "send {\"text\": \"...\"} or {\"texts\": [\"...\", ...]} with non-empty text")
    return CallTable(texts, [f"text:{i + 1}" for i in range(len(texts))]), []


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
                "asr_model": service.transcriber.model_name, "review": service.batches is not None}

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

        return (resources.files("callsort") / "page.html").read_text()

    app.add_middleware(BodyLimit, max_bytes=int(service.config.max_upload_mb * 2**20))
    return app


def serve(model_dir: str | Path, config: ServeConfig | None = None, asr: AsrConfig | None = None) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    config = config or ServeConfig()
    uvicorn.run(create_app(model_dir, config, asr), host=config.host, port=config.port, log_level="info")
