"""Keys and sessions of `callsort serve` (issue 32): keys of 16+ characters, sessions that die when their key
changes or when they are too old, wrong keys throttled per client; and what every answer carries: security
headers, no /docs, the schema behind the key, the access log without query strings, forwarded headers only
from a trusted proxy, the reviewer's rights as documented, folder batches that stay in their folder, inert
CSV cells with leading blanks. Through the real service (TestClient or a real `callsort serve`) and the CLI."""

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import LOCAL, free_port, run_cli, start_server, wait_for
from fastapi.testclient import TestClient

from callsort.config import AsrConfig
from callsort.service.app import create_app
from callsort.service_config import ServeConfig

KEY, REVIEWER = "sessions-admin-key-0123", "sessions-reviewer-key-0123"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def service(model: Path, **settings) -> TestClient:
    config = ServeConfig(api_key=KEY, reviewer_key=REVIEWER, **settings)
    return TestClient(create_app(model, config, AsrConfig(use_cache=False), recordings=False), base_url=LOCAL)


def stop(proc) -> None:
    proc.terminate()
    proc.wait(10)


def finished(client: TestClient, batch: dict, headers: dict) -> dict:
    for _ in range(240):
        body = client.get(f"/v1/batches/{batch['id']}", headers=headers).json()
        if body["finished"]:
            return body
        time.sleep(0.25)
    raise AssertionError(body)


def test_short_keys_refused_at_start(tfidf_dir):
    exe = Path(sys.executable).parent / "callsort"
    env = {k: v for k, v in os.environ.items() if k not in ("CALLSORT_API_KEY", "CALLSORT_REVIEWER_KEY")}
    for args, said in ((["--api-key", "k"], "--api-key is 1 characters"),
                       (["--api-key", "fifteen-chars!!"], "--api-key is 15 characters"),
                       (["--api-key", KEY, "--reviewer-key", "s3cret"], "--reviewer-key is 6 characters"),
                       (["--api-key", KEY, "--reviewer-key", KEY], "must differ")):
        proc = subprocess.run([str(exe), "serve", "--model", str(tfidf_dir), "--port", str(free_port()), *args],
                              capture_output=True, text=True, timeout=60, env=env)
        assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_sessions_die_when_their_key_changes(tfidf_dir, tmp_path):
    """A restart with a new --api-key ends the admin's sessions, not the reviewer's; a new --reviewer-key the
    reviewer's. The old cookies get 401."""
    store = str(tmp_path / "jobs.db")

    def serve(api_key: str, reviewer_key: str):
        return start_server("--model", str(tfidf_dir), "--store", store, "--api-key", api_key,
                            "--reviewer-key", reviewer_key)

    proc, url = serve(KEY, REVIEWER)
    try:
        tokens = {key: httpx.post(f"{url}/v1/session", json={"key": key}).cookies["callsort_session"]
                  for key in (KEY, REVIEWER)}
    finally:
        stop(proc)

    def role(url: str, key: str):
        with httpx.Client(base_url=url, cookies={"callsort_session": tokens[key]}) as browser:
            return browser.get("/v1/session").json()["role"], browser.get("/v1/batches").status_code

    proc, url = serve(KEY + "-rotated", REVIEWER)
    try:
        assert role(url, KEY) == (None, 401)  # the admin's key changed: that session is over
        assert role(url, REVIEWER) == ("reviewer", 200)  # the reviewer's did not
    finally:
        stop(proc)
    proc, url = serve(KEY + "-rotated", REVIEWER + "-rotated")
    try:
        assert role(url, REVIEWER) == (None, 401)
    finally:
        stop(proc)
    proc, url = serve(KEY, REVIEWER)  # the old keys back: those sessions stay over (signed out on first use)
    try:
        assert role(url, KEY) == (None, 401)
    finally:
        stop(proc)


