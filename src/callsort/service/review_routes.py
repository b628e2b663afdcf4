"""Routes of review (with `callsort serve --store`): the review queue, every stored call, one call with its
corrections, saving a person's label, and the corrections as JSON or CSV."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from ..errors import CallsortError
from ..jobs.corrections import CORRECTION_COLUMNS, Corrections
from ..jobs.fulltext import SearchFilters, SearchIndex
from ..privacy.redact import redact_fragment
from .deps import CALL_ID, ServiceDep, batch_or_404, csv_response, named, store_role, text_field
from .requests import read_json
from .review import labelling_order, public, results_table, review_queue

router = APIRouter(dependencies=[Depends(store_role)])


@router.get("/v1/review")
def queue(service: ServiceDep, batch: str | None = None, limit: int | None = Query(None, ge=1, le=100_000),
          offset: int = Query(0, ge=0, le=2**62)) -> dict:
    """Calls to check (needs_review, not corrected yet), least confident first; of one batch or of every
    call in the store (batches, and runs of `predict --store` into the same store); `limit`/`offset` page
    through them (`count`: how many there are in all)."""
    if service.learning:  # cover the calls first, then mix uncertainty with diversity: every candidate is read
        ids = batch_or_404(service, batch)["call_ids"] if batch else service.work.listed_ids()[1]
        rows = review_queue(service.work, ids, service.company_says)
        rows = labelling_order(service.work, rows) if len(rows) > 1 else rows
        return {"labels": service.labels, "count": len(rows), "offset": offset,
                "calls": rows[offset:offset + limit if limit else None]}
    if batch:
        batch_or_404(service, batch)
    filters = SearchFilters(needs_review=True, state="done", batch=batch)  # the search index knows both
    count, ids = SearchIndex(service.work.db).search(None, filters, limit or 2**62, offset, least_confident=True)
    return {"labels": service.labels, "count": count, "offset": offset,
            "calls": review_queue(service.work, ids, service.company_says)}


@router.get("/v1/calls")
def every_call(service: ServiceDep, limit: int | None = Query(None, ge=1, le=100_000),
               offset: int = Query(0, ge=0, le=2**62)) -> dict:
    """The table of every call in the store (with a result, or the service's own still to run), batches, pushed
    calls and `predict --store` runs alike, labelled or not, oldest first; `limit`/`offset` page through a large store (`calls`: how many there are in all)."""
    count, ids = service.work.listed_ids(service.batches.jobs, limit, offset)  # the service's calls once stored
    return {"calls": count, "offset": offset, "results": results_table(service.work, ids)}


@router.get("/v1/calls/{call_id}")
def call(service: ServiceDep, call_id: int = CALL_ID) -> dict:
    """One call: its result row (transcript, probabilities) and every correction of it, oldest first."""
    rows = service.work.calls([call_id])
    if not rows:
        raise HTTPException(404, f"no call {call_id}")
    row = rows[0]  # shown by its file's name, not the server's path (public)
    history = named([c for c in Corrections(service.work.db).all(history=True) if c["call_id"] == call_id])
    result = public({**row["result"], "source": row["source"]}) if row["result"] else None
    return {**public(row), "result": result, "labels": service.labels, "corrections": history,
            "audio": f"v1/calls/{call_id}/audio"}


@router.post("/v1/calls/{call_id}/correction")
async def correct(request: Request, service: ServiceDep, call_id: int = CALL_ID) -> dict:
    """Save a person's label: JSON {"label": …, "reason": …, "reviewer": …}; a later one supersedes."""
    body = await read_json(request, '{"label": "...", "reason": "...", "reviewer": "..."}')
    label = body.get("label") if isinstance(body, dict) else None
    if label not in service.labels:
        raise HTTPException(422, f"label must be one of: {', '.join(service.labels)}")
    reason = text_field(body, "reason")
    if reason and service.needs.redactor is not None:  # under --redact a reviewer's words are kept redacted too
        reason = redact_fragment(reason, service.needs.redactor)  # a few words, often no sentence around a name
    try:
        saved = Corrections(service.work.db).add(call_id, label, reason, text_field(body, "reviewer"))
    except CallsortError as exc:
        raise HTTPException(404, str(exc)) from None
    if service.learning:  # enough new labels: a candidate trains in the background
        service.learning.learner.labelled()
    return named([saved])[0]


@router.get("/v1/corrections")
def corrections(service: ServiceDep, history: bool = False) -> dict:
    """The corrections: the latest of each call, or every one with ?history=true."""
    return {"corrections": named(Corrections(service.work.db).export_rows(history))}


@router.get("/v1/corrections.csv")
def corrections_csv(service: ServiceDep, history: bool = False) -> Response:
    return csv_response(named(Corrections(service.work.db).export_rows(history)), "corrections.csv",
                        list(CORRECTION_COLUMNS))
