"""The results store: claims, retries, dead workers, and two processes on one SQLite file."""

import multiprocessing
import os
import socket
import time

import pytest

from callsort.errors import InputError
from callsort.store import JobStore


def test_claim_finish_fail_and_retry(store_url):
    store = JobStore(store_url)
    assert store.add("job1", [("a", "h1"), ("b", "h2"), ("c", "h3")]) == 3
    assert store.add("job1", [("a", "h1"), ("a", "h1-changed")]) == 1  # changed content is new work
    first = store.claim("job1", limit=2, max_attempts=2)
    assert [i.source for i in first] == ["a", "b"]
    store.finish(first[0], {"label": "x"})
    store.fail(first[1], "b: broken")
    rest = store.claim("job1", limit=10, max_attempts=2, failed_before=time.time() - 60)
    assert sorted(i.source for i in rest) == ["a", "c"]  # b failed during "this run": not retried yet
    again = store.claim("job1", limit=10, max_attempts=2)
    assert [i.source for i in again] == ["b"] and again[0].attempts == 1
    store.fail(again[0], "b: broken")
    assert store.claim("job1", limit=10, max_attempts=2) == []  # out of attempts
    results = store.results("job1")
    assert results[("a", "h1")]["result"] == {"label": "x"} and results[("b", "h2")]["state"] == "failed"
    summary = store.summary()[0]
    assert summary["total"] == 4 and summary["done"] == 1 and summary["failures"][0]["attempts"] == 2
    assert store.integrity_ok()


def test_calls_held_by_a_dead_process_are_taken_back(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    store.add("j", [("a", "h")])
    dead = JobStore(tmp_path / "jobs.db")
    dead.worker = f"{socket.gethostname()}:{_dead_pid()}"
    assert len(dead.claim("j", 1, 3)) == 1
    assert store.claim("j", 1, 3)[0].source == "a"
    live = JobStore(tmp_path / "jobs.db")
    live.worker = f"{socket.gethostname()}:{os.getpid() + 0}"
    assert live.claim("j", 1, 3) == []  # held by a live worker (this process): left alone


def _dead_pid() -> int:
    proc = multiprocessing.get_context("spawn").Process(target=int)
    proc.start()
    proc.join()
    return proc.pid


def _claim_all(url, out):
    store = JobStore(url)
    taken = []
    while batch := store.claim("j", 3, 3):
        for item in batch:
            taken.append(item.id)
            store.finish(item, {"by": os.getpid()})
    with open(out, "w") as f:
        f.write(" ".join(map(str, taken)))


def test_two_processes_never_take_the_same_call(store_url, tmp_path):
    store = JobStore(store_url)
    store.add("j", [(f"call{i}", "h") for i in range(300)])
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_claim_all, args=(store_url, tmp_path / f"{n}.txt")) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    taken = [set(map(int, (tmp_path / f"{n}.txt").read_text().split())) for n in range(2)]
    assert not taken[0] & taken[1] and len(taken[0] | taken[1]) == 300
    assert store.summary()[0]["done"] == 300 and store.integrity_ok()


def test_bad_store_path(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        JobStore(tmp_path)
    with pytest.raises(InputError, match="cannot open the results store"):
        JobStore(f"sqlite:///{tmp_path}/missing/dir/jobs.db")
