"""The Ray engine of stored batches: Ray Data streams the claimed calls through a pool of model-holding actors.

The driver (this process) owns the results store; workers only need callsort installed, the model folder and
the recordings at the same paths (a shared file system), and no database access. See README, "Ray".
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict

from .data import CallTable
from .store import JobStore

log = logging.getLogger(__name__)


class CallWorker:
    """A Ray Data actor: loads the model (and Whisper) once, then classifies batches of calls."""

    def __init__(self, model_dir: str, asr: dict | None, review_below: float | None, threads: int):
        import torch

        from .model import load_model
        from .transcribe import AsrConfig, Transcriber

        torch.set_num_threads(threads)
        self.model = load_model(model_dir)
        self.transcriber = Transcriber(AsrConfig(**{**asr, "threads": threads})) if asr else None
        self.review_below = review_below

    def __call__(self, batch: dict) -> dict:
        from .jobs import classify_calls

        n = len(batch["id"])
        audio = [a or None for a in batch["audio"]]
        table = CallTable(list(batch["text"]), list(batch["source"]), audio=audio if any(audio) else None)
        try:
            rows = list(classify_calls(list(range(n)), table, self.model, self.transcriber, self.review_below))
        except Exception as exc:  # noqa: BLE001 - becomes a failed (retryable) call in the store
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            rows = [{"source": s, "label": "", "error": message} for s in batch["source"]]
        return {"id": batch["id"], "row": [json.dumps(r) for r in rows]}


def run_on_ray(table: CallTable, index: dict, ids: list[int], job: str, model, store: JobStore, asr, config,
               review_below, progress: bool) -> None:
    """Claim every call still to do, stream them through Ray workers, commit each result as it returns."""
    from .errors import ConfigError
    from .jobs import claim_batches, record

    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray engine needs Ray: pip install 'callsort[ray]'") from None
    if model.path is None:
        raise ConfigError("the Ray engine loads the model on each worker: save the model to a folder first")
    ray.init(address=config.ray_address, ignore_reinit_error=True, include_dashboard=False,
             log_to_driver=progress, logging_level=logging.WARNING)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress
    claimed = [item for batch in claim_batches(store, job, ids, 500, config.max_attempts, time.time())
               for item in batch]
    if not claimed:
        return
    by_id = {item.id: item for item in claimed}
    records = []
    for item in claimed:
        i = index[(item.source, item.content_hash)]
        records.append({"id": item.id, "source": table.sources[i], "text": table.texts[i],
                        "audio": (table.audio[i] if table.audio else None) or ""})
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = config.workers or max(1, cpus // config.threads_per_worker)
    log.info("ray: %d calls on %d workers (%d CPUs in the cluster)", len(records), workers, cpus)
    results = ray.data.from_items(records).map_batches(
        CallWorker, batch_size=1 if asr else config.claim_size, compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=config.threads_per_worker,
        fn_constructor_kwargs={"model_dir": str(model.path), "asr": asdict(asr) if asr else None,
                               "review_below": review_below, "threads": config.threads_per_worker})
    for row in results.iter_rows():  # streams: each result is committed as soon as it arrives
        record(store, by_id[int(row["id"])], json.loads(row["row"]))
