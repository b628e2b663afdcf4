"""Speech-recognition speed and end-to-end accuracy on the real recordings in ../shared/data/calls/audio.

Three parts, all in one run so that the figures compare side by side:
  1. in-process variants on the same decoded audio (model loaded, no cache): faster-whisper's defaults, the
     tuned sequential settings, the batched pipeline per channel, and callsort's packed clips with and
     without the decode/VAD prefetch, with and without timestamps, channels mixed and split;
  2. the whole `callsort transcribe` command (cold cache, then warm), tiny.en and base, wall time and peak RSS;
  3. `callsort predict` on the folder with a text model trained on transcripts.csv: how many recordings it
     gets right with each speech model, time and peak RSS.

    .venv/bin/python benchmarks/asr_speed.py [--model runs/default-model] [--repeats 3]

Without --model, the default text model is trained on transcripts.csv first (about 14 minutes) into runs/.
Writes benchmarks/results/asr_speed.json and asr_speed.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import CALLSORT, CORES, RESULTS, ROOT, SHARED, run_measured  # noqa: E402

from callsort.config import AsrConfig  # noqa: E402
from callsort.data import normalise_label  # noqa: E402
from callsort.registry import resolve_asr_model  # noqa: E402
from callsort.speech.audio import load_recording  # noqa: E402
from callsort.speech.recognise import Recogniser  # noqa: E402

THREADS = CORES


# --- part 1: variants in-process ------------------------------------------------------------------------

def faster_whisper_variants(files: list[Path]) -> dict:
    """Baselines written directly against faster-whisper, on audio decoded beforehand (decode not timed)."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(str(resolve_asr_model("tiny.en")), device="cpu", compute_type="int8", cpu_threads=THREADS)
    batched = BatchedInferencePipeline(model)
    recordings = [load_recording(f) for f in files]

    def sequential(channels: str, **options):
        def run():
            words = 0
            for rec in recordings:
                for audio in (rec.channels if channels == "split" else [rec.mixed()]):
                    segments, _ = model.transcribe(audio, language="en", **options)
                    words += sum(len(s.text.split()) for s in segments)
            return words
        return run

    def per_channel_batched():
        words = 0
        for rec in recordings:
            for audio in rec.channels:
                segments, _ = batched.transcribe(audio, language="en", beam_size=1, batch_size=8,
                                                 without_timestamps=False,
                                                 vad_parameters={"min_silence_duration_ms": 300, "speech_pad_ms": 200})
                words += sum(len(s.text.split()) for s in segments)
        return words

    return {
        "faster-whisper defaults (beam 5, no VAD), mixed": sequential("mix"),
        "sequential beam 1, VAD, no timestamps, mixed": sequential(
            "mix", beam_size=1, vad_filter=True, without_timestamps=True, condition_on_previous_text=False),
        "sequential beam 1, VAD, no timestamps, split": sequential(
            "split", beam_size=1, vad_filter=True, without_timestamps=True, condition_on_previous_text=False),
        "batched pipeline per channel (its own VAD), timestamps, split": per_channel_batched,
    }


def callsort_variants(files: list[Path]) -> dict:
    def run(prefetch: bool, **settings):
        recogniser = Recogniser(AsrConfig(**settings))  # recognition alone: no cache, no redaction
        recogniser.load()  # model load is timed in part 2, not here

        def go():
            results = recogniser.transcribe_many(files) if prefetch else map(recogniser.transcribe, files)
            return sum(len(t.text.split()) for t in results)
        return go

    return {
        "callsort packed clips, no prefetch, split": run(False, channels="split"),
        "callsort packed clips + prefetch, split, 1 worker x all threads, batch 8": run(
            True, channels="split", workers=1, batch_size=8),
        "callsort packed clips + prefetch, split (default)": run(True, channels="split"),
        "callsort packed clips + prefetch, mixed": run(True, channels="mix"),
        "callsort packed clips + prefetch, split, beam 5": run(True, channels="split", beam_size=5),
    }


