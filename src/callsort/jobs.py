"""Resumable batches: calls go through a results store, so a killed run picks up where it stopped.

Two engines run a stored batch: `local` (this process) and `ray` (a pool of Ray Data actors, each holding the
models). Both classify through pipeline.classify_calls and commit the same ResultRow to the store; the driver
(this process) owns the store, so Ray workers need no database access.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .audio import file_sha256
from .classifier import Classifier, load_model
from .config import AsrConfig, JobConfig
from .data import CallTable
from .errors import ConfigError
from .pipeline import ResultRow, classify_calls, identity_of
from .store import JobStore, WorkItem
from .transcribe import Transcriber

log = logging.getLogger(__name__)


@dataclass
class StoredRun:
    """One run of a job over a store: the calls, which store ids they have, and what classifies them."""

    calls: CallTable
    index: dict  # (source, content_hash) -> first row of the calls with that key
    ids: list[int]  # store ids of this run's calls (a store may hold other runs' calls of the same job)
    job: str
    model: Classifier | str | Path
    store: JobStore
    asr: AsrConfig | None  # None when the calls are transcripts
    config: JobConfig
    review_below: float | None
    progress: bool
    todo: int  # of this run's calls, those not yet done when it started

    def rows_of(self, items: list[WorkItem]) -> list[int]:
        return [self.index[(item.source, item.content_hash)] for item in items]


def content_hash(calls: CallTable, i: int) -> str:
    """What a call's result depends on besides the model: the recording's bytes, or the transcript text."""
    if calls.audio and calls.audio[i]:
        try:
            return file_sha256(calls.audio[i])
        except OSError as exc:  # unreadable now: hash the reason, so that a later fix counts as new work
            return hashlib.sha256(f"unreadable:{exc}".encode()).hexdigest()
    return hashlib.sha256(calls.texts[i].encode()).hexdigest()


def job_id(model_identity: str, asr: AsrConfig | None) -> str:
    """Same model and recognition settings -> same job; retraining or changing --asr-model is new work."""
    parts = {"model": model_identity}
    if asr is not None:
        parts["asr"] = {"model": asr.model, **asr.cache_settings()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_stored(calls: CallTable, model: Classifier | str | Path, store: JobStore, asr: AsrConfig | None = None,
               config: JobConfig | None = None, review_below: float | None = None,
               progress: bool = False) -> list[ResultRow]:
    """Classify every call through `store`, skipping calls already done; one row per input, in order."""
    config = config or JobConfig()
    has_audio = bool(calls.audio and any(calls.audio))
    asr = (asr or AsrConfig()) if has_audio or (asr is not None and asr.redact) else None  # redaction: a job of its own
    identity = identity_of(model)
    job = job_id(identity, asr)
    keys = [(calls.sources[i], content_hash(calls, i)) for i in range(len(calls))]
    index = {key: i for i, key in reversed(list(enumerate(keys)))}  # first row of each (source, content)
    added = store.add(job, keys)
    known = store.results(job)
    todo = sum(1 for key in index if known[key]["state"] != "done")
    log.info("job %s: %d calls, %d new, %d to do", job, len(keys), added, todo)
    run = StoredRun(calls, index, store.ids(job, list(index)), job, model, store, asr, config, review_below, progress,
                    todo)
    run_on_ray(run) if config.engine == "ray" else run_locally(run)
    return rows_in_input_order(store.results(job), keys, identity)


def run_locally(run: StoredRun) -> None:
    """This process claims calls in batches, classifies them, commits each row; waits out other workers."""
    from tqdm.auto import tqdm

    transcriber = Transcriber(run.asr) if run.asr else None
    if transcriber and run.asr.use_cache:
        recognise_first(run, transcriber)
    model = load_model(run.model) if not isinstance(run.model, Classifier) else run.model
    bar = tqdm(total=run.todo, unit="call", disable=not run.progress, desc="classifying")
    started = time.time()
    while True:
        # calls that failed before this run are retried once per run, not again and again within it
        for claimed in claim_batches(run.store, run.job, run.ids, run.config.claim_size, run.config.max_attempts,
                                     started):
            _classify_claimed(run, claimed, model, transcriber)
            bar.update(len(claimed))
        if not _held_elsewhere(run):
            break
        time.sleep(run.config.poll_seconds)  # another worker is on the last calls; its dead claims come back
    bar.close()


def recognise_first(run: StoredRun, transcriber: Transcriber) -> None:
    """Transcribe the calls still to do into the transcript cache, claim by claim (so that two workers share
    the work), giving each claim back; then free Whisper. The classifying pass reads the cache, so Whisper and
    the text model are never in memory together. Files that fail are left to that pass to record."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(run.ids), unit="file", disable=not run.progress, desc="transcribing")
    size = run.config.claim_size
    for start in range(0, len(run.ids), size):  # each call is looked at once: released claims are not retaken
        claimed = run.store.claim(run.job, size, run.config.max_attempts, time.time(), run.ids[start:start + size])
        audio = [run.calls.audio[i] for i in run.rows_of(claimed) if run.calls.audio[i]]
        for _ in transcriber.transcribe_many(audio):
            bar.update(1)
        for item in claimed:
            run.store.release(item)
    bar.close()
    transcriber.unload()


