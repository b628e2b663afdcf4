"""Ring-back alerts through a real `callsort serve` (a tf-idf model, a folder batch of .txt calls): a real local
webhook receiver that fails, then accepts; a real local SMTP server; restarts on the same store; the retry
schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import LOCAL, finished_batch, start_server
from fastapi.testclient import TestClient

from callsort.config import AsrConfig
from callsort.errors import ConfigError
from callsort.models.classifier import load_model
from callsort.service.app import Service, build_app
from callsort.service.notify import FIRST_MINUTES, GIVE_UP_AFTER, NotSent, retry_delay, send_email
from callsort.service_config import LearningConfig, NotifyConfig, ServeConfig

KEY = "alerts-test-key-0123456789"
SECRET = "alerts-test-secret-0123456789"
HEADERS = {"x-api-key": KEY}
CALLS = {  # file -> (words, caller); the two voicemails are lost unless rung back, the others are not
    "vm_karen.txt": ("You have reached Summit Electric. Our office is currently closed. Please leave a message after "
                     "the tone. Hi, this is Karen, my furnace is blowing cold air, I'd like someone to take a look. "
                     "Please call me back, thank you.", "+1 555 0100 101"),
    "vm_linda.txt": ("You have reached Ace Comfort Services. Our office is currently closed. Please leave a message "
                     "after the tone. Hi, this is Linda, the kitchen sink drain is backed up, I'd like to get someone "
                     "out to take a look. Please call me back, thank you.", "+1 555 0100 102"),
    "booked.txt": ("Thank you for calling Summit Electric, this is Tom, how can I help you? Hi, this is James, my "
                   "furnace is blowing cold air. Have you used us before? No, this is the first time I'm calling. "
                   "What is the address? 1286 Lakeview Court. I can get a technician out tomorrow morning, does that "
                   "work? Yes that works. Great, you're all set.", "+1 555 0100 103"),
    "no_service.txt": ("Thank you for calling Riverbend Home Services, this is Tom, how can I help you? Hi, can you "
                       "install a new garage door opener? I'm sorry, we only do heating, cooling, plumbing and "
                       "electrical. We don't offer that service. Alright, thanks anyway.", "+1 555 0100 104"),
}


class Receiver:
    """A webhook receiver on loopback (http.server in a thread): answers every POST with `status` and keeps
    (status, headers, raw body) of each."""

    def __init__(self, status: int = 500):
        self.status, self.requests = status, []
        self.hold = threading.Event()  # cleared: a request is kept waiting (status "held") until it is set
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                held = not receiver.hold.is_set()
                receiver.requests.append(("held" if held else receiver.status, dict(self.headers), body))
                receiver.hold.wait(120)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/callsort"

    def accepted(self) -> list[dict]:
        return [json.loads(body) for status, _, body in self.requests if status == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A real SMTP server on loopback (Python 3.11's smtpd, run by asyncore in a thread) keeping each message."""

    def __init__(self):
        import warnings

        with warnings.catch_warnings():  # deprecated (gone in 3.12, then aiosmtpd): the stdlib's own server
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncore = pytest.importorskip("asyncore")
            smtpd = pytest.importorskip("smtpd")
        self.messages, box = [], self

        class Server(smtpd.SMTPServer):
            def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
                box.messages.append((mailfrom, rcpttos, message_from_bytes(data, policy=policy.default)))

        self.server = Server(("127.0.0.1", 0), None, decode_data=False)
        self.port, self.running = self.server.socket.getsockname()[1], True
        self.thread = threading.Thread(target=lambda: [asyncore.loop(0.1, count=1) for _ in iter(
            lambda: self.running, False)], daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def calls_folder(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    for name, (words, _) in CALLS.items():
        (folder / name).write_text(words)
    meta = tmp_path / "phone_system.csv"
    meta.write_text("file,caller,datetime,agent\n" + "".join(
        f"{name},{caller},2026-12-01 09:{i:02d}:00,Tom\n" for i, (name, (_, caller)) in enumerate(CALLS.items())))
    return folder, meta


def serve(tfidf_dir, tmp_path, meta, *notify: str, port: int | None = None):
    return start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY,
                        "--meta", str(meta), *notify, port=port)


def run_batch(url: str, folder) -> list[int]:
    batch = httpx.post(f"{url}/v1/batches", json={"folder": str(folder)}, headers=HEADERS).json()
    deadline = time.time() + 60
    while not httpx.get(f"{url}/v1/batches/{batch['id']}", headers=HEADERS).json()["finished"]:
        assert time.time() < deadline, "the batch did not finish"
        time.sleep(0.2)
    return batch


def listed(url: str) -> dict[str, int]:
    """The ring-back list: file name -> call id."""
    return {c["call"]: c["call_id"] for c in httpx.get(f"{url}/v1/callbacks", headers=HEADERS).json()["callbacks"]}


def alerts_when(url: str, ready, seconds: float = 40) -> dict[int, dict]:
    """GET /v1/alerts by call id, once `ready(alerts)` holds."""
    return when(lambda: {a["call_id"]: a for a in httpx.get(f"{url}/v1/alerts", headers=HEADERS).json()["alerts"]},
                ready, seconds)


def stop(proc) -> None:
    proc.terminate()
    proc.wait(30)


def test_webhook_retried_signed_once_per_call_withdrawn_when_corrected_and_never_repeated(tfidf_dir, tmp_path,
                                                                                         calls_folder):
    folder, meta = calls_folder
    receiver = Receiver(status=500)  # down at first
    notify = ("--notify-url", receiver.url, "--notify-secret", SECRET, "--public-url", "https://calls.example.com/")
    proc, url = serve(tfidf_dir, tmp_path, meta, *notify)
    try:
        run_batch(url, folder)
        on_list = listed(url)
        assert {"vm_karen.txt", "vm_linda.txt"} <= set(on_list) and "booked.txt" not in on_list
        # every listed call gets its alert, tried at once and failed (500); nothing for the others
        tried = alerts_when(url, lambda a: set(a) == set(on_list.values()) and all(x["attempts"] for x in a.values()))
        assert all(a["state"] == "pending" and a["last_error"] == "webhook: HTTP 500" for a in tried.values())
        corrected = on_list["vm_linda.txt"]  # a person says it was booked before its alert went out
        answer = httpx.post(f"{url}/v1/calls/{corrected}/correction", headers=HEADERS,
                            json={"label": "New Customer - Lead Booked", "reviewer": "Ann"})
        assert answer.status_code == 200
        receiver.status = 200  # the receiver is back
        done = alerts_when(url, lambda a: all(x["state"] != "pending" for x in a.values()))
    finally:
        stop(proc)
    assert done[corrected]["state"] == "withdrawn" and done[corrected]["channels"] == {"webhook": "withdrawn"}
    delivered = {i for i, a in done.items() if a["state"] == "delivered"}
    assert delivered == set(on_list.values()) - {corrected}
    assert all(done[i]["attempts"] >= 2 and done[i]["delivered_at"] for i in delivered)  # failed, then delivered
    for _, headers, body in receiver.requests:  # every try signed over its raw body
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Callsort-Signature"], expected)
    by_call: dict[int, list] = {}
    for status, _, body in receiver.requests:
        by_call.setdefault(json.loads(body)["call_id"], []).append((status, json.loads(body)["event_id"]))
    for call_id in delivered:  # a 500 then a 200, with the same event_id
        statuses, events = zip(*by_call[call_id], strict=True)
        assert statuses[0] == 500 and statuses[-1] == 200 and len(set(events)) == 1
    assert sorted(a["call_id"] for a in receiver.accepted()) == sorted(delivered)  # one each; none for the others
    karen = next(a for a in receiver.accepted() if a["call_id"] == on_list["vm_karen.txt"])
    assert karen["caller"] == CALLS["vm_karen.txt"][1] and karen["agent"] == "Tom"
    assert karen["time"] == "2026-12-01T09:00:00" and karen["category"] == "Voicemail - Lead"
    assert karen["chance"] >= 0.25 and karen["call"] == "vm_karen.txt"
    assert karen["url"] == f"https://calls.example.com/#call={karen['call_id']}"
    assert karen["first_words"].startswith("Hi, this is Karen, my furnace")  # the caller's, not the greeting
    # a restart on the same store sends nothing again; a new call on the list gets its one alert
    before = len(receiver.requests)
    proc, url = serve(tfidf_dir, tmp_path, meta, *notify)
    try:
        late = tmp_path / "late"
        late.mkdir()
        (late / "vm_late.txt").write_text(CALLS["vm_karen.txt"][0].replace("Karen", "Maria").replace("furnace", "boiler"))
        run_batch(url, late)
        new_id = listed(url)["vm_late.txt"]
        final = alerts_when(url, lambda a: a.get(new_id, {}).get("state") == "delivered")
        time.sleep(1.5)  # a few more rounds of the watcher and the sender: nothing else goes out
    finally:
        stop(proc)
        receiver.close()
    assert [json.loads(body)["call_id"] for _, _, body in receiver.requests[before:]] == [new_id]
    assert {i: a["state"] for i, a in final.items() if i != new_id} == {i: a["state"] for i, a in done.items()}


@pytest.mark.slow
def test_a_kill_9_while_an_alert_is_on_its_way_loses_no_alert(tfidf_dir, tmp_path, calls_folder):
    """The service dies (kill -9) while the receiver holds its first alert unanswered: after a restart every
    alert arrives, the one in flight again with the same event_id (at least once; the receiver deduplicates)."""
    import os
    import signal

    from callsort.service.alerts import LEASE

    folder, meta = calls_folder
    receiver = Receiver(status=200)
    receiver.hold.clear()
    notify = ("--notify-url", receiver.url, "--notify-secret", SECRET)
    proc, url = serve(tfidf_dir, tmp_path, meta, *notify)
    try:
        run_batch(url, folder)
        on_list = listed(url)
        when(lambda: receiver.requests, bool)  # the first alert is on its way, unanswered
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    in_flight = json.loads(receiver.requests[0][2])
    receiver.hold.set()
    proc, url = serve(tfidf_dir, tmp_path, meta, *notify)
    try:  # the killed sender's lease runs out, then the alert is sent again
        done = alerts_when(url, lambda a: set(a) == set(on_list.values()) and all(x["state"] == "delivered"
                                                                                  for x in a.values()), LEASE + 60)
    finally:
        stop(proc)
        receiver.close()
    assert set(done) == set(on_list.values()) and len(on_list) >= 2
    accepted = receiver.accepted()
    assert sorted({a["call_id"] for a in accepted}) == sorted(on_list.values())  # every alert, once accepted
    again = [a for a in accepted if a["call_id"] == in_flight["call_id"]]
    assert len(again) == 1 and again[0]["event_id"] == in_flight["event_id"]


def test_email_one_message_per_alert_through_a_real_smtp_server(tfidf_dir, tmp_path, calls_folder):
    folder, meta = calls_folder
    mailbox = Mailbox()
    proc, url = serve(tfidf_dir, tmp_path, meta, "--smtp-host", "127.0.0.1", "--smtp-port", str(mailbox.port),
                      "--notify-email", "office@example.com, owner@example.com", "--notify-from", "calls@example.com")
    try:
        run_batch(url, folder)
        on_list = listed(url)
        done = alerts_when(url, lambda a: set(a) == set(on_list.values()) and all(
            x["state"] == "delivered" for x in a.values()))
        time.sleep(1.0)  # nothing more goes out
    finally:
        stop(proc)
        mailbox.close()
    assert all(a["channels"] == {"email": "delivered"} and a["attempts"] == 1 for a in done.values())
    assert len(mailbox.messages) == len(on_list) >= 2
    for mailfrom, recipients, message in mailbox.messages:
        assert mailfrom == "calls@example.com" and recipients == ["office@example.com", "owner@example.com"]
        text = message.get_content()
        call_id = int(text.split("#call=")[1].split()[0])
        assert call_id in done and message["Message-ID"] == f"<{done[call_id]['event_id']}@callsort>"
        assert message["Subject"].startswith("Ring back: +1 555 0100 10") and "Agent: Tom" in text
        assert done[call_id]["alert"]["first_words"] in text
    assert sorted(int(m.get_content().split("#call=")[1].split()[0]) for *_, m in mailbox.messages) == sorted(done)


def test_a_learning_service_alerts_only_once_its_first_model_is_active(tmp_path, tfidf_dir, calls_folder,
                                                                       sample_table):
    folder, _ = calls_folder
    (tmp_path / "labels.txt").write_text("\n".join(sorted(set(sample_table.labels))) + "\n")
    receiver = Receiver(status=200)
    service = Service(None, ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY), AsrConfig(use_cache=False),
                      recordings=False, learning=LearningConfig(labels=str(tmp_path / "labels.txt")),
                      notify=NotifyConfig(notify_url=receiver.url, notify_secret=SECRET))
    client = TestClient(build_app(service), base_url=LOCAL, headers=HEADERS)
    try:
        batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
        assert finished_batch(client, batch["id"])["done"] == len(CALLS)  # stored without a label
        ids = {Path(r["source"]).name: r["id"] for r in client.get("/v1/calls").json()["results"]}
        client.post(f"/v1/calls/{ids['vm_karen.txt']}/correction", json={"label": "Voicemail - Lead"})
        assert [c["call"] for c in client.get("/v1/callbacks").json()["callbacks"]] == ["vm_karen.txt"]
        service.alerts.watch_once()
        time.sleep(1.0)  # the watcher's rounds: no model yet, so no alert (not even for the labelled call)
        assert client.get("/v1/alerts").json() == {"channels": ["webhook"], "alerts": []}
        model = load_model(tfidf_dir)
        model.info.training["version"] = 1  # as the learner names its versions
        service.learning.activated(model)  # as when a first version becomes active: the calls are re-scored
        on_list = when(lambda: {c["call_id"] for c in client.get("/v1/callbacks").json()["callbacks"]},
                       lambda listed: ids["vm_linda.txt"] in listed)
        done = when(lambda: {a["call_id"]: a for a in client.get("/v1/alerts").json()["alerts"]},
                    lambda a: set(a) == on_list and all(x["state"] == "delivered" for x in a.values()))
    finally:
        receiver.close()
    assert {ids["vm_karen.txt"], ids["vm_linda.txt"]} <= set(done)
    assert sorted(a["call_id"] for a in receiver.accepted()) == sorted(on_list)


