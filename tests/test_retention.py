"""Nothing left behind (issue 32): one rule, --keep-uploads-days, for what the service writes from a call, and
under --redact no personal value it was sent in any file it wrote. Through the real app and a real `callsort serve`."""

import os
import time
from pathlib import Path

import httpx
import pytest
from conftest import LOCAL, finished_batch, start_server
from fastapi.testclient import TestClient

from callsort.config import AsrConfig
from callsort.service.app import create_app
from callsort.service.retention import CACHE_FOLDER, Retention
from callsort.service_config import ServeConfig

KEY, REVIEWER = "retention-admin-key-0123", "retention-reviewer-key-0123"
DAY = 86400


def aged(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_the_retention_rule_deletes_only_old_files_of_its_patterns(tmp_path):
    silenced = tmp_path / "silenced"
    silenced.mkdir()
    old, new, other = silenced / "a.0123456789ab.redacted.wav", silenced / "b.0123456789ab.redacted.wav", silenced / "keep.wav"
    for file in (old, new, other):
        file.write_bytes(b"RIFF")
    aged(old, 3)
    aged(other, 3)
    assert Retention(0, [(silenced, "*.redacted.wav")]).expire_files() == 0  # 0 days: kept forever
    assert Retention(2, [(silenced, "*.redacted.wav")]).expire_files() == 1
    assert not old.exists() and new.exists() and other.exists()


def test_cached_transcripts_live_beside_the_uploads_and_expire_with_them(tfidf_dir, tmp_path, booked_call):
    """The service caches transcripts under its uploads folder, never the user's cache, and the one rule expires
    them: a finished batch's folder and its cached transcript go once older than --keep-uploads-days."""
    config = ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY, keep_uploads_days=1)
    client = TestClient(create_app(tfidf_dir, config, AsrConfig()), base_url=LOCAL, headers={"x-api-key": KEY})
    batch = client.post("/v1/batches", files=[("files", ("a.mp3", booked_call.read_bytes()))]).json()
    assert finished_batch(client, batch["id"], seconds=120)["done"] == 1
    cached = list((Path(config.uploads) / CACHE_FOLDER).rglob("*.json"))
    assert len(cached) == 1
    runner = client.app.state.service.batches
    runner.expire_uploads()
    assert cached[0].exists()  # written today: kept
    aged(cached[0], 2)
    with runner.work.db.engine.begin() as conn:
        conn.execute(runner.records.table.update().values(created_at=time.time() - 2 * DAY))
    runner.expire_uploads()
    assert not cached[0].exists() and not Path(runner.records.get(batch["id"])["folder"]).exists()


def test_without_a_store_the_service_keeps_nothing_of_a_call(tfidf_dir, tmp_path, booked_call, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "cache"))
    client = TestClient(create_app(tfidf_dir, ServeConfig(api_key=KEY), AsrConfig()), base_url=LOCAL,
                        headers={"x-api-key": KEY})
    assert client.post("/v1/classify", files={"file": ("a.mp3", booked_call.read_bytes())}).status_code == 200
    assert not (tmp_path / "cache").exists()


# made-up personal values, in the forms callers and phone systems give them
NAME, PHONE, EMAIL = "Marguerite Quillfeather", "216-555-0143", "marguerite.quillfeather@example.org"
SECRETS = ("Marguerite", "Quillfeather", "555-0143", "5550143", "quillfeather@")
SAID = (f"Hi, this is {NAME}, my number is {PHONE} and my e-mail is {EMAIL}. My furnace stopped, can someone come "
        "out tomorrow? Sure, we have 9 am. Great, see you then.")


@pytest.mark.slow
def test_a_redact_session_leaves_no_personal_value_in_any_file(tfidf_dir, tmp_path):
    """Every file under the store, its uploads, the transcript cache and TMPDIR after a --redact session (one-off
    texts and uploads, a batch of a .txt and a table named after the caller, a refused upload, a reviewer's
    reason) is searched for the values sent: none is found."""
    pytest.importorskip("presidio_analyzer")
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    (tmp_path / "store").mkdir()
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "CALLSORT_CACHE_DIR": str(cache)}
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(tmp_path / "store" / "jobs.db"), "--redact",
                             "--api-key", KEY, "--reviewer-key", REVIEWER, env=env)
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=120) as client:
            file_name = f"{NAME.replace(' ', '_')}_{PHONE}.txt"
            assert client.post("/v1/classify", json={"text": SAID}).status_code == 200
            one = client.post("/v1/classify", files={"file": (file_name, SAID.encode())})
            assert one.status_code == 200 and not any(s in one.text for s in SECRETS), one.text
            refused = client.post("/v1/classify", files={"file": (file_name, SAID.encode("utf-16"))})
            assert refused.status_code == 422 and "Quillfeather" not in refused.text
            table = f"text,caller\n\"{SAID}\",{NAME}\n".encode()
            batch = client.post("/v1/batches", files=[("files", (file_name, SAID.encode())),
                                                      ("files", (f"{NAME}.csv", table))]).json()
            done = finished_batch(client, batch["id"], seconds=120)
            assert done["done"] == 2 and not any(s in str(done) for s in SECRETS), done
            reviewer = {"x-api-key": REVIEWER}
            call = done["results"][0]["id"]
            saved = client.post(f"/v1/calls/{call}/correction", headers=reviewer,
                                json={"label": "Other", "reason": f"{NAME} asked to be called at {PHONE}"})
            assert saved.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
    written = [p for root in (tmp_path / "store", tmp, cache) for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written) and any(p.suffix == ".txt" for p in written)
    found = {str(p.relative_to(tmp_path)): s for p in written for s in SECRETS if s.encode() in p.read_bytes()}
    assert found == {}
