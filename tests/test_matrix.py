"""Every input kind on every path, with redaction off and on: every cell finishes and gives the same rows.

Inputs: transcripts (a table with an empty row, and a .txt file), recordings (the two shipped calls and a corrupt file) and a
mix of both (a recording, the corrupt file, a .txt transcript and a table). Paths: `callsort predict` plain,
`--store` (local engine), `--store --engine ray`, `/v1/classify/batch`, a service batch of uploads, a service
batch from a server folder; plus one text and one recording through `/v1/classify`. The reference for each
input is plain `predict`. One Ray start and one real server per redaction setting serve the whole matrix.
Under --redact, no transcript written to disk (transcript cache, results stores) holds what was redacted.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import start_server

from callsort import AsrConfig, ResultRow
from callsort.config import EvidenceConfig, JobConfig
from callsort.data import read_calls
from callsort.jobs.queue import WorkQueue
from callsort.jobs.run import run_stored
from callsort.needs import RunNeeds
from callsort.speech.cache import TranscriptCache

KEY = "matrix-key-for-tests"
KINDS = ("texts", "recordings", "mix")
PATHS = ("store", "ray", "http_batch", "upload_batch", "folder_batch")
# model_dir: a server path, kept in stores and files, never in the service's answers (service/review.public)
COMPARED = [f for f in ResultRow.__dataclass_fields__ if f not in ("source", "attempts", "error", "meta", "model_dir")]
TEXTS = ["You have reached our voicemail, please leave a message after the tone",
         "Hi, this is John Carter, my furnace stopped working. Call me at 555 201 3344. Yes, booked for 9.",
         ""]  # an empty row: a failed row on every path
PERSONAL = ["John Carter", "201 3344", "555-0142", "this is Sam"]  # in the texts and in the voicemail recording

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, booked_call, voicemail_call, bad_audio) -> dict[str, Path]:
    """A folder per kind of input."""
    root = tmp_path_factory.mktemp("matrix")
    folders = {kind: root / kind for kind in KINDS}
    for folder in folders.values():
        folder.mkdir()
    with open(folders["texts"] / "calls.csv", "w", newline="") as f:
        csv.writer(f).writerows([["text"], *[[t] for t in TEXTS]])
    (folders["texts"] / "note.txt").write_text("Hello, I need a plumber for a leaking pipe, can you come today?")
    for f in (booked_call, voicemail_call, bad_audio["empty file"]):
        shutil.copy(f, folders["recordings"] / f.name)
    for f in (voicemail_call, bad_audio["empty file"], *folders["texts"].iterdir()):
        shutil.copy(f, folders["mix"] / f.name)
    return folders


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "redact"])
def setting(request, tmp_path_factory, tfidf_dir, inputs):
    """One redaction setting: its own transcript cache, the plain `predict` rows of every input (the
    reference), and one real `callsort serve --store` for the service paths."""
    redact = request.param
    folder = tmp_path_factory.mktemp("redact" if redact else "plain")
    env = {**os.environ, "CALLSORT_CACHE_DIR": str(folder / "cache"), "HF_HUB_OFFLINE": "1"}
    flags = ["--redact"] if redact else []
    reference = {kind: _predict(inputs[kind], tfidf_dir, folder / f"{kind}.jsonl", flags, env) for kind in KINDS}
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--store", str(folder / "service.db"),
                             *flags, env=env)
    yield {"redact": redact, "folder": folder, "env": env, "flags": flags, "reference": reference, "url": url}
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    yield
    ray.shutdown()


def _predict(data: Path, model: Path, out: Path, flags: list[str], env: dict, *more: str) -> list[dict]:
    exe = Path(sys.executable).parent / "callsort"
    proc = subprocess.run([str(exe), "predict", str(data), "--model", str(model), "--out", str(out), "--quiet",
                           *flags, *more], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 3, proc.stderr  # 3: finished, some rows failed (the corrupt file, the empty row)
    return [json.loads(line) for line in out.read_text().splitlines()]


def _client(url: str):
    import httpx

    return httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=300)


def _files(folder: Path) -> list:
    return [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir())]


def _batch_rows(client, started: dict) -> list[dict]:
    """Wait for a service batch to finish; its calls' rows."""
    for _ in range(600):
        progress = client.get(f"/v1/batches/{started['id']}").json()
        if progress["finished"]:
            break
        time.sleep(0.5)
    assert progress["finished"] and not progress["stopped"], progress
    return [client.get(f"/v1/calls/{r['id']}").json()["result"] for r in progress["results"]]


def rows_by_path(path: str, kind: str, setting: dict, inputs: dict, model: Path) -> list[dict]:
    folder, data = setting["folder"], inputs[kind]
    if path == "store":
        return _predict(data, model, folder / f"{kind}-store.jsonl", setting["flags"], setting["env"],
                        "--store", str(folder / f"{kind}.db"))
    if path == "ray":  # in this process: one Ray start for the matrix (its workers share this cache folder)
        calls = read_calls(data, label_column=None, drop_empty=False)
        needs = RunNeeds.for_calls(calls, AsrConfig(redact=setting["redact"]), model)  # as predict builds it
        work = WorkQueue(folder / f"{kind}-ray.db")
        return [r.to_dict() for r in run_stored(calls, model, work, needs, JobConfig(engine="ray", workers=1))]
    with _client(setting["url"]) as client:
        if path == "http_batch":
            return client.post("/v1/classify/batch", files=_files(data)).json()["results"]
        if path == "upload_batch":
            return _batch_rows(client, client.post("/v1/batches", files=_files(data)).json())
        return _batch_rows(client, client.post("/v1/batches", json={"folder": str(data)}).json())


