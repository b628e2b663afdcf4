"""Peak memory and time of `callsort predict` on recordings, plain and through a results store, side by side.

The text model is the default kind trained by `callsort demo` on the shipped sample (or --model). Each command
runs with a cold transcript cache; RSS is sampled over the whole process tree.

    .venv/bin/python benchmarks/predict_memory.py [--model runs/demo/model] [--repeats 3]

Writes benchmarks/results/predict_memory.json and .md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import AUDIO, CALLSORT, CORES, ROOT, run_measured, write_results

from callsort.demo import sample_path


def measure(audio: Path, model: Path, store: bool, repeats: int) -> dict:
    seconds, peaks = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "CALLSORT_CACHE_DIR": f"{tmp}/cache"}
            cmd = [CALLSORT, "predict", audio, "--model", model, "--out", f"{tmp}/p.csv", "--quiet"]
            cmd += ["--store", f"{tmp}/jobs.db"] if store else []
            s, peak, proc = run_measured(cmd, env)
            assert proc.returncode in (0, 3), proc.stderr
            seconds.append(s)
            peaks.append(peak / 2**20)
    return {"median_s": round(statistics.median(seconds), 1), "peak_rss_mb": round(max(peaks)),
            "peak_rss_mb_runs": [round(p) for p in peaks]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "runs" / "demo" / "model")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (args.model / "callsort.json").is_file():
        subprocess.run([CALLSORT, "demo", "--out", args.model.parent, "--quiet"], check=True)
    folders = {"shipped samples (2 calls)": sample_path("sample_call_booked.mp3").parent}
    if AUDIO.is_dir():
        folders["real recordings (4 calls, 20.5 min)"] = AUDIO
    report = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "model": str(args.model), "runs": {}}
    lines = [f"# `callsort predict` on recordings: peak RSS and time ({report['date']}, {CORES} cores, "
             f"median of {args.repeats}, cold transcript cache)", "",
             "| recordings | command | median s | peak RSS MB |", "|---|---|---:|---:|"]
    for name, folder in folders.items():
        for store in (False, True):
            command = "predict --store jobs.db" if store else "predict"
            r = measure(folder, args.model, store, args.repeats)
            report["runs"][f"{name} / {command}"] = r
            lines.append(f"| {name} | `{command}` | {r['median_s']} | {r['peak_rss_mb']} |")
            print(lines[-1], flush=True)
    write_results("predict_memory", report, lines)


if __name__ == "__main__":
    main()
