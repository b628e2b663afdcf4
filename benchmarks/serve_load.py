"""Load on a real `callsort serve` on 127.0.0.1: 16 concurrent clients, text requests then a few recordings.

    .venv/bin/python benchmarks/serve_load.py [--model runs/default-model] [--requests 400] [--audio 8]

Reports throughput and p50/p95 latency per kind and the number of errors (0 expected), and writes
benchmarks/results/serve_load.json and serve_load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import RESULTS, ROOT  # noqa: F401

from callsort import read_calls
from callsort.demo import sample_path

CLIENTS = 16
CACHE = tempfile.TemporaryDirectory(prefix="callsort-serve-load-")  # a cold transcript cache


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "callsort"), "serve", "--model", str(model),
                             "--port", str(port), "--no-auth"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "CALLSORT_CACHE_DIR": CACHE.name})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def load(url: str, jobs: list[tuple[str, dict]]) -> tuple[list[float], int, float]:
    """Run the jobs with CLIENTS concurrent clients; latencies in seconds, error count, wall seconds."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies, errors = [], 0

    async def client():
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=600) as http:
            while not queue.empty():
                path, kwargs = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await http.post(path, **kwargs)
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, errors, time.perf_counter() - started


def summarise(name: str, latencies: list[float], errors: int, seconds: float) -> dict:
    ordered = sorted(latencies)
    result = {"requests": len(ordered), "errors": errors, "seconds": round(seconds, 2),
              "per_second": round(len(ordered) / seconds, 2), "p50_ms": round(statistics.median(ordered) * 1000),
              "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000)}
    print(f"{name:6s} {result['requests']} requests, {result['errors']} errors, {result['per_second']}/s, "
          f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "runs" / "default-model")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--audio", type=int, default=8)
    args = parser.parse_args()
    texts = read_calls(sample_path("sample_test.csv")).texts
    proc, url = start_server(args.model)
    try:
        text_jobs = [("/v1/classify", {"json": {"text": texts[i % len(texts)]}}) for i in range(args.requests)]
        audio = sample_path("sample_call_booked.mp3").read_bytes()
        # a distinct ID3v1 tag on each copy: different bytes, so no upload is a transcript-cache hit
        audio_jobs = [("/v1/classify", {"files": {"file": ("call.mp3", audio + b"TAG" + f"copy {i}".ljust(125).encode(),
                                                           "audio/mpeg")}}) for i in range(args.audio)]
        report = {"clients": CLIENTS, "model": str(args.model)}
        report["text"] = summarise("text", *asyncio.run(load(url, text_jobs)))
        report["audio"] = summarise("audio", *asyncio.run(load(url, audio_jobs)))
    finally:
        proc.terminate()
        proc.wait(10)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serve_load.json").write_text(json.dumps(report, indent=2))
    lines = [f"# `callsort serve` under load ({CLIENTS} concurrent clients, 127.0.0.1, 2 cores, model "
             f"{report['model']})", "", "| requests | count | errors | per second | p50 ms | p95 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for kind in ("text", "audio"):
        r = report[kind]
        lines.append(f"| {kind} | {r['requests']} | {r['errors']} | {r['per_second']} | {r['p50_ms']} | {r['p95_ms']} |")
    (RESULTS / "serve_load.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'serve_load.md'}")


if __name__ == "__main__":
    main()
