"""The work queue of stored runs: every call of a job with its state, result, error and attempts.

A *job* is what a result depends on besides the call (the model, and recognition/redaction settings); a call
is (source, content hash) within a job. Work is claimed with one UPDATE … RETURNING, which SQLite and
PostgreSQL both run atomically, so two processes on one store never take the same call; each result is
committed as soon as it is made (rows made together, together), so a crash loses at most the calls in hand.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..speech.audio import TOO_LONG
from .fulltext import SearchIndex
from .store import Database
from .stored_calls import StoredCalls

STATES = ("pending", "running", "done", "failed")


@dataclass
class WorkItem:
    """A claimed call: its id in the store, what it is, and its failed attempts so far."""

    id: int
    source: str
    content_hash: str
    attempts: int


class WorkQueue(StoredCalls):
    """The calls of every job in a results store (`store`: a Database, a SQLite path or a URL): adding,
    claiming and settling them (reading them: StoredCalls)."""

    def __init__(self, store: Database | str | Path, lease_seconds: float = 3600):
        super().__init__(store)
        self.index = SearchIndex(self.db)  # kept in step with every result written here
        self.lease_seconds = lease_seconds  # a claim older than this is taken back (its worker is presumed gone)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def add(self, job: str, items: list[tuple[str, str]]) -> int:
        """Register (source, content_hash) pairs as pending unless known already; returns how many were new.

        INSERT … ON CONFLICT DO NOTHING: two processes adding the same calls at once both succeed, once each.
        """
        if self.db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        from sqlalchemy import func, select

        statement = insert(self.calls_table).on_conflict_do_nothing(index_elements=["job", "source", "content_hash"])
        count = select(func.count()).select_from(self.calls_table).where(self.calls_table.c.job == job)
        with self.db.engine.begin() as conn:
            before = conn.execute(count).scalar()
            for start in range(0, len(items), 500):
                rows = [{"job": job, "source": s, "content_hash": h, "state": "pending", "attempts": 0,
                         "updated_at": time.time()} for s, h in dict.fromkeys(items[start:start + 500])]
                conn.execute(statement, rows)
            return conn.execute(count).scalar() - before

    def ids(self, job: str, items: list[tuple[str, str]]) -> list[int]:
        """The ids of (source, content_hash) pairs already added, in the order given (each id once)."""
        from sqlalchemy import select, tuple_

        found: dict[tuple[str, str], int] = {}
        with self.db.engine.connect() as conn:
            for start in range(0, len(items), 500):
                batch = items[start:start + 500]
                found.update(((s, h), i) for i, s, h in conn.execute(
                    select(self.calls_table.c.id, self.calls_table.c.source, self.calls_table.c.content_hash).where(
                        self.calls_table.c.job == job,
                        tuple_(self.calls_table.c.source, self.calls_table.c.content_hash).in_(batch))).all())
        return list(dict.fromkeys(found[item] for item in items if item in found))

    def claim(self, job: str, limit: int, max_attempts: int, failed_before: float | None = None,
              among: list[int] | None = None) -> list[WorkItem]:
        """Atomically take up to `limit` calls to work on (only ids in `among`, when given): pending ones, failed
        ones with attempts left (but a recording over --max-audio-minutes: trying again changes nothing) (that failed before `failed_before`, when given), and running ones whose worker
        is gone (a killed process on this host, or a lease that ran out)."""
        from sqlalchemy import and_, not_, or_, select, true

        c = self.calls_table
        _release_dead_workers(self.db.engine, c, job)
        now = time.time()
        claimable = select(c.c.id).where(c.c.job == job, c.c.id.in_(among) if among is not None else true(), or_(
            c.c.state == "pending",
            and_(c.c.state == "failed", c.c.attempts < max_attempts, not_(c.c.error.endswith(TOO_LONG)),
                 c.c.updated_at < (now if failed_before is None else failed_before)),
            and_(c.c.state == "running", c.c.claimed_at < now - self.lease_seconds),
        )).order_by(c.c.id).limit(limit)
        if self.db.engine.dialect.name == "postgresql":
            claimable = claimable.with_for_update(skip_locked=True)
        statement = (c.update().where(c.c.id.in_(claimable.scalar_subquery()))
                     .values(state="running", worker=self.worker, claimed_at=now, updated_at=now)
                     .returning(c.c.id, c.c.source, c.c.content_hash, c.c.attempts))
        with self.db.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return sorted((WorkItem(*row) for row in rows), key=lambda item: item.id)

    def finish(self, item: WorkItem, result: dict) -> None:
        self.settle([(item, result)])

    def fail(self, item: WorkItem, error: str, result: dict | None = None) -> None:
        self._settle(item, result, state="failed", result=json.dumps(result) if result else None, error=error,
                     attempts=item.attempts + 1)

    def settle(self, rows: list[tuple[WorkItem, dict]]) -> None:
        """Commit several calls' rows in one transaction: done, or failed with the row's error (rows classified
        together cost one commit and one write to the search index)."""
        c, now, indexed = self.calls_table, time.time(), []
        with self.db.engine.begin() as conn:
            for item, row in rows:
                values = ({"state": "failed", "error": row["error"], "attempts": item.attempts + 1} if row.get("error")
                          else {"state": "done", "error": None})
                if conn.execute(c.update().where(c.c.id == item.id, c.c.worker == self.worker)
                                .values(updated_at=now, result=json.dumps(row), **values)).rowcount:
                    indexed.append((item.id, row))
            self.index.write_many(conn, indexed)

    def replace_result(self, call_id: int, result: dict) -> None:
        """Replace a done call's row (a newly active model re-scored it); the call keeps its id and state."""
        c = self.calls_table
        with self.db.engine.begin() as conn:
            conn.execute(c.update().where(c.c.id == call_id).values(result=json.dumps(result), updated_at=time.time()))
            self.index.write(conn, call_id, result)

    def drop_pending_under(self, folder: str | Path) -> int:
        """Delete the pending calls read from a folder whose batch was never stored (a kill -9 between
        registering its calls and recording the batch); returns how many."""
        c = self.calls_table
        prefix = str(folder).rstrip("/") + "/"
        with self.db.engine.begin() as conn:
            return conn.execute(c.delete().where(c.c.state == "pending", c.c.source.startswith(prefix, autoescape=True))).rowcount

    def release(self, item: WorkItem) -> None:
        """Give a claimed call back (pending, attempts unchanged): this worker did a first step of it only."""
        self._settle(item, None, state="pending", worker=None, claimed_at=None)

    def _settle(self, item: WorkItem, row: dict | None, **values) -> None:
        c = self.calls_table
        with self.db.engine.begin() as conn:  # one commit per result: a crash loses at most the call in hand
            settled = conn.execute(c.update().where(c.c.id == item.id, c.c.worker == self.worker)
                                   .values(**{"updated_at": time.time(), **values})).rowcount  # worker stays
            if settled and "result" in values:  # the search index changes with the row, in the same commit
                self.index.write(conn, item.id, row)

