"""Reading a store's calls: by id, by job, their results, and the page of every listed call (jobs/queue.py's
WorkQueue adds, claims and settles them)."""

from __future__ import annotations

import json
from pathlib import Path

from .store import Database, open_database


class StoredCalls:
    """The calls table of a results store (`store`: a Database, a SQLite path or a URL), read."""

    def __init__(self, store: Database | str | Path):
        self.db = open_database(store)
        self.calls_table = self.db.table("calls")

    def states(self, job: str) -> dict[tuple[str, str], dict]:
        """(source, content_hash) -> {state, attempts, error, result} for every call of a job."""
        from sqlalchemy import select

        c = self.calls_table
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(c.c.source, c.c.content_hash, c.c.state, c.c.attempts, c.c.error, c.c.result)
                                .where(c.c.job == job)).all()
        return {(r.source, r.content_hash): {"state": r.state, "attempts": r.attempts, "error": r.error,
                                             "result": json.loads(r.result) if r.result else None} for r in rows}

    def results_of(self, job: str | None = None) -> list[tuple[int, dict]]:
        """(call id, result row) of every call with a result (done or failed) of one job, or of every job."""
        from sqlalchemy import select

        c = self.calls_table
        query = select(c.c.id, c.c.result).where(c.c.result.is_not(None)).order_by(c.c.id)
        with self.db.engine.connect() as conn:
            found = conn.execute(query.where(c.c.job == job) if job else query).all()
        return [(r.id, json.loads(r.result)) for r in found]

    def listed_ids(self, jobs: set[str] = frozenset(), limit: int | None = None, offset: int = 0) -> tuple[int, list[int]]:
        """(how many calls have a result or belong to `jobs` in any state (e.g. just pushed), the ids of the page
        asked for, oldest first): counted and paged by the database, so a million calls answer quickly."""
        from sqlalchemy import func, select, union_all

        c = self.calls_table
        parts = [select(c.c.id).where(c.c.result.is_not(None))]  # read from the index ix_calls_listed
        parts += [select(c.c.id).where(c.c.job.in_(jobs), c.c.state != "done",  # done has a result: the index
                                       c.c.result.is_(None))] if jobs else []  # (job, state) skips those
        with self.db.engine.connect() as conn:
            count = sum(conn.execute(select(func.count()).select_from(p.subquery())).scalar() for p in parts)
            listed = (union_all(*parts) if len(parts) > 1 else parts[0]).order_by("id").offset(offset)
            return count, list(conn.execute(listed.limit(limit) if limit else listed).scalars().all())

    def calls(self, ids: list[int]) -> list[dict]:
        """Calls by id, in the order given: id, source, content_hash, state, attempts, error, result."""
        from sqlalchemy import select

        c, found = self.calls_table, {}
        with self.db.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for r in conn.execute(select(c.c.id, c.c.source, c.c.content_hash, c.c.state, c.c.attempts, c.c.error,
                                             c.c.result).where(c.c.id.in_(ids[start:start + 500]))).all():
                    found[r.id] = {"id": r.id, "source": r.source, "content_hash": r.content_hash, "state": r.state,
                                   "attempts": r.attempts, "error": r.error,
                                   "result": json.loads(r.result) if r.result else None}
        return [found[i] for i in ids if i in found]

    def close(self) -> None:
        self.db.close()
