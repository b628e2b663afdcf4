"""Full-text search over a store's transcripts, in the store itself: SQLite FTS5 for a SQLite store, a
tsvector with a GIN index for a PostgreSQL one. Kept in step in the transaction that writes a result or a
person's label (jobs/queue.py, jobs/corrections.py); an older store is indexed on first open, with progress.

Each call is one entry: the words of each side of the call (search/query.py's words(), so every engine and
the Python matcher see the same words) and tags for the filters that must stay fast at a million calls
(category, needs review, state, topic, agent, month and day), stored as words of their own column (FTS5) or
as lexemes beginning '_', which no query word can (PostgreSQL); and the confidence, for the review queue's
order. Under --redact rows hold redacted transcripts only, so only redacted words are ever indexed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import InputError
from ..evidence.metadata import call_datetime
from ..search.query import SIDES, WEIGHTS, Query, side_words

TABLE = "call_search"
BUILT_MARK = "search_index_built_4"  # a new mark when entries change: stores index again on open
EVERY = "every"  # the tag every entry has: a search by filters alone
MAX_POSITION, MAX_PER_WORD = 16383, 255  # PostgreSQL's limits for tsvector positions
SIDE_GAP = 100  # positions between sides in a tsvector: a phrase or NEAR never spans two sides


@dataclass
class SearchFilters:
    """What a search is limited to besides its words (None: no limit)."""

    category: str | None = None
    agent: str | None = None
    since: str | None = None  # YYYY-MM-DD, the first day included (calls without a time are left out)
    until: str | None = None  # YYYY-MM-DD, the last day included
    needs_review: bool | None = None
    batch: str | None = None  # a batch's id: its calls only
    topic: str | None = None
    side: str | None = None  # agent or caller: only what that side said
    state: str | None = None  # done or failed


    def tags(self) -> list[str]:
        found = [EVERY]
        found += [tag("category", self.category)] if self.category else []
        found += [tag("agent", self.agent)] if self.agent else []
        found += [tag("topic", self.topic)] if self.topic else []
        found += [tag("state", self.state)] if self.state else []
        found += [tag("review", "yes" if self.needs_review else "no")] if self.needs_review is not None else []
        return found


def tag(kind: str, value: str) -> str:
    """A filter value as one indexed word (never matched by a query's words: they look at other columns)."""
    return kind + re.sub(r"[^0-9a-z]", "", str(value).lower())


def entry_of(row: dict) -> dict:
    """The index entry of one result row (people's label already applied): words by side, tags, time."""
    found = side_words(row.get("transcript") or row.get("text") or "")
    agent = (row.get("meta") or {}).get("agent") or row.get("agent_name") or ""
    when = call_datetime(row.get("meta") or {})
    tags = [EVERY, tag("review", "yes" if row.get("needs_review") else "no"),
            tag("state", "failed" if row.get("error") else "done")]
    tags += [tag("category", row["label"])] if row.get("label") else []
    tags += [tag("agent", agent)] if agent else []
    tags += [tag("topic", t) for t in row.get("topics") or []]
    tags += [f"month{when:%Y%m}", f"day{when:%Y%m%d}"] if when else []  # date ranges as words (_days)
    return {**found, "tags": tags, "confidence": row.get("confidence"),
            "called_at": when.strftime("%Y-%m-%d %H:%M:%S") if when else None}


def tsvector_text(entry: dict) -> str:
    """An entry as a PostgreSQL tsvector literal: each side's positions apart, weighted A/B/C; tags weight D."""
    positions: dict[str, list[str]] = {}
    start = 1
    for side in SIDES:
        for i, word in enumerate(entry[side]):
            positions.setdefault(word, []).append(f"{min(start + i, MAX_POSITION)}{WEIGHTS[side]}")
        start += len(entry[side]) + SIDE_GAP
    for word in entry["tags"]:  # '_' never is in a query word (words()): a tag is never found by one
        positions.setdefault(f"_{word}", []).append(f"{min(start, MAX_POSITION)}D")
    return " ".join(f"'{word}':{','.join(at[:MAX_PER_WORD])}" for word, at in positions.items())


class SearchIndex:
    """The search index of an open store (jobs/store.Database)."""

    def __init__(self, db):
        self.db = db
        self.dialect = db.engine.dialect.name

    def create(self, conn) -> None:
        from sqlalchemy import inspect

        if inspect(conn).has_table(TABLE) and "confidence" not in conn.exec_driver_sql(f"SELECT * FROM {TABLE} LIMIT 0").keys():
            conn.exec_driver_sql(f"DROP TABLE {TABLE}")  # an index of an earlier layout: made again (BUILT_MARK)
        if self.dialect == "sqlite":
            conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(agent, caller, other, tags, "
                                 "called_at UNINDEXED, confidence UNINDEXED, tokenize='unicode61 remove_diacritics 2')")
        else:
            conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (call_id integer PRIMARY KEY, "
                                 "words tsvector NOT NULL, called_at varchar(19), confidence double precision)")
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_words ON {TABLE} USING gin (words)")

    def write(self, conn, call_id: int, row: dict | None) -> None:
        """Index one call's row (None: it has none), with the latest of people's labels applied."""
        from sqlalchemy import text

        if row is None:
            conn.execute(text(f"DELETE FROM {TABLE} WHERE {'rowid' if self.dialect == 'sqlite' else 'call_id'} = :id"),
                         {"id": call_id})
            return
        self.write_many(conn, [(call_id, row)])

    def write_many(self, conn, rows: list[tuple[int, dict]]) -> None:
        """Index several calls' rows (call id, row) in one statement each."""
        if rows:
            self._put(conn, _all_corrected(conn, rows))

    def _put(self, conn, rows: list[tuple[int, dict]]) -> None:
        """Index (call id, row with people's label applied) pairs, replacing what the calls had (one statement each)."""
        entries = [(call_id, entry_of(row)) for call_id, row in rows]
        if self.dialect == "sqlite":
            conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE rowid = ?", [(call_id,) for call_id, _ in entries])
            conn.exec_driver_sql(f"INSERT INTO {TABLE} (rowid, agent, caller, other, tags, called_at, confidence) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(call_id, *(" ".join(e[s]) for s in (*SIDES, "tags")), e["called_at"],
                                   e["confidence"]) for call_id, e in entries])
        else:
            conn.exec_driver_sql(f"INSERT INTO {TABLE} (call_id, words, called_at, confidence) VALUES "
                                 "(%s, CAST(%s AS tsvector), %s, %s) ON CONFLICT (call_id) DO UPDATE SET "
                                 "words = EXCLUDED.words, called_at = EXCLUDED.called_at, confidence = EXCLUDED.confidence",
                                 [(call_id, tsvector_text(e), e["called_at"], e["confidence"]) for call_id, e in entries])

    def refresh(self, conn, call_id: int) -> None:
        """Index a call again from its stored row (a person labelled it)."""
        from sqlalchemy import text

        result = conn.execute(text("SELECT result FROM calls WHERE id = :id"), {"id": call_id}).scalar()
        self.write(conn, call_id, json.loads(result) if result else None)

    def build(self, progress: bool = True) -> int:
        """Index every stored row (a store made before search, or after a rebuild); returns how many."""
        from sqlalchemy import select
        from tqdm.auto import tqdm

        calls = self.db.table("calls")
        with self.db.engine.connect() as conn:
            ids = conn.execute(select(calls.c.id).where(calls.c.result.is_not(None)).order_by(calls.c.id)).scalars().all()
        bar = tqdm(total=len(ids), desc="indexing stored calls for search", unit="call", disable=not progress or not ids)
        for start in range(0, len(ids), 1000):
            with self.db.engine.begin() as conn:
                rows = conn.execute(select(calls.c.id, calls.c.result).where(calls.c.id.in_(ids[start:start + 1000])))
                self.write_many(conn, [(call_id, json.loads(result)) for call_id, result in rows.all()])
            bar.update(min(1000, len(ids) - start))
        bar.close()
        return len(ids)

    def search(self, query: Query | list[Query] | None, filters: SearchFilters, limit: int = 20, offset: int = 0,
               count_only: bool = False, least_confident: bool = False) -> tuple[int, list[int]]:
        """(how many calls match every query and the filters, the ids of the page asked for, best first; or
        `least_confident` first, as the review queue orders them: calls without a confidence, then the lowest)."""
        queries = [q for q in (query if isinstance(query, list) else [query]) if q is not None]
        where, params = self._where(queries, filters)
        with self.db.engine.connect() as conn:
            count = conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE} WHERE {where}", params).scalar()
            if count_only or not count:
                return count, []
            key = "rowid" if self.dialect == "sqlite" else "call_id"
            order = ("bm25(call_search, 1.0, 1.0, 1.0, 0.0), rowid" if self.dialect == "sqlite"
                     else "ts_rank('{0,1,1,1}', words, CAST(%(q)s AS tsquery)) DESC, call_id") if queries else key
            # no words, filters alone: every rank is the same, so the order is the key's, read in index order
            order = f"confidence IS NOT NULL, confidence, {key}" if least_confident else order
            ids = conn.exec_driver_sql(f"SELECT {key} FROM {TABLE} WHERE {where} ORDER BY {order} "
                                       f"LIMIT {int(limit)} OFFSET {int(offset)}", params).scalars().all()
        return count, list(ids)

    def _where(self, queries: list[Query], filters: SearchFilters) -> tuple[str, dict]:
        sqlite = self.dialect == "sqlite"
        tags = [[t] for t in filters.tags()]  # every one of these, each one of its words
        days = _days(filters.since, filters.until)  # a closed range as words: no row read per match
        tags += [days] if days else []
        if sqlite:
            match = " AND ".join([f"({q.fts5()})" for q in queries]
                                 + ["tags : (" + " OR ".join(f'"{t}"' for t in any_of) + ")" for any_of in tags])
            where, params = f"{TABLE} MATCH ?", [match]
        else:
            words = " & ".join([f"({q.tsquery()})" for q in queries]
                               + ["(" + " | ".join(f"'_{t}'" for t in any_of) + ")" for any_of in tags])
            where, params = "words @@ CAST(%(q)s AS tsquery)", {"q": words}
        for name, op, value in (("since", ">=", filters.since), ("until", "<=", _day_end(filters.until))):
            if value and not days:
                where += f" AND called_at {op} " + ("?" if sqlite else f"%({name})s")
                params.append(value) if sqlite else params.update({name: value})
        if filters.batch is not None:
            ids = ",".join(str(int(i)) for i in self._batch_calls(filters.batch)) or "NULL"
            where += f" AND {'rowid' if sqlite else 'call_id'} IN ({ids})"
        return where, tuple(params) if sqlite else params

    def _batch_calls(self, batch: str) -> list[int]:
        from sqlalchemy import select

        batches = self.db.table("batches")
        with self.db.engine.connect() as conn:
            found = conn.execute(select(batches.c.call_ids).where(batches.c.id == batch)).scalar()
        if found is None:
            raise InputError(f"batch {batch!r}: no such batch in the store")
        return json.loads(found)


