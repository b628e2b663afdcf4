"""Routes of the manager's answers (with `callsort serve --store`): the report page of stored calls and the
speed-to-lead list with its done ticks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from ..errors import CallsortError
from ..jobs.corrections import with_corrections
from .deps import CALL_ID, ServiceDep, batch_or_404, store_role, text_field
from .requests import read_json
from .review import public

router = APIRouter(dependencies=[Depends(store_role)])


def stored_rows(service, job: str | None = None, batch: str | None = None,
                ids: list[int] | None = None) -> list[dict]:
    """The stored calls (of one job, or one batch, or those of `ids`, or all) as the report reads them: people's
    corrections and ticks applied, each with its call id, and the phone system's facts joined (serve --meta)."""
    wanted = set(batch_or_404(service, batch)["call_ids"]) if batch else None
    if ids is not None:
        results = [(c["id"], c["result"]) for c in service.work.calls(ids) if c["result"]]
    else:
        results = [(i, r) for i, r in service.work.results_of(job) if wanted is None or i in wanted]
    rows = [{**row, "call_id": i} for (i, _), row in zip(results, with_corrections(results, service.work.db),
                                                          strict=True)]
    join = service.needs.evidence.join_meta  # serve --meta, None without it
    for row in rows if join else []:
        row["meta"] = {**join(str(row.get("source", ""))), **(row.get("meta") or {})}
    return rows


@router.get("/report/{job}")
def job_report(service: ServiceDep, job: str, batch: str | None = None) -> Response:
    """The manager's report (report.py) of one stored job, or of all with job "all" (?batch=ID: one batch)."""
    from ..insights.report import summarise
    from ..insights.report_page import render_page

    rows = stored_rows(service, None if job == "all" else job, batch)
    if not rows:
        raise HTTPException(404, f"no results for job {job}")
    model = service.model
    summary = summarise(rows, quantifier=model.quantifier if model else None, model=model.identity if model else None,
                        agent_names=service.agent_names, company=service.company_says)
    return Response(render_page(summary), media_type="text/html")


@router.get("/v1/callbacks")
def callbacks(service: ServiceDep, batch: str | None = None) -> dict:
    """The speed-to-lead list (insights/callbacks.py) of every stored call, or of one batch: likeliest
    first, each with its call id (for /v1/calls/{id} and its recording) and whether it was rung back."""
    from ..insights.report import calls_to_ring_back

    listed = calls_to_ring_back(stored_rows(service, batch=batch), agent_names=service.agent_names,
                                company=service.company_says)
    return {"callbacks": [{**c, "source": public(c)["source"], "audio": f"v1/calls/{c['call_id']}/audio"}
                          for c in listed]}


@router.post("/v1/callbacks/{call_id}")
async def tick(request: Request, service: ServiceDep, call_id: int = CALL_ID) -> dict:
    """Tick a call on the list as rung back: JSON {"done": true|false, "by": …}; kept in the store."""
    from ..jobs.ticks import CallbackTicks

    body = await read_json(request, '{"done": true, "by": "..."}')
    if not isinstance(body, dict) or not isinstance(body.get("done"), bool):
        raise HTTPException(422, 'send {"done": true} or {"done": false}')
    try:
        return CallbackTicks(service.work.db).set(call_id, body["done"], text_field(body, "by"))
    except CallsortError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/v1/alerts")
def alerts(service: ServiceDep, limit: int = Query(100, ge=1, le=1000)) -> dict:
    """The ring-back alerts (serve --notify-url, --smtp-host), newest first: each with its state, its channels'
    states, tries, last error and the alert sent; `channels` empty when alerts are off."""
    if service.alerts is None:
        return {"channels": [], "alerts": []}
    return {"channels": list(service.alerts.senders), "alerts": service.alerts.outbox.latest(limit)}