def test_sessions_end_after_their_absolute_lifetime(tfidf_dir, tmp_path):
    """Used every half second, a session still ends `session_max_hours` after sign-in."""
    client = service(tfidf_dir, store=str(tmp_path / "jobs.db"), session_hours=12, session_max_hours=0.0005)
    signed = client.post("/v1/session", json={"key": REVIEWER})
    assert f"max-age={int(0.0005 * 3600)}" in signed.headers["set-cookie"].lower()
    kept = {"cookie": f"callsort_session={signed.cookies['callsort_session']}"}  # a client ignoring max-age
    client.cookies.clear()
    started = time.time()
    while time.time() - started < 1.2:
        assert client.get("/v1/session", headers=kept).json()["role"] == "reviewer"
        time.sleep(0.3)
    time.sleep(0.0005 * 3600 - (time.time() - started) + 0.3)
    assert client.get("/v1/session", headers=kept).json()["role"] is None
    assert client.get("/v1/batches", headers=kept).status_code == 401
    table = client.app.state.service.work.db.table("page_sessions")
    client.post("/v1/session", json={"key": KEY})  # a new sign-in clears sessions that are over from the store
    with client.app.state.service.work.db.engine.connect() as conn:
        assert conn.execute(table.select()).all().__len__() == 1
    with pytest.raises(Exception, match="session_max_hours"):
        ServeConfig(api_key=KEY, session_max_hours=0)


def test_wrong_keys_are_throttled_per_client(tfidf_dir):
    client = service(tfidf_dir)
    guesser = TestClient(client.app, base_url=LOCAL, client=("198.51.100.7", 50000))
    for n in range(10):  # header keys and sign-in attempts count alike
        answer = (guesser.post("/v1/session", json={"key": f"guess-{n}"}) if n % 2 else
                  guesser.post("/v1/classify", json={"text": "hello"}, headers={"x-api-key": f"guess-{n}"}))
        assert answer.status_code == 401, answer.text
    refused = guesser.post("/v1/classify", json={"text": "hello"}, headers={"x-api-key": KEY})  # even the right key
    assert refused.status_code == 429 and 590 <= int(refused.headers["retry-after"]) <= 600
    assert "too many wrong keys" in refused.json()["detail"]
    assert guesser.post("/v1/session", json={"key": KEY}).status_code == 429
    assert guesser.post("/v1/classify", json={"text": "hello"}).status_code == 401  # no key: 401 at once, as ever
    other = TestClient(client.app, base_url=LOCAL, client=("198.51.100.8", 50000))
    assert other.post("/v1/classify", json={"text": "hello"}, headers={"x-api-key": KEY}).status_code == 200


@pytest.mark.slow
def test_access_log_and_forwarded_headers(tfidf_dir):
    """The access log keeps no query string; without --trust-forwarded, X-Forwarded-For neither names the client
    (log, throttle) nor does X-Forwarded-Proto make the cookie Secure; with it, from a trusted proxy only."""
    spoofed = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY)
    try:
        assert httpx.get(f"{url}/healthz?key=leaked-secret-value&name=Marguerite").status_code == 200
        cookie = httpx.post(f"{url}/v1/session", json={"key": KEY}, headers=spoofed).headers["set-cookie"].lower()
        assert "secure" not in cookie
        for n in range(10):  # a guesser changing its X-Forwarded-For is still one client
            httpx.get(f"{url}/v1/batches", headers={"x-api-key": f"guess-{n}", "x-forwarded-for": f"198.51.100.{n}"})
        assert httpx.get(f"{url}/v1/calls", headers={"x-api-key": KEY, "x-forwarded-for": "192.0.2.1"}).status_code == 429
    finally:
        stop(proc)
    log = proc.log_path.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in log and "leaked-secret-value" not in log and "Marguerite" not in log
    assert "203.0.113.9" not in log and "127.0.0.1:" in log
    for trusted, secure in (("127.0.0.1,::1", True), ("10.9.9.9", False)):
        proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--trust-forwarded",
                                 "--trusted-proxies", trusted)
        try:
            cookie = httpx.post(f"{url}/v1/session", json={"key": KEY}, headers=spoofed).headers["set-cookie"].lower()
            assert ("secure" in cookie) == secure
        finally:
            stop(proc)
        assert ("203.0.113.9" in proc.log_path.read_text()) == secure


