"""Issue 32: never a 500. Hypothesis sends odd JSON bodies, path ids, queries, uploads and headers to every route
of one real `callsort serve` (the routes come from the app itself, so a new route is fuzzed without editing this
file), with the API key, the reviewer key, no key, odd cookies and wrong keys. Every answer must be below 500, a
4xx must carry a JSON `detail`, and the service must still answer /healthz at the end.

Requests go over a raw socket (httpx would tidy '..' and encodings away). Wrong keys come from their own loopback
addresses (127.0.0.2 …), a few per address, so the wrong-key throttle never reaches the keyed requests."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import start_server, tone, write_wav
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

KEY, REVIEWER = "fuzz-admin-key-0123456789", "fuzz-reviewer-key-0123456789"
FIELDS = ("text", "texts", "key", "folder", "label", "reason", "reviewer", "done", "by", "history", "batch")


def fuzz(examples: int, *route: str):
    """Reproducible in CI (derandomized, no example database), however slow one request is; each route and kind of
    input draws its own examples (a fixed seed of its own: derandomized alone, every route would get the same)."""
    def wrap(test):
        configured = settings(derandomize=True, deadline=None, max_examples=examples, database=None,
                              suppress_health_check=list(HealthCheck))(test)
        return seed(zlib.crc32(" ".join((test.__qualname__, *route)).encode()))(configured)
    return wrap


WRONG_SOURCES = (f"127.0.0.{n // 5 % 250 + 2}" for n in itertools.count())  # 5 wrong keys per address (limit 10)


@dataclass
class Target:
    host: str
    port: int
    batch_id: str
    call_ids: list[int]
    audio_id: int  # the call with a recording
    routes: list[tuple[str, str, list[str]]]  # (method, path template, query parameter names)


def app_routes(tfidf_dir: Path, store: Path) -> list[tuple[str, str, list[str]]]:
    """Every (method, path, query names) of the app as build_app makes it, hidden routes included."""
    from fastapi.routing import APIRoute

    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    def query_names(dependant) -> set[str]:  # the route's own and its dependencies'
        return {p.name for p in dependant.query_params}.union(*map(query_names, dependant.dependencies))

    def walk(routes, prefix: str = ""):  # FastAPI >= 0.160 keeps included routers as routes of their own
        for r in routes:
            if isinstance(r, APIRoute):
                yield from ((m, prefix + r.path, sorted(query_names(r.dependant))) for m in sorted(r.methods))
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes, prefix + getattr(r.include_context, "prefix", ""))

    return list(walk(create_app(tfidf_dir, ServeConfig(store=str(store), api_key=KEY), recordings=False).routes))


@pytest.fixture(scope="module")
def server(tfidf_dir, tmp_path_factory):
    """One real service with a store, both keys and a finished batch (two transcripts and a short recording)."""
    root = tmp_path_factory.mktemp("fuzz")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(root / "jobs.db"), "--api-key", KEY,
                             "--reviewer-key", REVIEWER, "--no-cache", "--max-audio-minutes", "0.05",
                             "--max-upload-mb", "4")
    try:
        files = [("files", ("a.txt", b"Hi, my AC is out, can you come tomorrow? Yes, 9 am, you're booked.")),
                 ("files", ("b.txt", b"I'm calling to cancel my service plan, thanks.")),
                 ("files", ("c.wav", write_wav(root / "c.wav", tone(1.0)).read_bytes()))]
        batch = httpx.post(f"{url}/v1/batches", files=files, headers={"x-api-key": KEY}, timeout=60).json()
        for _ in range(600):
            answer = httpx.get(f"{url}/v1/batches/{batch['id']}", headers={"x-api-key": KEY}).json()
            if answer["finished"]:
                break
            time.sleep(0.1)
        host, port = url.removeprefix("http://").split(":")
        ids = {r["source"]: r["id"] for r in answer["results"]}
        yield Target(host, int(port), batch["id"], sorted(ids.values()), ids["c.wav"],
                     app_routes(tfidf_dir, root / "schema.db"))
        assert proc.poll() is None, "the service died"
        log = proc.log_path.read_text(errors="replace")
        assert "Traceback" not in log and "Exception in ASGI" not in log, log[-3000:]
        assert httpx.get(f"{url}/healthz", timeout=10).json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def send(server: Target, method: str, target: str, headers: list[tuple[bytes, bytes]] = (), body: bytes = b"",
         source: str = "127.0.0.1") -> None:
    """One request as raw HTTP/1.1 (the target sent as given), its answer checked: below 500, a 4xx in JSON."""
    head = f"{method} {target} HTTP/1.1\r\nConnection: close\r\n"
    head += "" if any(k == b"host" for k, _ in headers) else f"Host: {server.host}:{server.port}\r\n"
    head += f"Content-Length: {len(body)}\r\n" if body or method in ("POST", "DELETE") else ""
    lines = b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    with socket.create_connection((server.host, server.port), timeout=120, source_address=(source, 0)) as s:
        s.sendall(head.encode("latin-1") + lines + b"\r\n" + body)
        answer = http.client.HTTPResponse(s, method=method)
        answer.begin()
        data = answer.read()
    said = f"{method} {target[:200]} {headers!r:.300} {body[:300]!r} -> {answer.status} {data[:500]!r}"
    assert answer.status < 500, said
    if answer.status >= 400 and method != "HEAD":
        assert answer.getheader("content-type", "").startswith("application/json"), said
        assert json.loads(data)["detail"], said


# --- strategies ------------------------------------------------------------------------------------------------

ODD = ["", " ", ".", "..", "../../etc/passwd", "/", "//", "\\", "\x00", "%2F", "%00", "\u202e", "\ufeff", "\U0001f4de",
       "NaN", "-1", "9" * 40, "'; drop table calls;--", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "\udc80"]
odd_text = st.one_of(st.text(max_size=30), st.text(st.characters(categories=["Cs", "Cc", "Zs", "Mn"]), max_size=8),
                     st.sampled_from(ODD), st.integers(256, 120_000).map(lambda n: "x" * n))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), odd_text)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.sampled_from(FIELDS) | odd_text, kids, max_size=4), max_leaves=10)
shaped = st.fixed_dictionaries({}, optional={f: odd_text | json_values for f in FIELDS})


def dumps(value) -> bytes:
    """JSON as a client might send it: NaN/Infinity tokens, lone surrogates as "\\udXXX" escapes."""
    return json.dumps(value, allow_nan=True).encode()


json_bodies = st.one_of(
    shaped.map(dumps), json_values.map(dumps),
    st.tuples(shaped.map(dumps), st.integers(1, 40)).map(lambda t: t[0][:-t[1]]),  # truncated
    shaped.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),  # not UTF-8
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 5000).map(lambda n: b'{"text":' * n + b'"x"' + b"}" * n),
    st.sampled_from([b'{"text": NaN}', b'{"texts": [Infinity, -Infinity]}', b'{"text": "\\ud800 my AC"}',
                     b'{"key": "\\udfff\\ud800"}', b'{"text": 1' + b"0" * 5000 + b"}", b"", b"{", b"\xff\xfe",
                     b"null", b"[]", b'"\\ud800"', b'{"label": "Booked", "reason": "\\ud800", "done": true}',
                     dumps({"texts": ["my AC is out"] * 10_001}), dumps({"texts": ["my AC is out"] * 300})]),
    st.fixed_dictionaries({"label": st.just("Other")}, optional={"reason": odd_text, "reviewer": json_values}).map(dumps),
    st.binary(max_size=300))
content_types = st.sampled_from(["application/json"] * 6 + ["application/json; charset=utf-8", "APPLICATION/JSON",
                                 "application/json;;", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data", "multipart/form-data; boundary=", "", "*/*",
                                 "multipart/form-data; boundary=zz"])
credentials = st.sampled_from(["admin", "admin", "reviewer", "none", "cookie", "wrong"])


def url_part(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


path_values = st.one_of(
    st.integers(-2**70, 2**70).map(str), odd_text.map(lambda s: url_part(s[:300])),
    st.sampled_from(["0", "1", str(2**63), str(2**63 - 1), "1e3", "0x10", "%201", "1.0", "..", ".", "%2F",
                     "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "1/../2", "%", "%zz", "%ff%fe", "abcdef012345",
                     "ABCDEF012345", "all", "a" * 5000]))
queries = st.lists(st.tuples(st.sampled_from(FIELDS) | odd_text.map(lambda s: s[:50]),
                             odd_text.map(lambda s: s[:2000])), max_size=3)


def with_credential(credential: str, extra: bytes) -> tuple[list[tuple[bytes, bytes]], str]:
    """The headers of a credential, and the loopback address to send from (wrong keys: their own)."""
    if credential == "admin":
        return [(b"x-api-key", KEY.encode())], "127.0.0.1"
    if credential == "reviewer":
        return [(b"authorization", b"Bearer " + REVIEWER.encode())], "127.0.0.1"
    if credential == "cookie":
        return [(b"cookie", b"callsort_session=" + extra)], "127.0.0.1"
    if credential == "wrong":
        return [(b"x-api-key", extra or b"x")], next(WRONG_SOURCES)
    return [], "127.0.0.1"


header_bytes = st.binary(max_size=80).map(lambda b: bytes(c for c in b if c >= 32 and c != 127))


def fill(server: Target, path: str, values: list[str]) -> str:
    """The path with its {parameters} replaced by `values` in turn, then by real ids (and names) of the store."""
    parts, values = path.split("/"), iter(values or [])
    out = []
    for part in parts:
        if part.startswith("{"):
            real = {"{batch_id}": server.batch_id, "{job}": "all", "{name}": "page.js"}.get(
                part, str(server.audio_id if "audio" in path else server.call_ids[0]))
            part = next(values, real)
        out.append(part)
    return "/".join(out)


def safe_folders(body: bytes) -> bytes:
    """A body whose "folder" names an existing folder other than the root would start real work: not sent."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return body
    folder = value.get("folder") if isinstance(value, dict) else None
    if isinstance(folder, str) and folder.strip("/") and os.path.isdir(folder):
        return dumps({**value, "folder": folder + "/no-such-folder"})
    return body