def when(read, ready, seconds: float = 30):
    """`read()` once `ready` holds of it (polled)."""
    deadline = time.time() + seconds
    while not ready(found := read()):
        assert time.time() < deadline, f"never got there: {found}"
        time.sleep(0.25)
    return found


def test_email_refuses_plain_text_when_tls_is_required_or_a_password_would_go_in_clear(monkeypatch):
    mailbox = Mailbox()  # offers no STARTTLS
    try:
        alert = {"event_id": "e", "caller": None, "call": "a.txt", "category": "Missed Call", "chance": 0.9,
                 "first_words": "", "url": "http://x/#call=1"}
        common = {"smtp_host": "127.0.0.1", "smtp_port": mailbox.port, "notify_email": "a@example.com"}
        with pytest.raises(NotSent, match="offers no STARTTLS"):
            send_email(NotifyConfig(**common, smtp_tls="required"), alert)
        monkeypatch.setenv("CALLSORT_SMTP_PASSWORD", "hunter2")
        with pytest.raises(NotSent, match="not sent in clear"):
            send_email(NotifyConfig(**common, smtp_user="me"), alert)
        send_email(NotifyConfig(**common), alert)  # auto, no login: sent in plain text
    finally:
        mailbox.close()
    assert len(mailbox.messages) == 1


