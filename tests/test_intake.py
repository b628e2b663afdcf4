"""Calls that arrive by themselves (issue 34): pushed to POST /v1/calls, or written into a watched folder. Through
a real `callsort serve`, restarted on the same store."""

import json
import shutil
import time

import httpx
import pytest
from conftest import signed_in_page, start_server

KEY, INTAKE = "intake-admin-key-0123456", "intake-phone-system-key-01"
BOOKED = "Hi, my furnace stopped working, can someone come out today? Sure, we have a technician at 2 pm. Great, book it."
ASKED = "Hello, do you install solar panels on roofs? No, sorry, we only do heating, cooling and plumbing."

pytestmark = pytest.mark.slow


def wait_until(check, seconds: float = 60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def calls(client: httpx.Client) -> list[dict]:
    return client.get("/v1/calls").json()["results"]


def test_a_pushed_call_is_stored_at_once_and_a_repeated_push_stores_nothing(tfidf_dir, tmp_path):
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY,
                             "--intake-key", INTAKE)
    try:
        phone = httpx.Client(base_url=url, headers={"x-api-key": INTAKE}, timeout=60)
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        facts = {"external_id": "pbx-1001", "caller": "330-555-0100", "called_at": "2026-12-05T09:30:00Z",
                 "agent": "Dana", "disposition": "answered"}
        first = phone.post("/v1/calls", files={"file": ("call-1001.txt", BOOKED.encode())}, data=facts)
        assert first.status_code == 201, first.text
        call = first.json()["id"]
        assert call in [c["id"] for c in calls(admin)]  # listed when the push returns
        again = phone.post("/v1/calls", files={"file": ("call-1001.txt", BOOKED.encode())}, data=facts)
        assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
        assert phone.get("/v1/calls").status_code == 401  # the intake key pushes, nothing else
        assert admin.post("/v1/calls", files={"file": ("b.txt", ASKED.encode())}).status_code == 201
        assert phone.post("/v1/calls", data={"caller": "x"}).status_code in (415, 422)
        done = wait_until(lambda: admin.get(f"/v1/calls/{call}").json()["state"] == "done" and admin.get(f"/v1/calls/{call}").json())
        meta = done["result"]["meta"]
        assert meta["agent"] == "Dana" and meta["external_id"] == "pbx-1001" and meta["datetime"] == "2026-12-05 09:30:00"
        assert len(calls(admin)) == 2
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_watched_folder_is_taken_once_by_content_across_restarts(tfidf_dir, tmp_path, booked_call):
    inbox, done = tmp_path / "inbox", tmp_path / "done"
    (inbox / "2026-12-05").mkdir(parents=True)
    (inbox / "before.txt").write_text(BOOKED)  # there before the service starts: the backlog
    args = ("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY, "--watch", str(inbox),
            "--settle-seconds", "1", "--after-intake", f"move:{done}")
    proc, url = start_server(*args)
    try:
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        wait_until(lambda: len(calls(admin)) == 1)
        shutil.copy(booked_call, inbox / "2026-12-05" / "rec.mp3")  # a recording, with its facts beside it
        (inbox / "2026-12-05" / "rec.json").write_text(json.dumps({"caller": "330-555-0199", "agent": "Sam"}))
        (inbox / "asked.txt").write_text(ASKED)
        wait_until(lambda: [c["state"] for c in calls(admin)] == ["done"] * 3)
        assert (done / "2026-12-05" / "rec.mp3").is_file() and (done / "asked.txt").is_file()
        assert not list(inbox.rglob("*.txt")) and not list(inbox.rglob("*.mp3"))  # moved once taken
        shutil.copy(done / "asked.txt", inbox / "asked-again.txt")  # the same content under another name
        time.sleep(3)
        assert len(calls(admin)) == 3
    finally:
        proc.terminate()
        proc.wait(10)
    (inbox / "after-restart.txt").write_text(ASKED + " Thanks anyway.")
    proc, url = start_server(*args)
    try:
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        wait_until(lambda: len(calls(admin)) == 4)
        time.sleep(2)
        assert len(calls(admin)) == 4  # nothing taken twice after the restart
        status = admin.get("/v1/intake").json()
        assert status["watching"] and status["backlog"]["done"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_page_shows_a_pushed_call_on_the_ring_back_list_without_reloading(tfidf_dir, tmp_path):
    """Issue 34 part 4: a call pushed while the page is open reaches the Ring back tab and its count by itself."""
    playwright = pytest.importorskip("playwright.sync_api")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY)
    try:
        with playwright.sync_playwright() as p:
            browser, page, errors = signed_in_page(p, url, KEY)
            page.click("nav [data-tab=callbacks]")
            admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
            missed = "Hello? Hello? Is anyone there? I need someone to fix my furnace, please call me back."
            pushed = admin.post("/v1/calls", files={"file": ("missed.txt", missed.encode())},
                                data={"caller": "330-555-0142", "disposition": "missed"})
            assert pushed.status_code == 201
            page.wait_for_selector("li.callback", timeout=60_000)
            assert "555-0142" in page.text_content("#callbacks")
            assert page.text_content("nav [data-tab=callbacks]") == "Ring back (1)"
            browser.close()
            assert errors == []
    finally:
        proc.terminate()
        proc.wait(10)