def time_variants(variants: dict, audio_seconds: float, repeats: int, once: set[str]) -> dict:
    results = {}
    for name, fn in variants.items():
        times, words = [], 0
        for _ in range(1 if name in once else repeats):
            started = time.perf_counter()
            words = fn()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        results[name] = {"seconds": [round(t, 2) for t in times], "median_s": round(median, 2),
                         "x_real_time": round(audio_seconds / median, 1), "words": words}
        print(f"{name:66s} {median:6.1f} s  {audio_seconds / median:5.1f}x  {words} words", flush=True)
    return results


# --- parts 2 and 3: whole commands ----------------------------------------------------------------------

def command_runs(audio_dir: Path, asr_model: str, repeats: int, audio_seconds: float) -> dict:
    runs, rss = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
            env = {**os.environ, "CALLSORT_CACHE_DIR": cache}
            if asr_model == "base":  # the one-off join into the cache is not part of transcription speed
                subprocess.run([sys.executable, "-c", "from callsort.registry import resolve_asr_model as r; r('base')"],
                               env=env, check=True)
            cmd = [str(CALLSORT), "transcribe", str(audio_dir), "--asr-model", asr_model, "--channels", "split", "--out",
                   f"{out}/t.jsonl", "--quiet"]
            seconds, peak, proc = run_measured(cmd, env)
            assert proc.returncode == 0, proc.stderr
            warm, _, _ = run_measured(cmd, env)
            runs.append((seconds, warm))
            rss.append(peak)
    cold = statistics.median(r[0] for r in runs)
    warm = statistics.median(r[1] for r in runs)
    result = {"cold_s": [round(r[0], 2) for r in runs], "median_cold_s": round(cold, 2),
              "x_real_time": round(audio_seconds / cold, 1), "median_warm_s": round(warm, 2),
              "peak_rss_mb": round(max(rss) / 2**20)}
    print(f"callsort transcribe ({asr_model}, whole command, cold cache): {cold:.1f} s = "
          f"{audio_seconds / cold:.1f}x real time; warm cache {warm:.1f} s; peak RSS {result['peak_rss_mb']} MB",
          flush=True)
    return result


def end_to_end(audio_dir: Path, model_dir: Path, asr_model: str) -> dict:
    truth = {row["file"]: normalise_label(row["label"]) for row in csv.DictReader(open(audio_dir / "labels.csv"))}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "CALLSORT_CACHE_DIR": cache}
        resolve_asr_model(asr_model)
        cmd = [str(CALLSORT), "predict", str(audio_dir), "--model", str(model_dir), "--asr-model", asr_model,
               "--out", f"{out}/p.csv", "--quiet"]
        seconds, peak, proc = run_measured(cmd, env)
        assert proc.returncode == 0, proc.stderr
        rows = list(csv.DictReader(open(f"{out}/p.csv")))
    calls = [{"file": Path(r["source"]).name, "true": truth.get(Path(r["source"]).name), "predicted": r["label"],
              "confidence": float(r["confidence"]), "words": len(r["transcript"].split())} for r in rows]
    right = sum(c["true"] == c["predicted"] for c in calls)
    print(f"callsort predict ({asr_model}): {right}/{len(calls)} right, {seconds:.1f} s, "
          f"peak RSS {peak / 2**20:.0f} MB", flush=True)
    for c in calls:
        print(f"   {c['file']:38s} true {c['true']!s:38s} predicted {c['predicted']} ({c['confidence']:.2f})")
    return {"right": right, "calls": calls, "seconds": round(seconds, 1), "peak_rss_mb": round(peak / 2**20)}


def default_text_model(path: Path) -> Path:
    if not (path / "callsort.json").is_file():
        print(f"training the default text model on transcripts.csv into {path} (about 14 minutes)", flush=True)
        subprocess.run([str(CALLSORT), "train", str(SHARED / "transcripts.csv"), "--text-column", "Text",
                        "--label-column", "Tag", "--out", str(path), "--quiet"], check=True)
    return path


