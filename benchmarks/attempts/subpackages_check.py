"""Issue 19 (sub-packages, RunNeeds): the code before the move and after it, side by side, give the same rows.

Run once on 2026-11-30; figures in results/refactor_check.md. How it was run:

    git worktree add /tmp/old 91180f2                       # the code before the move
    PYTHONPATH=/tmp/old/src python subpackages_check.py train MODELS     # models saved by the old code
    PYTHONPATH=/tmp/old/src python subpackages_check.py score MODELS OUT/old
    python subpackages_check.py score MODELS OUT/new
    python subpackages_check.py compare OUT/old OUT/new

`score` classifies, with each saved model: the shipped test transcripts, the real transcripts (../shared), the
shipped and the real recordings plus an empty file (transcript cache off: real recognition), each with
redaction off and on. Works with either API (Transcriber before, RunNeeds after).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import callsort
from callsort import AsrConfig, TrainConfig, classify_calls, read_calls, train

SAMPLES = Path(callsort.__file__).parent / "samples"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "calls"


def train_models(out: Path) -> None:
    table = read_calls(SAMPLES / "sample_calls.csv", reason_column="reason")
    train(table, TrainConfig(model="tfidf"), progress=False).model.save(out / "tfidf")
    tiny = TrainConfig(max_length=48, stride=8, epochs=2, batch_size=16, learning_rate=3e-4, threads=2)
    train(table, tiny, progress=False).model.save(out / "blend")
    real = read_calls(SHARED / "transcripts.csv", "Text", "Tag")
    train(real, TrainConfig(model="tfidf"), progress=False).model.save(out / "tfidf_real")


def inputs() -> dict:
    folder = Path(tempfile.mkdtemp(prefix="check-audio-"))
    for f in [*SAMPLES.glob("*.mp3"), *(SHARED / "audio").glob("*.mp3")]:
        shutil.copy(f, folder / f.name)
    (folder / "empty.mp3").write_bytes(b"")
    return {"shipped_texts": read_calls(SAMPLES / "sample_test.csv", label_column=None, drop_empty=False),
            "real_texts": read_calls(SHARED / "transcripts.csv", "Text", None, drop_empty=False),
            "recordings": read_calls(folder, label_column=None, drop_empty=False)}


def helper(calls, asr: AsrConfig):
    if hasattr(callsort, "RunNeeds"):  # after the move
        return callsort.RunNeeds.for_calls(calls, asr)
    return callsort.Transcriber(asr) if calls.audio or asr.redact else None


def score(models: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plan = [("tfidf", "shipped_texts"), ("blend", "shipped_texts"), ("tfidf_real", "real_texts"),
            ("tfidf_real", "recordings")]
    calls = inputs()
    for model, name in plan:
        for redact in (False, True):
            table = calls[name]
            rows = classify_calls(table, models / model, helper(table, AsrConfig(use_cache=False, redact=redact)))
            with open(out / f"{model}-{name}-redact{int(redact)}.jsonl", "w") as f:
                for row in rows:
                    f.write(json.dumps({**row.to_dict(), "source": Path(row.source.split(":")[0]).name
                                        + (":" + row.source.split(":")[1] if ":" in row.source else "")}) + "\n")


def compare(old: Path, new: Path) -> None:
    print("| run | calls | same rows (every field) | max abs. probability difference |\n|---|---:|---:|---:|")
    for file in sorted(old.glob("*.jsonl")):
        a = [json.loads(x) for x in file.read_text().splitlines()]
        b = [json.loads(x) for x in (new / file.name).read_text().splitlines()]
        diff = max([abs(p - y["probabilities"].get(k, 0)) for x, y in zip(a, b, strict=False) for k, p in x["probabilities"].items()]
                   or [0.0])
        print(f"| {file.stem} | {len(a)} | {sum(x == y for x, y in zip(a, b, strict=False))} / {len(a)} | {diff:g} |")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"train": lambda: train_models(Path(args[0])), "score": lambda: score(Path(args[0]), Path(args[1])),
     "compare": lambda: compare(Path(args[0]), Path(args[1]))}[command]()
