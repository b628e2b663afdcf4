"""What the routes depend on, as FastAPI dependencies: the service (model, store, needs) from the app's state,
and who is asking. A route's test can build an app around any Service (one for transcripts only needs no
Whisper) or override these with `app.dependency_overrides`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi import Path as FastPath
from fastapi.responses import Response

from ..output import csv_text
from .review import public

CALL_ID = FastPath(ge=1, le=2**63 - 1)  # a store's integer ids: anything else is a 422, not a database error
BATCH_ID = FastPath(pattern="^[0-9a-f]{12}$")
NO_KEY = "missing or wrong API key (x-api-key, Authorization: Bearer, or sign in)"


def get_service(request: Request):
    """The service the app was built around (app.state.service: an app.Service)."""
    return request.app.state.service


ServiceDep = Annotated[Any, Depends(get_service)]  # an app.Service (Any: FastAPI need not resolve it)


def role(request: Request, service: ServiceDep) -> str:
    """Who is asking (admin or reviewer), from a header or the page's session, never from a query parameter;
    401 for anyone else."""
    found = service.role(request)
    if found is None:
        raise HTTPException(401, NO_KEY)
    return found


def store_role(who: Annotated[str, Depends(role)], service: ServiceDep) -> str:
    """`role`, for the routes of batches and review: 404 when the service has no results store."""
    if service.batches is None:
        raise HTTPException(404, "batches and review need a results store: start the service with --store")
    return who


def batch_or_404(service, batch_id: str) -> dict:
    try:
        return service.batches.batch(batch_id)
    except KeyError:
        raise HTTPException(404, f"no batch {batch_id}") from None


def csv_response(rows: list[dict], name: str, columns: list[str] | None = None) -> Response:
    return Response(csv_text(rows, columns), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def named(rows: list[dict]) -> list[dict]:
    """Rows with each source cut to its file's name: the service does not show its own paths."""
    return [public(r) for r in rows]


def text_field(body: dict, key: str) -> str | None:
    value = body.get(key)
    return str(value)[:500] if value not in (None, "") else None
