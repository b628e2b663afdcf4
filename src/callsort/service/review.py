"""The review queue: a batch's calls for people, and the ones to check first (least confident first)."""

from __future__ import annotations

from pathlib import Path

from ..jobs.corrections import Corrections
from ..jobs.queue import WorkQueue


def results_table(queue: WorkQueue, ids: list[int]) -> list[dict]:
    """One row per call of a batch for people: id, source, state, label, confidence, needs_review, duration,
    error, and the latest correction (label, reason) when there is one."""
    corrected = {c["call_id"]: c for c in Corrections(queue.db).all()}
    table = []
    for row in queue.calls(ids):
        result = row["result"] or {}
        fix = corrected.get(row["id"], {})
        table.append({"id": row["id"], "source": Path(row["source"]).name, "state": row["state"],
                      "label": result.get("label", ""), "confidence": result.get("confidence"),
                      "needs_review": bool(result.get("needs_review", row["state"] != "done")),
                      "duration_s": result.get("duration_s"), "error": row["error"] or result.get("error") or "",
                      "corrected_label": fix.get("label", ""),
                      "reason": fix.get("reason") or result.get("reason") or ""})  # a reviewer's reason wins
    return table


def review_queue(queue: WorkQueue, ids: list[int]) -> list[dict]:
    """The finished calls among `ids` flagged needs_review and not corrected yet, least confident first."""
    rows = [r for r in results_table(queue, ids) if r["state"] == "done" and r["needs_review"]
            and not r["corrected_label"]]
    return sorted(rows, key=lambda r: (r["confidence"] is not None, r["confidence"] or 0, r["id"]))
