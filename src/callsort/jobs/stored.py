"""A stored run (one call of run_stored over some calls) and the steps both engines share: claiming this
run's calls, and committing each call's row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import JobConfig
from ..data import CallTable
from ..models.classifier import Classifier
from ..needs import RunNeeds
from ..pipeline import ResultRow
from .queue import WorkItem, WorkQueue


@dataclass
class StoredRun:
    """One run of a job over a store: the calls, which store ids they have, and what classifies them."""

    calls: CallTable
    index: dict  # (source, content_hash) -> first row of the calls with that key
    ids: list[int]  # store ids of this run's calls (a store may hold other runs' calls of the same job)
    job: str
    model: Classifier | str | Path
    queue: WorkQueue
    needs: RunNeeds
    config: JobConfig
    review_below: float | None
    progress: bool
    todo: int  # of this run's calls, those not yet done when it started
    stop: Callable[[], bool] | None = None  # asked before each claim: True ends the run (a cancelled batch)

    def rows_of(self, items: list[WorkItem]) -> list[int]:
        return [self.index[(item.source, item.content_hash)] for item in items]

    def claims(self, claim_size: int, failed_before: float):
        """Claim this run's calls (and only these) in groups of `claim_size` until none is left to take."""
        for start in range(0, len(self.ids), 500):
            among = self.ids[start:start + 500]
            while not self.stopped() and (claimed := self.queue.claim(self.job, claim_size, self.config.max_attempts,
                                                                      failed_before, among)):
                yield claimed

    def stopped(self) -> bool:
        return self.stop is not None and self.stop()

    def held_elsewhere(self) -> bool:
        """Whether another worker holds some of this run's calls."""
        states = self.queue.states(self.job)
        return any(states[key]["state"] == "running" for key in self.index if key in states)


def record_all(queue: WorkQueue, rows: list[tuple[WorkItem, ResultRow]]) -> None:
    """Commit calls' rows in one transaction: each done, or failed with its error."""
    queue.settle([(item, row.to_dict()) for item, row in rows])


def record(queue: WorkQueue, item: WorkItem, row: ResultRow) -> None:
    """Commit one call's row: done, or failed with its error."""
    if row.error:
        queue.fail(item, row.error, row.to_dict())
    else:
        queue.finish(item, row.to_dict())


def one_line(exc: Exception) -> str:
    """An unexpected error as the one line a failed row records (the store retries it on the next run)."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