def test_settings_are_checked(monkeypatch):
    monkeypatch.delenv("CALLSORT_SMTP_PASSWORD", raising=False)
    for wrong, message in (({"notify_url": "http://127.0.0.1:9/x"}, "needs --notify-secret"),
                           ({"notify_url": "ftp://x", "notify_secret": SECRET}, "http:// or https://"),
                           ({"smtp_host": "mail"}, "both --smtp-host and --notify-email"),
                           ({"notify_email": "a@example.com"}, "both --smtp-host and --notify-email"),
                           ({"smtp_host": "mail", "notify_email": "nobody"}, "not an e-mail address"),
                           ({"smtp_host": "mail", "notify_email": "a@b.c", "smtp_user": "me"}, "CALLSORT_SMTP_PASSWORD")):
        with pytest.raises(ConfigError, match=message):
            NotifyConfig(**wrong)
    assert not NotifyConfig().wanted
    assert "hunter" not in json.dumps(NotifyConfig(notify_url="http://h/", notify_secret="hunter2" * 3).to_dict())


def test_retry_schedule_first_tries_within_seconds_then_each_minute_then_backing_off_for_a_day():
    age, tries, gaps = 0.0, 1, []
    while (delay := retry_delay(tries, age)) is not None:
        gaps.append((age, delay))
        age, tries = age + delay, tries + 1
    assert [d for _, d in gaps[:3]] == [2.0, 4.0, 8.0]  # the first tries within seconds
    assert all(d <= 60 for a, d in gaps if a < FIRST_MINUTES)  # at most a minute apart for ten minutes
    later = [d for a, d in gaps if a >= FIRST_MINUTES]
    assert later == sorted(later) and later[0] <= 150 and max(later) == 1800  # then backing off, at most 30 min
    assert any(a >= 3600 for a, _ in gaps) and GIVE_UP_AFTER <= age < GIVE_UP_AFTER + 1800  # tried for a day
    assert len([a for a, _ in gaps if a < 3600]) < 40  # a receiver down for an hour is not hammered


