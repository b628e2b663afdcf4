"""HTTP routes of batches and review (with `callsort serve --store`): thin, over batches.py and review.py.

Every route here shows or changes call content, so each needs a key: the API key, or the reviewer key
(which cannot start a batch from a server folder). Recordings are served by call id, only from the folder
of a batch that holds the call: a request never names a path.
"""

from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from ..errors import CallsortError
from ..jobs.corrections import CORRECTION_COLUMNS, Corrections, with_corrections
from ..output import csv_text
from .requests import read_json
from .review import public, results_table, review_queue

CALL_ID = FastPath(ge=1, le=2**63 - 1)  # a store's integer ids: anything else is a 422, not a database error
BATCH_ID = FastPath(pattern="^[0-9a-f]{12}$")


class Access:
    """The routes' dependency: who is asking (the role), from a header or the page's session, never from a
    query parameter; 401 without a key, 404 without a store."""

    def __init__(self, service):
        self.service = service

    def __call__(self, request: Request) -> str:
        role = self.service.role(request)
        if role is None:
            raise HTTPException(401, "missing or wrong API key (x-api-key, Authorization: Bearer, or sign in)")
        if self.service.batches is None:
            raise HTTPException(404, "batches and review need a results store: start the service with --store")
        return role


def add_review_routes(app, service) -> None:
    """Add /v1/batches…, /v1/review, /v1/calls/{id} (+ /audio, /correction), /v1/corrections, /v1/callbacks
    (+ /{id} to tick one done) and /report/{job} to `app`."""
    access = Access(service)
    _batch_routes(app, service, access)
    _review_routes(app, service, access)
    _audio_route(app, service, access)
    _report_route(app, service, access)
    _callback_routes(app, service, access)


def _batch_or_404(service, batch_id: str) -> dict:
    try:
        return service.batches.batch(batch_id)
    except KeyError:
        raise HTTPException(404, f"no batch {batch_id}") from None


