"""Who may ask what: the API key and the reviewer key (headers), sessions for the web page (an HttpOnly cookie
traded for a key), and the checks that keep other sites from acting through a user's browser.

Sessions are kept in the results store when the service has one (a restart keeps them), else in memory (a
restart signs everyone out). A session ends after `session_hours` without use, or when signed out.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit

SESSION_COOKIE = "callsort_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
BODY_TYPES = ("application/json", "multipart/form-data")


class Sessions:
    """Session tokens -> role. Only a token's SHA-256 is kept, so a copy of the store opens no session."""

    def __init__(self, idle_seconds: float, db=None):
        self.idle_seconds, self.db = idle_seconds, db
        self.memory: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def open(self, role: str) -> str:
        token = secrets.token_urlsafe(32)
        self._put(_digest(token), role, time.time())
        return token

    def role(self, token: str | None) -> str | None:
        """The token's role, refreshing its last use; None when unknown or idle too long."""
        if not token:
            return None
        digest, now = _digest(token), time.time()
        found = self._get(digest)
        if found is None or now - found[1] > self.idle_seconds:
            self.close(token)
            return None
        if now - found[1] > 60:  # at most one write a minute per session
            self._put(digest, found[0], now)
        return found[0]

    def close(self, token: str | None) -> None:
        if token:
            self._delete(_digest(token))

    # --- storage: the store's sessions table, or this process's memory ---------------------------------

    def _get(self, digest: str):
        if self.db is None:
            with self.lock:
                return self.memory.get(digest)
        from sqlalchemy import select

        table = self.db.table("sessions")
        with self.db.engine.connect() as conn:
            row = conn.execute(select(table.c.role, table.c.last_seen).where(table.c.digest == digest)).first()
        return (row.role, row.last_seen) if row else None

    def _put(self, digest: str, role: str, seen: float) -> None:
        if self.db is None:
            with self.lock:
                self.memory[digest] = (role, seen)
            return
        from sqlalchemy.exc import IntegrityError

        table = self.db.table("sessions")
        try:
            with self.db.engine.begin() as conn:
                conn.execute(table.delete().where(table.c.digest == digest))
                conn.execute(table.insert().values(digest=digest, role=role, last_seen=seen))
        except IntegrityError:  # two requests of one page refreshed it at once: one refresh is enough
            pass

    def _delete(self, digest: str) -> None:
        if self.db is None:
            with self.lock:
                self.memory.pop(digest, None)
            return
        table = self.db.table("sessions")
        with self.db.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.digest == digest))


def role_of_key(given: str, api_key: str | None, reviewer_key: str | None) -> str | None:
    """'admin' for the API key, 'reviewer' for the reviewer key, else None (compared in constant time)."""
    if api_key and hmac.compare_digest(given.encode(), api_key.encode()):
        return "admin"
    if reviewer_key and hmac.compare_digest(given.encode(), reviewer_key.encode()):
        return "reviewer"
    return None


def header_key(headers) -> str:
    """The key a client sent: x-api-key, or Authorization: Bearer KEY."""
    auth = headers.get("authorization") or ""
    return headers.get("x-api-key") or (auth[7:].strip() if auth.lower().startswith("bearer ") else "")


class SameSiteOnly:
    """ASGI middleware: a request whose Host is not this service's (DNS rebinding) gets 421; a state-changing
    request from another site (Origin, Sec-Fetch-Site) gets 403, or without a JSON or multipart body 415.
    Clients that are not browsers send neither Origin nor Sec-Fetch-Site and pass (they need the key)."""

    def __init__(self, app, allowed_hosts: set[str]):
        self.app, self.allowed_hosts = app, {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.refusal(scope["method"], headers)
        if refusal:
            return await JSONResponse({"detail": refusal[1]}, refusal[0])(scope, receive, send)
        return await self.app(scope, receive, send)

    def refusal(self, method: str, headers: dict) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if not self.host_ok(host):
            return 421, f"this service does not answer to the host name {host.rsplit(':', 1)[0]!r}"
        if method not in UNSAFE:
            return None
        site, origin = headers.get("sec-fetch-site"), headers.get("origin")
        if site and site not in ("same-origin", "none"):
            return 403, "refused: a request from another site (the service takes writes from its own page only)"
        if origin and urlsplit(origin).netloc.lower() != host.lower():
            return 403, "refused: a request from another origin (the service takes writes from its own page only)"
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if int(headers.get("content-length") or 0) and kind not in BODY_TYPES:
            return 415, "send JSON (content-type: application/json) or multipart/form-data"
        return None

    def host_ok(self, host: str) -> bool:
        name = host.rsplit(":", 1)[0].strip("[]").lower() if host.count(":") <= 1 or host.startswith("[") else host
        try:
            ipaddress.ip_address(name)
            return True  # an address literal cannot be rebound by DNS
        except ValueError:
            return name in self.allowed_hosts


def allowed_hosts(listen: str, extra: str | None) -> set[str]:
    """Names this service answers to: localhost, its listen address, this machine's names, and `extra`."""
    names = {"localhost", listen}
    if listen in ("0.0.0.0", "::"):
        names |= {socket.gethostname(), socket.getfqdn()}
    return names | {n.strip() for n in (extra or "").split(",") if n.strip()}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



