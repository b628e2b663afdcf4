"""The local engine: this process claims a run's calls, classifies them, and commits each row."""

from __future__ import annotations

import logging
import time

from ..models.classifier import Classifier, load_model
from ..pipeline import ResultRow, classify_calls, identity_of
from .queue import WorkItem
from .stored import StoredRun, one_line, record, record_all

log = logging.getLogger(__name__)
COMMIT_EVERY = 0.2  # seconds: rows made faster than this are committed together (one commit, one index write)


def run_locally(run: StoredRun) -> None:
    """Claim calls a few at a time, classify them, commit each row; wait out other workers' last calls."""
    from tqdm.auto import tqdm

    if run.calls.has_audio and run.needs.cache is not None:
        recognise_first(run)
    model = load_model(run.model) if run.model is not None and not isinstance(run.model, Classifier) else run.model
    bar = tqdm(total=run.todo, unit="call", disable=not run.progress, desc="classifying")
    started = time.time()
    while True:
        # calls that failed before this run are retried once per run, not again and again within it
        for claimed in run.claims(run.config.claim_size, started):
            _classify_claimed(run, claimed, model)
            bar.update(len(claimed))
        if run.stopped() or not run.held_elsewhere():
            break
        time.sleep(run.config.poll_seconds)  # another worker is on the last calls; its dead claims come back
    bar.close()


def recognise_first(run: StoredRun) -> None:
    """Transcribe the recordings still to do into the transcript cache, claim by claim (so that two workers
    share the work), giving each claim back; then free Whisper. The classifying pass reads the cache, so
    Whisper and the text model are never in memory together. Files that fail are left to that pass to record."""
    from tqdm.auto import tqdm

    had_whisper = run.needs.recogniser is not None and run.needs.recogniser.loaded  # the service keeps its own
    bar = tqdm(total=len(run.ids), unit="file", disable=not run.progress, desc="transcribing")
    size = run.config.claim_size
    for start in range(0, len(run.ids), size):  # each call is looked at once: released claims are not retaken
        if run.stopped():
            break
        claimed = run.queue.claim(run.job, size, run.config.max_attempts, time.time(), run.ids[start:start + size])
        recordings = [run.calls.audio[i] for i in run.rows_of(claimed) if run.calls.is_recording(i)]
        for _ in run.needs.transcriber.transcripts(recordings):
            bar.update(1)
        for item in claimed:
            run.queue.release(item)
    bar.close()
    if not had_whisper:
        run.needs.unload()


def _classify_claimed(run: StoredRun, claimed: list[WorkItem], model) -> None:
    """Classify the claimed calls, committing rows as they come: a row that took time (a recording) at once,
    rows that come fast (transcripts) together every COMMIT_EVERY seconds, one commit for the lot."""
    settled, waiting, since = 0, [], time.monotonic()
    try:
        for item, row in zip(claimed, classify_calls(run.calls.subset(run.rows_of(claimed)), model, run.needs,
                                                     run.review_below), strict=False):
            waiting.append((item, row))
            if time.monotonic() - since >= COMMIT_EVERY:
                record_all(run.queue, waiting)
                settled, waiting, since = settled + len(waiting), [], time.monotonic()
        record_all(run.queue, waiting)
        settled += len(waiting)
    except Exception as exc:  # noqa: BLE001 - recorded per call and retried on the next run, never lost
        record_all(run.queue, waiting)  # rows already made are kept
        settled += len(waiting)
        message = one_line(exc)
        log.error("claim failed, recorded for retry: %s", message)
        for item in claimed[settled:]:
            record(run.queue, item, ResultRow.failed(item.source, message, identity_of(model)))
