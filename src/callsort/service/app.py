"""The HTTP service: FastAPI routes over pipeline.classify_calls, for transcripts (JSON) and uploads (multipart).

The routes are thin: read the request, build the calls, classify them on the one path, answer ResultRows.
Who may ask is service/access.py; the batch and review routes are service/routes.py.
"""

from pathlib import Path

from ..config import AsrConfig, ServeConfig
from ..data import CallTable
from ..errors import CallsortError
from ..insights.agent import read_agent_names
from ..jobs.queue import WorkQueue
from ..models.classifier import load_model
from ..needs import RunNeeds
from ..pipeline import classify_calls
from ..privacy.keep import KeepList
from .access import SESSION_COOKIE, SameSiteOnly, Sessions, allowed_hosts, header_key, role_of_key
from .batches import BatchRunner
from .limits import BodyLimit
from .requests import read_calls_from, read_json
from .routes import add_review_routes


class Service:
    """What the routes share, built once at start: the text model, the run's needs (Whisper, and the redactor
    under --redact), the settings, the sessions, and with a results store the batches (batches.BatchRunner),
    resumed if a stopped service left some unfinished. Requests and batches all share them."""

    def __init__(self, model_dir: str | Path, config: ServeConfig, asr: AsrConfig):
        self.model_dir, self.config = Path(model_dir), config
        self.model = load_model(model_dir)
        self.needs = RunNeeds.build(asr, recordings=True, model_dir=model_dir)
        self.needs.recogniser.load()
        self.needs.with_evidence(config.meta, config.meta_pattern, config.customers, config.customers_complete,
                                 model_dir)  # before any batch resumes
        self.work = self.batches = None
        if config.store:
            self.work = WorkQueue(config.store)
            self.batches = BatchRunner(self.work, self.model, self.needs, Path(config.uploads),
                                       review_below=config.review_below, keep_days=config.keep_uploads_days)
            self.batches.resume()
        self.sessions = Sessions(config.session_hours * 3600, self.work.db if self.work else None)
        self.agent_names = read_agent_names(config.agent_names) if config.agent_names else None
        self.company_says = KeepList.load(model_dir).company_says  # skipped in callers' first words

    def classify(self, calls: CallTable) -> list[dict]:
        rows = [row.to_dict() for row in classify_calls(calls, self.model, self.needs, self.config.review_below)]
        if self.needs.asr.redact_audio:  # silenced copies of one-off uploads are never served: not kept either
            for path in filter(None, calls.audio or []):
                (Path(self.needs.asr.redact_audio) / self.needs.copy_name(path)).unlink(missing_ok=True)
        return rows

    def role(self, request) -> str | None:
        """Who is asking: 'admin' (the API key, or --no-auth), 'reviewer' (the reviewer key), from a header or
        the page's session cookie; None for anyone else."""
        if self.config.no_auth:
            return "admin"
        key = header_key(request.headers)
        if key:
            return role_of_key(key, self.config.api_key, self.config.reviewer_key)
        return self.sessions.role(request.cookies.get(SESSION_COOKIE))


def create_app(model_dir: str | Path, config: ServeConfig | None = None, asr: AsrConfig | None = None):
    """Build the app: the text model and Whisper load once, here, not per request. Without a key in `config`
    (or no_auth=True, loopback only) it refuses to start."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    service = Service(model_dir, config or ServeConfig(), asr or AsrConfig(use_cache=False))
    app = FastAPI(title="callsort", version=service.model.info.callsort_version,
                  description="Classify call transcripts and recordings into business categories.")
    app.state.service = service

    def require_key(request: Request) -> None:
        if service.role(request) is None:
            raise HTTPException(401, "missing or wrong API key (x-api-key, Authorization: Bearer, or sign in)")

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

    _session_routes(app, service)
    add_review_routes(app, service)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        from importlib import resources

        return (resources.files(__package__) / "page.html").read_text()

    app.add_middleware(BodyLimit, max_bytes=int(service.config.max_upload_mb * 2**20))
    app.add_middleware(SameSiteOnly, allowed_hosts=allowed_hosts(service.config.host, service.config.allowed_hosts))
    return app


def _session_routes(app, service: Service) -> None:
    """The page's sign-in: a key traded for an HttpOnly, SameSite=Strict session cookie; sign-out ends it."""
    from fastapi import HTTPException, Request, Response

    @app.post("/v1/session")
    async def sign_in(request: Request, response: Response) -> dict:
        body = await read_json(request, '{"key": "..."}')
        key = body.get("key") if isinstance(body, dict) else None
        role = role_of_key(key, service.config.api_key, service.config.reviewer_key) if isinstance(key, str) else None
        if role is None:
            raise HTTPException(401, "wrong key")
        secure = request.url.scheme == "https" or (
            service.config.trust_forwarded and request.headers.get("x-forwarded-proto") == "https")
        response.set_cookie(SESSION_COOKIE, service.sessions.open(role), httponly=True, samesite="strict",
                            secure=secure, path="/", max_age=int(service.config.session_hours * 3600))
        return {"role": role}

    @app.get("/v1/session")
    def session(request: Request) -> dict:
        """Who this browser is signed in as (no call content)."""
        return {"role": service.role(request), "open": service.config.no_auth}

    @app.delete("/v1/session")
    def sign_out(request: Request, response: Response) -> dict:
        service.sessions.close(request.cookies.get(SESSION_COOKIE))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return {"role": None}


async def classify_request(service: Service, request) -> list[dict]:
    """Classify every call of a request off the event loop (CPU-bound); temporary uploads are always deleted."""
    from fastapi.concurrency import run_in_threadpool

    calls, temporary = await read_calls_from(request, service.needs.shown_name)
    try:
        return await run_in_threadpool(service.classify, calls)
    finally:
        for path in temporary:
            Path(path).unlink(missing_ok=True)


def serve(model_dir: str | Path, config: ServeConfig | None = None, asr: AsrConfig | None = None) -> None:
    """Run the service with uvicorn until interrupted. The access log shows paths only (never a query)."""
    import uvicorn

    config = config or ServeConfig()
    uvicorn.run(create_app(model_dir, config, asr), host=config.host, port=config.port, log_level="info")
