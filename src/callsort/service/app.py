"""The HTTP service: FastAPI routes over pipeline.classify_calls, for transcripts (JSON) and uploads (multipart).

The routes are thin: read the request, build the calls, classify them on the one path, answer ResultRows.
Who may ask is service/access.py; the routes are APIRouter modules (classify_routes, session_routes,
batch_routes, review_routes, report_routes, search_routes, topics_routes, …) whose dependencies (deps.py) read
this module's Service.
"""

import math
from dataclasses import replace
from pathlib import Path

from ..config import AsrConfig, EvidenceConfig
from ..data import CallTable
from ..errors import CallsortError, ConfigError, NoModelYet
from ..insights.agent import read_agent_names
from ..jobs.queue import WorkQueue
from ..models.classifier import load_model
from ..needs import RunNeeds
from ..pipeline import classify_calls
from ..privacy.keep import KeepList
from ..service_config import IntakeConfig, LearningConfig, NotifyConfig, ServeConfig
from ..version import __version__
from .access import SESSION_COOKIE, KeyThrottle, SameSiteOnly, Sessions, allowed_hosts, header_key, role_of_key
from .alerts import Alerts
from .batches import BatchRunner
from .headers import SecurityHeaders, log_config
from .intake import Intake
from .learning import LEARNING_JOB, Learning
from .limits import BodyLimit
from .retention import CACHE_FOLDER, Retention
from .review import public
from .watch import FolderWatch


class Service:
    """What the routes share, built once at start: the text model, the run's needs (Whisper, and the redactor
    under --redact), the settings, the sessions, and with a results store the batches (batches.BatchRunner),
    resumed if a stopped service left some unfinished. Requests and batches all share them."""

    def __init__(self, model_dir: str | Path | None, config: ServeConfig, asr: AsrConfig, recordings: bool = True,
                 evidence: EvidenceConfig | None = None, learning: LearningConfig | None = None,
                 intake: IntakeConfig | None = None, notify: NotifyConfig | None = None):
        learns = _check_learning(model_dir, config, learning)
        if notify is not None and notify.wanted and not config.store:
            raise ConfigError("alerts (--notify-url, --smtp-host) are kept and retried in a store: add --store")
        self.model_dir, self.config = Path(model_dir) if model_dir else None, config
        self.model = load_model(model_dir) if model_dir else None
        # transcripts are cached beside the uploads, where --keep-uploads-days expires them; without a store
        # the service keeps nothing of a call
        cache = Path(config.uploads) / CACHE_FOLDER if config.uploads else None
        asr = asr if cache else replace(asr, use_cache=False)
        self.needs = RunNeeds.build(asr, recordings=recordings, model_dir=model_dir, cache_folder=cache)
        if recordings:
            self.needs.recogniser.load()
        self.needs.with_evidence(evidence, model_dir)  # --meta, --customers: before any batch resumes
        self.work = self.batches = None
        if config.store:
            self.work = WorkQueue(config.store)
            expiring = [(cache, "*.json")] + ([(Path(asr.redact_audio), "*.redacted.wav")] if asr.redact_audio else [])
            self.batches = BatchRunner(self.work, self.model, self.needs, Path(config.uploads),
                                       review_below=config.review_below,
                                       retention=Retention(config.keep_uploads_days, expiring),
                                       job_identity=LEARNING_JOB if learns else None)
        self.learning = Learning(self, learning) if learns else None  # its active version, before batches resume
        self.intake_config, self.intake, self.watch = intake or IntakeConfig(), None, None
        if self.batches:
            self.batches.after_run = self.learning.rescore_soon if learns else self.batches.after_run
            self.batches.resume()
            self.intake = Intake(self.batches, self.work.db)
            if self.intake_config.watch:
                self.watch = FolderWatch(self.intake_config.watch, self.intake, self.intake_config.settle_seconds,
                                         self.intake_config.after_intake)
                self.watch.start()
        elif self.intake_config.watch:
            raise ConfigError("--watch keeps the calls it takes in a store: add --store")
        keys = {"admin": config.api_key, "reviewer": config.reviewer_key}
        self.sessions = Sessions(keys, config.session_hours * 3600, config.session_max_hours * 3600,
                                 self.work.db if self.work else None)
        self.throttle = KeyThrottle()
        self.agent_names = read_agent_names(config.agent_names) if config.agent_names else None
        self.company_says = KeepList.load(model_dir).company_says  # skipped in callers' first words
        # last: its threads read the list with the agents' names and company words above
        self.alerts = Alerts(self, notify) if notify is not None and notify.wanted else None

    @property
    def labels(self) -> list[str]:
        """The categories: the model's, or those a learning service learns."""
        return self.learning.categories if self.learning else self.model.labels

    @property
    def model_name(self) -> str | None:
        """What classifies: the model folder's name, or a learning service's active version ("version 3")."""
        if self.learning:
            return f"version {self.model.info.training['version']}" if self.model else None
        return self.model_dir.name

    def use_model(self, model) -> None:
        """Classify with `model` from now on (learning in place: a version was activated)."""
        self.model = model
        if self.batches:
            self.batches.model = model

    def classify(self, calls: CallTable) -> list[dict]:
        if self.model is None:
            raise NoModelYet("no model is active yet: label calls (GET /v1/review), then train (POST /v1/models/train)")
        rows = [public(row.to_dict()) for row in classify_calls(calls, self.model, self.needs, self.config.review_below)]
        if self.needs.asr.redact_audio:  # silenced copies of one-off uploads are never served: not kept either
            for path in filter(None, calls.audio or []):
                (Path(self.needs.asr.redact_audio) / self.needs.names.copy_name(path)).unlink(missing_ok=True)
        return rows

    def role(self, request) -> str | None:
        """Who is asking: 'admin' (the API key, or --no-auth), 'reviewer' (the reviewer key), from a header or
        the page's session cookie; None for anyone else."""
        if self.config.no_auth:
            return "admin"
        key = header_key(request.headers)
        if key:
            return self.key_role(key, request)
        return self.sessions.role(request.cookies.get(SESSION_COOKIE))

    def key_role(self, key: str, request) -> str | None:
        """The role of a key a client sent (None when wrong); 429 while its address has sent too many wrong ones."""
        client = request.client.host if request.client else "-"
        wait = self.throttle.wait(client)
        if wait:
            from fastapi import HTTPException

            raise HTTPException(429, f"too many wrong keys from {client}: try again in {math.ceil(wait)} s",
                                headers={"retry-after": str(math.ceil(wait))})
        found = role_of_key(key, self.config.api_key, self.config.reviewer_key)
        if found is None:
            self.throttle.failed(client)
        return found


