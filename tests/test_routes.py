"""Batches and review over HTTP: every route that shows call content needs a key, and recordings are served
from a batch's own folder only, whatever path a request tries."""

import os
import socket

import pytest
from conftest import LOCAL, finished_batch, start_server
from fastapi.testclient import TestClient

KEY, REVIEWER = "admin-key-for-tests", "reviewer-key-for-tests"


@pytest.fixture(scope="module")
def reviewed(tfidf_dir, booked_call, tmp_path_factory):
    """An in-process service with a finished folder batch: one real recording, a corrupt one, and symlinks
    named like a recording and a transcript that lead outside the folder (never read)."""
    from fastapi.testclient import TestClient

    from callsort.config import AsrConfig
    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    root = tmp_path_factory.mktemp("review")
    folder = root / "calls"
    folder.mkdir()
    (folder / "booked.mp3").write_bytes(booked_call.read_bytes())
    (folder / "broken.mp3").write_bytes(b"not audio at all")
    (root / "secret.mp3").write_bytes(b"outside the batch folder")
    (root / "secret.txt").write_text("Hi, this is the secret call outside the folder, book me in")
    os.symlink(root / "secret.mp3", folder / "escape.mp3")
    os.symlink(root / "secret.txt", folder / "escape.txt")
    config = ServeConfig(store=str(root / "jobs.db"), api_key=KEY, reviewer_key=REVIEWER, review_below=1.01)
    client = TestClient(create_app(tfidf_dir, config, AsrConfig(use_cache=False)), base_url=LOCAL)
    batch = client.post("/v1/batches", json={"folder": str(folder)}, headers={"x-api-key": KEY}).json()
    body = finished_batch(client, batch["id"], {"x-api-key": KEY}, seconds=120)
    ids = {r["source"]: r["id"] for r in body["results"]}
    return client, batch["id"], ids


def content_routes(batch: str, call: int) -> list[tuple[str, str, dict]]:
    return [("get", "/v1/batches", {}), ("get", f"/v1/batches/{batch}", {}),
            ("get", f"/v1/batches/{batch}/results.csv", {}), ("get", "/v1/review", {}),
            ("get", f"/v1/calls/{call}", {}), ("get", f"/v1/calls/{call}/audio", {}),
            ("post", f"/v1/calls/{call}/correction", {"json": {"label": "Other"}}),
            ("get", "/v1/corrections", {}), ("get", "/v1/corrections.csv", {}),
            ("get", "/v1/calls", {}), ("get", "/v1/callbacks", {}), ("post", f"/v1/callbacks/{call}", {"json": {"done": True}}),
            ("get", "/report/all", {}), ("get", f"/report/all?batch={batch}", {}),
            ("post", "/v1/batches", {"json": {"folder": "/tmp"}}),
            ("post", "/v1/classify", {"json": {"text": "hello"}}), ("post", "/v1/classify/batch", {"json": {"texts": ["a"]}})]


def test_no_key_no_content(reviewed):
    client, batch, ids = reviewed
    for n, (method, path, kwargs) in enumerate(content_routes(batch, ids["booked.mp3"])):
        guest = TestClient(client.app, base_url=LOCAL, client=(f"192.0.2.{n}", 50000))  # one address a route:
        for headers in ({}, {"x-api-key": "wrong"}, {"authorization": "Bearer wrong"}):  # under the throttle
            answer = getattr(guest, method)(path, headers=headers, **kwargs)
            assert answer.status_code == 401, (path, headers, answer.text)
    # a key in the query string, or a raw key as a cookie (what older pages set), is not a key
    assert client.get(f"/v1/calls/{ids['booked.mp3']}?x-api-key={KEY}").status_code == 401
    assert client.get(f"/v1/calls/{ids['booked.mp3']}?key={KEY}").status_code == 401
    assert client.get(f"/v1/calls/{ids['booked.mp3']}", headers={"cookie": f"callsort_key={KEY}"}).status_code == 401
    assert client.get(f"/v1/calls/{ids['booked.mp3']}", headers={"cookie": f"callsort_session={KEY}"}).status_code == 401
    assert client.get("/healthz").json()["review"] is True
    assert client.get("/v1/corrections", headers={"x-api-key": KEY}).json() == {"corrections": []}  # none made


def test_roles_results_and_audio(reviewed):
    client, batch, ids = reviewed
    reviewer = {"x-api-key": REVIEWER}
    table = client.get(f"/v1/batches/{batch}", headers=reviewer).json()
    assert table["done"] == 1 and table["failed"] == 1 and table["calls"] == 2
    assert client.post("/v1/batches", json={"folder": "/etc"}, headers=reviewer).status_code == 403
    audio = client.get(f"/v1/calls/{ids['booked.mp3']}/audio", headers={**reviewer, "range": "bytes=0-1023"})
    assert audio.status_code == 206 and len(audio.content) == 1024
    assert client.get(f"/v1/calls/{ids['booked.mp3']}/audio", headers={"cookie": f"callsort_key={REVIEWER}"}).status_code == 401
    signed = TestClient(client.app, base_url=LOCAL)  # a browser: the key traded for a session cookie
    assert signed.post("/v1/session", json={"key": REVIEWER}).json() == {"role": "reviewer"}
    assert signed.get(f"/v1/calls/{ids['booked.mp3']}/audio").status_code == 200  # <audio> sends the cookie
    assert signed.post("/v1/batches", json={"folder": "/etc"}).status_code == 403  # still a reviewer's rights
    assert set(ids) == {"booked.mp3", "broken.mp3"}  # the symlinks out of the folder were not read
    rows = client.get("/v1/calls", headers={"x-api-key": KEY}).text
    assert "secret" not in rows and "escape" not in rows
    assert client.post(f"/v1/calls/{ids['booked.mp3']}/correction", json={"label": "Not a label"},
                       headers=reviewer).status_code == 422
    csv_text = client.get(f"/v1/batches/{batch}/results.csv", headers=reviewer).text
    assert csv_text.startswith("id,source,state,label,confidence") and "booked.mp3" in csv_text


