"""The page's sign-in: a key traded for an HttpOnly, SameSite=Strict session cookie; sign-out ends it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from .access import SESSION_COOKIE, role_of_key
from .deps import ServiceDep
from .requests import read_json

router = APIRouter()


@router.post("/v1/session")
async def sign_in(request: Request, response: Response, service: ServiceDep) -> dict:
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


@router.get("/v1/session")
def session(request: Request, service: ServiceDep) -> dict:
    """Who this browser is signed in as (no call content)."""
    return {"role": service.role(request), "open": service.config.no_auth}


@router.delete("/v1/session")
def sign_out(request: Request, response: Response, service: ServiceDep) -> dict:
    service.sessions.close(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"role": None}