def test_security_headers_on_every_answer(tfidf_dir, tmp_path):
    client = service(tfidf_dir, store=str(tmp_path / "jobs.db"))
    admin = {"x-api-key": KEY}
    upload = [("files", ("note.txt", b"Hi, my furnace is out, can you come tomorrow? Yes, booked for 9."))]
    batch = finished(client, client.post("/v1/batches", files=upload, headers=admin).json(), admin)
    answers = {path: client.get(path, headers=admin) for path in (
        "/", "/static/page.js", "/static/page.css", "/healthz", "/v1/batches", f"/v1/batches/{batch['id']}",
        f"/v1/batches/{batch['id']}/results.csv", "/v1/calls", "/v1/corrections.csv", "/report/all", "/nope")}
    answers["401"] = client.get("/v1/calls")
    answers["403"] = client.post("/v1/batches", json={"folder": "/x"}, headers={"origin": "http://evil.example"})
    answers["classify"] = client.post("/v1/classify", json={"text": "hello"}, headers=admin)
    for name, answer in answers.items():
        headers = answer.headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", name
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, name
        if not name.startswith("/static/"):
            assert headers["cache-control"] == "no-store", name
    page_policy = answers["/"].headers["content-security-policy"]
    assert "script-src 'self';" in page_policy and "unsafe" not in page_policy
    assert "script-src" not in answers["/report/all"].headers["content-security-policy"]  # the report runs none
    page = answers["/"].text
    scripts = re.findall(r"<script[^>]*>", page)  # every script a file of static/, none written inline
    assert scripts == ['<script src="static/page.js">', '<script src="static/search.js">'] and "style=" not in page
    assert page.count("</script>") == len(scripts) and "<script></script>" not in page
    assert "<style" not in page and answers["/static/page.js"].headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../page.html").status_code == 404 and client.get("/static/x.js").status_code == 404


def test_no_docs_and_the_schema_behind_the_key(tfidf_dir):
    client = service(tfidf_dir)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path, headers={"x-api-key": KEY}).status_code == 404
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers={"x-api-key": REVIEWER}).json()["paths"]["/v1/classify"]


def test_reviewer_rights_as_documented(tfidf_dir, tmp_path):
    """docs/service.md: the reviewer may do everything but start a batch from a server folder or cancel one."""
    client = service(tfidf_dir, store=str(tmp_path / "jobs.db"))
    admin, reviewer = {"x-api-key": KEY}, {"x-api-key": REVIEWER}
    upload = [("files", ("note.txt", b"You have reached our voicemail, please leave a message."))]
    batch = finished(client, client.post("/v1/batches", files=upload, headers=reviewer).json(), reviewer)
    call = batch["results"][0]["id"]
    assert client.delete(f"/v1/batches/{batch['id']}", headers=reviewer).status_code == 403
    assert not client.get(f"/v1/batches/{batch['id']}", headers=admin).json()["cancelled"]
    assert client.post("/v1/batches", json={"folder": str(tmp_path)}, headers=reviewer).status_code == 403
    for method, path, kwargs in (("get", "/v1/review", {}), ("get", f"/v1/calls/{call}", {}),
                                 ("post", f"/v1/calls/{call}/correction", {"json": {"label": "Other"}}),
                                 ("get", "/v1/corrections.csv", {}), ("get", "/v1/callbacks", {}),
                                 ("post", f"/v1/callbacks/{call}", {"json": {"done": True}}), ("get", "/report/all", {}),
                                 ("post", "/v1/classify", {"json": {"text": "hello"}})):
        assert getattr(client, method)(path, headers=reviewer, **kwargs).status_code == 200, path
    assert client.delete(f"/v1/batches/{batch['id']}", headers=admin).json()["cancelled"]


