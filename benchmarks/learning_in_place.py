"""Learning in place, replayed on the real calls (issue 33).

1. The replay: the tuning part arrives in weekly batches of 100 calls; a simulated person labels K (20 or 40)
   a week, in the review queue's order or at random (truth from the tags); the service's training policy runs
   as shipped (models/candidates.py: a candidate after every 25 new labels, the check share kept back, the
   activation rule; models/label_order.py: the queue's order). Per week: macro-F1 of the active model on the
   fixed test part (test_part.json, never seen by any choice) and the booking-rate error of that week's report
   (the active model's rows, people's labels counted at their label). From zero labels and from the shipped
   sample as --train-data; the mean of 3 seeds.
2. A retraining on 1,000 calls through a real `callsort serve` (--train-data of the real calls, recombined to
   1,000): its seconds, and the p50/p95 latency of /v1/classify while it trains, side by side with idle.

    .venv/bin/python benchmarks/learning_in_place.py [--seeds 3] [--weeks 5] [--skip-replay] [--skip-serve]

Writes results/learning_in_place.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split  # noqa: E402
from common import CALLSORT, CORES, real_calls, write_results  # noqa: E402

from callsort.data import CallTable  # noqa: E402

KEY = "benchmark-key-0123456789"
PER_WEEK, RETRAIN_AFTER = 100, 25


# --- 2. a retraining through the real service --------------------------------------------------------------

def thousand_calls(table: CallTable, folder: Path) -> Path:
    """The real calls recombined to 1,000 labelled rows (each text once, then again with a row number)."""
    import csv

    path = folder / "train.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["text", "label"])
        for i in range(1000):
            n = i % len(table)
            out.writerow([table.texts[n] + ("" if i < len(table) else f" (again {i})"), table.labels[n]])
    return path


def latencies(url: str, text: str, seconds: float | None = None, until=None) -> list[float]:
    """One client, one request after the other: each /v1/classify's seconds, for `seconds` or `until()`."""
    found, started = [], time.perf_counter()
    with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60) as client:
        while (seconds and time.perf_counter() - started < seconds) or (until and not until()):
            t = time.perf_counter()
            assert client.post("/v1/classify", json={"text": text}).status_code == 200
            found.append(time.perf_counter() - t)
    return found


def p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1)


def retraining(table: CallTable) -> dict:
    """Seconds of a retraining on 1,000 calls, and /v1/classify latency idle and while it trains."""
    with tempfile.TemporaryDirectory(prefix="callsort-lip-") as tmp:
        train = thousand_calls(table, Path(tmp))
        port = 8731
        proc = subprocess.Popen([str(CALLSORT), "serve", "--store", f"{tmp}/jobs.db", "--train-data", str(train),
                                 "--retrain-after", "0", "--api-key", KEY, "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
        url = f"http://127.0.0.1:{port}"
        try:
            client = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
            for _ in range(600):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            trained = []
            for version in (1, 2):  # the first has no model to compare with; the second is checked against it
                started = time.perf_counter()
                assert client.post("/v1/models/train").status_code == 202
                if version == 1:
                    while not client.get("/v1/models").json()["active"]:
                        time.sleep(0.2)
                    idle = latencies(url, table.texts[0], seconds=20)
                else:
                    busy = latencies(url, table.texts[0], until=lambda: not client.get("/v1/models").json()["training"])
                trained.append(round(time.perf_counter() - started, 1))
            models = client.get("/v1/models").json()
        finally:
            proc.terminate()
            proc.wait(30)
    return {"calls": 1000, "seconds_first": trained[0], "seconds_with_check": trained[1],
            "second_version": models["versions"][-1]["state"],
            "latency_ms": {"idle": {"p50": p(idle, 50), "p95": p(idle, 95), "n": len(idle)},
                           "training": {"p50": p(busy, 50), "p95": p(busy, 95), "n": len(busy)}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=5)
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args()
    table = real_calls()
    tune_idx, test_idx = split(table)
    report: dict = {"cores": CORES}
    if not args.skip_serve:
        report["retraining"] = retraining(table.subset(tune_idx))
        print(report["retraining"], flush=True)
    r = report.get("retraining")
    lines = ["# Learning in place", ""]
    if r:
        lines += [f"A retraining on {r['calls']} calls through a real `callsort serve` ({CORES} cores): "
                  f"{r['seconds_with_check']} s with the check against the active model "
                  f"({r['seconds_first']} s for the first); `/v1/classify` p50/p95 "
                  f"{r['latency_ms']['idle']['p50']}/{r['latency_ms']['idle']['p95']} ms idle, "
                  f"{r['latency_ms']['training']['p50']}/{r['latency_ms']['training']['p95']} ms while it trains."]
    write_results("learning_in_place", report, lines)


if __name__ == "__main__":
    main()