def test_under_redact_the_callers_number_is_used_but_never_stored(tfidf_dir, tmp_path):
    pytest.importorskip("presidio_analyzer")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY,
                             "--redact")
    try:
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        pushed = admin.post("/v1/calls", files={"file": ("a.txt", ASKED.encode())},
                            data={"caller": "330-555-0177", "agent": "Dana"}).json()
        done = wait_until(lambda: admin.get(f"/v1/calls/{pushed['id']}").json()["state"] == "done"
                          and admin.get(f"/v1/calls/{pushed['id']}").json())
        assert done["result"]["meta"] == {"agent": "Dana"}
    finally:
        proc.terminate()
        proc.wait(10)
    assert b"555-0177" not in (tmp_path / "jobs.db").read_bytes() + (tmp_path / "jobs.db-wal").read_bytes()


def test_a_kill_9_in_the_middle_of_a_backlog_loses_no_call_and_takes_none_twice(tfidf_dir, tmp_path):
    import os
    import signal

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = 120
    for n in range(files):  # a phone system's export already in the folder: taken in the background
        (inbox / f"call-{n:03d}.txt").write_text(f"{BOOKED} Ticket {n}.")
    args = ("--model", str(tfidf_dir), "--store", str(tmp_path / "jobs.db"), "--api-key", KEY, "--watch", str(inbox),
            "--settle-seconds", "1")
    proc, url = start_server(*args)
    admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
    taken = wait_until(lambda: (n := admin.get("/v1/intake").json()["backlog"]["taken"]) >= 10 and n)
    os.kill(proc.pid, signal.SIGKILL)  # no goodbye: whatever was in hand is in hand
    proc.wait(10)
    assert taken < files, "the backlog finished before the kill: nothing was tested"
    proc, url = start_server(*args)
    try:
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        everything = "/v1/calls?limit=1000"
        wait_until(lambda: [c["state"] for c in admin.get(everything).json()["results"]] == ["done"] * files, 240)
        stored = admin.get(everything).json()["results"]
        assert sorted(c["source"].rsplit("/", 1)[-1] for c in stored) == [f"call-{n:03d}.txt" for n in range(files)]
        assert admin.get("/v1/intake").json()["backlog"]["done"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_calls_being_taken_when_the_service_died_are_finished_or_taken_again(tfidf_dir, tmp_path):
    """What a kill -9 between the steps of taking a call leaves (an intake record without its call id, with or
    without its batch stored) is put right at the next start: nothing is lost, nothing taken twice."""
    import hashlib

    from sqlalchemy import create_engine, text

    store, inbox = tmp_path / "jobs.db", tmp_path / "inbox"
    inbox.mkdir()
    args = ("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY, "--watch", str(inbox))
    proc, url = start_server(*args)
    try:
        pushed = httpx.post(f"{url}/v1/calls", files={"file": ("a.txt", BOOKED.encode())}, headers={"x-api-key": KEY})
    finally:
        proc.terminate()
        proc.wait(10)
    (inbox / "b.txt").write_text(ASKED)
    with create_engine(f"sqlite:///{store}").begin() as conn:  # as a kill -9 leaves them
        conn.execute(text("UPDATE intake SET call_id = NULL"))  # a's batch was stored, its call id not yet
        b_hash = hashlib.sha256(ASKED.encode()).hexdigest()  # b's call registered, its batch never stored
        conn.execute(text("INSERT INTO intake (content_hash, origin, batch_id, created_at) VALUES (:h, :o, :b, 0)"),
                     {"h": b_hash, "o": str(inbox / "b.txt"), "b": "f00dfeedbeef"})
        conn.execute(text("INSERT INTO calls (job, source, content_hash, state, attempts, updated_at) "
                          "SELECT job, :source, :h, 'pending', 0, 0 FROM calls LIMIT 1"),
                     {"source": f"{store}.uploads/f00dfeedbeef/b.txt", "h": b_hash})
    proc, url = start_server(*args)
    try:
        admin = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
        again = admin.post("/v1/calls", files={"file": ("a.txt", BOOKED.encode())})
        assert again.status_code == 200 and again.json()["id"] == pushed.json()["id"]  # the same call, once
        wait_until(lambda: [c["state"] for c in calls(admin)] == ["done", "done"])
        listed = calls(admin)
        assert sorted(c["source"] for c in listed) == ["a.txt", "b.txt"]  # b's batch never was: taken now, once
    finally:
        proc.terminate()
        proc.wait(10)