def test_the_page_lists_the_alerts_and_an_alerts_link_opens_its_call_in_chromium(tfidf_dir, tmp_path, calls_folder):
    import shutil

    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    folder, meta = calls_folder
    receiver = Receiver(status=200)
    proc, url = serve(tfidf_dir, tmp_path, meta, "--notify-url", receiver.url, "--notify-secret", SECRET)
    try:
        run_batch(url, folder)
        on_list = listed(url)
        alerts_when(url, lambda a: set(a) == set(on_list.values()) and all(x["state"] == "delivered" for x in a.values()))
        link = next(a for a in receiver.accepted() if a["call"] == "vm_karen.txt")["url"]
        assert link == f"{url}/#call={on_list['vm_karen.txt']}"  # --public-url defaults to http://HOST:PORT
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(link)  # the alert's link, before signing in
            page.fill("#key", KEY)
            page.click("#signin-go")
            page.wait_for_selector("li.callback.linked")
            assert "Karen" in page.text_content("li.callback.linked")
            page.wait_for_selector("#alerts-box:not([hidden])")
            assert page.locator("#alerts li").count() == len(on_list)
            assert "delivered" in page.text_content("#alerts") and page.text_content("#alert-channels") == "webhook"
            browser.close()
    finally:
        stop(proc)
        receiver.close()
