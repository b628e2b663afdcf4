"""The HTTP service: FastAPI app classifying transcripts (JSON) and recordings (multipart uploads)."""

import hmac
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import AudioError, CallsortError
from .transcribe import AsrConfig

UPLOAD_CHUNK = 1 << 20


@dataclass
class ServeConfig:
    """How `callsort serve` runs."""

    model_dir: str
    host: str = "127.0.0.1"  # loopback unless told otherwise
    port: int = 8000
    api_key: str | None = None  # when set, /v1/... needs it in x-api-key or Authorization: Bearer
    max_upload_mb: float = 50
    asr: AsrConfig | None = None


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


def create_app(config: ServeConfig):
    """Build the app: the text model and Whisper load once, here, not per request."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import HTMLResponse, JSONResponse

    from .model import load_model
    from .predict import prediction_fields
    from .transcribe import Transcriber

    model = load_model(config.model_dir)
    transcriber = Transcriber(config.asr or AsrConfig(use_cache=False))
    transcriber.load()
    app = FastAPI(title="callsort", version=model.info.get("callsort_version", "0"),
                  description="Classify call transcripts and recordings into business categories.")

    def check_key(request: Request) -> None:
        if not config.api_key:
            return
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        if not hmac.compare_digest(given.encode(), config.api_key.encode()):  # constant time
            raise HTTPException(401, "missing or wrong API key (x-api-key or Authorization: Bearer)")

    def classify_texts(texts: list[str]) -> list[dict]:
        return [prediction_fields(p, model.review_below, text) for p, text in zip(model.predict(texts), texts)]

    def classify_file(path: str, name: str) -> dict:
        try:
            transcript = transcriber.transcribe(path)
        except AudioError as exc:
            raise HTTPException(415, str(exc).replace(path, name)) from None
        result = prediction_fields(model.predict(transcript.text), model.review_below, transcript.text)
        return {**result, "transcript": transcript.transcript, "duration_s": transcript.duration_s,
                "asr_model": transcript.asr_model}

    async def read_request(request: Request) -> tuple[list[str], list[tuple[str, str]]]:
        """Texts from a JSON body, or uploads saved to temporary files from a multipart body."""
        kind = request.headers.get("content-type", "")
        if kind.startswith("multipart/form-data"):
            form = await request.form()
            files = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "read")]
            if not files:
                raise HTTPException(422, "the multipart body holds no file (send it as file=@call.mp3)")
            saved = []
            for upload in files:
                name = Path(upload.filename or "upload").name
                handle, path = tempfile.mkstemp(suffix=Path(name).suffix, prefix="callsort-")
                with os.fdopen(handle, "wb") as out:
                    await run_in_threadpool(shutil.copyfileobj, upload.file, out, UPLOAD_CHUNK)
                saved.append((path, name))
            return [], saved
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(422, "the body is not valid JSON (send {\"text\": \"...\"} or a file)") from None
        texts = body.get("texts", [body.get("text")]) if isinstance(body, dict) else None
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise HTTPException(422, "send {\"text\": \"...\"} or {\"texts\": [\"...\", ...]} with non-empty text")
        return texts, []

    async def classify(request: Request, batch: bool) -> list[dict]:
        texts, files = await read_request(request)
        try:
            if texts:
                return await run_in_threadpool(classify_texts, texts)  # off the event loop: CPU-bound
            results = []
            for path, name in files:
                try:
                    results.append({"file": name, **await run_in_threadpool(classify_file, path, name)})
                except HTTPException as exc:
                    if not batch:
                        raise
                    results.append({"file": name, "error": exc.detail})  # one bad file fails only its own entry
            return results
        finally:
            for path, _ in files:
                Path(path).unlink(missing_ok=True)

    @app.get("/healthz")
    def healthz() -> dict:
        """Liveness, and what the service classifies with (no API key needed)."""
        return {"status": "ok", "model": Path(config.model_dir).name, "labels": model.labels,
                "asr_model": transcriber.model_name}

    @app.post("/v1/classify", dependencies=[Depends(check_key)])
    async def classify_one(request: Request) -> dict:
        """One call: JSON {"text": "..."} or a multipart upload file=@call.mp3."""
        return (await classify(request, batch=False))[0]

    @app.post("/v1/classify/batch", dependencies=[Depends(check_key)])
    async def classify_batch(request: Request) -> dict:
        """Several calls: JSON {"texts": [...]} or several multipart files."""
        return {"results": await classify(request, batch=True)}

    @app.exception_handler(CallsortError)
    async def callsort_error(_request, exc: CallsortError):
        return JSONResponse({"detail": str(exc)}, 422)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        from importlib import resources

        return (resources.files("callsort") / "page.html").read_text()

    app.add_middleware(BodyLimit, max_bytes=int(config.max_upload_mb * 2**20))
    return app


def serve(config: ServeConfig) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")
