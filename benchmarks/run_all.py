"""The maintained benchmarks, in one list: what `make bench` runs and what benchmarks/README.md's table names.

    .venv/bin/python benchmarks/run_all.py                      # every one, in order; stops at the first failure
    .venv/bin/python benchmarks/run_all.py reasons.py callbacks.py   # only these, in the list's order
    .venv/bin/python benchmarks/run_all.py --list               # the scripts, one a line

A new benchmark script goes into RUNS and into the README's table (tests/test_benchmarks_list.py checks both);
a finished experiment goes to attempts/ with an entry in attempts/README.md instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments), in the order they run. asr_speed.py trains runs/default-model when it is missing;
# scale.py and serve_load.py use that model, so they come after it.
RUNS: list[tuple[str, list[str]]] = [
    ("accuracy.py", ["run", "tfidf", "tfidf_char3", "encoder", "encoder_ht256"]),
    ("accuracy.py", ["report"]),
    ("asr_speed.py", []),
    ("predict_memory.py", []),
    ("long_audio.py", []),
    ("review_loop.py", []),
    ("reasons.py", []),
    ("redaction.py", []),
    ("redaction_real.py", []),
    ("report_page.py", []),
    ("report_estimates.py", []),
    ("plain_path.py", []),
    ("callbacks.py", []),
    ("first_words.py", []),
    ("questions.py", []),
    ("customers.py", []),
    ("label_issues.py", []),
    ("scale.py", []),
    ("serve_load.py", []),
    ("learning_in_place.py", []),
    ("live.py", []),
    ("topics_starter.py", []),
    ("search.py", []),
]
MAINTAINED = list(dict.fromkeys(script for script, _ in RUNS))
HELPERS = ("common.py", "run_all.py")  # top-level modules that are not benchmarks


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        print("\n".join(MAINTAINED))
        return 0
    unknown = sorted(set(argv) - set(MAINTAINED))
    if unknown:
        print(f"not a maintained benchmark: {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    for script, args in RUNS:
        if argv and script not in argv:
            continue
        print(f"== {script} {' '.join(args)}".rstrip(), flush=True)
        code = subprocess.run([sys.executable, script, *args], cwd=HERE).returncode
        if code:
            print(f"{script} failed (exit {code}); the rest did not run", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