def _days(since: str | None, until: str | None, most: int = 200) -> list[str]:
    """The words (entry_of's month and day tags) of every call from `since` to `until`: whole months as one
    word, the days at either end one word each; [] for an open range or more words than `most`."""
    from datetime import date, timedelta

    if not since or not until:
        return []
    day, last, found = date.fromisoformat(since), date.fromisoformat(until), []
    while day <= last and len(found) <= most:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= last:
            found.append(f"month{day:%Y%m}")
            day = month_end + timedelta(days=1)
        else:
            found.append(f"day{day:%Y%m%d}")
            day += timedelta(days=1)
    return found if len(found) <= most else []


def _day_end(day: str | None) -> str | None:
    return f"{day} 23:59:59" if day else None


def check_day(value: str | None, name: str) -> str | None:
    """A YYYY-MM-DD date as given, or a one-line error."""
    from datetime import date

    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{name} {value!r}: expected a date, YYYY-MM-DD") from None
    return value


def _all_corrected(conn, rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Rows as the filters see them, people's labels read in one query: a person's latest label counts, and a
    labelled call needs no review."""
    from sqlalchemy import text

    ids = ",".join(str(int(call_id)) for call_id, _ in rows) or "NULL"
    labels = dict(conn.execute(text(f"SELECT call_id, label FROM corrections WHERE call_id IN ({ids}) "
                                    "ORDER BY id")).all())  # the latest label of a call last: it wins
    return [(i, {**row, "label": labels[i], "needs_review": False} if labels.get(i) else row) for i, row in rows]

