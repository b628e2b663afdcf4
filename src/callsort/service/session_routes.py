"""The page's sign-in: a key traded for an HttpOnly, SameSite=Strict session cookie; sign-out ends it. Wrong keys
count towards the client's throttle (access.KeyThrottle) as wrong header keys do."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from .access import SESSION_COOKIE
from .deps import ServiceDep
from .requests import read_json

router = APIRouter()


@router.post("/v1/session")
async def sign_in(request: Request, response: Response, service: ServiceDep) -> dict:
    body = await read_json(request, '{"key": "..."}')
    key = body.get("key") if isinstance(body, dict) else None
    role = service.key_role(key, request) if isinstance(key, str) and key else None
    if role is None:
        raise HTTPException(401, "wrong key")
    # https as the server saw it: behind a proxy, from X-Forwarded-Proto only with --trust-forwarded (serve())
    response.set_cookie(SESSION_COOKIE, service.sessions.open(role), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/",
                        max_age=int(service.config.session_max_hours * 3600))
    return {"role": role}


@router.get("/v1/session")
def session(request: Request, service: ServiceDep) -> dict:
    """Who this browser is signed in as (no call content)."""
    return {"role": service.role(request), "open": service.config.no_auth}


@router.delete("/v1/session")
def sign_out(request: Request, response: Response, service: ServiceDep) -> dict:
    service.sessions.close(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"role": None}
