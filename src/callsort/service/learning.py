"""Learning in place: the service trains, checks and activates its own models from people's labels.

Training runs in one background thread, one training at a time (a second request waits its turn), never on a
request's path. Each candidate learns from the --train-data table and every one of people's labels, is checked
with the active model's data on the same folds (models/candidates.py), written aside and renamed when complete
(jobs/versions.py); it becomes active only if not worse, and calls nobody labelled are then re-scored by it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from ..data import CallTable, known_labels_only, read_calls
from ..errors import CallsortError, InputError
from ..jobs.corrections import Corrections, words_of
from ..jobs.versions import ModelVersions
from ..models import candidates
from ..models.classifier import Classifier, load_model
from ..service_config import LearningConfig

log = logging.getLogger(__name__)


def categories_of(config: LearningConfig) -> tuple[list[str], CallTable | None]:
    """The categories to learn (--labels, else the --train-data table's) and that table (None without one)."""
    from ..data import normalise_label

    base = read_calls(config.train_data, config.text_column, config.label_column) if config.train_data else None
    if config.labels:
        from pathlib import Path

        lines = Path(config.labels).read_text(encoding="utf-8").splitlines()
        labels = list(dict.fromkeys(normalise_label(line) for line in lines if line.strip()))
        if len(labels) < 2:
            raise InputError(f"{config.labels}: name at least two categories, one a line")
        base = known_labels_only(base, labels, str(config.train_data)) if base is not None else None
        return labels, base
    return sorted(set(base.labels)), base


class Learner:
    """Trains candidates in the background and activates the good ones; `on_active(model)` is told of each
    model made active (the service swaps it in and re-scores), `in_use()` gives the model the service holds."""

    def __init__(self, versions: ModelVersions, corrections: Corrections, categories: list[str],
                 base: CallTable | None, config: LearningConfig, on_active: Callable[[Classifier], None],
                 in_use: Callable[[], Classifier | None]):
        self.versions, self.corrections, self.categories = versions, corrections, categories
        self.base, self.config, self.on_active, self.in_use = base, config, on_active, in_use
        self.todo: queue.Queue = queue.Queue()
        self.busy = threading.Lock()  # held while a candidate trains: one at a time
        versions.interrupted()
        threading.Thread(target=self._work, name="callsort-learning", daemon=True).start()

    def request(self) -> None:
        """Queue a training (POST /v1/models/train); InputError when the labels cannot train one yet."""
        why = candidates.learnable(self._data()[0])
        if why:
            raise InputError(f"no model can learn yet: {why}")
        self.todo.put("asked")

    def labelled(self) -> None:
        """Called after each label: queue a training once --retrain-after new labels have come."""
        every = self.config.retrain_after
        if not every or self.training():
            return
        last = max((v["labelled_by_people"] or 0 for v in self.versions.all()), default=0)
        table, people, _ = self._data()  # one read of the labels, counted as a version counts them
        if len(people) - last >= every and not candidates.learnable(table):
            self.todo.put("labels")

    def training(self) -> bool:
        """Whether a training is asked for or running (a request counts until its training is over: no gap
        between taking it off the queue and starting, where a page polling would stop)."""
        return self.todo.unfinished_tasks > 0

    def activate(self, version: int) -> Classifier:
        """Make a version active (rolling back or forward) and hand its model to the service."""
        self.versions.check_activable(version)
        model = load_model(self.versions.path(version))
        self.on_active(model)  # in use before the store says so: a reader of "active" finds it classifying
        self.versions.activate(version)
        return model

    def _work(self) -> None:
        while True:
            self.todo.get()
            try:
                with self.busy:
                    self.train_once()
            except Exception:  # noqa: BLE001 - the thread trains the next request; the version says why
                log.exception("training failed")
            finally:
                self.todo.task_done()

    def _data(self, corrections: list[dict] | None = None) -> tuple[CallTable, CallTable, list[str]]:
        """(calls to learn from, people's labelled calls, their keys): the --train-data table and people's
        labels (`corrections`, else read now); a call's key is its id in the store."""
        corrections = self.corrections.all() if corrections is None else corrections
        fixes = [c for c in corrections if (c["text"] or "").strip() and c["label"] in self.categories]
        people = CallTable([words_of(c["text"]) for c in fixes], [c["source"] for c in fixes],
                           [c["label"] for c in fixes])
        keys = [str(c["call_id"]) for c in fixes]
        return (self.base.concat(people) if self.base is not None else people), people, keys

    def _learned_by(self, version: int | None, corrections: list[dict]) -> dict[str, str] | None:
        """The people's labels `version` learned from: as it recorded them, else (a version of a callsort that
        did not record them) those of `corrections` given before it was made."""
        if version is None:
            return None
        learned = self.versions.learned(version)
        if learned is None:
            made = self.versions.get(version)["created"]
            learned = {str(c["call_id"]): c["label"] for c in corrections if c["created_at"] < made}
        return learned

    def _active_model(self) -> tuple[int | None, Classifier | None]:
        """The active version and its model: the one the service holds, else (not yet swapped in) from disk."""
        active = self.versions.active()
        model = self.in_use()
        if active and (model is None or model.info.training.get("version") != active):
            model = load_model(self.versions.path(active))
        return active, (model if active else None)

    def train_once(self) -> int | None:
        """Train, check and maybe activate one candidate; returns its version (None when nothing can learn)."""
        corrections = self.corrections.all()
        table, people, keys = self._data(corrections)
        if candidates.learnable(table):
            return None
        version = self.versions.start(len(table), len(people))
        try:
            active, model = self._active_model()
            found = candidates.train_and_check(self.base, people, keys, model, self._learned_by(active, corrections))
            found.model.info.training["version"] = version
            found.model.save(self.versions.partial(version))
            self.versions.write_learned(version, found.learned)
            self.versions.complete(version)
        except (CallsortError, OSError, ValueError) as exc:
            self.versions.settle(version, "failed", error=str(exc).splitlines()[0])
            return version
        mine, theirs = found.mine, found.theirs
        figures = {"macro_f1": mine.macro_f1, "macro_f1_low": mine.low, "macro_f1_high": mine.high,
                   "checked_on": mine.calls, "compared_version": active,
                   "compared_macro_f1": theirs.macro_f1 if theirs else None}
        if candidates.better_or_equal(mine, theirs):
            self.versions.settle(version, "retired", **figures)  # made active just below
            self.activate(version)
        else:
            self.versions.settle(version, "rejected", **figures)
        log.info("model version %d: %s", version, self.versions.get(version)["state"])
        return version


LEARNING_JOB = "learning-in-place"  # the job of a learning service's calls, whatever model is active


class Learning:
    """Learning in place wired into a Service: the model versions, the learner, and re-scoring the calls
    nobody labelled whenever a version becomes active."""

    def __init__(self, service, config: LearningConfig):
        from ..jobs.versions import version_folder

        self.service, self.config = service, config
        self.categories, base = categories_of(config)
        self.given = set(base.labels) if base is not None else set()  # categories --train-data already teaches
        db = service.work.db
        self.versions = ModelVersions(db, version_folder(service.config.store, service.config.uploads))
        self.corrections = Corrections(db)
        self.learner = Learner(self.versions, self.corrections, self.categories, base, config, self.activated,
                               lambda: service.model)
        self.rescoring: queue.Queue = queue.Queue()
        threading.Thread(target=self._rescore_loop, name="callsort-rescoring", daemon=True).start()
        active = self.versions.active()
        if active:
            service.use_model(load_model(self.versions.path(active)))

    def activated(self, model: Classifier) -> None:
        self.service.use_model(model)
        self.rescore_soon()

    def rescore_soon(self) -> None:
        if self.service.model is not None and self.rescoring.empty():
            self.rescoring.put(self.service.model)

    def _rescore_loop(self) -> None:
        from ..jobs.rescore import rescore

        while True:
            model = self.rescoring.get()
            try:
                labelled = {c["call_id"] for c in self.corrections.all()}
                done = sum(rescore(self.service.work, job, model, self.service.needs, self.service.config.review_below,
                                   labelled, stop=lambda m=model: self.service.model is not m)
                           for job in self.service.batches.jobs)
                log.info("model version %s: %d calls re-scored", model.info.training.get("version"), done)
            except Exception:  # noqa: BLE001 - the next activation tries again; the rows keep their old version
                log.exception("re-scoring failed")

    def status(self) -> dict:
        """GET /v1/models: the versions, and how far labelling has come (labels, categories still missing)."""
        fixes = self.corrections.all()
        known = {c["label"] for c in fixes} | self.given
        return {**self.versions.described(), "labelled": len(fixes), "categories": self.categories,
                "missing": [c for c in self.categories if c not in known], "training": self.learner.training(),
                "retrain_after": self.config.retrain_after}
