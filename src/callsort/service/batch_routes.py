"""Routes of batches (with `callsort serve --store`): start, list, cancel, results, and a call's recording.

Recordings are served by call id, only from the folder of a batch that holds the call: a request never names
a path. The reviewer key cannot start a batch from a server folder, nor cancel a batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import Headers
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from .deps import BATCH_ID, CALL_ID, ServiceDep, batch_or_404, csv_response, store_role
from .requests import read_json
from .review import results_table

router = APIRouter(dependencies=[Depends(store_role)])


class Recording(FileResponse):
    """A recording streamed with range requests, whose refused Range header (malformed, or past the end) is
    answered with a JSON detail like every other 4xx (Starlette's own answer is plain text)."""

    async def __call__(self, scope, receive, send):
        headers = Headers(scope=scope)
        asked = headers.get("range")
        if asked is not None and headers.get("if-range") is None:
            try:
                self._parse_range_header(asked, Path(self.path).stat().st_size)
            except MalformedRangeHeader as exc:
                return await JSONResponse({"detail": f"bad Range header: {exc.content}"}, 400)(scope, receive, send)
            except RangeNotSatisfiable as exc:
                return await JSONResponse({"detail": f"the Range asked for is past the end ({exc.max_size} bytes)"},
                                          416, headers={"content-range": f"bytes */{exc.max_size}"})(scope, receive, send)
        await super().__call__(scope, receive, send)


@router.post("/v1/batches")
async def start_batch(request: Request, service: ServiceDep, role: Annotated[str, Depends(store_role)]) -> dict:
    """Multipart recordings (file=@a.mp3 file=@b.wav …) become a stored batch run in the background;
    or JSON {"folder": "/path/on/server"} (API key only)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        files = [(v.filename, v.file) for _, v in form.multi_items() if hasattr(v, "filename")]
        return await run_in_threadpool(service.batches.from_uploads, files)
    body = await read_json(request, 'recordings as multipart files, or {"folder": "/path/on/server"}')
    if role != "admin":
        raise HTTPException(403, "a batch from a server folder needs the API key, not the reviewer key")
    if not isinstance(body, dict) or not isinstance(body.get("folder"), str):
        raise HTTPException(422, 'send recordings as multipart files, or {"folder": "/path/on/server"}')
    return await run_in_threadpool(service.batches.from_folder, body["folder"])


@router.get("/v1/batches")
def list_batches(service: ServiceDep) -> dict:
    """Every batch, newest first, with its progress."""
    return {"batches": [service.batches.progress(b["id"]) for b in service.batches.records.all()]}


@router.delete("/v1/batches/{batch_id}")
def cancel_batch(service: ServiceDep, role: Annotated[str, Depends(store_role)], batch_id: str = BATCH_ID) -> dict:
    """Cancel a batch (API key only): its calls not yet done are left undone, and it never resumes."""
    if role != "admin":
        raise HTTPException(403, "cancelling a batch needs the API key, not the reviewer key")
    batch_or_404(service, batch_id)
    service.batches.cancel(batch_id)
    return service.batches.progress(batch_id)


@router.get("/v1/batches/{batch_id}")
def batch_results(service: ServiceDep, batch_id: str = BATCH_ID) -> dict:
    """A batch's progress and its table of results."""
    batch = batch_or_404(service, batch_id)
    return {**service.batches.progress(batch_id), "results": results_table(service.work, batch["call_ids"])}


@router.get("/v1/batches/{batch_id}/results.csv")
def batch_csv(service: ServiceDep, batch_id: str = BATCH_ID) -> Response:
    rows = results_table(service.work, batch_or_404(service, batch_id)["call_ids"])
    return csv_response(rows, f"callsort-{batch_id}.csv")


@router.get("/v1/calls/{call_id}/audio")
def audio(service: ServiceDep, call_id: int = CALL_ID) -> Recording:
    """The call's recording, streamed (range requests), from its batch's folder only (the page's <audio>
    sends the session cookie)."""
    try:
        path = service.batches.records.recording(call_id, service.batches.uploads)
    except KeyError:
        raise HTTPException(404, f"no recording for call {call_id}") from None
    except FileNotFoundError:
        raise HTTPException(410, f"the recording of call {call_id} has expired (--keep-uploads-days)") from None
    asr = service.needs.asr
    if asr.redact:  # only the silenced copy: the original would say what the transcript hides
        path = Path(asr.redact_audio or "") / service.needs.names.copy_name(path)
        if not asr.redact_audio or not path.is_file():
            raise HTTPException(404, "with --redact the service plays only redacted copies of the recordings "
                                     "(start it with --redact-audio DIR)")
    return Recording(path)
