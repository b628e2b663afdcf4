"""Who may ask what: the API key and the reviewer key (headers), sessions for the web page (an HttpOnly cookie
traded for a key), and the checks that keep other sites from acting through a user's browser.

Sessions are kept in the results store when the service has one (a restart keeps them), else in memory (a
restart signs everyone out). A session ends after `session_hours` without use, `session_max_hours` after
sign-in, when signed out, or when the key it was signed in with changes. Wrong keys are counted per client
address (KeyThrottle): after ten in ten minutes, that address's keys get 429 for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
from collections import deque
from typing import NamedTuple
from urllib.parse import urlsplit

SESSION_COOKIE = "callsort_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
BODY_TYPES = ("application/json", "multipart/form-data")


class SessionRecord(NamedTuple):
    role: str
    key_mark: str  # HMAC-SHA256 of the key signed in with, keyed by the session's token
    opened_at: float
    last_seen: float


class Sessions:
    """Session tokens -> role. Only a token's SHA-256 is kept, so a copy of the store opens no session; beside it
    a hash of the key signed in with, keyed by the token (a copy of the store tests no key guesses), so a
    session dies when its key changes. A session ends `idle_seconds` after its last use, `max_seconds` after
    sign-in, or at sign-out."""

    def __init__(self, keys: dict[str, str | None], idle_seconds: float, max_seconds: float, db=None):
        self.keys, self.idle_seconds, self.max_seconds, self.db = keys, idle_seconds, max_seconds, db
        self.memory: dict[str, SessionRecord] = {}
        self.lock = threading.Lock()

    def open(self, role: str) -> str:
        token, now = secrets.token_urlsafe(32), time.time()
        self._prune(now)
        self._put(_digest(token), SessionRecord(role, self._mark(token, role), now, now))
        return token

    def role(self, token: str | None) -> str | None:
        """The token's role, refreshing its last use; None when unknown, over, or signed in with another key."""
        if not token:
            return None
        digest, now = _digest(token), time.time()
        found = self._get(digest)
        if found is None or not self._alive(found, token, now):
            self._delete(digest)
            return None
        if now - found.last_seen > 60:  # at most one write a minute per session
            self._touch(digest, now)
        return found.role

    def close(self, token: str | None) -> None:
        if token:
            self._delete(_digest(token))

    def _alive(self, found: SessionRecord, token: str, now: float) -> bool:
        return (now - found.last_seen <= self.idle_seconds and now - found.opened_at <= self.max_seconds
                and bool(self.keys.get(found.role)) and hmac.compare_digest(found.key_mark, self._mark(token, found.role)))

    def _mark(self, token: str, role: str) -> str:
        return hmac.new(token.encode(), (self.keys.get(role) or "").encode(), hashlib.sha256).hexdigest()

    # --- storage: the store's page_sessions table, or this process's memory ------------------------------

    def _get(self, digest: str) -> SessionRecord | None:
        if self.db is None:
            with self.lock:
                return self.memory.get(digest)
        from sqlalchemy import select

        table = self.db.table("page_sessions")
        with self.db.engine.connect() as conn:
            row = conn.execute(select(table.c.role, table.c.key_mark, table.c.opened_at, table.c.last_seen)
                               .where(table.c.digest == digest)).first()
        return SessionRecord(*row) if row else None

    def _put(self, digest: str, record: SessionRecord) -> None:
        if self.db is None:
            with self.lock:
                self.memory[digest] = record
            return
        with self.db.engine.begin() as conn:
            conn.execute(self.db.table("page_sessions").insert().values(digest=digest, **record._asdict()))

    def _touch(self, digest: str, seen: float) -> None:
        if self.db is None:
            with self.lock:
                if digest in self.memory:
                    self.memory[digest] = self.memory[digest]._replace(last_seen=seen)
            return
        table = self.db.table("page_sessions")
        with self.db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.digest == digest).values(last_seen=seen))

    def _delete(self, digest: str) -> None:
        if self.db is None:
            with self.lock:
                self.memory.pop(digest, None)
            return
        table = self.db.table("page_sessions")
        with self.db.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.digest == digest))

    def _prune(self, now: float) -> None:
        """Forget sessions that are over, so the table holds only live ones."""
        idle, opened = now - self.idle_seconds, now - self.max_seconds
        if self.db is None:
            with self.lock:
                self.memory = {d: r for d, r in self.memory.items() if r.last_seen >= idle and r.opened_at >= opened}
            return
        from sqlalchemy import or_

        table = self.db.table("page_sessions")
        with self.db.engine.begin() as conn:
            conn.execute(table.delete().where(or_(table.c.last_seen < idle, table.c.opened_at < opened)))


class KeyThrottle:
    """Wrong keys per client address: after `limit` of them within `window` seconds, every key from that address
    is refused until the oldest of them is `window` old. A right key does not lift it (that would tell a guesser
    it was right). Requests without a key are never counted."""

    def __init__(self, limit: int = 10, window: float = 600.0, max_clients: int = 10_000):
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds before `client` may try a key again; 0 when it may now."""
        now = time.time()
        with self.lock:
            times = self.failures.get(client)
            while times and times[0] <= now - self.window:
                times.popleft()
            return times[0] + self.window - now if times and len(times) >= self.limit else 0.0

    def failed(self, client: str) -> None:
        now = time.time()
        with self.lock:
            if client not in self.failures and len(self.failures) >= self.max_clients:  # bounded memory
                self.failures = {c: t for c, t in self.failures.items() if t and t[-1] > now - self.window}
                if len(self.failures) >= self.max_clients:
                    self.failures.clear()
            self.failures.setdefault(client, deque(maxlen=self.limit)).append(now)


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
        if origin and origin_host(origin) != host.lower():
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


def origin_host(origin: str) -> str | None:
    """The host[:port] of an Origin header, lower-cased; None for one that is no URL (e.g. 'http://[')."""
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



