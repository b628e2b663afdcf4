"""People's labels for stored calls, and corrected calls as training data.

A correction is never updated: a later correction of the same call supersedes it (history kept), and the
latest of each call counts. `add_corrections` merges them into a training table (`train --corrections`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from ..data import CallTable, normalise_label, normalise_reason
from ..errors import InputError
from ..output import check_output_path, csv_text, write_rows
from .queue import WorkQueue
from .store import Database, open_database

CORRECTION_COLUMNS = ("source", "content_hash", "text", "predicted", "label", "reason", "reviewer", "time")
SPEAKER_TAG = re.compile(r"^(Agent|Caller): ", re.MULTILINE)


class Corrections:
    """The corrections table of a results store (`store`: a Database, a SQLite path or a URL)."""

    def __init__(self, store: Database | str | Path):
        self.db = open_database(store)
        self.table = self.db.table("corrections")

    def add(self, call_id: int, label: str, reason: str | None = None, reviewer: str | None = None) -> dict:
        """Record a person's label for a stored call (with the transcript and prediction it had); returns it."""
        found = WorkQueue(self.db).calls([call_id])
        if not found:
            raise InputError(f"call {call_id}: not in the results store")
        result = found[0]["result"] or {}
        values = {"call_id": call_id, "source": found[0]["source"], "content_hash": found[0]["content_hash"],
                  "text": result.get("transcript") or result.get("text"), "predicted": result.get("label"),
                  "label": label, "reason": reason or None, "reviewer": reviewer or None, "created_at": time.time()}
        with self.db.engine.begin() as conn:
            values["id"] = conn.execute(self.table.insert().values(**values)).inserted_primary_key[0]
        return values

    def all(self, history: bool = False) -> list[dict]:
        """Corrections, oldest first; without `history` only the latest of each call (the one that counts)."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            rows = [r._asdict() for r in conn.execute(select(self.table).order_by(self.table.c.id)).all()]
        if history:
            return rows
        latest = {r["call_id"]: r for r in rows}  # later ids supersede earlier ones
        return sorted(latest.values(), key=lambda r: r["id"])

    def export_rows(self, history: bool = False) -> list[dict]:
        """The corrections (the latest of each call, or all with `history`), oldest first, as export rows."""
        return [{**{k: c.get(k) for k in CORRECTION_COLUMNS if k != "time"}, "time": _iso(c["created_at"])}
                for c in self.all(history)]

    def export(self, path: str | Path, history: bool = False) -> int:
        """Write `export_rows` to .csv or .jsonl; returns how many."""
        rows = self.export_rows(history)
        path = check_output_path(path)
        if path.suffix.lower() == ".csv":  # the header even when there are none yet
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(csv_text(rows, list(CORRECTION_COLUMNS)), encoding="utf-8")
        else:
            write_rows(rows, path)
        return len(rows)

    def as_calls(self) -> CallTable:
        """The latest correction of every call that has words, as labelled calls (texts as the classifier
        reads them)."""
        fixes = [c for c in self.all() if (c["text"] or "").strip()]
        return CallTable([words_of(c["text"]) for c in fixes], [c["source"] for c in fixes],
                         [normalise_label(c["label"]) for c in fixes],
                         reasons=[normalise_reason(c["reason"]) for c in fixes])


def words_of(transcript: str) -> str:
    """What the classifier reads from a speaker-tagged transcript: its words in order, without the tags."""
    return " ".join(SPEAKER_TAG.sub("", transcript or "").split())


def add_corrections(table: CallTable, store: str | Path) -> tuple[CallTable, dict]:
    """`table` with the store's corrected calls: a call already in it (same words) takes the corrected
    label, the others are added. Returns the table and counts (used, relabelled, added)."""
    db = open_database(store, must_exist=True)
    try:
        fixes = Corrections(db).as_calls()
    finally:
        db.close()
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
