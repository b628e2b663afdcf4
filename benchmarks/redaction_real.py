"""Redaction on real calls, measured against readers' marks (issue 23): recall per kind of personal data, span
precision, the share of must-keep words kept, and what leaks, by pattern.

Six sets, marked by reading (annotations/real_pii_{tune,tune2..tune5,test}.json: row numbers, character
offsets and kinds, never the text; made by attempts/pii_offsets.py): 100 calls of the tuning part, which the
recognisers were designed and tuned on; 100 more tuning calls, 80 that say "address", 80 that say "name" or
"email" and the last 73 that ask for a number, address or name, marked later (each scored once as they
stood, then designed on); and 60 calls of the fixed test part, marked in a separate pass whose texts and leaks the recognisers' authors
never read. Only the test set's figures are quoted as what to expect.

A mention is *removed* when every word of it that carries anything lies inside a redacted stretch (a first
name removed and the surname left is a leak; fillers and common words inside a mention, "Um", "and then",
do not count). Span precision: redacted stretches that overlap a marked personal mention,
among all redacted stretches. Kept: must-keep mentions (the company's name in any spelling, other businesses,
towns) with nothing redacted.

    python redaction_real.py [--leaks FILE]   # --leaks: the tuning set's leaks and wrong removals, for reading

Writes results/redaction_real.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from common import RESULTS, real_calls

HERE = Path(__file__).resolve().parent
CALLERS = "callers' data"
TUNING_SETS = {"tune": "tuning set (designed on)",  # annotations/real_pii_NAME.json -> its row in the tables
               "tune2": "second tuning set (designed on since session 9)",
               "tune3": "third tuning set (address-rich, designed on since session 9)",
               "tune4": "fourth tuning set (names and e-mail, designed on since session 9)",
               "tune5": "fifth tuning set (the rest that asks for details, designed on since session 9)"}
PERSONAL = {"caller_name": "callers", "address": "callers", "email": "callers", "phone": "callers",
            "other_id": "callers", "staff_name": "staff"}


def marks_of(name: str) -> dict[int, list]:
    return {int(r): m for r, m in json.loads((HERE / "annotations" / f"real_pii_{name}.json").read_text())["rows"].items()}


def covered(text: str, start: int, end: int, removed: list[tuple[int, int]]) -> bool:
    from callsort.privacy.spoken import is_common

    words = [m for m in re.finditer(r"[A-Za-z0-9'’]+", text[start:end])
             if not is_common(m.group(0)) or any(c.isdigit() for c in m.group(0))]
    return all(any(a <= start + i < b for a, b in removed) for m in words for i in range(m.start(), m.end())
               if text[start + i].isalnum())


def score(texts: dict[int, str], marks: dict[int, list], redactor, leaks: list | None = None) -> dict:
    by_kind: dict[str, list[int]] = {}
    right = spans = 0
    for row, found in marks.items():
        text = texts[row]
        removed = [(s.start, s.end) for s in redactor.find(text)]
        personal = [(a, b) for a, b, k in found if k in PERSONAL]
        for a, b in removed:
            spans += 1
            right += any(a < y and x < b for x, y in personal)
            if leaks is not None and not any(a < y and x < b for x, y in personal):
                leaks.append({"row": row, "wrongly removed": text[a:b], "around": text[max(0, a - 40):b + 40]})
        for start, end, kind in found:
            ok = (not any(a < end and start < b for a, b in removed)) if kind.startswith("keep_") else \
                covered(text, start, end, removed)
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += ok
            by_kind[kind][1] += 1
            if leaks is not None and not ok and not kind.startswith("keep_"):
                leaks.append({"row": row, "leaked": kind, "text": text[start:end],
                              "around": text[max(0, start - 60):end + 60]})
            elif leaks is not None and not ok:
                leaks.append({"row": row, "must keep, removed": kind, "text": text[start:end]})
    groups = {CALLERS: [k for k, g in PERSONAL.items() if g == "callers"], "staff names": ["staff_name"],
              "must-keep kept": ["keep_company", "keep_place"]}
    summary = {g: _share(by_kind, kinds) for g, kinds in groups.items()}
    return {"calls": len(marks), **summary, "span_precision": round(right / spans, 3) if spans else None,
            "spans": spans, "by_kind": {k: {"ok": v[0], "of": v[1], "share": round(v[0] / v[1], 3)}
                                         for k, v in sorted(by_kind.items())}}


def _share(by_kind: dict, kinds: list[str]) -> dict:
    ok, of = sum(by_kind.get(k, [0, 0])[0] for k in kinds), sum(by_kind.get(k, [0, 0])[1] for k in kinds)
    return {"ok": ok, "of": of, "share": round(ok / of, 3) if of else None}


def main() -> None:
    from callsort.privacy.redact import Redactor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaks", type=Path, help="write the tuning set's leaks here (outside the repository)")
    args = parser.parse_args()
    table = real_calls()
    texts = {int(s.rsplit(":", 1)[1]): t for s, t in zip(table.sources, table.texts, strict=False)}
    from accuracy import split

    from callsort.privacy.keep import learn_keep_list

    tune, _ = split(table)
    tuning_texts = [table.texts[i] for i in tune]  # what `callsort train` learns the keep list from
    started = time.perf_counter()
    keep = learn_keep_list(tuning_texts)
    learn_seconds = time.perf_counter() - started
    redactor = Redactor(agent_names=True, keep=keep)  # --redact --redact-agent-names
    leaks: list = []
    scores = {name: score(texts, marks_of(marks), redactor, leaks) for marks, name in TUNING_SETS.items()}
    scores["test set (never read)"] = score(texts, marks_of("test"), redactor)
    result = {**scores, "keep_list": {"words": len(keep.words), "learned_from": keep.learned_from,
                                      "seconds": round(learn_seconds, 1)}}
    if args.leaks:
        args.leaks.write_text("\n".join(json.dumps(x) for x in leaks) + "\n")
    (RESULTS / "redaction_real.json").write_text(json.dumps(result, indent=2))
    lines = ["# Redaction on real calls, against readers' marks", "",
             "`--redact --redact-agent-names`; `benchmarks/redaction_real.py`. A mention counts as removed when every "
             "word of it that is not a filler or common word is redacted.", "",
             "| set | calls | callers' data removed | staff names removed | span precision | must-keep kept |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in scores.items():
        lines.append(f"| {name} | {r['calls']} | {r[CALLERS]['share']:.2f} "
                     f"({r[CALLERS]['ok']}/{r[CALLERS]['of']}) | "
                     f"{r['staff names']['share']:.2f} | {r['span_precision']:.2f} | {r['must-keep kept']['share']:.2f} |")
    lines += ["", "| set | " + " | ".join(PERSONAL) + " |", "|---|" + "---:|" * len(PERSONAL)]
    for name, r in scores.items():
        lines.append(f"| {name} | " + " | ".join(
            f"{r['by_kind'][k]['share']:.2f} ({r['by_kind'][k]['of']})" if k in r["by_kind"] else "–" for k in PERSONAL) + " |")
    (RESULTS / "redaction_real.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
