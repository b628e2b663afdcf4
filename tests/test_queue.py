"""The work queue of a results store: claims, retries, dead workers, and two processes on one store."""

import multiprocessing
import os
import socket
import time

import pytest

from callsort.errors import InputError
from callsort.jobs.queue import WorkQueue, job_summary


def test_claim_finish_fail_and_retry(store_url):
    store = WorkQueue(store_url)
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
    results = store.states("job1")
    assert results[("a", "h1")]["result"] == {"label": "x"} and results[("b", "h2")]["state"] == "failed"
    summary = job_summary(store)[0]
    assert summary["total"] == 4 and summary["done"] == 1 and summary["failures"][0]["attempts"] == 2
    assert store.db.integrity_ok()


def test_calls_held_by_a_dead_process_are_taken_back(tmp_path):
    store = WorkQueue(tmp_path / "jobs.db")
    store.add("j", [("a", "h")])
    dead = WorkQueue(tmp_path / "jobs.db")
    dead.worker = f"{socket.gethostname()}:{_dead_pid()}"
    assert len(dead.claim("j", 1, 3)) == 1
    assert store.claim("j", 1, 3)[0].source == "a"
    live = WorkQueue(tmp_path / "jobs.db")
    live.worker = f"{socket.gethostname()}:{os.getpid() + 0}"
    assert live.claim("j", 1, 3) == []  # held by a live worker (this process): left alone


def _dead_pid() -> int:
    proc = multiprocessing.get_context("spawn").Process(target=int)
    proc.start()
    proc.join()
    return proc.pid


def _claim_all(url, out, start):
    store = WorkQueue(url)
    taken = []
    start.wait(60)  # both processes claim from the same moment, whichever started faster
    while batch := store.claim("j", 2, 3):
        time.sleep(0.01)  # "work" on the claim, so that the other process gets its turns
        for item in batch:
            taken.append(item.id)
            store.finish(item, {"by": os.getpid()})
    with open(out, "w") as f:
        f.write(" ".join(map(str, taken)))


def test_two_processes_never_take_the_same_call(store_url, tmp_path):
    store = WorkQueue(store_url)
    store.add("j", [(f"call{i}", "h") for i in range(300)])
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_claim_all, args=(store_url, tmp_path / f"{n}.txt", start)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    taken = [set(map(int, (tmp_path / f"{n}.txt").read_text().split())) for n in range(2)]
    assert not taken[0] & taken[1] and len(taken[0] | taken[1]) == 300
    assert taken[0] and taken[1]  # both really worked: neither did it all while the other waited
    assert job_summary(store)[0]["done"] == 300 and store.db.integrity_ok()


def test_bad_store_path(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        WorkQueue(tmp_path)
    with pytest.raises(InputError, match="cannot open the results store"):
        WorkQueue(f"sqlite:///{tmp_path}/missing/dir/jobs.db")
