"""Peak memory of transcribing a 3-hour recording: windowed (the default) vs the whole file at once (issue 32).

The recording is built here, never committed: 3 h of stereo FLAC, silent but for the two shipped sample calls
taking turns every 5 minutes (36 calls, ~15 min of speech; every other call runs across a 10-minute window
boundary). Each path runs in its own process with tiny.en (the default speech model): memory "above idle" is
the peak RSS while transcribing minus the RSS once callsort is imported and Whisper loaded, before the file.
`callsort transcribe` itself is measured too: its peak on the 3-h file minus its peak on 10 s of it.

    .venv/bin/python benchmarks/long_audio.py [--hours 3] [--before d1cdab5]   # also the code before windows

Writes benchmarks/results/long_audio.json and .md.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from common import CALLSORT, CORES, ROOT, run_measured, write_results

from callsort.demo import sample_path

GAP_S = 300  # a call every 5 minutes
CALLS = ("sample_call_booked.mp3", "sample_call_voicemail.mp3")  # taking turns
TARGET_MB = 300  # issue 32: peak above idle on a 3-h file


def build(path: Path, hours: float) -> dict:
    """The long recording, written in one-minute blocks (so building it holds no more than that)."""
    import av

    from callsort.speech.audio import SAMPLE_RATE, load_recording

    calls = [load_recording(sample_path(name)).channels for name in CALLS]
    total, block = int(hours * 3600 * SAMPLE_RATE), 60 * SAMPLE_RATE
    starts = [s * SAMPLE_RATE - 10 * SAMPLE_RATE for s in range(GAP_S, int(hours * 3600), GAP_S)]  # 290 s, 590 s, …
    speech = 0
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=SAMPLE_RATE, layout="stereo")
        for begin in range(0, total, block):
            audio = np.zeros((2, min(block, total - begin)), np.float32)
            for i, start in enumerate(starts):
                call = calls[i % 2]
                a, b = max(start, begin), min(start + len(call[0]), begin + audio.shape[1])
                if a < b:
                    audio[:, a - begin:b - begin] = np.stack(call)[:, a - start:b - start]
                    speech += b - a
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1).copy()
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="stereo")
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return {"hours": hours, "calls": len(starts), "speech_min": round(speech / SAMPLE_RATE / 60, 1),
            "file_mb": round(path.stat().st_size / 2**20, 1)}


def driver(path: str, window: str) -> None:
    """In its own process: load Whisper, take the idle RSS, transcribe with RSS sampled every 20 ms; JSON out."""
    from callsort.config import AsrConfig
    from callsort.speech.recognise import Recogniser

    config = AsrConfig(use_cache=False, max_audio_minutes=0)
    recogniser = Recogniser(config) if window == "before" else \
        Recogniser(config, window_s=None if window == "whole" else float(window))
    recogniser.load()
    me = psutil.Process()
    idle = peak = me.memory_info().rss
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, me.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    transcript = recogniser.transcribe(path)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    print(json.dumps({"idle_mb": round(idle / 2**20), "peak_mb": round(peak / 2**20),
                      "above_idle_mb": round((peak - idle) / 2**20), "wall_s": round(seconds, 1),
                      "duration_s": transcript.duration_s, "error": transcript.error, "text": transcript.text}))


@functools.cache
def script_of(name: str) -> list[tuple[str, str]]:
    """What is said in a shipped sample call: (side, words) in order (scripts/make_sample_audio.py)."""
    spec = importlib.util.spec_from_file_location("make_sample_audio", ROOT / "scripts" / "make_sample_audio.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CALLS[name]


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_error(truth: list[str], heard: list[str]) -> float:
    row = list(range(len(heard) + 1))
    for i, said in enumerate(truth, 1):
        diagonal, row[0] = row[0], i
        for j, word in enumerate(heard, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (said != word))
    return row[-1] / max(len(truth), 1)


def run_driver(path: Path, window: str, src: Path | None = None) -> dict:
    """The driver in a fresh process; `src`: callsort's source folder to import instead (an older commit's)."""
    env = {**os.environ, "PYTHONPATH": str(src)} if src else None
    proc = subprocess.run([sys.executable, __file__, "--driver", str(path), window], capture_output=True, text=True,
                          env=env)
    if proc.returncode:
        sys.exit(f"driver failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cli_peaks(long: Path, short: Path, tmp: str) -> dict:
    """`callsort transcribe`'s peak RSS on the long file and on its first 10 s (Whisper loaded, little to hear)."""
    peaks = {}
    for name, path in (("10 s", short), ("long", long)):
        cmd = [CALLSORT, "transcribe", path, "--out", f"{tmp}/{name}.jsonl", "--no-cache", "--max-audio-minutes", "0",
               "--quiet"]
        seconds, peak, proc = run_measured(cmd)
        assert proc.returncode == 0, proc.stderr
        peaks[name] = {"peak_mb": round(peak / 2**20), "wall_s": round(seconds, 1)}
    peaks["above_10s_mb"] = peaks["long"]["peak_mb"] - peaks["10 s"]["peak_mb"]
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--before", metavar="COMMIT", help="also run callsort as of this commit (e.g. d1cdab5, "
                                                           "the last before windows) on the same file")
    args = parser.parse_args()
    from callsort.speech.audio import WINDOW_S, load_recording, write_wav

    report = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "asr_model": "tiny.en", "window_s": WINDOW_S}
    with tempfile.TemporaryDirectory() as tmp:
        long = Path(tmp) / "long.flac"
        report["recording"] = build(long, args.hours)
        head = load_recording(sample_path("sample_call_booked.mp3"))
        short = write_wav(Path(tmp) / "short.wav", np.stack([c[:10 * 16000] for c in head.channels]))
        runs = {"windowed": run_driver(long, str(WINDOW_S)), "whole file": run_driver(long, "whole")}
        if args.before:
            subprocess.run(f"git -C {ROOT} archive {args.before} src | tar -x -C {tmp}", shell=True, check=True)
            runs[f"commit {args.before}"] = run_driver(long, "before", Path(tmp) / "src")
        report["cli"] = cli_peaks(long, short, tmp)
    truth = words(" ".join(said for i in range(report["recording"]["calls"]) for _, said in script_of(CALLS[i % 2])))
    for r in runs.values():
        heard = words(r.pop("text"))
        r["words"], r["word_error"] = len(heard), round(word_error(truth, heard), 3)
    report["runs"], report["script_words"] = runs, len(truth)
    write_results("long_audio", report, markdown(report))
    print("\n".join(markdown(report)))