def write_markdown(report: dict) -> None:
    a = report["audio"]
    lines = [f"# Speech recognition speed and end-to-end accuracy ({a['files']} real recordings, "
             f"{a['seconds'] / 60:.1f} min of 8 kHz stereo audio, {THREADS} cores)", "",
             f"In-process, model loaded, no cache; median of the runs; words = words recognised in all files "
             f"(run of {report.get('variants_run', 'this run')}).", "",
             "| variant | median s | x real time | words |", "|---|---:|---:|---:|"]
    for name, r in report["variants"].items():
        lines.append(f"| {name} | {r['median_s']} | {r['x_real_time']} | {r['words']} |")
    lines += ["", f"Whole `callsort transcribe --channels split` command on the folder (start-up, model load, decoding "
              f"included; run of {report.get('run', 'this run')}):", "",
              "| speech model | cold cache s | x real time | warm cache s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for name, r in report["command"].items():
        lines.append(f"| {name} | {r['median_cold_s']} | {r['x_real_time']} | {r['median_warm_s']} | {r['peak_rss_mb']} |")
    if report.get("end_to_end"):
        lines += ["", f"`callsort predict` on the folder, text model: {report['text_model']}", "",
                  "| speech model | right | seconds | peak RSS MB |", "|---|---:|---:|---:|"]
        for name, r in report["end_to_end"].items():
            lines.append(f"| {name} | {r['right']}/{len(r['calls'])} | {r['seconds']} | {r['peak_rss_mb']} |")
        lines += ["", "| file | true | " + " | ".join(report["end_to_end"]) + " |",
                  "|---|---|" + "---|" * len(report["end_to_end"])]
        first = next(iter(report["end_to_end"].values()))["calls"]
        for i, call in enumerate(first):
            cells = [f"{r['calls'][i]['predicted']} ({r['calls'][i]['confidence']:.2f})"
                     for r in report["end_to_end"].values()]
            lines.append(f"| {call['file']} | {call['true']} | " + " | ".join(cells) + " |")
    (RESULTS / "asr_speed.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=SHARED / "audio")
    parser.add_argument("--model", type=Path, default=ROOT / "runs" / "default-model",
                        help="Text model for the end-to-end part (trained here when missing).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--skip-variants", action="store_true",
                        help="Keep the in-process variant table of the previous run (it takes ~15 minutes).")
    args = parser.parse_args()
    files = sorted(p for p in args.audio.iterdir() if p.suffix == ".mp3")
    seconds = sum(load_recording(f).duration_s for f in files)
    report = {"audio": {"files": len(files), "seconds": round(seconds, 1)}, "threads": THREADS}
    print(f"{len(files)} recordings, {seconds:.0f} s of audio", flush=True)
    RESULTS.mkdir(exist_ok=True)

    if args.skip_variants:
        previous = json.loads((RESULTS / "asr_speed.json").read_text())
        report["variants"] = previous["variants"]
        report["variants_run"] = previous.get("variants_run", previous.get("run", "an earlier run"))
    else:
        variants = {**faster_whisper_variants(files), **callsort_variants(files)}
        slow = {"faster-whisper defaults (beam 5, no VAD), mixed", "callsort packed clips + prefetch, split, beam 5"}
        report["variants"] = time_variants(variants, seconds, args.repeats, once=slow)
        report["variants_run"] = time.strftime("%Y-%m-%d")
    report["run"] = time.strftime("%Y-%m-%d")
    report["command"] = {m: command_runs(args.audio, m, args.repeats, seconds) for m in ("tiny.en", "base")}
    if not args.skip_end_to_end:
        model = default_text_model(args.model)
        report["text_model"] = str(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model)
        report["end_to_end"] = {m: end_to_end(args.audio, model, m) for m in ("tiny.en", "base")}
    (RESULTS / "asr_speed.json").write_text(json.dumps(report, indent=2))
    write_markdown(report)
    print(f"wrote {RESULTS / 'asr_speed.md'}")


if __name__ == "__main__":
    main()
