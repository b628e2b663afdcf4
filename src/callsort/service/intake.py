"""Calls that arrive by themselves: pushed to POST /v1/calls by the phone system, or written into a watched
folder (watch.py). Each becomes a one-call batch of the service (service/batches.py: stored, resumed after a
stop, its file served and expired like any upload), with the phone system's facts beside it as NAME.json
(evidence/metadata.sidecar_facts). Each file is taken once by its content and each phone-system call once by
its `external_id`, across restarts (the store's `intake` table).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from ..errors import InputError
from ..evidence.metadata import SIDECAR_KEYS
from ..jobs.store import Database
from ..speech.audio import file_sha256
from .batches import BatchRunner

log = logging.getLogger(__name__)


class AlreadyTaken(Exception):
    """The call was taken before (same content or same external_id): the earlier intake record."""

    def __init__(self, record: dict):
        super().__init__(record.get("call_id"))
        self.record = record


class IntakeRecords:
    """The store's `intake` table."""

    def __init__(self, db: Database):
        self.db, self.table = db, db.table("intake")

    def find(self, content_hash: str | None = None, external_id: str | None = None, origin: str | None = None):
        from sqlalchemy import or_, select

        c = self.table.c
        tests = [t for t in (c.content_hash == content_hash if content_hash else None,
                             c.external_id == external_id if external_id else None,
                             c.origin == origin if origin else None) if t is not None]
        with self.db.engine.connect() as conn:
            row = conn.execute(select(self.table).where(or_(*tests))).first() if tests else None
        return row._asdict() if row else None

    def claim(self, content_hash: str, external_id: str | None, origin: str, batch_id: str | None,
              error: str | None = None) -> None:
        """Record a call as taken (AlreadyTaken when its content or external_id was taken before)."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.db.engine.begin() as conn:
                conn.execute(self.table.insert().values(content_hash=content_hash, external_id=external_id,
                                                        origin=origin, batch_id=batch_id, error=error,
                                                        created_at=time.time()))
        except IntegrityError:
            raise AlreadyTaken(self.find(content_hash, external_id) or {}) from None

    def settle(self, content_hash: str, call_id: int) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c.content_hash == content_hash).values(call_id=call_id))

    def unsettled(self) -> list[dict]:
        """Records of calls being taken when the service last stopped (no call id and no error yet)."""
        from sqlalchemy import select

        c = self.table.c
        with self.db.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(select(self.table).where(c.call_id.is_(None), c.error.is_(None)))]

    def forget(self, content_hash: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.content_hash == content_hash))

    def origins(self) -> set[str]:
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            return {r.origin for r in conn.execute(select(self.table.c.origin)).all()}

    def failures(self, limit: int = 100) -> list[dict]:
        """Files that could not be taken, newest first (listed with their error, never tried again)."""
        from sqlalchemy import select

        c = self.table.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(c.origin, c.error, c.created_at).where(c.error.is_not(None))
                                .order_by(c.created_at.desc()).limit(limit)).all()
        return [r._asdict() for r in rows]


def clean_facts(facts: dict) -> dict:
    """The phone system's facts a call may carry (SIDECAR_KEYS), as short strings."""
    return {k: str(facts[k]).strip()[:200] for k in SIDECAR_KEYS if facts.get(k) not in (None, "")}


class Intake:
    """Takes pushed and watched calls into the service's batches."""

    def __init__(self, batches: BatchRunner, db: Database):
        self.batches, self.records = batches, IntakeRecords(db)
        self._finish_interrupted()

    def _finish_interrupted(self) -> None:
        """Calls a stopped (or killed) service was taking: one whose batch was stored gets its call id; one
        whose batch never was is forgotten, so its file is taken again (a pushed call: the phone system's
        retry, which never got an answer)."""
        for record in self.records.unsettled():
            batch = self.batches.records.get(record["batch_id"]) if record["batch_id"] else None
            if batch and batch["call_ids"]:
                self.records.settle(record["content_hash"], batch["call_ids"][0])
            else:
                if record["batch_id"]:  # its calls may have been registered, never to be run
                    folder = self.batches.uploads / record["batch_id"]
                    self.batches.work.drop_pending_under(folder)
                    shutil.rmtree(folder, ignore_errors=True)
                self.records.forget(record["content_hash"])

    def take(self, name: str, data, facts: dict, origin: str = "push") -> dict:
        """Store one call (`data`: a binary file object) with its facts; answer {"id", "batch", "duplicate"}.
        A call taken before (same external_id, or the same bytes) stores nothing new and answers the first."""
        facts = clean_facts(facts)
        external = facts.get("external_id")
        known = self.records.find(external_id=external) if external else None
        if known:
            return self._answer(known, duplicate=True)
        claimed: dict = {}

        def before_start(batch_id: str, folder: Path, saved: list[Path]) -> None:
            content = file_sha256(saved[0])
            if facts:
                saved[0].with_suffix(".json").write_text(json.dumps(facts))
            self.records.claim(content, external, origin, batch_id)
            claimed["hash"] = content

        try:
            progress = self.batches.from_uploads([(name, data)], before_start)
        except AlreadyTaken as taken:
            return self._answer(taken.record, duplicate=True)
        call_id = self.batches.batch(progress["id"])["call_ids"][0]
        self.records.settle(claimed["hash"], call_id)
        log.info("call %d taken from %s", call_id, "a push" if origin == "push" else origin)
        return {"id": call_id, "batch": progress["id"], "duplicate": False}

    def failed(self, origin: str, content_hash: str, error: str) -> None:
        """A watched file that could not be taken: listed with its error, never tried again."""
        try:
            self.records.claim(content_hash, None, origin, None, error=error)
        except AlreadyTaken:
            pass
        log.warning("%s: not taken (%s)", origin, error)

    def _answer(self, record: dict, duplicate: bool) -> dict:
        if record.get("call_id") is None:
            raise InputError("that call is still being taken: try again in a moment")
        return {"id": record["call_id"], "batch": record["batch_id"], "duplicate": duplicate}