def test_a_refused_range_answers_json_like_every_4xx(reviewed):
    """Issue 32 (found by tests/test_fuzz.py): a malformed Range or one past the end got Starlette's plain text."""
    client, _, ids = reviewed
    path, key = f"/v1/calls/{ids['booked.mp3']}/audio", {"x-api-key": KEY}
    for asked, status in (("bytes=x", 400), ("", 400), ("bytes=5-1", 400), ("bytes=999999999-", 416)):
        answer = client.get(path, headers={**key, "range": asked})
        assert answer.status_code == status and "Range" in answer.json()["detail"], (asked, answer.text)
    assert client.get(path, headers={**key, "range": "bytes=999999999-"}).headers["content-range"].startswith("bytes */")
    assert client.get(path, headers={**key, "range": "bytes=0-9"}).content == client.get(path, headers=key).content[:10]


def test_callback_ticks_are_checked_and_kept(reviewed):
    client, batch, ids = reviewed
    reviewer = {"x-api-key": REVIEWER}
    call = ids["booked.mp3"]
    assert client.post(f"/v1/callbacks/{call}", json={"done": "yes"}, headers=reviewer).status_code == 422
    assert client.post("/v1/callbacks/99999", json={"done": True}, headers=reviewer).status_code == 404
    assert client.post(f"/v1/callbacks/{call}", json={"done": True, "by": "Ann"}, headers=reviewer).json()["done"] is True
    from callsort.jobs.ticks import CallbackTicks

    ticks = CallbackTicks(client.app.state.service.work.db)
    assert ticks.done() == {call}
    client.post(f"/v1/callbacks/{call}", json={"done": False}, headers=reviewer)
    assert ticks.done() == set()
    listed = client.get(f"/v1/callbacks?batch={batch}", headers=reviewer).json()["callbacks"]
    assert all(c["call_id"] in ids.values() and "/" not in c["source"] for c in listed)  # file names, no paths
    assert client.get("/v1/callbacks?batch=000000000000", headers=reviewer).status_code == 404


@pytest.mark.parametrize("path", ["/v1/calls/..%2F..%2Fetc%2Fpasswd/audio", "/v1/calls/%2Fetc%2Fpasswd/audio",
                                  "/v1/calls/1%2F..%2F..%2F..%2Fetc%2Fpasswd/audio", "/v1/calls/-1/audio",
                                  "/v1/calls/99999/audio", "/v1/calls/1/audio/../../../../etc/passwd"])
def test_audio_never_serves_a_path_it_was_not_given(reviewed, path):
    client, _, _ = reviewed
    answer = client.get(path, headers={"x-api-key": KEY})
    assert answer.status_code in (404, 422) and b"root:" not in answer.content


@pytest.mark.slow
def test_raw_dot_segments_on_a_real_server(tfidf_dir, tmp_path):
    """HTTP clients normalise ../ away; a raw request does not. None of them reads a file."""
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY)
    host, port = url.removeprefix("http://").split(":")
    try:
        for target in ("/v1/calls/../../../../etc/passwd", "/v1/calls/1/audio/../../../../../etc/passwd",
                       "/../../etc/passwd", "//etc/passwd", "/v1/calls/%2e%2e/%2e%2e/etc/passwd/audio"):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nx-api-key: {KEY}\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := s.recv(65536):
                    answer += chunk
            assert not answer.startswith(b"HTTP/1.1 200") and b"root:" not in answer, target
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_route_needs_no_whisper(tfidf_dir, tmp_path):
    """The routes read the service through FastAPI dependencies: an app around a service for transcripts
    only loads no speech model, and its review routes work from a folder batch of .txt calls."""
    from callsort.config import AsrConfig
    from callsort.service.app import Service, build_app
    from callsort.service_config import ServeConfig

    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "a.txt").write_text("Hi, my AC is out, can you come tomorrow? Yes, 9 am, you're booked.")
    service = Service(tfidf_dir, ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY, review_below=1.01),
                      AsrConfig(use_cache=False), recordings=False)
    assert service.needs.recogniser is None
    client = TestClient(build_app(service), base_url=LOCAL)
    assert client.get("/healthz").json()["asr_model"] is None
    batch = client.post("/v1/batches", json={"folder": str(folder)}, headers={"x-api-key": KEY}).json()
    body = finished_batch(client, batch["id"], {"x-api-key": KEY})
    assert [r["source"] for r in body["results"]] == ["a.txt"] and body["results"][0]["state"] == "done"
    queue = client.get("/v1/review", headers={"x-api-key": KEY}).json()
    assert [c["source"] for c in queue["calls"]] == ["a.txt"]
    assert client.get("/v1/review").status_code == 401