def markdown(report: dict) -> list[str]:
    rec, cli = report["recording"], report["cli"]
    lines = [f"# Transcribing a {rec['hours']:g}-hour recording: peak memory ({report['date']}, {report['cores']} "
             f"cores, {report['asr_model']})", "",
             f"The file: {rec['file_mb']} MB of stereo FLAC, {rec['hours']:g} h, silent but for {rec['calls']} shipped "
             f"sample calls ({rec['speech_min']} min of audio with speech), one every {GAP_S // 60} minutes.", "",
             "| path | peak RSS above idle MB | idle MB | wall s | words | word error |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in report["runs"].items():
        label = {"windowed": f"windowed ({report['window_s']} s windows, the default)",
                 "whole file": "whole file at once (`window_s=None`)"}.get(name, f"before windows ({name})")
        lines.append(f"| {label} | {r['above_idle_mb']} | {r['idle_mb']} | {r['wall_s']} | {r['words']} | "
                     f"{r['word_error']} |")
    lines += ["", f"Target: < {TARGET_MB} MB above idle. Idle: callsort imported and Whisper loaded, before the file. "
              f"Word error: edits per word of what the calls say ({report['script_words']} words, the script they "
              "were synthesised from; tiny.en hears espeak's voices imperfectly either way).", "",
              f"`callsort transcribe` (default settings, `--max-audio-minutes 0`): peak RSS {cli['long']['peak_mb']} MB "
              f"on the long file ({cli['long']['wall_s']} s) vs {cli['10 s']['peak_mb']} MB on 10 s of a call: "
              f"{cli['above_10s_mb']} MB more."]
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        driver(*sys.argv[2:4])
    else:
        main()
