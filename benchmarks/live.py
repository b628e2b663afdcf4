"""Live intake latency (issue 34): recordings dropped into a watched folder, one at a time and as a burst of 20;
from the file being complete (written and closed) to its row in the store, and to the ring-back alert received
by a local webhook receiver when the call lands on the list; p50/p95 on this machine with tiny.en, side by
side with the time `callsort transcribe` alone takes for the same files.

The files are the shared real recordings (../shared/data/calls/audio), copied under new names (nothing is
committed). The model: tf-idf trained here on the real transcripts (seconds).

    .venv/bin/python benchmarks/live.py [--alone 8] [--burst 20]

Writes results/live.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
from common import AUDIO, CALLSORT, CORES, TRANSCRIPTS, write_results

KEY, SECRET = "benchmark-live-key-0123", "benchmark-live-secret-0123"
ALERTS: dict[int, float] = {}  # call id -> when its alert arrived
SHORT_MINUTES = 5  # the target is for calls of up to 5 minutes arriving alone


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        call = body.get("call_id", body.get("id"))
        ALERTS.setdefault(int(call), time.time())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start(cmd: list[str], url: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ})
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the service did not start")


def drop(files: list[Path], inbox: Path, tag: str) -> dict[str, float]:
    """Copy each file into the watched folder under a new name (written aside, then renamed: complete at once);
    returns name -> when it was complete."""
    done = {}
    for n, file in enumerate(files):
        name = f"{tag}-{n:03d}-{file.name}"
        shutil.copy(file, inbox / f".{name}.part")
        with open(inbox / f".{name}.part", "ab") as part:  # an ID3v1 tag naming the copy: new content, same audio
            part.write(b"TAG" + name.encode()[:30].ljust(30, b"\0") + bytes(95))
        os.rename(inbox / f".{name}.part", inbox / name)
        done[name] = time.time()
    return done


def wait_rows(client: httpx.Client, names: dict[str, float], seconds: float = 1800) -> dict[str, tuple]:
    """name -> (call id, when its row was done, the call's minutes)."""
    found: dict[str, tuple] = {}
    deadline = time.time() + seconds
    while len(found) < len(names) and time.time() < deadline:
        for row in client.get("/v1/calls").json()["results"]:
            if row["source"] in names and row["source"] not in found and row["state"] in ("done", "failed"):
                found[row["source"]] = (row["id"], time.time(), (row["duration_s"] or 0) / 60)
        time.sleep(0.1)
    return found


def seconds(values: list[float]) -> dict:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2),
            "n": len(values)} if values else {"n": 0}


def one_run(client: httpx.Client, files: list[Path], inbox: Path, tag: str, alone: bool) -> dict:
    rows, alerts, complete = {}, [], {}
    groups = [[f] for f in files] if alone else [files]
    for group in groups:
        when = drop(group, inbox, tag + str(len(complete)))
        complete.update(when)
        rows.update(wait_rows(client, when))
    time.sleep(3)  # alerts go out right after the row
    short = [name for name in rows if rows[name][2] <= SHORT_MINUTES]
    to_row = [rows[name][1] - complete[name] for name in rows]
    alerts = [ALERTS[rows[name][0]] - complete[name] for name in rows if rows[name][0] in ALERTS]
    short_alerts = [ALERTS[rows[name][0]] - complete[name] for name in short if rows[name][0] in ALERTS]
    drained = max(t for _, t, _ in rows.values()) - min(complete.values())
    return {"files": len(files), "to_row_s": seconds(to_row), "to_alert_s": seconds(alerts),
            "short_to_row_s": seconds([rows[name][1] - complete[name] for name in short]),
            "short_to_alert_s": seconds(short_alerts), "drained_s": round(drained, 1),
            "per_file": [{"file": name, "minutes": round(rows[name][2], 2), "to_row_s": round(rows[name][1] - complete[name], 2),
                          "to_alert_s": round(ALERTS[rows[name][0]] - complete[name], 2) if rows[name][0] in ALERTS else None}
                         for name in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alone", type=int, default=12, help="files dropped one at a time")
    parser.add_argument("--burst", type=int, default=20, help="files dropped at once")
    args = parser.parse_args()
    recordings = sorted(AUDIO.glob("*.mp3"))
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="callsort-live-") as tmp:
        tmp, port = Path(tmp), 8741
        subprocess.run([CALLSORT, "train", TRANSCRIPTS, "--text-column", "Text", "--label-column", "Tag", "--out",
                        tmp / "model", "--quiet"], check=True)
        started = time.time()
        subprocess.run([CALLSORT, "transcribe", *recordings, "--out", tmp / "t.jsonl", "--quiet", "--no-cache"], check=True)
        transcribe_s = time.time() - started
        inbox = tmp / "inbox"
        inbox.mkdir()
        url = f"http://127.0.0.1:{port}"
        proc = start([CALLSORT, "serve", "--model", tmp / "model", "--store", tmp / "jobs.db", "--api-key", KEY,
                      "--watch", inbox, "--no-cache", "--port", port,
                      "--notify-url", f"http://127.0.0.1:{receiver.server_port}/hook", "--notify-secret", SECRET], url)
        try:
            client = httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60)
            alone = one_run(client, [recordings[i % len(recordings)] for i in range(args.alone)], inbox, "alone", True)
            burst = one_run(client, [recordings[i % len(recordings)] for i in range(args.burst)], inbox, "burst", False)
        finally:
            proc.terminate()
            proc.wait(30)
    per_file = transcribe_s / len(recordings)
    report = {"cores": CORES, "recordings": [r.name for r in recordings], "transcribe_alone_s_per_file": round(per_file, 2),
              "alone": alone, "burst": {**burst, "batch_throughput_s": round(per_file * args.burst, 1)}}
    minutes = sorted({f["minutes"] for f in alone["per_file"]})
    lines = ["# Live intake latency", "",
             f"{CORES} cores, tiny.en, the {len(recordings)} shared real recordings ({minutes[0]:.1f}–{minutes[-1]:.1f} min) "
             "copied under new names into a watched folder (load average at the end: "
             f"{os.getloadavg()[0]:.1f}).", "",
             "| | files | to the row p50 / p95 (s) | to the alert p50 / p95 (s) | calls ≤ 5 min: to the row, to the alert p50 / p95 (s) | drained (s) |",
             "|---|---|---|---|---|---|",
             *[f"| {name} | {r['files']} | {r['to_row_s'].get('p50')} / {r['to_row_s'].get('p95')} | "
               f"{r['to_alert_s'].get('p50')} / {r['to_alert_s'].get('p95')} ({r['to_alert_s']['n']} alerts) | "
               f"{r['short_to_row_s'].get('p50')} / {r['short_to_row_s'].get('p95')}, {r['short_to_alert_s'].get('p50')} / "
               f"{r['short_to_alert_s'].get('p95')} ({r['short_to_alert_s']['n']} alerts) | "
               f"{r['drained_s']} |" for name, r in (("one at a time", alone), ("burst", burst))], "",
             f"`callsort transcribe` alone, same files: {per_file:.1f} s a file on average; the burst at that "
             f"throughput: {per_file * args.burst:.0f} s."]
    write_results("live", report, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
