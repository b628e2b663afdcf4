"""What every answer carries and what the access log keeps: security headers (a Content-Security-Policy with no
inline script, no framing, no sniffing, no caching of call content) and access-log lines without query strings
(a key or a name put in a URL by mistake is not written to the log)."""

from __future__ import annotations

import copy
import logging

# The page's own scripts and styles only (service/static/), its own API, and recordings it streams; nothing
# inline, no other origin, never in a frame. The report page draws inline SVG and one inline <style>: it runs no
# script at all.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'none'")
CACHEABLE = ("/static/",)  # the page's scripts and styles: no call content


class SecurityHeaders:
    """ASGI middleware: every answer gets nosniff, no framing, no referrer and a CSP; everything but the static
    assets gets `Cache-Control: no-store` (answers, the report, CSV and recordings hold call content)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"no-referrer"),
                 (b"content-security-policy", (REPORT_POLICY if path.startswith("/report/") else PAGE_POLICY).encode())]
        if not path.startswith(CACHEABLE):
            extra.append((b"cache-control", b"no-store"))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((k, v) for k, v in extra if k not in names)]}
            await send(message)

        await self.app(scope, receive, with_headers)


class NoQuery(logging.Filter):
    """uvicorn's access-log records with the request's query string cut off."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def log_config() -> dict:
    """uvicorn's logging configuration with NoQuery on its access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": f"{__name__}.NoQuery"}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
