"""Re-scoring stored calls with a newly active model (learning in place), from the transcripts the store keeps:
no recording is heard again, and each call keeps its id (corrections, ticks and batches keep pointing at it)."""

from __future__ import annotations

from ..data import CallTable
from ..models.classifier import Classifier
from ..needs import RunNeeds
from ..pipeline import classify_calls, version_of
from ..speech.timing import TIMING_FIELDS
from .corrections import words_of
from .queue import WorkQueue

CHUNK = 200  # calls classified and committed at a time


def stored_calls(rows: list[dict]) -> CallTable:
    """Stored result rows as calls whose transcripts are known: the words the classifier reads, and a
    recording's details (turns, duration, timing) kept as they were heard."""
    kept = ("transcript", "duration_s", "asr_model", *TIMING_FIELDS)
    recordings = [row["source"] if row.get("duration_s") is not None else None for row in rows]
    return CallTable([words_of(row.get("transcript") or "") for row in rows], [row["source"] for row in rows],
                     audio=recordings if any(recordings) else None,
                     details=[{k: row.get(k) for k in kept} for row in rows])


def rescore(queue: WorkQueue, job: str, model: Classifier, needs: RunNeeds, review_below: float | None = None,
            labelled: set[int] = frozenset(), stop=lambda: False) -> int:
    """Classify again, with `model`, the calls of `job` that have words, that no person labelled and that
    another version (or none) made; each row is replaced in place. Returns how many."""
    version = version_of(model)
    todo = [(call_id, row) for call_id, row in queue.results_of(job)
            if call_id not in labelled and not row.get("error") and row.get("model_version") != version]
    for start in range(0, len(todo), CHUNK):
        if stop():
            break
        part = todo[start:start + CHUNK]
        rows = classify_calls(stored_calls([row for _, row in part]), model, needs, review_below)
        for (call_id, old), row in zip(part, rows, strict=True):
            queue.replace_result(call_id, {**row.to_dict(), "attempts": old.get("attempts", 1), "meta": row.meta or old.get("meta", {})})
    return len(todo)
