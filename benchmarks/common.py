"""What the maintained benchmarks share: where the real data is, how it is read and split, timing and memory.

Benchmarks import only callsort's public API and this module. Results go to benchmarks/results/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT / ".." / "shared" / "data" / "calls"
TRANSCRIPTS = SHARED / "transcripts.csv"
AUDIO = SHARED / "audio"
CALLSORT = Path(sys.executable).parent / "callsort"
CORES = len(os.sched_getaffinity(0))


def real_calls(path: Path = TRANSCRIPTS):
    """The real labelled transcripts (726 calls, 8 tags) as a CallTable."""
    import callsort

    if not path.is_file():
        sys.exit(f"{path}: not found; this benchmark needs the real calls in ../shared/data/calls")
    return callsort.read_calls(path, text_column="Text", label_column="Tag")


def stratified_folds(labels: list[str], k: int, seed: int = 42) -> list[tuple[list[int], list[int]]]:
    """(train, test) index lists of stratified k-fold (scikit-learn), the same for every benchmark."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(a), list(b)) for a, b in splitter.split([[0]] * len(labels), labels)]


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (bytes, whole process tree, sampled every 50 ms) of a command."""
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], env=env or dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                parent = psutil.Process(proc.pid)
                peak = max(peak, sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    return time.perf_counter() - started, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def write_results(name: str, report: dict, markdown: list[str] | None = None) -> None:
    """benchmarks/results/NAME.json, and NAME.md when lines are given."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, default=str))
    if markdown is not None:
        (RESULTS / f"{name}.md").write_text("\n".join(markdown) + "\n")
