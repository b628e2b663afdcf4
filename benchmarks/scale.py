"""Throughput of stored batches: the local engine and the Ray engine with 1 and 2 workers, side by side.

Each configuration classifies the same recordings from scratch (fresh store, transcript cache off), with the
default text model; files per minute and audio hours per hour are measured over the whole batch, and the
benchmarks/README.md projects from them the cluster needed for 20,000 hours of audio a month.

    .venv/bin/python benchmarks/scale.py [--model runs/default-model] [--audio ../shared/data/calls/audio]

Without ../shared the shipped sample recordings are used. Writes benchmarks/results/scale.json and scale.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import AUDIO, RESULTS, ROOT  # noqa: E402

from callsort import AsrConfig, CallTable, RunNeeds, load_model  # noqa: E402
from callsort.config import JobConfig  # noqa: E402
from callsort.demo import sample_path  # noqa: E402
from callsort.jobs.queue import WorkQueue  # noqa: E402
from callsort.jobs.run import run_stored  # noqa: E402
from callsort.speech.audio import find_recordings, load_recording  # noqa: E402

SHARED_AUDIO = AUDIO
HOURS_PER_MONTH = 20_000


def run(table, model, config: JobConfig, asr: AsrConfig) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        needs = RunNeeds.for_calls(table, asr)  # a fresh Whisper per configuration, as a new process has
        rows = run_stored(table, model, WorkQueue(Path(folder) / "jobs.db"), needs, config)
        seconds = time.perf_counter() - started
    assert not any(r.error for r in rows), [r.error for r in rows if r.error]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "runs" / "default-model")
    parser.add_argument("--audio", type=Path, default=SHARED_AUDIO if SHARED_AUDIO.is_dir() else None)
    args = parser.parse_args()
    folder = args.audio or sample_path("sample_call_booked.mp3").parent
    recordings = [str(p) for p in find_recordings([folder])]  # the recordings only (not labels.csv, samples)
    table = CallTable([""] * len(recordings), recordings, audio=recordings)
    audio_s = sum(load_recording(p).duration_s for p in table.audio)
    model = load_model(args.model)
    asr = AsrConfig(use_cache=False)
    print(f"{len(table)} recordings, {audio_s / 60:.1f} min of audio, model {args.model}", flush=True)

    import ray

    configs = {
        "local engine (1 process, 2 threads)": JobConfig(),
        "ray, 1 worker x 2 threads": JobConfig(engine="ray", workers=1, threads_per_worker=2),
        "ray, 2 workers x 1 thread": JobConfig(engine="ray", workers=2, threads_per_worker=1),
    }
    results = {}
    for name, config in configs.items():
        seconds = run(table, model, config, asr)
        results[name] = {"seconds": round(seconds, 1), "files_per_min": round(len(table) / seconds * 60, 2),
                         "audio_x_real_time": round(audio_s / seconds, 1)}
        print(f"{name:40s} {seconds:6.1f} s  {results[name]['files_per_min']:5.2f} files/min  "
              f"{results[name]['audio_x_real_time']:5.1f}x real time", flush=True)
    ray.shutdown()

    best = max(r["audio_x_real_time"] for r in results.values())
    hours_per_node_month = best * 24 * 30  # audio hours one 2-core node gets through in a month, flat out
    report = {"recordings": len(table), "audio_seconds": round(audio_s, 1), "model": str(args.model),
              "results": results, "audio_hours_per_2core_node_month": round(hours_per_node_month),
              "nodes_for_20000_hours": round(HOURS_PER_MONTH / hours_per_node_month, 1)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Stored-batch throughput ({len(table)} recordings, {audio_s / 60:.1f} min of audio, 2 cores, "
             "transcript cache off)", "", "| engine | seconds | files/min | x real time |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | {r['seconds']} | {r['files_per_min']} | {r['audio_x_real_time']} |" for n, r in results.items()]
    lines += ["", f"One 2-core node at the best of these: {hours_per_node_month:,.0f} audio hours a month running "
              f"flat out; 20,000 hours a month need {report['nodes_for_20000_hours']} such nodes."]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'scale.md'}")


if __name__ == "__main__":
    main()
