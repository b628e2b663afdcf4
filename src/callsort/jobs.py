"""Resumable batch prediction: calls go through a results store, so a killed run picks up where it stopped."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass

from .data import CallTable
from .predict import predict_calls
from .store import JobStore, WorkItem
from .transcribe import AsrConfig, Transcriber, transcript_details

log = logging.getLogger(__name__)


@dataclass
class JobConfig:
    """How a stored batch runs."""

    claim_size: int = 16  # calls claimed, transcribed and classified together (--claim-size)
    max_attempts: int = 3  # a failing call is retried on later runs until it has failed this often
    poll_seconds: float = 2.0  # when other workers hold the last calls: how often to look again
    engine: str = "local"  # local (this process) or ray (workers of a Ray cluster, see ray_engine.py)
    ray_address: str | None = None  # None starts a local Ray; "auto" or "ray://host:10001" joins a cluster
    workers: int = 0  # Ray workers; 0 = as many as the cluster's CPUs allow at threads_per_worker each
    threads_per_worker: int = 1

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            from .errors import ConfigError

            raise ConfigError(f"unknown engine {self.engine!r}: use local or ray")


def content_hash(table: CallTable, i: int) -> str:
    """What a call's result depends on besides the model: the recording's bytes, or the transcript text."""
    digest = hashlib.sha256()
    if table.audio and table.audio[i]:
        try:
            with open(table.audio[i], "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:  # unreadable now: hash the reason, so that a later fix counts as new work
            digest.update(f"unreadable:{exc}".encode())
    else:
        digest.update(table.texts[i].encode())
    return digest.hexdigest()


def job_id(model, asr: AsrConfig | None) -> str:
    """Same model and recognition settings -> same job; retraining or changing --asr-model is new work."""
    parts = {"model": model.info, "labels": model.labels}
    if asr is not None:
        parts["asr"] = {"model": asr.model, **asr.cache_settings()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_stored(table: CallTable, model, store: JobStore, asr: AsrConfig | None = None,
               config: JobConfig | None = None, review_below: float | None = None,
               progress: bool = False) -> list[dict]:
    """Classify every call of `table` through `store`, skipping calls already done; one row per input, in order.

    With `config.engine == "ray"` the calls are classified by Ray workers that load the model from
    `model.path` themselves; results land in the same store either way.
    """
    from tqdm.auto import tqdm

    config = config or JobConfig()
    has_audio = bool(table.audio and any(table.audio))
    job = job_id(model, asr if has_audio else None)
    keys = [(table.sources[i], content_hash(table, i)) for i in range(len(table))]
    index = {key: i for i, key in reversed(list(enumerate(keys)))}  # first row of each (source, content)
    added = store.add(job, keys)
    known = store.results(job)
    todo = sum(1 for key in index if known[key]["state"] != "done")
    log.info("job %s: %d calls, %d new, %d to do", job, len(keys), added, todo)
    ids = store.ids(job, list(index))
    if config.engine == "ray":
        from .ray_engine import run_on_ray

        run_on_ray(table, index, ids, job, model, store, asr if has_audio else None, config, review_below, progress)
        return _rows_in_input_order(store.results(job), keys)
    transcriber = Transcriber(asr) if has_audio else None
    bar = tqdm(total=todo, unit="call", disable=not progress, desc="classifying")
    started = time.time()
    while True:
        # calls that failed before this run are retried once per run, not again and again within it
        for claimed in claim_batches(store, job, ids, config.claim_size, config.max_attempts, started):
            _process(claimed, [index[(item.source, item.content_hash)] for item in claimed], table, model, store,
                     transcriber, review_below)
            bar.update(len(claimed))
        if not _held_elsewhere(store, job, keys):
            break
        time.sleep(config.poll_seconds)  # another worker is on the last calls; its dead claims come back
    bar.close()
    return _rows_in_input_order(store.results(job), keys)


def claim_batches(store: JobStore, job: str, ids: list[int], claim_size: int, max_attempts: int,
                  failed_before: float):
    """Claim this run's calls (and only these: a store may hold other runs' calls of the same job) in batches."""
    for start in range(0, len(ids), 500):
        among = ids[start:start + 500]
        while claimed := store.claim(job, claim_size, max_attempts, failed_before, among):
            yield claimed


def record(store: JobStore, item: WorkItem, row: dict) -> None:
    """Commit one call's output row: done, or failed with its error."""
    if row["error"]:
        store.fail(item, row["error"], row)
    else:
        store.finish(item, row)


def classify_calls(rows: list[int], table: CallTable, model, transcriber: Transcriber | None,
                   review_below: float | None):
    """Yield each call's output row as soon as it exists (recordings: after its own transcript)."""
    if transcriber is None:  # text: classify the batch at once (fast)
        yield from predict_calls(model, table.subset(rows), review_below)
        return
    for i, transcript in zip(rows, transcriber.transcribe_many([table.audio[i] for i in rows])):
        one = CallTable([transcript.text], [table.sources[i]], audio=[table.audio[i]],
                        details=[transcript_details(transcript)])
        yield predict_calls(model, one, review_below)[0]


def _process(items: list[WorkItem], rows: list[int], table: CallTable, model, store: JobStore,
             transcriber: Transcriber | None, review_below: float | None) -> None:
    """Classify the claimed calls, committing each result as soon as it exists."""
    settled: set[int] = set()

    try:
        for item, row in zip(items, classify_calls(rows, table, model, transcriber, review_below)):
            record(store, item, row)
            settled.add(item.id)
    except Exception as exc:  # noqa: BLE001 - recorded per call and retried on the next run, never lost
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        log.error("batch failed, recorded for retry: %s", message)
        for item in items:
            if item.id not in settled:
                store.fail(item, message)


def _held_elsewhere(store: JobStore, job: str, keys) -> bool:
    states = store.results(job)
    return any(states[key]["state"] == "running" for key in keys if key in states)


def _rows_in_input_order(results: dict, keys: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for key in keys:
        entry = results.get(key)
        if entry and entry["result"]:
            rows.append({**entry["result"], "attempts": entry["attempts"]})
        else:
            rows.append({"source": key[0], "label": "", "confidence": None, "probabilities": {},
                         "needs_review": True, "error": (entry or {}).get("error") or "not processed",
                         "attempts": (entry or {}).get("attempts", 0)})
    return rows

