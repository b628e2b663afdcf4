"""The results store of a resumable batch: every call's state, result, error and attempts, in a database.

SQLite by default (a path, WAL mode, one commit per result); any SQLAlchemy URL (`postgresql://…`) works
through the same few statements. Work is claimed with one UPDATE … RETURNING, which both databases run
atomically, so two processes on one store never take the same call.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

STATES = ("pending", "running", "done", "failed")


@dataclass
class WorkItem:
    id: int
    source: str
    content_hash: str
    attempts: int


def _tables():
    from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

    metadata = MetaData()
    calls = Table(
        "calls", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job", String(64), nullable=False),  # the model and recognition settings: a new model is new work
        Column("source", Text, nullable=False),
        Column("content_hash", String(64), nullable=False),  # changed audio or text is new work
        Column("state", String(8), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),  # failed attempts so far
        Column("worker", String(128)),  # host:pid that claimed it (and, once settled, that did it)
        Column("claimed_at", Float),
        Column("result", Text),  # the output row as JSON
        Column("error", Text),
        Column("updated_at", Float),
        UniqueConstraint("job", "source", "content_hash"),
        Index("ix_calls_job_state", "job", "state"),
    )
    # A person's label for a call. Never updated: a later correction of the same call supersedes (history kept).
    Table(
        "corrections", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("call_id", Integer, nullable=False),
        Column("source", Text, nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("text", Text),  # the transcript the reviewer read
        Column("predicted", String(200)),  # what the model had said
        Column("label", String(200), nullable=False),
        Column("reason", Text),
        Column("reviewer", String(200)),
        Column("created_at", Float, nullable=False),
        Index("ix_corrections_call", "call_id"),
    )
    # A batch the service was given (uploads or a folder): where its recordings live and which calls it holds.
    Table(
        "batches", metadata,
        Column("id", String(32), primary_key=True),
        Column("job", String(64), nullable=False),
        Column("folder", Text, nullable=False),  # recordings of this batch are served from here only
        Column("call_ids", Text, nullable=False),  # JSON list of calls.id
        Column("created_at", Float, nullable=False),
    )
    return metadata, calls


class JobStore:
    """A database of calls to process. `url` is a SQLAlchemy URL or a plain path to a SQLite file."""

    def __init__(self, url: str | Path, lease_seconds: float = 3600):
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError

        url = str(url)
        if "://" not in url:
            if Path(url).is_dir():
                raise InputError(f"{url}: is a folder; --store wants a database file, e.g. jobs.db")
            url = f"sqlite:///{url}"
        self.url = url
        self.lease_seconds = lease_seconds  # a claim older than this is taken back (its worker is presumed gone)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        try:
            self.engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            self.metadata, self.calls = _tables()
            self.metadata.create_all(self.engine)
        except (SQLAlchemyError, ImportError) as exc:
            raise InputError(f"{_safe(url)}: cannot open the results store ({str(exc).splitlines()[0]})") from None

    def add(self, job: str, items: list[tuple[str, str]]) -> int:
        """Register (source, content_hash) pairs as pending unless known already; returns how many were new.

        INSERT … ON CONFLICT DO NOTHING: two processes adding the same calls at once both succeed, once each.
        """
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        from sqlalchemy import func, select

        statement = insert(self.calls).on_conflict_do_nothing(index_elements=["job", "source", "content_hash"])
        count = select(func.count()).select_from(self.calls).where(self.calls.c.job == job)
        with self.engine.begin() as conn:
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
        with self.engine.connect() as conn:
            for start in range(0, len(items), 500):
                batch = items[start:start + 500]
                found.update(((s, h), i) for i, s, h in conn.execute(
                    select(self.calls.c.id, self.calls.c.source, self.calls.c.content_hash).where(
                        self.calls.c.job == job,
                        tuple_(self.calls.c.source, self.calls.c.content_hash).in_(batch))).all())
        return list(dict.fromkeys(found[item] for item in items if item in found))

    def claim(self, job: str, limit: int, max_attempts: int, failed_before: float | None = None,
              among: list[int] | None = None) -> list[WorkItem]:
        """Atomically take up to `limit` calls to work on (only ids in `among`, when given): pending ones, failed
        ones with attempts left (that failed before `failed_before`, when given), and running ones whose worker
        is gone (a killed process on this host, or a lease that ran out)."""
        from sqlalchemy import and_, or_, select, true

        c = self.calls
        self._release_dead_workers(job)
        now = time.time()
        claimable = select(c.c.id).where(c.c.job == job, c.c.id.in_(among) if among is not None else true(), or_(
            c.c.state == "pending",
            and_(c.c.state == "failed", c.c.attempts < max_attempts,
                 c.c.updated_at < (now if failed_before is None else failed_before)),
            and_(c.c.state == "running", c.c.claimed_at < now - self.lease_seconds),
        )).order_by(c.c.id).limit(limit)
        if self.engine.dialect.name == "postgresql":
            claimable = claimable.with_for_update(skip_locked=True)
        statement = (c.update().where(c.c.id.in_(claimable.scalar_subquery()))
                     .values(state="running", worker=self.worker, claimed_at=now, updated_at=now)
                     .returning(c.c.id, c.c.source, c.c.content_hash, c.c.attempts))
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return sorted((WorkItem(*row) for row in rows), key=lambda item: item.id)

    def finish(self, item: WorkItem, result: dict) -> None:
        self._settle(item, state="done", result=json.dumps(result), error=None)

    def fail(self, item: WorkItem, error: str, result: dict | None = None) -> None:
        self._settle(item, state="failed", result=json.dumps(result) if result else None, error=error,
                     attempts=item.attempts + 1)

    def release(self, item: WorkItem) -> None:
        """Give a claimed call back (pending, attempts unchanged): this worker did a first step of it only."""
        self._settle(item, state="pending", worker=None, claimed_at=None)

    def _settle(self, item: WorkItem, **values) -> None:
        c = self.calls
        with self.engine.begin() as conn:  # one commit per result: a crash loses at most the call in hand
            conn.execute(c.update().where(c.c.id == item.id, c.c.worker == self.worker)
                         .values(**{"updated_at": time.time(), **values}))  # worker stays: who did it

    def _release_dead_workers(self, job: str) -> None:
        """Calls left 'running' by a process of this host that no longer exists go back to pending."""
        from sqlalchemy import select

        c = self.calls
        host = socket.gethostname()
        with self.engine.begin() as conn:
            workers = conn.execute(select(c.c.worker).distinct().where(c.c.job == job, c.c.state == "running")).scalars()
            dead = [w for w in workers if w and w.rsplit(":", 1)[0] == host and not _alive(int(w.rsplit(":", 1)[1]))]
            if dead:
                conn.execute(c.update().where(c.c.job == job, c.c.state == "running", c.c.worker.in_(dead))
                             .values(state="pending", worker=None, updated_at=time.time()))

    def results(self, job: str) -> dict[tuple[str, str], dict]:
        """(source, content_hash) -> {state, attempts, error, result} for every call of a job."""
        from sqlalchemy import select

        c = self.calls
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.c.source, c.c.content_hash, c.c.state, c.c.attempts, c.c.error, c.c.result)
                                .where(c.c.job == job)).all()
        return {(r.source, r.content_hash): {"state": r.state, "attempts": r.attempts, "error": r.error,
                                             "result": json.loads(r.result) if r.result else None} for r in rows}

    def result_rows(self, job: str | None = None) -> list[dict]:
        """The result rows (done and failed) of one job, or of every job in the store."""
        jobs = [j["job"] for j in self.summary()] if job is None else [job]
        return [v["result"] for j in jobs for v in self.results(j).values() if v["result"]]

    def rows(self, ids: list[int]) -> list[dict]:
        """Calls by id, in the order given: id, source, content_hash, state, attempts, error, result."""
        from sqlalchemy import select

        c, found = self.calls, {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for r in conn.execute(select(c.c.id, c.c.source, c.c.content_hash, c.c.state, c.c.attempts, c.c.error,
                                             c.c.result).where(c.c.id.in_(ids[start:start + 500]))).all():
                    found[r.id] = {"id": r.id, "source": r.source, "content_hash": r.content_hash, "state": r.state,
                                   "attempts": r.attempts, "error": r.error,
                                   "result": json.loads(r.result) if r.result else None}
        return [found[i] for i in ids if i in found]

    def add_batch(self, batch_id: str, job: str, folder: str, call_ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table("batches").insert().values(id=batch_id, job=job, folder=folder,
                                                                call_ids=json.dumps(call_ids), created_at=time.time()))

    def batch(self, batch_id: str) -> dict | None:
        """One batch (id, job, folder, call_ids, created_at), or None."""
        from sqlalchemy import select

        b = self.table("batches")
        with self.engine.connect() as conn:
            row = conn.execute(select(b).where(b.c.id == batch_id)).first()
        return {**row._asdict(), "call_ids": json.loads(row.call_ids)} if row else None

    def batches(self) -> list[dict]:
        """Every batch, newest first: id, job, folder, call_ids, created_at."""
        from sqlalchemy import select

        b = self.table("batches")
        with self.engine.connect() as conn:
            rows = conn.execute(select(b).order_by(b.c.created_at.desc())).all()
        return [{**r._asdict(), "call_ids": json.loads(r.call_ids)} for r in rows]

    def correct(self, call_id: int, label: str, reason: str | None = None, reviewer: str | None = None) -> dict:
        """Record a person's label for a stored call (with the transcript and prediction it had); returns it."""
        row = self.rows([call_id])
        if not row:
            raise InputError(f"call {call_id}: not in the results store")
        result = row[0]["result"] or {}
        values = {"call_id": call_id, "source": row[0]["source"], "content_hash": row[0]["content_hash"],
                  "text": result.get("transcript") or result.get("text"), "predicted": result.get("label"),
                  "label": label, "reason": reason or None, "reviewer": reviewer or None, "created_at": time.time()}
        with self.engine.begin() as conn:
            values["id"] = conn.execute(self.table("corrections").insert().values(**values)).inserted_primary_key[0]
        return values

    def corrections(self, history: bool = False) -> list[dict]:
        """Corrections, oldest first; without `history` only the latest of each call (the one that counts)."""
        from sqlalchemy import select

        k = self.table("corrections")
        with self.engine.connect() as conn:
            rows = [r._asdict() for r in conn.execute(select(k).order_by(k.c.id)).all()]
        if history:
            return rows
        latest = {r["call_id"]: r for r in rows}  # later ids supersede earlier ones
        return sorted(latest.values(), key=lambda r: r["id"])

    def table(self, name: str):
        return self.metadata.tables[name]

    def summary(self) -> list[dict]:
        """Per job: how many calls are in each state, and the failures with their reasons."""
        from sqlalchemy import func, select

        c = self.calls
        with self.engine.connect() as conn:
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

    def integrity_ok(self) -> bool:
        """SQLite's own consistency check (always true for other databases)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash keeps committed rows
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a process kill, fast commits
    cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits for the write lock instead of failing
    cursor.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url