def _csv_response(rows: list[dict], name: str, columns: list[str] | None = None) -> Response:
    return Response(csv_text(rows, columns), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def _batch_routes(app, service, access: Access) -> None:
    @app.post("/v1/batches")
    async def start_batch(request: Request, role: str = Depends(access)) -> dict:
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

    @app.get("/v1/batches", dependencies=[Depends(access)])
    def list_batches() -> dict:
        """Every batch, newest first, with its progress."""
        return {"batches": [service.batches.progress(b["id"]) for b in service.batches.records.all()]}

    @app.delete("/v1/batches/{batch_id}", dependencies=[Depends(access)])
    def cancel_batch(batch_id: str = BATCH_ID) -> dict:
        """Cancel a batch: its calls not yet done are left undone, and it never resumes."""
        _batch_or_404(service, batch_id)
        service.batches.cancel(batch_id)
        return service.batches.progress(batch_id)

    @app.get("/v1/batches/{batch_id}", dependencies=[Depends(access)])
    def batch_results(batch_id: str = BATCH_ID) -> dict:
        """A batch's progress and its table of results."""
        batch = _batch_or_404(service, batch_id)
        return {**service.batches.progress(batch_id), "results": results_table(service.work, batch["call_ids"])}

    @app.get("/v1/batches/{batch_id}/results.csv", dependencies=[Depends(access)])
    def batch_csv(batch_id: str = BATCH_ID) -> Response:
        rows = results_table(service.work, _batch_or_404(service, batch_id)["call_ids"])
        return _csv_response(rows, f"callsort-{batch_id}.csv")


def _review_routes(app, service, access: Access) -> None:
    @app.get("/v1/review", dependencies=[Depends(access)])
    def queue(batch: str | None = None) -> dict:
        """Calls to check (needs_review, not corrected yet), least confident first; of one batch or of every
        call in the store (batches, and runs of `predict --store` into the same store)."""
        ids = _batch_or_404(service, batch)["call_ids"] if batch else [i for i, _ in service.work.results_of(None)]
        return {"labels": service.model.labels, "calls": review_queue(service.work, ids, service.company_says)}

    @app.get("/v1/calls", dependencies=[Depends(access)])
    def every_call() -> dict:
        """The table of every call in the store with a result, batches and `predict --store` runs alike."""
        table = results_table(service.work, [i for i, _ in service.work.results_of(None)])
        return {"calls": len(table), "results": table}

    @app.get("/v1/calls/{call_id}", dependencies=[Depends(access)])
    def call(call_id: int = CALL_ID) -> dict:
        """One call: its result row (transcript, probabilities) and every correction of it, oldest first."""
        rows = service.work.calls([call_id])
        if not rows:
            raise HTTPException(404, f"no call {call_id}")
        row = rows[0]  # shown by its file's name, not the server's path (public)
        history = _named([c for c in Corrections(service.work.db).all(history=True) if c["call_id"] == call_id])
        result = public({**row["result"], "source": row["source"]}) if row["result"] else None
        return {**public(row), "result": result, "labels": service.model.labels, "corrections": history,
                "audio": f"v1/calls/{call_id}/audio"}

    @app.post("/v1/calls/{call_id}/correction", dependencies=[Depends(access)])
    async def correct(request: Request, call_id: int = CALL_ID) -> dict:
        """Save a person's label: JSON {"label": …, "reason": …, "reviewer": …}; a later one supersedes."""
        body = await read_json(request, '{"label": "...", "reason": "...", "reviewer": "..."}')
        label = body.get("label") if isinstance(body, dict) else None
        if label not in service.model.labels:
            raise HTTPException(422, f"label must be one of: {', '.join(service.model.labels)}")
        try:
            saved = Corrections(service.work.db).add(call_id, label, _text(body, "reason"), _text(body, "reviewer"))
        except CallsortError as exc:
            raise HTTPException(404, str(exc)) from None
        return _named([saved])[0]

    @app.get("/v1/corrections", dependencies=[Depends(access)])
    def corrections(history: bool = False) -> dict:
        """The corrections: the latest of each call, or every one with ?history=true."""
        return {"corrections": _named(Corrections(service.work.db).export_rows(history))}

    @app.get("/v1/corrections.csv", dependencies=[Depends(access)])
    def corrections_csv(history: bool = False) -> Response:
        return _csv_response(_named(Corrections(service.work.db).export_rows(history)), "corrections.csv",
                             list(CORRECTION_COLUMNS))


def _audio_route(app, service, access: Access) -> None:
    @app.get("/v1/calls/{call_id}/audio", dependencies=[Depends(access)])
    def audio(call_id: int = CALL_ID) -> FileResponse:
        """The call's recording, streamed (range requests), from its batch's folder only (the page's <audio>
        sends the session cookie)."""
        try:
            path = service.batches.recording(call_id)
        except KeyError:
            raise HTTPException(404, f"no recording for call {call_id}") from None
        except FileNotFoundError:
            raise HTTPException(410, f"the recording of call {call_id} has expired (--keep-uploads-days)") from None
        asr = service.needs.asr
        if asr.redact:  # only the silenced copy: the original would say what the transcript hides
            path = Path(asr.redact_audio or "") / service.needs.copy_name(path)
            if not asr.redact_audio or not path.is_file():
                raise HTTPException(404, "with --redact the service plays only redacted copies of the recordings "
                                         "(start it with --redact-audio DIR)")
        return FileResponse(path)


def _named(rows: list[dict]) -> list[dict]:
    """Rows with each source cut to its file's name: the service does not show its own paths."""
    return [public(r) for r in rows]


def stored_rows(service, job: str | None = None, batch: str | None = None) -> list[dict]:
    """The stored calls (of one job, or one batch, or all) as the report reads them: people's corrections and
    ticks applied, each with its call id, and the phone system's facts joined (serve --meta)."""
    wanted = set(_batch_or_404(service, batch)["call_ids"]) if batch else None
    results = [(i, r) for i, r in service.work.results_of(job) if wanted is None or i in wanted]
    rows = [{**row, "call_id": i} for (i, _), row in zip(results, with_corrections(results, service.work.db), strict=False)]
    join = service.needs.join_meta  # serve --meta, None without it
    for row in rows if join else []:
        row["meta"] = {**join(str(row.get("source", ""))), **(row.get("meta") or {})}
    return rows


def _report_route(app, service, access: Access) -> None:
    @app.get("/report/{job}", dependencies=[Depends(access)])
    def job_report(job: str, batch: str | None = None) -> Response:
        """The manager's report (report.py) of one stored job, or of all with job "all" (?batch=ID: one batch)."""
        from ..insights.report import summarise
        from ..insights.report_page import render_page

        rows = stored_rows(service, None if job == "all" else job, batch)
        if not rows:
            raise HTTPException(404, f"no results for job {job}")
        summary = summarise(rows, quantifier=service.model.quantifier, model=service.model.identity,
                            agent_names=service.agent_names, company=service.company_says)
        return Response(render_page(summary), media_type="text/html")


def _callback_routes(app, service, access: Access) -> None:
    @app.get("/v1/callbacks", dependencies=[Depends(access)])
    def callbacks(batch: str | None = None) -> dict:
        """The speed-to-lead list (insights/callbacks.py) of every stored call, or of one batch: likeliest
        first, each with its call id (for /v1/calls/{id} and its recording) and whether it was rung back."""
        from ..insights.report import calls_to_ring_back

        listed = calls_to_ring_back(stored_rows(service, batch=batch), agent_names=service.agent_names,
                                    company=service.company_says)
        return {"callbacks": [{**c, "source": public(c)["source"], "audio": f"v1/calls/{c['call_id']}/audio"}
                              for c in listed]}

    @app.post("/v1/callbacks/{call_id}", dependencies=[Depends(access)])
    async def tick(request: Request, call_id: int = CALL_ID) -> dict:
        """Tick a call on the list as rung back: JSON {"done": true|false, "by": …}; kept in the store."""
        from ..jobs.ticks import CallbackTicks

        body = await read_json(request, '{"done": true, "by": "..."}')
        if not isinstance(body, dict) or not isinstance(body.get("done"), bool):
            raise HTTPException(422, 'send {"done": true} or {"done": false}')
        try:
            return CallbackTicks(service.work.db).set(call_id, body["done"], _text(body, "by"))
        except CallsortError as exc:
            raise HTTPException(404, str(exc)) from None


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    return str(value)[:500] if value not in (None, "") else None