def _classify_claimed(run: StoredRun, claimed: list[WorkItem], model, transcriber) -> None:
    """Classify the claimed calls, committing each row as soon as it exists."""
    settled = 0
    try:
        for item, row in zip(claimed, classify_calls(run.calls.subset(run.rows_of(claimed)), model, transcriber,
                                                     run.review_below)):
            record(run.store, item, row)
            settled += 1
    except Exception as exc:  # noqa: BLE001 - recorded per call and retried on the next run, never lost
        message = one_line(exc)
        log.error("batch failed, recorded for retry: %s", message)
        for item in claimed[settled:]:
            record(run.store, item, ResultRow.failed(item.source, message, identity_of(model)))


def claim_batches(store: JobStore, job: str, ids: list[int], claim_size: int, max_attempts: int,
                  failed_before: float):
    """Claim this run's calls (and only these: a store may hold other runs' calls of the same job) in batches."""
    for start in range(0, len(ids), 500):
        among = ids[start:start + 500]
        while claimed := store.claim(job, claim_size, max_attempts, failed_before, among):
            yield claimed


def one_line(exc: Exception) -> str:
    """An unexpected error as the one line a failed row records (the store retries it on the next run)."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def record(store: JobStore, item: WorkItem, row: ResultRow) -> None:
    """Commit one call's row: done, or failed with its error."""
    if row.error:
        store.fail(item, row.error, row.to_dict())
    else:
        store.finish(item, row.to_dict())


def _held_elsewhere(run: StoredRun) -> bool:
    states = run.store.results(run.job)
    return any(states[key]["state"] == "running" for key in run.index if key in states)


def rows_in_input_order(results: dict, keys: list[tuple[str, str]], identity: str) -> list[ResultRow]:
    """The stored row of every input call; `attempts` counts every try, the successful one included."""
    rows = []
    for source, content in keys:
        entry = results.get((source, content)) or {"state": "pending", "attempts": 0, "error": None, "result": None}
        tries = entry["attempts"] + (1 if entry["state"] == "done" else 0)
        if entry["result"]:
            row = ResultRow.from_dict({**entry["result"], "source": source})
            row.attempts = tries
        else:
            row = ResultRow.failed(source, entry["error"] or "not processed", identity, tries)
        rows.append(row)
    return rows


# --- the Ray engine ---------------------------------------------------------------------------------------

class CallWorker:
    """A Ray Data actor: loads the text model and Whisper once, then classifies batches of calls."""

    def __init__(self, model_dir: str, asr: dict | None, review_below: float | None, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.model = load_model(model_dir)
        self.transcriber = Transcriber(AsrConfig(**{**asr, "threads": threads})) if asr else None
        self.review_below = review_below

    def __call__(self, batch: dict) -> dict:
        audio = [a or None for a in batch["audio"]]
        calls = CallTable(list(batch["text"]), list(batch["source"]), audio=audio if any(audio) else None)
        try:
            rows = list(classify_calls(calls, self.model, self.transcriber, self.review_below))
        except Exception as exc:  # noqa: BLE001 - becomes a failed (retryable) call in the store
            message = one_line(exc)
            rows = [ResultRow.failed(source, message, self.model.identity) for source in batch["source"]]
        return {"id": batch["id"], "row": [json.dumps(r.to_dict()) for r in rows]}


def run_on_ray(run: StoredRun) -> None:
    """Claim every call still to do, stream them through Ray workers, commit each result as it returns."""
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray engine needs Ray: pip install 'callsort[ray]'") from None
    model_dir = run.model.path if isinstance(run.model, Classifier) else Path(run.model)
    if model_dir is None:
        raise ConfigError("the Ray engine loads the model on each worker: save the model to a folder first")
    ray.init(address=run.config.ray_address, ignore_reinit_error=True, include_dashboard=False,
             log_to_driver=run.progress, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = run.progress
    claimed = [item for batch in claim_batches(run.store, run.job, run.ids, 500, run.config.max_attempts, time.time())
               for item in batch]
    if not claimed:
        return
    by_id = {item.id: item for item in claimed}
    records = [{"id": item.id, "source": run.calls.sources[i], "text": run.calls.texts[i],
                "audio": (run.calls.audio[i] if run.calls.audio else None) or ""}
               for item, i in zip(claimed, run.rows_of(claimed))]
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = run.config.workers or max(1, cpus // run.config.threads_per_worker)
    log.info("ray: %d calls on %d workers (%d CPUs in the cluster)", len(records), workers, cpus)
    results = ray.data.from_items(records).map_batches(
        CallWorker, batch_size=1 if run.asr else run.config.claim_size,
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=run.config.threads_per_worker,
        fn_constructor_kwargs={"model_dir": str(model_dir), "asr": asdict(run.asr) if run.asr else None,
                               "review_below": run.review_below, "threads": run.config.threads_per_worker})
    for row in results.iter_rows():  # streams: each result is committed as soon as it arrives
        record(run.store, by_id[int(row["id"])], ResultRow.from_dict(json.loads(row["row"])))
