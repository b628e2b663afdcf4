"""The review loop on a real `callsort serve --store` process: a batch uploaded and reviewed in Chromium by
keyboard, corrections that survive a restart and a kill -9 mid-batch, and `train --corrections` using them."""

import csv
import json
import os
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KEY, REVIEWER = "admin-key-for-tests", "reviewer-key-for-tests"


def serve_with_store(model: Path, store: Path, *more: str):
    # --review-below 1.01: every call goes to the review queue, so that the two shipped calls fill it
    return start_server("--model", str(model), "--store", str(store), "--api-key", KEY, "--reviewer-key", REVIEWER,
                        "--review-below", "1.01", *more)


def recordings(folder: Path, booked: Path, voicemail: Path, copies: int = 1) -> list[Path]:
    """The shipped calls under several names (each name is a call of its own), and one corrupt file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(copies):
        paths += [shutil.copy(booked, folder / f"booked-{n}.mp3"), shutil.copy(voicemail, folder / f"voicemail-{n}.mp3")]
    (folder / "broken.mp3").write_bytes(b"this is not audio")
    return [Path(p) for p in paths] + [folder / "broken.mp3"]


def wait_finished(url: str, batch: str, timeout: float = 300) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = httpx.get(f"{url}/v1/batches/{batch}", headers={"x-api-key": REVIEWER}, timeout=10).json()
        if body["finished"]:
            return body
        time.sleep(0.5)
    pytest.fail(f"batch {batch} did not finish: {body}")


@pytest.mark.slow
def test_review_loop_in_chromium(tfidf_dir, booked_call, voicemail_call, tmp_path, sample_csv):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    files = recordings(tmp_path / "in", booked_call, voicemail_call)
    store = tmp_path / "jobs.db"
    proc, url = serve_with_store(tfidf_dir, store)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page(accept_downloads=True)
            page.goto(url)
            page.fill("#key", REVIEWER)
            page.click("#signin-go")
            page.wait_for_selector("#signout:not([hidden])")
            page.click("nav [data-tab=batch]")
            page.set_input_files("#batch-files", [str(f) for f in files])
            page.wait_for_selector("#batch-status[data-finished=true]", timeout=300_000)
            assert page.locator("#results tbody tr").count() == 3
            assert "broken.mp3" in page.text_content("#results") and "failed" in page.text_content("#results")

            page.click("nav [data-tab=queue]")
            page.wait_for_selector("#item:not([hidden])")
            assert page.text_content("#queue-count").startswith("2 calls")
            assert page.text_content("#item-transcript").startswith("Agent: ")
            assert page.text_content("#item-questions").startswith("a lead: ")  # the questions behind the label
            # the recording streams (range requests, the key cookie) and plays
            wait_for(page, "document.querySelector('#player').duration > 5", timeout=30_000)
            page.evaluate("document.querySelector('#player').muted = true; document.querySelector('#player').play()")
            wait_for(page, "document.querySelector('#player').currentTime > 0.2", timeout=30_000)

            page.click("h1")  # keyboard focus off the inputs
            first = page.text_content("#item-source")
            page.keyboard.press("j")
            wait_for(page, "document.querySelector('#item-source').textContent.startsWith('2 / 2')")
            page.keyboard.press("k")
            wait_for(page, f"document.querySelector('#item-source').textContent === {json.dumps(first)}")
            page.keyboard.press("5")
            page.keyboard.press("Enter")
            wait_for(page, "document.querySelector('#item-source').textContent.startsWith('1 / 1')")
            page.keyboard.press("6")
            page.keyboard.press("Enter")
            wait_for(page, "document.querySelector('#queue-count').textContent.startsWith('0 calls')")

            page.click("nav [data-tab=batch]")
            with page.expect_download() as download:
                page.click("#export")
            exported = Path(download.value.path()).read_text()
            browser.close()
        labels = httpx.get(f"{url}/healthz").json()["labels"]
        assert labels[4] in exported and labels[5] in exported
        before = httpx.get(f"{url}/v1/corrections", headers={"x-api-key": KEY}).json()["corrections"]
        assert sorted(c["label"] for c in before) == sorted([labels[4], labels[5]])
    finally:
        proc.terminate()
        proc.wait(10)

    proc, url = serve_with_store(tfidf_dir, store)  # a restart keeps them
    try:
        after = httpx.get(f"{url}/v1/corrections", headers={"x-api-key": KEY}).json()["corrections"]
        assert [(c["label"], c["source"]) for c in after] == [(c["label"], c["source"]) for c in before]
    finally:
        proc.terminate()
        proc.wait(10)

    out = tmp_path / "corrections.csv"
    assert run_cli("corrections", str(store), "--out", str(out)).returncode == 0
    exported_rows = list(csv.DictReader(out.open()))
    assert list(exported_rows[0]) == ["source", "content_hash", "text", "predicted", "label", "reason", "reviewer", "time"]
    assert sorted(r["label"] for r in exported_rows) == sorted([labels[4], labels[5]])
    assert all(r["text"].startswith("Agent: ") and len(r["content_hash"]) == 64 for r in exported_rows)
    trained = run_cli("train", str(sample_csv), "--out", str(tmp_path / "m"), "--model", "tfidf",
                      "--corrections", str(store), "--json")
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["corrections"] == {"used": 2, "relabelled": 0, "added": 2}
    info = json.loads((tmp_path / "m" / "callsort.json").read_text())
    assert info["training"]["corrections"]["used"] == 2


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing(tfidf_dir, booked_call, voicemail_call, tmp_path):
    store = tmp_path / "jobs.db"
    files = recordings(tmp_path / "in", booked_call, voicemail_call, copies=4)
    proc, url = serve_with_store(tfidf_dir, store, "--no-cache")  # every call recognised anew: takes a while
    headers = {"x-api-key": REVIEWER}
    handles = [open(f, "rb") for f in files]
    try:
        batch = httpx.post(f"{url}/v1/batches", headers=headers, timeout=60,
                           files=[("file", (f.name, h)) for f, h in zip(files, handles, strict=False)]).json()["id"]
    finally:
        for h in handles:
            h.close()
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once some calls are done, before all are
        progress = httpx.get(f"{url}/v1/batches/{batch}", headers=headers).json()
        if progress["done"] >= 2:
            break
        time.sleep(0.2)
    assert not progress["finished"], "the batch finished before it could be killed; give it more calls"
    first_done = next(r for r in progress["results"] if r["state"] == "done")
    labels = httpx.get(f"{url}/healthz").json()["labels"]
    assert httpx.post(f"{url}/v1/calls/{first_done['id']}/correction", headers=headers,
                      json={"label": labels[0], "reviewer": "ann"}).status_code == 200
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)

    proc, url = serve_with_store(tfidf_dir, store, "--no-cache")  # the restarted service resumes the batch
    try:
        finished = wait_finished(url, batch)
        assert finished["done"] == len(files) - 1 and finished["failed"] == 1
        corrections = httpx.get(f"{url}/v1/corrections", headers=headers).json()["corrections"]
        assert [(c["label"], c["reviewer"]) for c in corrections] == [(labels[0], "ann")]
        rows = finished["results"]
        assert len({r["id"] for r in rows}) == len(files)
        booked = {r["label"] for r in rows if r["source"].startswith("booked")}
        assert len(booked) == 1  # every copy of a call got the same row, before and after the kill
    finally:
        proc.terminate()
        proc.wait(10)