# --- the tests ---------------------------------------------------------------------------------------------------

def test_every_route_is_fuzzed_and_the_schema_lists_no_other(server):
    """The routes come from the app: every path of the keyed /openapi.json is among them."""
    schema = httpx.get(f"http://{server.host}:{server.port}/openapi.json", headers={"x-api-key": KEY}).json()
    listed = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert listed <= {(m, p) for m, p, _ in server.routes} and len(listed) >= 15


def fuzz_json(server: Target, method: str, path: str, _names: list[str]):
    @fuzz(80, method, path)
    @given(body=json_bodies, kind=content_types, credential=credentials, extra=header_bytes)
    def run(body, kind, credential, extra):
        headers, source = with_credential(credential, extra)
        if path == "/v1/session" and method == "POST":  # keys in the body count as wrong keys too
            source = next(WRONG_SOURCES)
        send(server, method, fill(server, path, []), [*headers, (b"content-type", kind.encode())],
             safe_folders(body), source)
    return run


def test_json_bodies_never_a_500(server):
    for route in server.routes:
        fuzz_json(server, *route)()


def fuzz_path(server: Target, method: str, path: str, names: list[str]):
    @fuzz(50, method, path)
    @given(values=st.lists(path_values, max_size=2), query=queries, known=st.sampled_from(names or [""]),
           value=odd_text, credential=credentials, extra=header_bytes)
    def run(values, query, known, value, credential, extra):
        pairs = [(known, value[:2000]), *query] if known else query
        target = fill(server, path, values) + ("?" + "&".join(f"{url_part(k)}={url_part(v)}" for k, v in pairs)
                                                if pairs else "")
        headers, source = with_credential(credential, extra)
        body = b'{"done": true, "label": "Other"}' if method == "POST" else b""
        send(server, method, target, [*headers, (b"content-type", b"application/json")], body, source)
    return run


