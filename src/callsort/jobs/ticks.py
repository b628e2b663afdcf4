"""The speed-to-lead list's "done" ticks: which stored calls a person has rung back (kept in the store, so
the report and every page of the service show them)."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import InputError
from .queue import WorkQueue
from .store import Database, open_database


class CallbackTicks:
    """The callback_ticks table of a results store."""

    def __init__(self, store: Database | str | Path):
        self.db = open_database(store)
        self.table = self.db.table("callback_ticks")

    def set(self, call_id: int, done: bool, by: str | None = None) -> dict:
        """Tick a stored call as rung back (or untick it); returns the tick."""
        if not WorkQueue(self.db).calls([call_id]):
            raise InputError(f"call {call_id}: not in the results store")
        tick = {"call_id": call_id, "done": int(done), "by": by or None, "at": time.time()}
        with self.db.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.call_id == call_id))
            conn.execute(self.table.insert().values(**tick))
        return {**tick, "done": bool(done)}

    def done(self) -> set[int]:
        """The ids of the calls ticked done."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            return {r.call_id for r in conn.execute(select(self.table.c.call_id).where(self.table.c.done == 1))}
