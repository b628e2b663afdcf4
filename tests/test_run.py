"""Resumable stored batches, with real processes killed by SIGKILL halfway."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav

from callsort import AsrConfig, RunNeeds, load_model, read_calls
from callsort.jobs.queue import WorkQueue, job_summary
from callsort.jobs.run import run_stored
from callsort.speech.audio import load_recording


@pytest.fixture(scope="module")
def twelve_calls(tmp_path_factory, booked_call, voicemail_call, bad_audio):
    """A dozen distinct stereo recordings (the shipped calls at different levels) plus two corrupt files."""
    folder = tmp_path_factory.mktemp("batch")
    for n in range(12):
        rec = load_recording(booked_call if n % 2 else voicemail_call)
        gain = 0.5 + n * 0.04  # different bytes: no transcript-cache hits between them
        write_wav(folder / f"call{n:02d}.wav", np.stack(rec.channels) * gain)
    for name in ("empty file", "not a readable audio file"):
        target = bad_audio[name]
        (folder / target.name).write_bytes(target.read_bytes())
    return folder


def done_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("select count(*) from calls where state = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigkill_halfway_then_resume(twelve_calls, tfidf_dir, tmp_path):
    db, out = tmp_path / "jobs.db", tmp_path / "p.csv"
    env = {**os.environ, "CALLSORT_CACHE_DIR": str(tmp_path / "cache")}
    exe = Path(sys.executable).parent / "callsort"
    cmd = [str(exe), "predict", str(twelve_calls), "--model", str(tfidf_dir), "--store", str(db),
           "--out", str(out), "--quiet", "--no-cache"]  # no cache: recognise and classify call by call
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while done_count(db) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = done_count(db)
    assert 4 <= killed_at < 12 and not out.exists()
    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("select source, updated_at from calls where state = 'done'").fetchall())

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 3, rerun.stderr  # the two corrupt files failed
    rows = list(csv.DictReader(open(out)))
    sources = [r["source"] for r in rows]
    assert len(rows) == 14 and len(set(sources)) == 14
    good = [r for r in rows if Path(r["source"]).name.startswith("call")]
    assert len(good) == 12 and all(r["label"] and not r["error"] for r in good)
    bad = [r for r in rows if not Path(r["source"]).name.startswith("call")]
    assert all(r["error"] and not r["label"] for r in bad)
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        after = dict(conn.execute("select source, updated_at from calls where state = 'done'").fetchall())
        states = dict(conn.execute("select state, count(*) from calls group by state").fetchall())
    assert states == {"done": 12, "failed": 2}
    assert all(after[s] == t for s, t in before.items())  # done before the kill: not done again

    third = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert third.returncode == 3

    def without_attempts(table):
        return [{k: v for k, v in r.items() if k != "attempts"} for r in table]

    assert without_attempts(csv.DictReader(open(out))) == without_attempts(rows)  # the done calls were not redone
    with sqlite3.connect(db) as conn:  # the corrupt files come last, after the kill: tried once per later run
        attempts = [a for (a,) in conn.execute("select attempts from calls where state = 'failed'")]
    assert attempts == [2, 2]


def test_stored_text_batch_in_process(tfidf_dir, sample_test_csv, store_url):
    model = load_model(tfidf_dir)
    table = read_calls(sample_test_csv, label_column=None, drop_empty=False)
    store = WorkQueue(store_url)
    first = run_stored(table, model, store)
    assert len(first) == 24 and all(r.label for r in first)
    assert [r.label for r in run_stored(table, model, store)] == [r.label for r in first]
    assert job_summary(store)[0]["done"] == 24


def test_runs_of_one_job_on_different_inputs_stay_apart(tfidf_dir, sample_test_csv, sample_csv, tmp_path):
    """Calls left pending by another input set of the same model are not taken (nor needed) by this run."""
    model = load_model(tfidf_dir)
    store = WorkQueue(tmp_path / "jobs.db")
    other = read_calls(sample_csv, label_column=None, drop_empty=False)
    from callsort.jobs.run import content_hash, job_id

    store.add(job_id(model.identity, None), [(s, content_hash(other, i)) for i, s in enumerate(other.sources)])
    table = read_calls(sample_test_csv, label_column=None, drop_empty=False)
    rows = run_stored(table, model, store)
    assert len(rows) == 24 and all(r.label for r in rows)
    assert job_summary(store)[0]["pending"] == len(other)


@pytest.mark.slow
def test_two_predict_processes_share_one_store(twelve_calls, tfidf_dir, tmp_path):
    """Two processes on one store: they split the work, neither redoes the other's, both outputs complete."""
    db = tmp_path / "jobs.db"
    env = {**os.environ, "CALLSORT_CACHE_DIR": str(tmp_path / "cache")}
    exe = Path(sys.executable).parent / "callsort"

    def start(n: int) -> subprocess.Popen:
        return subprocess.Popen([str(exe), "predict", str(twelve_calls), "--model", str(tfidf_dir), "--store", str(db),
                                 "--out", str(tmp_path / f"p{n}.csv"), "--claim-size", "1", "--quiet", "--no-cache"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    procs = [start(0)]
    deadline = time.time() + 300
    while done_count(db) < 1 and time.time() < deadline and procs[0].poll() is None:
        time.sleep(0.2)  # the second starts once the first is at work, so that they really overlap
    procs.append(start(1))
    for proc in procs:
        proc.wait(600)
        assert proc.returncode == 3, proc.stderr.read().decode()  # the two corrupt files
    outputs = [list(csv.DictReader(open(tmp_path / f"p{n}.csv"))) for n in range(2)]
    assert all(len(rows) == 14 for rows in outputs)
    assert [(r["source"], r["label"]) for r in outputs[0]] == [(r["source"], r["label"]) for r in outputs[1]]
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from calls").fetchone()[0] == 14  # each file once
        by_worker = dict(conn.execute("select worker, count(*) from calls where state = 'done' group by worker"))
    assert sum(by_worker.values()) == 12 and len(by_worker) == 2  # both worked, on different calls


@pytest.mark.slow
def test_recognition_first_then_classification(twelve_calls, tfidf_dir, tmp_path, monkeypatch):
    """With the transcript cache on (the default), a stored run recognises every call first, gives each claim
    back, frees Whisper, then classifies from the cache: the rows are those of a run without the cache."""

    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "cache"))
    table = read_calls(twelve_calls, label_column=None, drop_empty=False)
    cached = run_stored(table, str(tfidf_dir), WorkQueue(tmp_path / "a.db"), RunNeeds.for_calls(table, AsrConfig()))
    direct = run_stored(table, str(tfidf_dir), WorkQueue(tmp_path / "b.db"),
                        RunNeeds.for_calls(table, AsrConfig(use_cache=False)))
    assert [r.to_dict() for r in cached] == [r.to_dict() for r in direct]
    assert sum(1 for r in cached if r.error) == 2 and all(r.attempts == 1 for r in cached)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 12


@pytest.mark.slow
def test_ray_gives_the_same_rows_as_local(twelve_calls, tfidf_dir, tmp_path):
    ray = pytest.importorskip("ray")
    from callsort.config import JobConfig

    table = read_calls(twelve_calls, label_column=None, drop_empty=False).subset(range(0, 14, 3))
    needs = RunNeeds.for_calls(table, AsrConfig(use_cache=False))  # both engines really transcribe
    local = run_stored(table, str(tfidf_dir), WorkQueue(tmp_path / "local.db"), needs)
    store = WorkQueue(tmp_path / "ray.db")
    try:
        on_ray = run_stored(table, str(tfidf_dir), store, needs, JobConfig(engine="ray", workers=2))
    finally:
        ray.shutdown()
    assert [r.to_dict() for r in on_ray] == [r.to_dict() for r in local]
    summary = job_summary(store)[0]
    assert summary["done"] + summary["failed"] == len(table) and summary["failed"] == sum(1 for r in local if r.error)
