"""Batches the service is given (uploaded recordings, or a folder the server can read), run in the background
through the results store, one after another; a restarted service finishes the batches it had not.

Each batch is a stored run (jobs.run_stored), so a batch killed mid-way loses at most the calls in hand, and
its rows are the same as `callsort predict --store` gives for the same files.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import uuid
from pathlib import Path

from .audio import AUDIO_EXTENSIONS, is_audio
from .classifier import Classifier
from .config import AsrConfig, JobConfig
from .data import read_calls
from .errors import InputError
from .jobs import content_hash, job_id, run_stored
from .pipeline import identity_of
from .store import JobStore

log = logging.getLogger(__name__)


class BatchRunner:
    """Starts, resumes and reports on the service's batches; one background thread does the work."""

    def __init__(self, store: JobStore, model: Classifier, asr: AsrConfig, uploads: Path,
                 config: JobConfig | None = None, review_below: float | None = None):
        self.store, self.model, self.asr, self.config = store, model, asr, config or JobConfig()
        self.review_below = review_below
        self.uploads = Path(uploads)
        self.job = job_id(identity_of(model), asr)
        self.todo: queue.Queue = queue.Queue()
        # a daemon thread: stopping the service never waits for a batch (the store lets it resume later)
        threading.Thread(target=self._work, name="callsort-batches", daemon=True).start()
        self.active: set[str] = set()  # batches queued or running in this process
        self.failed: dict[str, str] = {}  # batch -> why its run stopped (never expected; kept for the page)
        self.lock = threading.Lock()

    def from_uploads(self, files: list[tuple[str, object]]) -> dict:
        """Save uploads (name, binary file object) under a new batch folder and start the batch."""
        if not files:
            raise InputError("the batch holds no file")
        for name, _ in files:
            if not is_audio(Path(name or "")):
                raise InputError(f"{Path(name or '').name or 'upload'}: not a recording (send audio files: "
                                 f"{', '.join(sorted(AUDIO_EXTENSIONS))})")
        batch_id = uuid.uuid4().hex[:12]
        folder = self.uploads / batch_id
        folder.mkdir(parents=True)
        for n, (name, data) in enumerate(files, start=1):
            safe = Path(name or "upload").name or "upload"  # a file name, never a path
            target = folder / safe if not (folder / safe).exists() else folder / f"{n}-{safe}"
            with open(target, "wb") as out:
                shutil.copyfileobj(data, out, 1 << 20)
        return self._start(batch_id, folder)

    def from_folder(self, folder: str | Path) -> dict:
        """Start a batch over the recordings of a folder on the server (an admin's choice)."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder on the server")
        return self._start(uuid.uuid4().hex[:12], folder.resolve())

    def _start(self, batch_id: str, folder: Path) -> dict:
        calls = read_calls(folder, label_column=None)
        keys = [(calls.sources[i], content_hash(calls, i)) for i in range(len(calls))]
        self.store.add(self.job, keys)
        self.store.add_batch(batch_id, self.job, str(folder), self.store.ids(self.job, keys))
        self._submit(batch_id, folder)
        return self.progress(batch_id)

    def _submit(self, batch_id: str, folder: Path) -> None:
        with self.lock:
            self.active.add(batch_id)
        self.todo.put((batch_id, folder))

    def _work(self) -> None:
        while True:
            self._run(*self.todo.get())

    def _run(self, batch_id: str, folder: Path) -> None:
        try:
            run_stored(read_calls(folder, label_column=None), self.model, self.store, self.asr, self.config,
                       self.review_below)
        except Exception as exc:  # noqa: BLE001 - the service stays up; the page shows why the batch stopped
            log.exception("batch %s stopped", batch_id)
            self.failed[batch_id] = f"{type(exc).__name__}: {exc}"
        finally:
            with self.lock:
                self.active.discard(batch_id)

    def resume(self) -> int:
        """Queue this model's batches that a stopped service left unfinished; returns how many."""
        resumed = 0
        for batch in self.store.batches():
            states = {r["state"] for r in self.store.rows(batch["call_ids"])}
            if batch["job"] == self.job and states & {"pending", "running"} and Path(batch["folder"]).is_dir():
                self._submit(batch["id"], Path(batch["folder"]))
                resumed += 1
        return resumed

    def batch(self, batch_id: str) -> dict:
        found = self.store.batch(batch_id)
        if found is None:
            raise KeyError(batch_id)
        return found

    def progress(self, batch_id: str) -> dict:
        """Counts of the batch's calls by state, and whether the batch is finished."""
        batch = self.batch(batch_id)
        counts = {"pending": 0, "running": 0, "done": 0, "failed": 0}
        for row in self.store.rows(batch["call_ids"]):
            counts[row["state"]] += 1
        finished = batch_id not in self.active and not counts["pending"] + counts["running"]
        return {"id": batch_id, "calls": len(batch["call_ids"]), **counts, "finished": finished,
                "stopped": self.failed.get(batch_id, ""), "created_at": batch["created_at"],
                "current_model": batch["job"] == self.job}

    def recording(self, call_id: int) -> Path:
        """The recording of a call, only from the folder of a batch that holds it (never another path)."""
        for batch in self.store.batches():
            if call_id in batch["call_ids"]:
                row = self.store.rows([call_id])[0]
                root, path = Path(batch["folder"]).resolve(), Path(row["source"]).resolve()
                if path.is_relative_to(root) and path.is_file():  # resolve() has followed any symlink
                    return path
        raise KeyError(call_id)