def test_path_ids_and_queries_never_a_500(server):
    for route in server.routes:
        fuzz_path(server, *route)()


file_names = st.tuples(st.one_of(st.from_regex(r"[A-Za-z0-9 _-]{1,20}", fullmatch=True), odd_text.map(lambda s: s[:300]),
                                 st.sampled_from(["call", "../../etc/passwd", ".hidden", "a\\b", "a\r\nb", "x" * 250])),
                       st.sampled_from(["", ".txt", ".csv", ".tsv", ".jsonl", ".parquet", ".mp3", ".wav", ".flac",
                                        ".TXT", ".exe", "."])).map(lambda t: t[0] + t[1])
file_bytes = st.one_of(st.binary(max_size=2000), odd_text.map(lambda s: s[:3000].encode("utf-8", "surrogatepass")),
                       st.sampled_from([b"", b"Text\nmy AC is out\n", b'Text,Tag\n"unclosed\n', b"Text\n\n\n",
                                        b'{"Text": 1}\n{"Text": null}\n', b"PAR1garbagePAR1", b"RIFF\x24\x00\x00\x00WAVE",
                                        b"ID3\x03\x00\x00\x00\x00\x00\x00", b"fLaC\x00\x00\x00\x22"]))
parts = st.lists(st.tuples(st.sampled_from(["file", "files", "", "x\"y"]), file_names, file_bytes,
                           st.sampled_from(["application/octet-stream", "audio/mpeg", "text/plain", ""])),
                 min_size=0, max_size=3)


