"""Routes of calls that arrive by themselves: POST /v1/calls (the phone system pushes a call as it ends) and
GET /v1/intake (the watched folder's backlog and the files it could not take)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, HTTPException, Request

from ..errors import CallsortError
from ..evidence.metadata import SIDECAR_KEYS
from .deps import ServiceDep, role, store_role
from .requests import upload_name

router = APIRouter()


def pusher(request: Request, service: ServiceDep) -> str:
    """The intake key (this route only) or the API key; 401/403 otherwise."""
    from .access import header_key

    key, intake_key = header_key(request.headers), service.intake_config.intake_key
    if key and intake_key and hmac.compare_digest(key.encode(), intake_key.encode()):
        return "intake"
    if role(request, service) != "admin":
        raise HTTPException(403, "pushing calls needs the API key or the intake key, not the reviewer key")
    return "admin"


@router.post("/v1/calls", dependencies=[Depends(pusher)], status_code=201)
async def push_call(request: Request, service: ServiceDep) -> dict:
    """One call, multipart: `file` (a recording or .txt transcript) and the phone system's facts as form fields
    (caller, called_at, agent, answered, disposition, external_id). Stored and listed (GET /v1/calls) when
    this returns, classified in the background; a repeated push (same external_id, or the same file) stores
    nothing new and answers the first call (200)."""
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse

    if service.intake is None:
        raise HTTPException(404, "pushing calls needs a results store: start the service with --store")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the call as multipart/form-data: file=@call.mp3 and its facts as fields")
    form = await request.form()
    upload = form.get("file")
    if not hasattr(upload, "filename") or not hasattr(upload, "read"):
        raise HTTPException(422, "the multipart body holds no `file` (send it as file=@call.mp3)")
    facts = {k: v for k, v in form.multi_items() if k in SIDECAR_KEYS and isinstance(v, str)}
    try:
        taken = await run_in_threadpool(service.intake.take, upload_name(upload.filename), upload.file, facts)
    except CallsortError as exc:
        raise HTTPException(422, str(exc)) from None
    return JSONResponse(taken, 200 if taken["duplicate"] else 201)


@router.get("/v1/intake", dependencies=[Depends(store_role)])
def intake_status(service: ServiceDep) -> dict:
    """The watched folder (when there is one): the files there at start and how many are taken; and the files
    that could not be taken, with why."""
    if service.intake is None:
        raise HTTPException(404, "intake needs a results store: start the service with --store")
    watch = service.watch
    return {"watching": bool(watch), "backlog": watch.backlog if watch else None,
            "failed": service.intake.records.failures()}
