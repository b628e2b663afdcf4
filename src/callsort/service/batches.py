"""Batches the service is given (uploaded files, or a folder the server can read), run in the background
through the results store, one after another; a restarted service finishes the batches it had not.

A batch holds any kind of call: recordings, .txt transcripts and transcript tables (CSV, TSV, JSONL, Parquet).
Each batch is a stored run (jobs.run.run_stored) with the service's own RunNeeds, so a batch killed mid-way
loses at most the calls in hand, and its rows are the ones `callsort predict --store` gives for the same files.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import threading
import time
import uuid
from pathlib import Path

from ..config import JobConfig
from ..data import TABLE_FORMATS, read_calls
from ..errors import InputError
from ..jobs.queue import WorkQueue
from ..jobs.run import job_id, register, run_stored
from ..jobs.store import Database
from ..models.classifier import Classifier
from ..needs import RunNeeds
from ..privacy.uploads import is_transcript, redacted_upload
from ..speech.audio import AUDIO_EXTENSIONS, is_audio
from .requests import upload_name
from .retention import Retention
from .review import without_paths

log = logging.getLogger(__name__)

CALL_FILES = sorted(AUDIO_EXTENSIONS | set(TABLE_FORMATS) | {".txt"})


class BatchRecords:
    """The batches table: each batch's folder (its files are served from there only) and its calls' ids."""

    def __init__(self, db: Database):
        self.db, self.table = db, db.table("batches")

    def add(self, batch_id: str, job: str, folder: str, call_ids: list[int]) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(self.table.insert().values(id=batch_id, job=job, folder=folder,
                                                    call_ids=json.dumps(call_ids), created_at=time.time()))

    def get(self, batch_id: str) -> dict | None:
        """One batch (id, job, folder, call_ids, created_at), or None."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id == batch_id)).first()
        return {**row._asdict(), "call_ids": json.loads(row.call_ids)} if row else None

    def cancel(self, batch_id: str) -> None:
        from sqlalchemy.exc import IntegrityError

        if not self.cancelled(batch_id):
            try:
                with self.db.engine.begin() as conn:
                    conn.execute(self.db.table("cancelled_batches").insert().values(id=batch_id,
                                                                                   cancelled_at=time.time()))
            except IntegrityError:  # cancelled twice at once: once is enough
                pass

    def cancelled(self, batch_id: str) -> bool:
        from sqlalchemy import select

        table = self.db.table("cancelled_batches")
        with self.db.engine.connect() as conn:
            return conn.execute(select(table.c.id).where(table.c.id == batch_id)).first() is not None

    def recording(self, call_id: int, uploads: Path) -> Path:
        """The recording of a call, only from the folder of a batch that holds it (never another path);
        FileNotFoundError when its uploads (under `uploads`) have expired."""
        for batch in self.all():
            if call_id in batch["call_ids"]:
                if Path(batch["folder"]).parent == uploads and not Path(batch["folder"]).is_dir():
                    raise FileNotFoundError(call_id)
                row = WorkQueue(self.db).calls([call_id])[0]
                root, path = Path(batch["folder"]).resolve(), Path(row["source"]).resolve()
                if path.is_relative_to(root) and path.is_file() and is_audio(path):  # resolve() followed symlinks
                    return path
        raise KeyError(call_id)

    def all(self) -> list[dict]:
        """Every batch, newest first."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            rows = conn.execute(select(self.table).order_by(self.table.c.created_at.desc())).all()
        return [{**r._asdict(), "call_ids": json.loads(r.call_ids)} for r in rows]


class BatchRunner:
    """Starts, resumes and reports on the service's batches; one background thread does the work."""

    def __init__(self, work: WorkQueue, model: Classifier | None, needs: RunNeeds, uploads: Path,
                 config: JobConfig | None = None, review_below: float | None = None,
                 retention: Retention | None = None, job_identity: str | None = None):
        """`job_identity`: the calls' job when it is not the model's (learning in place: models come and go,
        the calls stay; `model` None until the first is active)."""
        # small claims: a cancelled batch stops within a few calls (each call is committed on its own either way)
        self.work, self.model, self.needs = work, model, needs
        self.identity = job_identity or model.identity
        self.after_run = lambda: None  # told when a batch run ends (learning in place re-scores what it missed)
        self.config = config or JobConfig(claim_size=4)
        self.records = BatchRecords(work.db)
        self.review_below, self.retention = review_below, retention or Retention()
        self.uploads = Path(uploads).resolve()
        # the jobs this model and these settings give (batches with and without recordings)
        self.jobs = {job_id(self.identity, needs.job_settings(audio)) for audio in (True, False)}
        self.todo: queue.Queue = queue.Queue()
        self.active: set[str] = set()  # batches queued or running in this process
        self.failed: dict[str, str] = {}  # batch -> why its run stopped (never expected; kept for the page)
        self.lock = threading.Lock()
        # a daemon thread: stopping the service never waits for a batch (the store lets it resume later)
        threading.Thread(target=self._work, name="callsort-batches", daemon=True).start()

    def from_uploads(self, files: list[tuple[str, object]], before_start=None) -> dict:
        """Save uploads (name, binary file object) under a new batch folder and start the batch.
        `before_start(batch_id, folder, saved)`, when given, sees the saved files first (intake: a call already
        taken raises there, and nothing is kept)."""
        if not files:
            raise InputError("the batch holds no file")
        # every name checked before anything is written; under --redact, saved under its redacted name
        names = [self.needs.names.shown_name(upload_name(name)) for name, _ in files]
        for name in names:
            if Path(name).suffix.lower() not in CALL_FILES:
                raise InputError(f"{name}: not a recording, .txt or transcript table (send {', '.join(CALL_FILES)})")
        batch_id, redactor = uuid.uuid4().hex[:12], self.needs.redactor
        folder = self.uploads / batch_id
        folder.mkdir(parents=True)
        try:
            saved = []
            for name, (_, data) in zip(names, files, strict=False):
                saved.append(_unused_name(folder, name))
                with open(saved[-1], "xb") as out:
                    if redactor is not None and is_transcript(name):  # the original text is never written
                        out.write(redacted_upload(name, data.read(), redactor))
                    else:
                        shutil.copyfileobj(data, out, 1 << 20)
            if before_start is not None:
                before_start(batch_id, folder, saved)
            return self._start(batch_id, folder)
        except BaseException as exc:  # nothing of a batch that did not start is kept, nor is its folder named
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, InputError):
                raise InputError(str(exc).replace(f"{folder}/", "").replace(str(folder), "the upload")) from None
            raise

    def from_folder(self, folder: str) -> dict:
        """Start a batch over the calls of a folder on the server (an admin's choice), named by its absolute
        path (no '~', no path relative to wherever the service was started); files that lead out of it
        (symlinks) are not read."""
        return self._start(uuid.uuid4().hex[:12], checked_folder(folder))

    def _start(self, batch_id: str, folder: Path) -> dict:
        job, _, ids = register(read_calls(folder, label_column=None, drop_empty=False, inside_only=True), self.identity,
                               self.work, self.needs)
        self.records.add(batch_id, job, str(folder), ids)
        self._submit(batch_id, folder)
        return self.progress(batch_id)

    def _submit(self, batch_id: str, folder: Path) -> None:
        with self.lock:
            self.active.add(batch_id)
        self.todo.put((batch_id, folder))

    def _work(self) -> None:
        while True:
            try:
                self._run(*self.todo.get(timeout=3600))
            except queue.Empty:
                pass
            try:
                self.expire_uploads()
            except Exception:  # noqa: BLE001 - a store hiccup must not end the thread that runs every batch
                log.exception("deleting expired uploads failed; tried again later")

    def _run(self, batch_id: str, folder: Path) -> None:
        try:
            if not self.records.cancelled(batch_id):
                calls = read_calls(folder, label_column=None, drop_empty=False, inside_only=True)
                run_stored(calls, self.model, self.work, self.needs, self.config, self.review_below,
                           stop=lambda: self.records.cancelled(batch_id), job_identity=self.identity)
                self.after_run()
        except Exception as exc:  # noqa: BLE001 - the service stays up; the page shows why the batch stopped
            log.exception("batch %s stopped", batch_id)
            self.failed[batch_id] = f"{type(exc).__name__}: {exc}"
        finally:
            with self.lock:
                self.active.discard(batch_id)

    def resume(self) -> int:
        """Queue this model's batches that a stopped service left unfinished; returns how many."""
        resumed = 0
        self.expire_uploads()
        for batch in self.records.all():
            states = {r["state"] for r in self.work.calls(batch["call_ids"])}
            if (batch["job"] in self.jobs and states & {"pending", "running"} and Path(batch["folder"]).is_dir()
                    and not self.records.cancelled(batch["id"])):
                self._submit(batch["id"], Path(batch["folder"]))
                resumed += 1
        return resumed

    def batch(self, batch_id: str) -> dict:
        found = self.records.get(batch_id)
        if found is None:
            raise KeyError(batch_id)
        return found

    def progress(self, batch_id: str) -> dict:
        """Counts of the batch's calls by state, and whether the batch is finished."""
        batch = self.batch(batch_id)
        counts = {"pending": 0, "running": 0, "done": 0, "failed": 0}
        for row in self.work.calls(batch["call_ids"]):
            counts[row["state"]] += 1
        cancelled = self.records.cancelled(batch_id)
        finished = batch_id not in self.active and (cancelled or not counts["pending"] + counts["running"])
        return {"id": batch_id, "calls": len(batch["call_ids"]), **counts, "finished": finished, "cancelled": cancelled,
                "audio_expired": self._is_upload(batch) and not Path(batch["folder"]).is_dir(),
                "stopped": without_paths(self.failed.get(batch_id, "")), "created_at": batch["created_at"],
                "current_model": batch["job"] in self.jobs}

    def cancel(self, batch_id: str) -> None:
        """Stop a batch: the calls in hand finish, the rest stay undone, and it never resumes."""
        self.records.cancel(batch_id)

    def expire_uploads(self) -> None:
        """Delete the uploaded files of finished batches started over the retention's days ago (never of a batch
        still to run; their rows stay, and the page says the audio has expired), and the cached transcripts
        and silenced copies as old."""
        for batch in self.records.all() if self.retention.keep_days else []:
            if (self.retention.is_old(batch["created_at"]) and self._is_upload(batch) and Path(batch["folder"]).is_dir()
                    and self.progress(batch["id"])["finished"]):
                shutil.rmtree(batch["folder"], ignore_errors=True)
                log.info("batch %s: uploads deleted after %g days", batch["id"], self.retention.keep_days)
        self.retention.expire_files()

    def _is_upload(self, batch: dict) -> bool:
        return Path(batch["folder"]).parent == self.uploads


def _unused_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem-2.ext`, `-3`, … when taken: uploads of one batch never overwrite each other."""
    target, n = folder / name, 1
    while target.exists():
        n += 1
        target = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
    return target


def checked_folder(folder: str) -> Path:
    """A folder a batch may read: an absolute path to an existing folder that is not the file system's root;
    InputError (a 422) otherwise, never an OSError."""
    if not folder or not Path(folder).is_absolute():
        raise InputError(f"{folder!r}: give the folder's absolute path on the server")
    path = Path(folder)
    try:
        found = path.is_dir()
    except OSError as exc:  # a name over the file system's limit, say
        raise InputError(f"{folder[:60]}…: {exc.strerror or exc}") from None
    if not found:
        raise InputError(f"{folder}: no such folder on the server")
    if path.resolve() == Path(path.anchor):
        raise InputError(f"{folder}: the file system's root is no folder of calls; give the calls' own folder")
    return path.resolve()