def _check_learning(model_dir, config: ServeConfig, learning: LearningConfig | None) -> bool:
    """Whether the service learns in place (no --model; --labels or --train-data, and a store); ConfigError for
    a mix that cannot work."""
    learns = learning is not None and learning.wanted
    if model_dir and learns:
        raise ConfigError("--labels and --train-data make the service learn its own models: leave out --model")
    if not model_dir and not learns:
        raise ConfigError("give --model, or learn in place: --store with --labels FILE or --train-data TABLE")
    if learns and not config.store:
        raise ConfigError("learning in place keeps calls, labels and models in a store: add --store")
    return learns


def create_app(model_dir: str | Path | None, config: ServeConfig | None = None, asr: AsrConfig | None = None,
               recordings: bool = True, evidence: EvidenceConfig | None = None, learning: LearningConfig | None = None,
               intake: IntakeConfig | None = None, notify: NotifyConfig | None = None):
    """Build the app: the text model and Whisper load once, here, not per request. Without a key in `config`
    (or no_auth=True, loopback only) it refuses to start. `recordings=False`: a service for transcripts only
    (no Whisper). `evidence`: the phone system's facts and the customer list (serve --meta, --customers).
    `notify`: ring-back alerts (serve --notify-url, --smtp-host; needs a store)."""
    service = Service(model_dir, config or ServeConfig(), asr or AsrConfig(use_cache=False), recordings, evidence,
                      learning, intake, notify)
    return build_app(service)


def build_app(service: Service):
    """The FastAPI app around a built Service: the routers (their dependencies read the service from the
    app's state), CallsortError as 422, the upload bound, the same-site guard and the security headers."""
    from fastapi import Depends, FastAPI
    from fastapi.responses import JSONResponse

    from . import (
        batch_routes,
        classify_routes,
        intake_routes,
        models_routes,
        report_routes,
        review_routes,
        search_routes,
        session_routes,
        topics_routes,
    )
    from .deps import role

    # no /docs or /redoc (they load scripts from a CDN); the OpenAPI schema is a keyed route of its own
    app = FastAPI(title="callsort", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, description="Classify call transcripts and recordings into business categories.")
    app.state.service = service
    for module in (classify_routes, session_routes, batch_routes, review_routes, report_routes, models_routes,
                   intake_routes, search_routes, topics_routes):
        app.include_router(module.router)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(role)])
    def openapi() -> dict:
        return app.openapi()

    @app.exception_handler(CallsortError)
    async def callsort_error(_request, exc: CallsortError):
        return JSONResponse({"detail": str(exc)}, exc.http_status)

    app.add_middleware(BodyLimit, max_bytes=int(service.config.max_upload_mb * 2**20))
    app.add_middleware(SameSiteOnly, allowed_hosts=allowed_hosts(service.config.host, service.config.allowed_hosts))
    app.add_middleware(SecurityHeaders)  # outermost: refusals get the headers too
    return app


def serve(model_dir: str | Path | None, config: ServeConfig | None = None, asr: AsrConfig | None = None,
          evidence: EvidenceConfig | None = None, learning: LearningConfig | None = None,
          intake: IntakeConfig | None = None, notify: NotifyConfig | None = None) -> None:
    """Run the service with uvicorn until interrupted. The access log shows paths only (never a query); the
    client's address and scheme come from X-Forwarded-For/-Proto only with --trust-forwarded, and only from
    --trusted-proxies."""
    import uvicorn

    config = config or ServeConfig()
    uvicorn.run(create_app(model_dir, config, asr, evidence=evidence, learning=learning, intake=intake, notify=notify),
                host=config.host, port=config.port,
                log_level="info", log_config=log_config(), proxy_headers=config.trust_forwarded,
                forwarded_allow_ips=config.trusted_proxies, server_header=False)
