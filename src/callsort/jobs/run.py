"""Resumable runs: calls go through a results store, so a killed run picks up where it stopped.

Two engines run a stored run: `local` (this process, jobs/local.py) and `ray` (a pool of Ray Data actors,
jobs/ray_engine.py). Both classify through pipeline.classify_calls and commit the same ResultRow; the driver
(this process) owns the store, so Ray workers need no database access.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

from ..config import JobConfig
from ..data import CallTable
from ..models.classifier import Classifier
from ..needs import RunNeeds
from ..pipeline import ResultRow, identity_of
from ..speech.audio import file_sha256
from .local import run_locally
from .queue import WorkQueue
from .ray_engine import run_on_ray
from .stored import StoredRun

log = logging.getLogger(__name__)


def content_hash(calls: CallTable, i: int) -> str:
    """What a call's result depends on besides the model: the recording's bytes, or the transcript text."""
    if calls.is_recording(i):
        try:
            return file_sha256(calls.audio[i])
        except OSError as exc:  # unreadable now: hash the reason, so that a later fix counts as new work
            return hashlib.sha256(f"unreadable:{exc}".encode()).hexdigest()
    return hashlib.sha256(calls.texts[i].encode()).hexdigest()


def job_id(model_identity: str, settings: dict | None) -> str:
    """Same model and recognition settings -> same job; retraining or changing --asr-model is new work."""
    parts = {"model": model_identity, **({"asr": settings} if settings is not None else {})}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def register(calls: CallTable, model_identity: str, queue: WorkQueue, needs: RunNeeds) -> tuple[str, list, list[int]]:
    """Add the calls to their job in the store (known ones stay as they are); returns the job, each call's
    (source, content_hash) key, and the store ids of the distinct calls."""
    job = job_id(model_identity, needs.job_settings(calls.has_audio))
    keys = [(calls.sources[i], content_hash(calls, i)) for i in range(len(calls))]
    added = queue.add(job, keys)
    log.info("job %s: %d calls, %d new", job, len(keys), added)
    return job, keys, queue.ids(job, list(dict.fromkeys(keys)))


def run_stored(calls: CallTable, model: Classifier | str | Path | None, queue: WorkQueue,
               needs: RunNeeds | None = None, config: JobConfig | None = None, review_below: float | None = None,
               progress: bool = False, stop: Callable[[], bool] | None = None,
               job_identity: str | None = None) -> list[ResultRow]:
    """Classify every call through the store, skipping calls already done; one row per input, in order.
    `stop` is asked before each claim (the local engine): when it says so, the calls not in hand stay undone.
    `job_identity`: the job the calls belong to, when it is not the model's (learning in place: the calls
    keep their ids while models come and go; `model` None transcribes and keeps them for people to label)."""
    config, needs = config or JobConfig(), needs or RunNeeds.for_calls(calls)
    identity = identity_of(model)
    job, keys, ids = register(calls, job_identity or identity, queue, needs)
    index = {key: i for i, key in reversed(list(enumerate(keys)))}  # first row of each (source, content)
    known = queue.states(job)
    todo = sum(1 for key in index if known[key]["state"] != "done")
    run = StoredRun(calls, index, ids, job, model, queue, needs, config, review_below, progress, todo, stop)
    run_on_ray(run) if config.engine == "ray" else run_locally(run)
    return rows_in_input_order(queue.states(job), keys, identity)


def rows_in_input_order(states: dict, keys: list[tuple[str, str]], identity: str) -> list[ResultRow]:
    """The stored row of every input call; `attempts` counts every try, the successful one included."""
    rows = []
    for source, content in keys:
        entry = states.get((source, content)) or {"state": "pending", "attempts": 0, "error": None, "result": None}
        tries = entry["attempts"] + (1 if entry["state"] == "done" else 0)
        if entry["result"]:
            row = ResultRow.from_dict({**entry["result"], "source": source})
            row.attempts = tries
        else:
            row = ResultRow.failed(source, entry["error"] or "not processed", identity, tries)
        rows.append(row)
    return rows
