"""The Ray engine: a stored run's calls streamed through a pool of Ray Data actors, each holding the models;
the driver commits every row to the store as it returns."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from ..config import AsrConfig, EvidenceConfig
from ..data import CallTable
from ..errors import ConfigError
from ..models.classifier import Classifier, load_model
from ..needs import RunNeeds
from ..pipeline import ResultRow, classify_calls
from .stored import StoredRun, one_line, record

log = logging.getLogger(__name__)


class CallWorker:
    """A Ray Data actor: builds what the run needs (the text model; Whisper and the redactor when the run's
    needs have them) once, then classifies batches of calls."""

    def __init__(self, model_dir: str, asr: dict, recordings: bool, review_below: float | None, threads: int,
                 evidence: dict | None = None):
        import torch

        torch.set_num_threads(threads)
        self.model = load_model(model_dir)
        self.needs = RunNeeds.build(AsrConfig(**{**asr, "threads": threads}), recordings=recordings, model_dir=model_dir)
        if evidence:  # the run's --meta and --customers, as the driver was given them
            self.needs.with_evidence(EvidenceConfig(**evidence), model_dir=model_dir)
        self.review_below = review_below

    def __call__(self, batch: dict) -> dict:
        audio = [a or None for a in batch["audio"]]
        calls = CallTable(list(batch["text"]), list(batch["source"]), audio=audio if any(audio) else None)
        try:
            rows = list(classify_calls(calls, self.model, self.needs, self.review_below))
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
    claimed = [item for claim in run.claims(500, time.time()) for item in claim]
    if not claimed:
        return
    by_id = {item.id: item for item in claimed}
    records = [{"id": item.id, "source": run.calls.sources[i], "text": run.calls.texts[i],
                "audio": (run.calls.audio[i] if run.calls.is_recording(i) else None) or ""}
               for item, i in zip(claimed, run.rows_of(claimed), strict=False)]
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = run.config.workers or max(1, cpus // run.config.threads_per_worker)
    log.info("ray: %d calls on %d workers (%d CPUs in the cluster)", len(records), workers, cpus)
    recordings = run.calls.has_audio
    results = ray.data.from_items(records).map_batches(
        CallWorker, batch_size=1 if recordings else run.config.claim_size,
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=run.config.threads_per_worker,
        fn_constructor_kwargs={"model_dir": str(model_dir), "asr": asdict(run.needs.asr), "recordings": recordings,
                               "evidence": asdict(run.needs.evidence.config),
                               "review_below": run.review_below, "threads": run.config.threads_per_worker})
    for row in results.iter_rows():  # streams: each result is committed as soon as it arrives
        record(run.queue, by_id[int(row["id"])], ResultRow.from_dict(json.loads(row["row"])))
