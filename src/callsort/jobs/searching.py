"""Searching a store: the one function behind `callsort search`, GET /v1/search and the page's search box."""

from __future__ import annotations

from pathlib import Path

from ..search.query import parse
from ..search.snippets import snippet
from ..search.topics import Topics
from .corrections import with_corrections
from .fulltext import SearchFilters, SearchIndex, check_day
from .queue import WorkQueue
from .store import Database, open_database

MOST_PER_PAGE = 200


def search_store(store: Database | str | Path, text: str | None, filters: SearchFilters | None = None,
                 limit: int = 20, offset: int = 0, count_only: bool = False, topics: Topics | None = None) -> dict:
    """Calls whose transcripts match `text` (callsort's query language) and the filters, best first:
    {"count": every match, "results": [one entry per call of the page asked for]}. A topic is looked up in
    `topics` when given (its phrases are searched), else in the topics the stored rows carry."""
    from ..errors import InputError

    filters = filters or SearchFilters()
    check_day(filters.since, "since")
    check_day(filters.until, "until")
    if not 1 <= limit <= MOST_PER_PAGE or offset < 0:
        raise InputError(f"limit must be 1 to {MOST_PER_PAGE} and offset 0 or more")
    query = parse(text, side=filters.side) if text and text.strip() else None
    queries = [query]
    if filters.topic and topics is not None:  # the file's phrases, so rows stored before it was given count too
        queries.append(topics.query(filters.topic))
        filters = SearchFilters(**{**vars(filters), "topic": None})
    if not any(queries) and filters == SearchFilters(side=filters.side):
        raise InputError("nothing to search for: give words or a filter")
    db = open_database(store, must_exist=True)
    count, ids = SearchIndex(db).search(queries, filters, limit, offset, count_only)
    queue = WorkQueue(db)
    found = queue.calls(ids)
    rows = with_corrections([(c["id"], c["result"] or {}) for c in found], db)
    return {"count": count, "results": [_entry(c, row, query) for c, row in zip(found, rows, strict=True)]}


def _entry(call: dict, row: dict, query) -> dict:
    meta = row.get("meta") or {}
    return {"id": call["id"], "source": call["source"], "label": row.get("label", ""),
            "confidence": row.get("confidence"), "needs_review": row.get("needs_review"),
            "agent": meta.get("agent") or row.get("agent_name") or "", "called_at": meta.get("datetime"),
            "topics": row.get("topics") or [], "snippet": snippet(row.get("transcript") or "", query)}


def count_topics(store: str | Path | Database, chosen: Topics | None = None, progress: bool = False) -> dict:
    """{"calls", "changed", "topics": {name: calls}}: with `chosen` (Topics) every stored row re-tagged first
    (WorkQueue.replace_result keeps the search index in step); the counts come from the index."""
    from tqdm.auto import tqdm

    queue = WorkQueue(open_database(store, must_exist=True))
    try:
        results = queue.results_of(None)
        changed, carried = 0, {}
        for call_id, row in tqdm(results, desc="re-tagging stored calls", unit="call",
                                 disable=chosen is None or not progress or not results):
            if chosen is not None:
                found = chosen.of(row.get("transcript"))
                if found != (row.get("topics") or []):
                    queue.replace_result(call_id, {**row, "topics": found})
                    changed += 1
                row["topics"] = found
            carried.update(dict.fromkeys(row.get("topics") or []))
        names = chosen.names if chosen is not None else list(carried)
        index = SearchIndex(queue.db)
        counts = {name: index.search(None, SearchFilters(topic=name), count_only=True)[0] for name in names}
    finally:
        queue.close()
    return {"calls": len(results), "changed": changed, "topics": counts}