def multipart(fields: list[tuple[str, str, bytes, str]], boundary: bytes = b"fuzzboundary") -> bytes:
    """A multipart body written by hand: names and bytes exactly as drawn (no client tidies them)."""
    out = b""
    for field, name, data, kind in fields:
        out += (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + field.encode() + b'"; filename="'
                + name.encode("utf-8", "surrogatepass") + b'"\r\n' + (f"Content-Type: {kind}\r\n".encode() if kind
                                                                      else b"") + b"\r\n" + data + b"\r\n")
    return out + b"--" + boundary + b"--\r\n"


def fuzz_upload(server: Target, method: str, path: str, _names: list[str]):
    @fuzz(150, method, path)
    @given(fields=parts, credential=st.sampled_from(["admin", "admin", "reviewer", "none"]),
           boundary=st.sampled_from(["fuzzboundary"] * 4 + ["other", ""]))
    def run(fields, credential, boundary):
        headers, _ = with_credential(credential, b"")
        kind = f"multipart/form-data; boundary={boundary}".encode()
        send(server, method, fill(server, path, []), [*headers, (b"content-type", kind)], multipart(fields))
    return run


def test_uploads_never_a_500(server):
    for route in server.routes:
        if route[0] == "POST" and route[1] != "/v1/session":  # the sign-in reads no upload; its wrong keys count
            fuzz_upload(server, *route)()


odd_headers = st.lists(st.tuples(st.sampled_from([b"origin", b"sec-fetch-site", b"host", b"range", b"cookie",
                                                  b"authorization", b"x-api-key", b"x-forwarded-for",
                                                  b"x-forwarded-proto", b"accept", b"if-range"]),
                                 header_bytes | st.sampled_from([b"http://[", b"http://[::1", b"bytes=0-", b"bytes=-1",
                                                                 b"bytes=5-1", b"bytes=0-0,1-1,2-2", b"bytes=x",
                                                                 b"Bearer ", b"null", b"chunked"])),
                       min_size=1, max_size=3)


def fuzz_headers(server: Target, method: str, path: str, _names: list[str]):
    @fuzz(40, method, path)
    @given(headers=odd_headers, keyed=st.booleans())
    def run(headers, keyed):
        # a second Host is refused by uvicorn's parser (plain text) before the app sees the request
        headers = [h for h in headers if h[0] != b"host"] + [h for h in headers if h[0] == b"host"][:1]
        wrong = {k for k, _ in headers} & {b"authorization", b"x-api-key"}
        source = next(WRONG_SOURCES) if wrong else "127.0.0.1"
        key = [(b"x-api-key", KEY.encode())] if keyed and not wrong else []
        send(server, method, fill(server, path, []), [*key, *headers, (b"content-type", b"application/json")],
             b'{"done": true}' if method == "POST" else b"", source)
    return run


def test_odd_headers_never_a_500(server):
    for route in server.routes:
        fuzz_headers(server, *route)()
