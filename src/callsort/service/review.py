"""The review queue: a batch's calls for people, and the ones to check first (least confident first)."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from ..insights.callbacks import first_words
from ..jobs.corrections import Corrections
from ..jobs.queue import WorkQueue


def results_table(queue: WorkQueue, ids: list[int], company: Collection[str] | None = None) -> list[dict]:
    """One row per call of a batch for people: id, source, state, label, confidence, needs_review, duration,
    error, and the latest correction (label, reason) when there is one; with `company` (what the company says,
    KeepList.company_says), the caller's first words too (insights/callbacks.first_words)."""
    corrected = {c["call_id"]: c for c in Corrections(queue.db).all()}
    table = []
    for row in queue.calls(ids):
        result = row["result"] or {}
        fix = corrected.get(row["id"], {})
        shown = public({"source": row["source"], "error": row["error"] or result.get("error") or ""})
        table.append({"id": row["id"], "source": shown["source"], "state": row["state"],
                      "label": result.get("label", ""), "confidence": result.get("confidence"),
                      "model_version": result.get("model_version"),
                      "needs_review": bool(result.get("needs_review", row["state"] != "done")),
                      "duration_s": result.get("duration_s"),
                      "error": shown["error"],
                      "corrected_label": fix.get("label", ""),
                      "reason": fix.get("reason") or result.get("reason") or "",  # a reviewer's reason wins
                      **({"first_words": first_words(result.get("transcript") or "", company=company)}
                         if company is not None else {})})
    return table


def review_queue(queue: WorkQueue, ids: list[int], company: Collection[str] = ()) -> list[dict]:
    """The finished calls among `ids` flagged needs_review and not corrected yet, least confident first, each
    with the caller's first words (`company`: what the company says, skipped)."""
    rows = [r for r in results_table(queue, ids, company) if r["state"] == "done" and r["needs_review"]
            and not r["corrected_label"]]
    return sorted(rows, key=lambda r: (r["confidence"] is not None, r["confidence"] or 0, r["id"]))


def labelling_order(queue: WorkQueue, rows: list[dict]) -> list[dict]:
    """A learning service's queue (`rows` from review_queue) in the order that teaches its models fastest
    (models/label_order.py: groups of similar calls in turn, those people labelled least first)."""
    from ..jobs.corrections import words_of
    from ..models.label_order import review_order

    labelled = [c["call_id"] for c in Corrections(queue.db).all()]
    ids = [r["id"] for r in rows] + labelled
    texts = {c["id"]: words_of((c["result"] or {}).get("transcript") or "") for c in queue.calls(ids)}
    confidence = [r["confidence"] for r in rows] + [None] * len(labelled)
    order = review_order([texts.get(i, "") for i in ids], [False] * len(rows) + [True] * len(labelled),
                         confidence if any(c is not None for c in confidence) else None)
    return [rows[j] for j in order]


SERVER_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/](?:[^\\/\s:]+[\\/])+(?=[^\\/\s:]+)")


def without_paths(text: str) -> str:
    """`text` with every server path cut to its file's name ("/srv/uploads/ab12/x.mp3: empty file" ->
    "x.mp3: empty file"): answers never show where the service keeps files."""
    return SERVER_PATH.sub("", text or "")


def public(row: dict) -> dict:
    """A stored row (or result) as the service shows it: its source and error name the file, never the
    server's path to it (nor to its model: `model_dir` stays in the store, for `callsort report STORE`)."""
    source, error = row.get("source") or "", row.get("error") or ""
    name = Path(source).name if source else ""
    return {**{k: v for k, v in row.items() if k != "model_dir"}, **({"source": name} if source else {}),
            **({"error": without_paths(error.replace(source, name) if source else error)} if error else {})}
