"""People checking labels: the review queue, corrections, and corrected calls as training data.

A correction is a person's label for a call in a results store (store.py keeps every one; the latest of a
call counts). `review_queue` orders the calls to check, least confident first; `corrected_calls` turns the
corrections back into labelled calls, and `add_corrections` merges them into a training table.
"""

from __future__ import annotations

import re
from pathlib import Path

from .data import CallTable, normalise_label, normalise_reason
from .errors import InputError
from .pipeline import check_output_path, csv_text, write_rows
from .store import JobStore

CORRECTION_COLUMNS = ("source", "content_hash", "text", "predicted", "label", "reason", "reviewer", "time")
SPEAKER_TAG = re.compile(r"^(Agent|Caller): ", re.MULTILINE)


def words_of(transcript: str) -> str:
    """What the classifier reads from a speaker-tagged transcript: its words in order, without the tags."""
    return " ".join(SPEAKER_TAG.sub("", transcript or "").split())


def results_table(store: JobStore, ids: list[int]) -> list[dict]:
    """One row per call of a batch for people: id, source, state, label, confidence, needs_review, duration,
    error, and the latest correction (label, reason) when there is one."""
    corrected = {c["call_id"]: c for c in store.corrections()}
    table = []
    for row in store.rows(ids):
        result = row["result"] or {}
        fix = corrected.get(row["id"], {})
        table.append({"id": row["id"], "source": Path(row["source"]).name, "state": row["state"],
                      "label": result.get("label", ""), "confidence": result.get("confidence"),
                      "needs_review": bool(result.get("needs_review", row["state"] != "done")),
                      "duration_s": result.get("duration_s"), "error": row["error"] or result.get("error") or "",
                      "corrected_label": fix.get("label", ""),
                      "reason": fix.get("reason") or result.get("reason") or ""})  # a reviewer's reason wins
    return table


def review_queue(store: JobStore, ids: list[int]) -> list[dict]:
    """The finished calls among `ids` flagged needs_review and not corrected yet, least confident first."""
    rows = [r for r in results_table(store, ids) if r["state"] == "done" and r["needs_review"]
            and not r["corrected_label"]]
    return sorted(rows, key=lambda r: (r["confidence"] is not None, r["confidence"] or 0, r["id"]))


def correction_rows(store: JobStore, history: bool = False) -> list[dict]:
    """The corrections (the latest of each call, or all with `history`), oldest first, as export rows."""
    return [{**{k: c.get(k) for k in CORRECTION_COLUMNS if k != "time"}, "time": _iso(c["created_at"])}
            for c in store.corrections(history)]


def export_corrections(store: JobStore, path: str | Path, history: bool = False) -> int:
    """Write `correction_rows` to .csv or .jsonl; returns how many."""
    rows = correction_rows(store, history)
    path = check_output_path(path)
    if path.suffix.lower() == ".csv":  # the header even when there are none yet
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(csv_text(rows, list(CORRECTION_COLUMNS)), encoding="utf-8")
    else:
        write_rows(rows, path)
    return len(rows)


def corrected_calls(store: JobStore) -> CallTable:
    """The latest correction of every call that has words, as labelled calls (texts as the classifier reads
    them; sources `store:call-id`)."""
    fixes = [c for c in store.corrections() if (c["text"] or "").strip()]
    return CallTable([words_of(c["text"]) for c in fixes], [c["source"] for c in fixes],
                     [normalise_label(c["label"]) for c in fixes],
                     reasons=[normalise_reason(c["reason"]) for c in fixes])


def add_corrections(table: CallTable, store_url: str | Path) -> tuple[CallTable, dict]:
    """`table` with the store's corrected calls: a call already in it (same words) takes the corrected
    label, the others are added. Returns the table and counts (used, relabelled, added)."""
    if not Path(str(store_url)).exists() and "://" not in str(store_url):
        raise InputError(f"{store_url}: no such results store")
    store = JobStore(store_url)
    try:
        fixes = corrected_calls(store)
    finally:
        store.close()
    position = {" ".join(text.split()): i for i, text in enumerate(table.texts)}
    merged = table.subset(range(len(table)))  # a copy
    relabelled = 0
    for n, (text, label) in enumerate(zip(fixes.texts, fixes.labels)):
        i = position.get(text)  # words_of has already collapsed the whitespace of corrected texts
        if i is None:
            position[text] = len(merged)
            merged = merged.concat(fixes.subset([n]))  # with its reason when the data has reasons
        else:
            relabelled += merged.labels[i] != label
            merged.labels[i] = label
            if merged.reasons is not None:  # the reviewer's reason (blank: unknown) replaces the data's
                merged.reasons[i] = fixes.reasons[n]
    merged.skipped = table.skipped
    return merged, {"used": len(fixes), "relabelled": relabelled, "added": len(merged) - len(table)}


def _iso(seconds: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")
