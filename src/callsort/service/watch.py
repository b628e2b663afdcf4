"""A watched folder (`callsort serve --watch DIR`): every recording or .txt transcript written into it (sub-folders
included) is taken once it is complete: unchanged for --settle-seconds, or sooner when its writer closed it or renamed it into place.
watchdog tells of changes (inotify, else polling: network shares give no events); the files already there at
start are taken in the background. Each file is taken once by its content, across restarts (intake.py)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from ..speech.audio import file_sha256, is_audio
from .intake import AlreadyTaken, Intake

log = logging.getLogger(__name__)

TICK = 0.25  # seconds between looks at the files waiting to settle


def is_call_file(path: Path) -> bool:
    name = path.name
    return not name.startswith(".") and (is_audio(path) or path.suffix.lower() == ".txt")


class FolderWatch:
    """Watches `folder`, handing each complete call file to `intake`, then keeping, deleting or moving it."""

    def __init__(self, folder: str | Path, intake: Intake, settle_seconds: float = 5.0, after: str = "keep"):
        self.folder, self.intake, self.settle, self.after = Path(folder).resolve(), intake, settle_seconds, after
        self.waiting: dict[Path, tuple[float, int, float]] = {}  # path -> (mtime, size, unchanged since)
        self.closed: set[Path] = set()  # written and closed (inotify): complete now
        self.lock = threading.Lock()
        self.backlog = {"found": 0, "taken": 0, "done": False}  # the files there at start

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        watch = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if not event.is_directory:
                    # closed after writing, or renamed into place (written aside first, as rsync and most
                    # SFTP clients do): complete now; anything else waits to settle
                    watch.seen(Path(getattr(event, "dest_path", "") or event.src_path),
                               event.event_type in ("closed", "moved"))

        try:
            self.observer = Observer()
            self.observer.schedule(Handler(), str(self.folder), recursive=True)
            self.observer.start()
        except OSError:  # no inotify here (or too few watches): look every second instead
            self.observer = PollingObserver(timeout=1)
            self.observer.schedule(Handler(), str(self.folder), recursive=True)
            self.observer.start()
        threading.Thread(target=self._settle_loop, name="callsort-watch", daemon=True).start()
        threading.Thread(target=self._backlog, name="callsort-watch-backlog", daemon=True).start()

    def seen(self, path: Path, closed: bool = False) -> None:
        """A file changed (or was closed after writing): it waits until complete."""
        if is_call_file(path) and path.is_file():
            with self.lock:
                self.waiting.setdefault(path, (0.0, -1, time.time()))
                if closed:
                    self.closed.add(path)

    def _backlog(self) -> None:
        """The files already in the folder, taken in the background with progress in the log."""
        known = self.intake.records.origins()
        found = [p for p in sorted(self.folder.rglob("*")) if p.is_file() and is_call_file(p) and str(p) not in known]
        self.backlog["found"] = len(found)
        if found:
            log.info("%s: %d file(s) already there, taken in the background", self.folder, len(found))
        for n, path in enumerate(found, start=1):
            self._take(path)
            self.backlog["taken"] = n
            if n % 100 == 0:
                log.info("%s: %d of %d files taken", self.folder, n, len(found))
        self.backlog["done"] = True

    def _settle_loop(self) -> None:
        while True:
            time.sleep(TICK)
            for path in self._complete():
                self._take(path)

    def _complete(self) -> list[Path]:
        """The waiting files that are complete now (unchanged for `settle` seconds, or closed)."""
        ready, now = [], time.time()
        with self.lock:
            for path, (mtime, size, since) in list(self.waiting.items()):
                try:
                    stat = path.stat()
                except OSError:  # gone (moved away, deleted) before it settled
                    del self.waiting[path]
                    continue
                if (stat.st_mtime, stat.st_size) != (mtime, size):
                    self.waiting[path] = (stat.st_mtime, stat.st_size, now)
                    if path not in self.closed:
                        continue
                if path in self.closed or now - since >= self.settle:
                    ready.append(path)
                    del self.waiting[path]
                    self.closed.discard(path)
        return ready

    def _take(self, path: Path) -> None:
        """Hand one file to intake (once by its content), then keep, delete or move it."""
        try:
            content = file_sha256(path)
        except OSError as exc:
            log.warning("%s: cannot be read (%s)", path, exc.strerror or exc)
            return
        if self.intake.records.find(content_hash=content) or self.intake.records.find(origin=str(path)):
            return
        try:
            with open(path, "rb") as data:
                self.intake.take(path.name, data, _sidecar(path), origin=str(path))
        except AlreadyTaken:
            return
        except Exception as exc:  # noqa: BLE001 - listed with its error, not tried again; the watch goes on
            self.intake.failed(str(path), content, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        self._after(path)

    def _after(self, path: Path) -> None:
        sidecar = path.with_suffix(".json")
        for file in (path, sidecar) if sidecar.is_file() else (path,):
            try:
                if self.after == "delete":
                    file.unlink()
                elif self.after.startswith("move:"):
                    target = Path(self.after[5:]) / file.relative_to(self.folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(file), target)
            except OSError as exc:
                log.warning("%s: not %s after intake (%s)", file, self.after.split(":")[0] + "d", exc)


def _sidecar(path: Path) -> dict:
    """The phone system's facts in NAME.json beside a watched file, or {}."""
    import json

    sidecar = path.with_suffix(".json")
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    except (OSError, ValueError) as exc:
        log.warning("%s: not read (%s)", sidecar, exc)
        return {}
    return data if isinstance(data, dict) else {}
