"""People's labels for stored calls, and corrected calls as training data.

A correction is never updated: a later correction of the same call supersedes it (history kept), and the
latest of each call counts. `add_corrections` merges them into a training table (`train --corrections`).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..data import CallTable, normalise_label, normalise_reason
from ..errors import InputError
from ..output import check_output_path, csv_text, write_rows
from ..speech.patterns import untagged
from .fulltext import SearchIndex
from .queue import WorkQueue
from .store import Database, open_database

CORRECTION_COLUMNS = ("source", "content_hash", "text", "predicted", "label", "reason", "reviewer", "time")


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
        with self.db.engine.begin() as conn:  # the search index's category and review filters change with it
            values["id"] = conn.execute(self.table.insert().values(**values)).inserted_primary_key[0]
            SearchIndex(self.db).refresh(conn, call_id)
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
    return untagged(transcript)


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
    for n, (text, label) in enumerate(zip(fixes.texts, fixes.labels, strict=False)):
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


def stored_rows(store: str | Path, job: str | None = None) -> list[dict]:
    """The result rows of one job (or every job) of an existing results store, people's corrections applied
    (`with_corrections`); an error when there are none."""
    db = open_database(store, must_exist=True)
    try:
        rows = with_corrections(WorkQueue(db).results_of(job), db)
    finally:
        db.close()
    if not rows:
        raise InputError(f"{store}: no results{f' for job {job}' if job else ''} in the store")
    return rows


def with_corrections(results: list[tuple[int, dict]], db: Database | str | Path) -> list[dict]:
    """Result rows (call id, row) with people's corrections applied: a corrected call counts at its corrected
    label with certainty (confidence 1, `checked`), keeps the reviewer's reason, or the model's reason only if
    the label stayed (a reason for another label no longer fits). `callback_done`: a person rang the call back."""
    from .ticks import CallbackTicks

    latest = {c["call_id"]: c for c in Corrections(db).all()}
    done = CallbackTicks(db).done()
    return [{**(corrected_row(row, latest[call_id]) if call_id in latest else {**row, "checked": False}),
             "callback_done": call_id in done} for call_id, row in results]


def corrected_row(row: dict, fix: dict) -> dict:
    """One row as a person set it (see `with_corrections`)."""
    kept = row.get("label") == fix["label"]
    reason = fix["reason"] or (row.get("reason") or "" if kept else "")
    from ..insights.rules import LeadRules

    return {**row, "label": fix["label"], "predicted": row.get("label"), "confidence": 1.0,
            "probabilities": {fix["label"]: 1.0}, **LeadRules().questions({fix["label"]: 1.0}),
            "needs_review": False, "checked": True, "reason": reason,
            "reason_confidence": 1.0 if fix["reason"] else (row.get("reason_confidence") if kept and reason else None)}


def import_corrections(db: Database | str | Path, table: str | Path, reviewer: str | None = None) -> dict:
    """Record corrections made in a spreadsheet (columns source, label[, reason, reviewer]) as the review page
    would: each row names a stored call by its source (or, when that is unique, its file name). Returns counts
    and the rows that could not be used, each with why."""
    from ..data import read_table_frame

    frame = read_table_frame(Path(table))
    columns = {str(c).lower(): c for c in frame.columns}
    if not {"source", "label"} <= set(columns):
        raise InputError(f"{table}: needs the columns source and label (and optionally reason, reviewer)")
    db = open_database(db, must_exist=True)
    by_source, by_name, labels = _stored_calls(db)
    store, done, problems = Corrections(db), 0, []
    for n, row in enumerate(frame.to_dict("records"), start=2):  # spreadsheet line numbers (1: the header)
        value = {k: ("" if row[c] is None or row[c] != row[c] else str(row[c]).strip()) for k, c in columns.items()}
        sources = [value["source"]] if value["source"] in by_source else sorted(by_name.get(value["source"], ()))
        label = normalise_label(value["label"])
        if len(sources) != 1:
            problems.append(f"{table}:{n}: {value['source']!r}: " + ("no such call in the store" if not sources
                            else f"{len(sources)} calls have that file name; give the source in full"))
        elif label not in labels:
            problems.append(f"{table}:{n}: {label!r}: not a label of this store ({', '.join(sorted(labels))})")
        else:
            for call_id in by_source[sources[0]]:  # the same call stored by several models: each one
                store.add(call_id, label, normalise_reason(value.get("reason", "")) or None,
                          value.get("reviewer") or reviewer)
            done += 1
    return {"imported": done, "problems": problems}


def _stored_calls(db: Database) -> tuple[dict[str, list[int]], dict[str, set[str]], set[str]]:
    """Call ids by source, sources by file name, and every label the store's results know."""
    by_source: dict[str, list[int]] = {}
    by_name: dict[str, set[str]] = {}
    labels: set[str] = set()
    for call_id, row in WorkQueue(db).results_of():
        by_source.setdefault(row["source"], []).append(call_id)
        by_name.setdefault(Path(row["source"]).name, set()).add(row["source"])
        labels |= set(row.get("probabilities") or {})
    return by_source, by_name, labels


def _iso(seconds: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="seconds")
