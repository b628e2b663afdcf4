"""The service on an office network: never open by accident, no writes from other sites, sessions instead of keys
in URLs, no server paths in answers, inert CSV cells, uploads that never collide, 4xx for bad input, retention and
cancelling. Through a real `callsort serve` over HTTP (and Chromium for signing in and the report link)."""

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, run_cli, start_server

KEY, REVIEWER = "office-key-for-tests", "reviewer-key-for-tests"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tfidf_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("secure")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(root / "jobs.db"), "--api-key", KEY,
                             "--reviewer-key", REVIEWER, "--review-below", "1.01")
    yield {"url": url, "root": root, "proc": proc}
    proc.terminate()
    proc.wait(10)


def admin(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=120)


def finished(client: httpx.Client, batch: dict) -> dict:
    for _ in range(240):
        body = client.get(f"/v1/batches/{batch['id']}").json()
        if body["finished"]:
            return body
        time.sleep(0.5)
    raise AssertionError(body)


def raw(url: str, request: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request.encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_no_key_refuses_to_start_and_says_why(tfidf_dir):
    exe = Path(sys.executable).parent / "callsort"
    for args, said in ((["--api-key", ""], "no API key"), ([], "no API key"),
                       (["--no-auth", "--host", "0.0.0.0"], "loopback only")):
        env = {k: v for k, v in os.environ.items() if k != "CALLSORT_API_KEY"}
        proc = subprocess.run([str(exe), "serve", "--model", str(tfidf_dir), "--port", str(free_port()), *args],
                              capture_output=True, text=True, timeout=60, env=env)
        assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_no_write_from_another_site(server, booked_call):
    url = server["url"]
    with admin(url) as client:
        batch = finished(client, client.post("/v1/batches", files=[("files", ("a.mp3", booked_call.read_bytes()))]).json())
        call = batch["results"][0]["id"]
        correction = f"/v1/calls/{call}/correction"
        body = json.dumps({"label": "Other"})
        evil = {"origin": "http://evil.example", "content-type": "application/json"}
        assert client.post(correction, content=body, headers=evil).status_code == 403
        assert client.post(correction, content=body, headers={"sec-fetch-site": "cross-site",
                                                              "content-type": "application/json"}).status_code == 403
        # what a page elsewhere can send without asking: text/plain JSON, a multipart form
        assert client.post(correction, content=body, headers={"content-type": "text/plain"}).status_code == 415
        upload = client.post("/v1/batches", files=[("files", ("b.mp3", booked_call.read_bytes()))],
                             headers={"origin": "http://evil.example"})
        assert upload.status_code == 403
        assert client.get("/v1/corrections").json()["corrections"] == []  # nothing got through
        assert client.post(correction, content=body, headers={"origin": url, "content-type": "application/json"}
                           ).status_code == 200  # the page's own origin may
        assert "access-control-allow-origin" not in client.options(correction, headers={
            "origin": "http://evil.example", "access-control-request-method": "POST"}).headers  # CORS stays closed
    rebinding = raw(url, f"GET /v1/batches HTTP/1.1\r\nHost: evil.example\r\nx-api-key: {KEY}\r\nConnection: close\r\n\r\n")
    assert rebinding.startswith(b"HTTP/1.1 421")


def test_sign_in_session_cookie_sign_out_and_restart(tfidf_dir, tmp_path):
    store = tmp_path / "jobs.db"
    args = ("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY, "--reviewer-key", REVIEWER)
    proc, url = start_server(*args)
    try:
        with httpx.Client(base_url=url) as browser:
            assert browser.post("/v1/session", json={"key": "wrong"}).status_code == 401
            signed = browser.post("/v1/session", json={"key": REVIEWER})
            cookie = signed.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
            assert REVIEWER.lower() not in cookie  # a token, never the key
            assert browser.get("/v1/batches").status_code == 200 and browser.get("/report/all").status_code == 404
            assert browser.post("/v1/batches", json={"folder": "/etc"}).status_code == 403  # a reviewer's rights
            token = browser.cookies["callsort_session"]
    finally:
        proc.terminate()
        proc.wait(10)
    proc, url = start_server(*args)  # sessions live in the store: a restart keeps them
    try:
        with httpx.Client(base_url=url, cookies={"callsort_session": token}) as browser:
            assert browser.get("/v1/session").json()["role"] == "reviewer"
            browser.delete("/v1/session")
        with httpx.Client(base_url=url, cookies={"callsort_session": token}) as old:
            assert old.get("/v1/batches").status_code == 401  # signed out: the token is dead
    finally:
        proc.terminate()
        proc.wait(10)


def test_sessions_expire_and_secure_behind_tls(tfidf_dir):
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--session-hours", "0.0005",
                             "--trust-forwarded")
    try:
        with httpx.Client(base_url=url) as browser:
            signed = browser.post("/v1/session", json={"key": KEY}, headers={"x-forwarded-proto": "https"})
            assert "secure" in signed.headers["set-cookie"].lower()
            token = signed.cookies["callsort_session"]
        with httpx.Client(base_url=url, cookies={"callsort_session": token}) as browser:
            assert browser.get("/v1/session").json()["role"] == "admin"
            time.sleep(2.5)  # 0.0005 h = 1.8 s without use
            assert browser.get("/v1/session").json()["role"] is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_answers_name_uploads_never_server_paths_and_csv_cells_are_inert(server, booked_call, bad_audio):
    url, uploads = server["url"], str(server["root"])
    with admin(url) as client:
        files = [("files", ("=HYPERLINK(1).mp3", bad_audio["empty file"].read_bytes())),
                 ("files", ("x.mp3", booked_call.read_bytes())), ("files", ("3-x.mp3", booked_call.read_bytes())),
                 ("files", ("x.mp3", bad_audio["not a readable audio file"].read_bytes()))]
        batch = finished(client, client.post("/v1/batches", files=files).json())
        assert batch["calls"] == 4 and batch["failed"] == 2  # uploads of one batch never overwrite each other
        assert sorted(r["source"] for r in batch["results"]) == ["3-x.mp3", "=HYPERLINK(1).mp3", "x-2.mp3", "x.mp3"]
        answers = [json.dumps(batch)] + [client.get(f"/v1/calls/{r['id']}").text for r in batch["results"]]
        table = client.get(f"/v1/batches/{batch['id']}/results.csv").text
        assert all(uploads not in text for text in [*answers, table])
        failed = {r["source"]: r["error"] for r in batch["results"] if r["error"]}
        assert failed["x-2.mp3"].startswith("x-2.mp3: ") and failed["=HYPERLINK(1).mp3"].startswith("=HYPERLINK")
        cells = [row["source"] for row in csv.DictReader(io.StringIO(table))]
        assert "'=HYPERLINK(1).mp3" in cells and "=HYPERLINK(1).mp3" not in cells
        call = batch["results"][0]["id"]
        client.post(f"/v1/calls/{call}/correction", json={"label": "Other", "reason": "@SUM(A1)", "reviewer": "+1"})
        exported = list(csv.DictReader(io.StringIO(client.get("/v1/corrections.csv").text)))
        assert (exported[-1]["reason"], exported[-1]["reviewer"]) == ("'@SUM(A1)", "'+1")


def test_bad_bodies_and_ids_are_clean_4xx(server, booked_call):
    url = server["url"]
    uploads = server["root"] / "jobs.db.uploads"
    with admin(url) as client:
        before = set(uploads.iterdir()) if uploads.exists() else set()
        for path in ("/v1/batches", "/v1/calls/1/correction", "/v1/session"):
            for body in (b"", b"not json", b'{"folder": "/tm', b'{"label": "\xff\xfe"}'):
                answer = client.post(path, content=body, headers={"content-type": "application/json"})
                assert 400 <= answer.status_code < 500 and answer.json()["detail"], (path, body, answer.text)
        for call in (2**64, 2**70, -1, 0):
            assert client.get(f"/v1/calls/{call}").status_code == 422
            assert client.post(f"/v1/calls/{call}/correction", json={"label": "Other"}).status_code == 422
        assert client.get("/v1/batches/..%2f..%2fetc").status_code in (404, 422)
        for name in (b"a\x00b.mp3", b"n" * 300 + b".mp3"):  # raw bytes: clients would escape the NUL
            body = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="' + name + b'"\r\n'
                    b"Content-Type: audio/mpeg\r\n\r\n" + booked_call.read_bytes() + b"\r\n--b--\r\n")
            answer = client.post("/v1/batches", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
            assert answer.status_code == 422 and "file name" in answer.json()["detail"], answer.text
        hidden = client.post("/v1/batches", files=[("files", (".a.mp3", booked_call.read_bytes()))])
        assert hidden.status_code == 422 and "hidden file name" in hidden.json()["detail"]
        no_text = client.post("/v1/batches", files=[("files", ("calls.csv", b"file,label\nx.mp3,Other\n"))])
        assert no_text.status_code == 422 and "text" in no_text.json()["detail"]
        assert str(uploads) not in no_text.text  # the server's folder is not named, and nothing is kept
        for folder in ("", "~", "relative/calls"):  # a server folder is named by its absolute path
            assert client.post("/v1/batches", json={"folder": folder}).status_code == 422
        assert (set(uploads.iterdir()) if uploads.exists() else set()) == before  # no empty folder left behind


def test_cancel_and_no_resume(tfidf_dir, tmp_path, booked_call, voicemail_call):
    folder = tmp_path / "calls"
    folder.mkdir()
    for n in range(6):
        shutil.copy(booked_call if n % 2 else voicemail_call, folder / f"{n}.mp3")
    args = ("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY, "--no-cache")
    proc, url = start_server(*args)
    try:
        with admin(url) as client:
            batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
            cancelled = client.delete(f"/v1/batches/{batch['id']}").json()
            assert cancelled["cancelled"]
            assert client.delete(f"/v1/batches/{batch['id']}").status_code == 200  # twice: still fine
            done = finished(client, batch)
            assert done["cancelled"] and done["done"] < 6
    finally:
        proc.terminate()
        proc.wait(10)
    proc, url = start_server(*args)
    try:
        with admin(url) as client:
            time.sleep(2)
            again = client.get(f"/v1/batches/{batch['id']}").json()
            assert again["finished"] and again["done"] == done["done"]  # not resumed
    finally:
        proc.terminate()
        proc.wait(10)


def test_report_with_dollars_and_the_report_link_in_chromium(tfidf_dir, sample_test_csv, tmp_path):
    """An agent named `Promo $$` is text on the page, not maths; a signed-in browser opens the report."""
    store = tmp_path / "jobs.db"
    run_cli("predict", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--store", store, "-q")
    meta = tmp_path / "meta.csv"
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    meta.write_text("file,agent,source\n" + "".join(f"{Path(r['source']).name},Promo $$,Ann $\\frac{{a}}$\n"
                                                    for r in rows))
    report = run_cli("report", tmp_path / "p.csv", "--meta", meta, "--out", tmp_path / "report", "-q")
    assert report.returncode == 0 and "Promo $$" in (tmp_path / "report" / "index.html").read_text()
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(url)
            page.fill("#key", KEY)
            page.click("#signin-go")
            page.wait_for_selector("#report-link:not([hidden])")
            assert page.input_value("#key") == ""  # the page forgets the key
            assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly
            assert page.evaluate("Object.keys(localStorage).length") == 0
            with page.expect_popup() as popup:
                page.click("#report-link")
            report_page = popup.value
            report_page.wait_for_load_state()
            assert report_page.locator("figure.chart svg").count() >= 3  # drawn in a real browser
            assert "No call times" in report_page.content()  # no --meta: one line, not a chart of "(no time)"
            page.click("#signout")
            page.wait_for_selector("#signin:not([hidden])")
            assert page.request.get(f"{url}/report/all").status == 401
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_one_off_uploads_leave_no_files_and_redacted_names(tfidf_dir, tmp_path, voicemail_call, bad_audio):
    """/v1/classify under --redact-audio: the silenced copy of a one-off upload is never served, so not kept;
    under --redact an upload is named by its redacted name, errors included."""
    silenced = tmp_path / "silenced"
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--redact", "--redact-audio", str(silenced))
    try:
        with admin(url) as client:
            answer = client.post("/v1/classify", files={"file": ("v.mp3", voicemail_call.read_bytes())})
            assert answer.status_code == 200 and "[PHONE]" in answer.json()["transcript"]
            broken = client.post("/v1/classify", files={"file": ("John Carter call.mp3", bad_audio["empty file"].read_bytes())})
            assert broken.status_code == 415 and broken.json()["detail"].startswith("[NAME] call.mp3: ")
        assert not any(silenced.glob("*.wav"))
    finally:
        proc.terminate()
        proc.wait(10)


def test_uploads_expire_only_when_their_batch_is_finished(tfidf_dir, tmp_path, booked_call):
    """--keep-uploads-days: a finished batch's uploads go after that many days (its rows stay; the audio route
    answers 410 and the batch says its audio expired); an unfinished batch's never."""
    from conftest import LOCAL
    from fastapi.testclient import TestClient

    from callsort.config import AsrConfig
    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    config = ServeConfig(store="jobs.db", api_key=KEY, keep_uploads_days=1)
    assert Path(config.store).is_absolute() and Path(config.uploads).is_absolute()  # a restart elsewhere finds them
    config = ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY, keep_uploads_days=1)
    client = TestClient(create_app(tfidf_dir, config, AsrConfig(use_cache=False)), base_url=LOCAL,
                        headers={"x-api-key": KEY})
    runner = client.app.state.service.batches
    done = finished(client, client.post("/v1/batches", files=[("files", ("a.mp3", booked_call.read_bytes()))]).json())
    waiting = Path(config.uploads) / "0123456789ab"  # a batch still queued in this process
    waiting.mkdir()
    runner.records.add(waiting.name, runner.records.get(done["id"])["job"], str(waiting), [])
    table = runner.records.table
    with runner.work.db.engine.begin() as conn:  # both batches started two days ago
        conn.execute(table.update().values(created_at=time.time() - 2 * 86400))
    runner.active.add(waiting.name)
    runner.expire_uploads()
    assert not Path(runner.records.get(done["id"])["folder"]).exists() and waiting.is_dir()
    call = done["results"][0]["id"]
    assert client.get(f"/v1/calls/{call}/audio").status_code == 410
    assert client.get(f"/v1/batches/{done['id']}").json()["audio_expired"]
    assert client.get(f"/v1/calls/{call}").json()["result"]["label"]  # the row stays