def job_summary(queue: WorkQueue) -> list[dict]:
    """Per job of a store: how many calls are in each state, and the failures with their reasons."""
    from sqlalchemy import func, select

    c = queue.calls_table
    with queue.db.engine.connect() as conn:
        counts = conn.execute(select(c.c.job, c.c.state, func.count()).group_by(c.c.job, c.c.state)).all()
        failures = conn.execute(select(c.c.job, c.c.source, c.c.attempts, c.c.error)
                                .where(c.c.state == "failed").order_by(c.c.id)).all()
        updated = dict(conn.execute(select(c.c.job, func.max(c.c.updated_at)).group_by(c.c.job)).all())
    jobs: dict[str, dict] = {}
    for job, state, n in counts:
        entry = jobs.setdefault(job, {"job": job, **{s: 0 for s in STATES}, "failures": [],
                                      "updated_at": updated.get(job)})
        entry[state] = n
    for job, source, attempts, error in failures:
        jobs[job]["failures"].append({"source": source, "attempts": attempts, "error": error})
    for entry in jobs.values():
        entry["total"] = sum(entry[s] for s in STATES)
    return list(jobs.values())


def _release_dead_workers(engine, c, job: str) -> None:
    """Calls left 'running' by a process of this host that no longer exists go back to pending."""
    from sqlalchemy import select

    host = socket.gethostname()
    with engine.begin() as conn:
        workers = conn.execute(select(c.c.worker).distinct().where(c.c.job == job, c.c.state == "running")).scalars()
        dead = [w for w in workers if w and w.rsplit(":", 1)[0] == host and not _alive(int(w.rsplit(":", 1)[1]))]
        if dead:
            conn.execute(c.update().where(c.c.job == job, c.c.state == "running", c.c.worker.in_(dead))
                         .values(state="pending", worker=None, updated_at=time.time()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