def _named(rows: list[dict]) -> dict[str, dict]:
    """Rows by the call's name (file name, or table:row), with the error's reason without the file's place."""
    named = {}
    for row in rows:
        name = Path(row["source"]).name
        named[name] = {**{k: row.get(k) for k in COMPARED}, "error": row["error"].split(": ", 1)[-1]}
    return named


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_gives_the_same_rows(path, kind, setting, inputs, tfidf_dir, ray_session, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", setting["env"]["CALLSORT_CACHE_DIR"])
    expected = _named(setting["reference"][kind])
    failed = {name for name, row in expected.items() if row["error"]}
    assert failed == {"texts": {"calls.csv:3"}, "recordings": {"empty.mp3"}, "mix": {"empty.mp3", "calls.csv:3"}}[kind]
    got = _named(rows_by_path(path, kind, setting, inputs, tfidf_dir))
    assert got == expected


@pytest.mark.parametrize("kind", ["text", "recording"])
def test_one_call_per_request(kind, setting, booked_call):
    reference = _named(setting["reference"]["texts" if kind == "text" else "recordings"])
    with _client(setting["url"]) as client:
        if kind == "text":
            answer, expected = client.post("/v1/classify", json={"text": TEXTS[1]}), reference["calls.csv:2"]
        else:
            answer = client.post("/v1/classify", files={"file": (booked_call.name, booked_call.read_bytes())})
            expected = reference[booked_call.name]
    assert answer.status_code == 200
    assert _named([answer.json()]) == {Path(answer.json()["source"]).name: expected}


def test_redaction_leaves_nothing_personal_on_disk(setting, inputs, voicemail_call, tfidf_dir):
    """After the cells above: the transcript cache and every results store of the redacting runs hold the
    redacted transcripts only (and the plain runs' stores do hold the words, so the search can find them)."""
    stores = [p for p in setting["folder"].glob("*.db*") if p.is_file()]  # with SQLite's -wal files
    assert len(stores) >= 4
    words = b"".join(p.read_bytes() for p in stores)
    built = RunNeeds.build(AsrConfig(redact=setting["redact"], use_cache=False), model_dir=tfidf_dir)
    settings = AsrConfig(redact=setting["redact"]).cache_settings()
    if setting["redact"] and built.redactor.keep.words:  # the key holds the words the model keeps, as built
        settings["keep_learned"] = sorted(built.redactor.keep.words)
    cache = TranscriptCache(built.recogniser.model_dir, settings, Path(setting["env"]["CALLSORT_CACHE_DIR"]) / "transcripts")
    cached = cache.get(cache.key(voicemail_call), voicemail_call)
    assert cached is not None
    assert ("[PHONE]" if setting["redact"] else "555-0142") in cached.transcript
    if setting["redact"]:
        cached_files = b"".join(p.read_bytes() for p in cache.folder.rglob("*.json"))
        for personal in PERSONAL:
            assert personal.encode() not in words and personal.encode() not in cached_files, personal
    else:
        assert b"555-0142" in words  # a recording's transcript is stored (a text row's text is not)


def test_evidence_reaches_the_ray_workers(tfidf_dir, tmp_path, ray_session):
    """--meta facts (was it answered, the caller number) and the customer list give the same rows on Ray."""
    from callsort import classify_calls

    table = tmp_path / "calls.csv"
    table.write_text('text\n"Hi, my name is Wilma Quorrington, my furnace is out, can you come? Yes, tomorrow."\n'
                     '"Hello? Hello? Anyone there?"\n')
    meta = tmp_path / "meta.csv"
    meta.write_text("file,disposition,caller\ncalls.csv:1,answered,330-555-0100\ncalls.csv:2,abandoned,\n")
    customers = tmp_path / "customers.csv"
    customers.write_text("name,phone\nWilma Quorrington,330-555-0199\n")
    calls = read_calls(table, label_column=None, drop_empty=False)

    def needs():
        return RunNeeds.for_calls(calls).with_evidence(EvidenceConfig(str(meta), None, str(customers), True), tfidf_dir)

    plain = [r.to_dict() for r in classify_calls(calls, tfidf_dir, needs())]
    on_ray = [r.to_dict() for r in run_stored(calls, tfidf_dir, WorkQueue(tmp_path / "ray.db"), needs(),
                                              JobConfig(engine="ray", workers=1))]
    keys = ("label", "probabilities", "answered", "answered_by", "customer", "customer_match")
    assert [{k: r[k] for k in keys} for r in on_ray] == [{k: r[k] for k in keys} for r in plain]
    assert (plain[0]["customer"], plain[1]["answered"]) == ("existing", "no")