def test_folder_batches_stay_in_their_folder(tfidf_dir, tmp_path):
    """A symlinked file or folder leading out of a batch's folder is not read (its words never reach a row)."""
    client = service(tfidf_dir, store=str(tmp_path / "jobs.db"))
    admin = {"x-api-key": KEY}
    outside, folder = tmp_path / "outside", tmp_path / "calls"
    outside.mkdir(), folder.mkdir()
    (outside / "private.txt").write_text("Quillfeather private words, please book me for Tuesday")
    (folder / "inside.txt").write_text("Hello? Hello? Anyone there?")
    os.symlink(outside / "private.txt", folder / "link.txt")
    os.symlink(outside, folder / "linked-folder")
    batch = finished(client, client.post("/v1/batches", json={"folder": str(folder)}, headers=admin).json(), admin)
    assert [r["source"] for r in batch["results"]] == ["inside.txt"]
    assert "Quillfeather" not in client.get("/v1/calls", headers=admin).text


def test_csv_cells_with_leading_blanks_are_inert(tfidf_dir, tmp_path):
    """A formula after spaces or a tab is still a formula to a spreadsheet: the service's CSV exports and
    `callsort evaluate`'s errors.csv prefix it."""
    client = service(tfidf_dir, store=str(tmp_path / "jobs.db"))
    admin = {"x-api-key": KEY}
    upload = [("files", ("note.txt", b"Hi, my furnace is out, can you come tomorrow? Yes, booked for 9."))]
    batch = finished(client, client.post("/v1/batches", files=upload, headers=admin).json(), admin)
    call = batch["results"][0]["id"]
    client.post(f"/v1/calls/{call}/correction", json={"label": "Other", "reason": " =1+1", "reviewer": "\t=cmd"},
                headers=admin)
    exported = list(csv.DictReader(io.StringIO(client.get("/v1/corrections.csv", headers=admin).text)))
    assert (exported[-1]["reason"], exported[-1]["reviewer"]) == ("' =1+1", "'\t=cmd")
    table = tmp_path / "calls.csv"
    with open(table, "w", newline="", encoding="utf-8") as f:  # one text under two labels: one row is wrong
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for label in ("Other", "Missed Call"):
            writer.writerow([" =HYPERLINK(\"http://evil.example\") hello, is anyone there?", label])
            writer.writerow(["\t@SUM(A1) you have reached our voicemail", label])
    run_cli("evaluate", table, "--model", tfidf_dir, "--out", tmp_path / "ev", "-q")
    errors = list(csv.reader(open(tmp_path / "ev" / "errors.csv", encoding="utf-8")))[1:]
    texts = {row[4] for row in errors}
    assert len(errors) >= 2 and texts <= {"' =HYPERLINK(\"http://evil.example\") hello, is anyone there?",
                                          "'\t@SUM(A1) you have reached our voicemail"}


@pytest.mark.slow
def test_page_runs_under_its_policy_in_chromium(tfidf_dir, tmp_path, booked_call):
    """The page's script and styles load from the app under its CSP (no violation reported), sign-in works,
    and a reviewer is not offered *Cancel batch* (an admin is)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY,
                             "--reviewer-key", REVIEWER, "--no-cache")
    try:
        files = [("files", (f"{n}.mp3", booked_call.read_bytes())) for n in range(4)]  # still running when looked at
        httpx.post(f"{url}/v1/batches", files=files, headers={"x-api-key": KEY}, timeout=60)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            messages = []
            for key, offered in ((REVIEWER, False), (KEY, True)):
                page = browser.new_context().new_page()
                page.on("console", lambda m: messages.append(m.text))
                page.goto(url)
                assert page.evaluate("getComputedStyle(document.body).maxWidth") == "992px"  # page.css applied
                page.fill("#key", key)
                page.click("#signin-go")
                page.wait_for_selector("nav button[data-tab=batch]:not([hidden])")
                page.click("nav button[data-tab=batch]")
                wait_for(page, "document.querySelectorAll('#batches option').length >= 2")
                page.select_option("#batches", index=1)
                wait_for(page, "/ of 4 calls/.test(document.getElementById('batch-status').textContent)")
                assert "finished" not in page.text_content("#batch-status")
                assert page.locator("#cancel").is_visible() == offered
            browser.close()
        assert not [m for m in messages if "Content Security Policy" in m], messages
    finally:
        stop(proc)
