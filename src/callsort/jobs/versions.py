"""The service's model versions (learning in place): numbered folders beside the store (STORE.models/1, 2, …),
each an ordinary model folder, and their states and check figures in the store's `model_versions` table.

A version's folder is written aside (`.N.partial`) and renamed when complete, so a version that can be
activated is always whole; at most one version is active.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ..errors import InputError
from .store import Database

STATES = ("training", "active", "rejected", "retired", "failed")
LEARNED_FILE = "learned_from.json"  # in a version's folder: the people's labels it learned from (call id -> label)


class ModelVersions:
    """The versions of one store (`db`), their folders under `folder`."""

    def __init__(self, db: Database, folder: str | Path):
        self.db, self.folder = db, Path(folder)
        self.table = db.table("model_versions")
        self.folder.mkdir(parents=True, exist_ok=True)

    def interrupted(self) -> int:
        """Versions left 'training' by a stopped service become 'failed' (their partial folders removed)."""
        stale = [v["version"] for v in self.all() if v["state"] == "training"]
        for version in stale:
            self.settle(version, "failed", error="interrupted: the service stopped while it trained")
            shutil.rmtree(self.partial(version), ignore_errors=True)
        return len(stale)

    def start(self, trained_on: int, labelled_by_people: int) -> int:
        """A new version, in state 'training'; returns its number."""
        from sqlalchemy import func, select

        with self.db.engine.begin() as conn:
            version = (conn.execute(select(func.max(self.table.c.version))).scalar() or 0) + 1
            conn.execute(self.table.insert().values(
                version=version, state="training", created=time.time(), trained_on=trained_on,
                labelled_by_people=labelled_by_people))
        return version

    def partial(self, version: int) -> Path:
        return self.folder / f".{version}.partial"

    def path(self, version: int) -> Path:
        return self.folder / str(version)

    def write_learned(self, version: int, learned: dict[str, str]) -> None:
        """Record, in a version's written-aside folder, the people's labels it learned from (a later check
        refits them: models/candidates.py)."""
        (self.partial(version) / LEARNED_FILE).write_text(json.dumps(learned), encoding="utf-8")

    def learned(self, version: int) -> dict[str, str] | None:
        """The people's labels a version learned from (None for a version that did not record them)."""
        path = self.path(version) / LEARNED_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def complete(self, version: int) -> Path:
        """Rename the version's written-aside folder to its own name: from now on it can be activated."""
        self.partial(version).rename(self.path(version))
        return self.path(version)

    def settle(self, version: int, state: str, **figures) -> None:
        """Record a version's state (and its check figures, or its error)."""
        with self.db.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c.version == version).values(state=state, **figures))

    def check_activable(self, version: int) -> None:
        """InputError unless `version` is a complete version (not training, not failed)."""
        found = self.get(version)
        if found is None or found["state"] in ("training", "failed") or not self.path(version).is_dir():
            raise InputError(f"model version {version}: none that can be activated")

    def activate(self, version: int) -> None:
        """Make `version` the active one (the active one before is 'retired'); InputError for an unknown or
        incomplete version."""
        self.check_activable(version)
        with self.db.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c.state == "active").values(state="retired"))
            conn.execute(self.table.update().where(self.table.c.version == version).values(state="active"))

    def active(self) -> int | None:
        return next((v["version"] for v in self.all() if v["state"] == "active"), None)

    def get(self, version: int) -> dict | None:
        return next((v for v in self.all() if v["version"] == version), None)

    def all(self) -> list[dict]:
        """Every version, oldest first, as stored."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(select(self.table).order_by(self.table.c.version)).all()]

    def described(self) -> dict:
        """What GET /v1/models answers: the active version and every version with its figures."""
        return {"active": self.active(), "versions": [_described(v) for v in self.all()]}


def _described(v: dict) -> dict:
    interval = [v["macro_f1_low"], v["macro_f1_high"]] if v["macro_f1_low"] is not None else None
    compared = ({"version": v["compared_version"], "macro_f1": v["compared_macro_f1"]}
                if v["compared_version"] is not None else None)
    return {"version": v["version"], "state": v["state"], "trained_on": v["trained_on"],
            "labelled_by_people": v["labelled_by_people"], "checked_on": v["checked_on"],
            "macro_f1": v["macro_f1"], "macro_f1_interval": interval, "compared_with": compared,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(v["created"])), "error": v["error"]}


def version_folder(store: str, uploads: str | None = None) -> Path:
    """Where a store's versions live: beside a SQLite store (STORE.models/), else in the uploads folder."""
    return Path(f"{store}.models") if "://" not in store else Path(uploads) / "models"
