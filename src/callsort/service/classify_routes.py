"""Routes that classify: one call or several, from JSON text or uploaded recordings; /healthz and the page."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from .deps import ServiceDep, role
from .requests import read_calls_from

router = APIRouter()
STATIC = {"page.js": "text/javascript", "search.js": "text/javascript", "page.css": "text/css"}  # service/static/, by name only


@router.get("/healthz")
def healthz(service: ServiceDep) -> dict:
    """Liveness, and what the service classifies with (no call content, so no API key needed)."""
    recogniser = service.needs.recogniser
    return {"status": "ok", "model": service.model_name, "labels": service.labels,
            "asr_model": recogniser.model_name if recogniser else None, "review": service.batches is not None,
            "learning": service.learning is not None}


@router.post("/v1/classify", dependencies=[Depends(role)])
async def classify_one(request: Request, service: ServiceDep) -> dict:
    """One call: JSON {"text": "..."} or a multipart upload file=@call.mp3. A recording that cannot be
    used answers 415 with the reason."""
    row = (await classify_request(service, request))[0]
    if row["error"]:
        raise HTTPException(415, row["error"])
    return row


@router.post("/v1/classify/batch", dependencies=[Depends(role)])
async def classify_batch(request: Request, service: ServiceDep) -> dict:
    """Several calls: JSON {"texts": [...]} or several multipart files; a bad file fails only its own row."""
    return {"results": await classify_request(service, request)}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> str:
    return (resources.files(__package__) / "page.html").read_text()


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    """The page's script and styles (files of their own: the page's CSP allows nothing inline)."""
    if name not in STATIC:
        raise HTTPException(404, f"no static file {name}")
    return Response((resources.files(__package__) / "static" / name).read_text(), media_type=STATIC[name],
                    headers={"cache-control": "no-cache"})


async def classify_request(service, request: Request) -> list[dict]:
    """Classify every call of a request off the event loop (CPU-bound); temporary uploads are always deleted."""
    calls, temporary = await read_calls_from(request, service.needs.names.shown_name, service.config.max_texts,
                                             service.config.max_text_chars, service.needs.redactor)
    try:
        return await run_in_threadpool(service.classify, calls)
    finally:
        for path in temporary:
            Path(path).unlink(missing_ok=True)
