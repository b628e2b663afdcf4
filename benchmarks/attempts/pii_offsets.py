"""Turn readers' annotations of personal data in the real calls (exact strings, by kind) into what may be
committed: row numbers of transcripts.csv, character offsets and kinds, never the text (issue 23).

The readers (2026-11-30) read 100 calls of the tuning part and, in a separate pass whose findings the
redactor's authors never read, 60 calls of the fixed test part; each listed every mention as the exact string
and its kind. Every word-bounded occurrence of a listed string in its call is a mention; overlapping personal
spans keep the longest, and a must-keep span inside a personal one is dropped.

    python attempts/pii_offsets.py OUT.json ANNOTATIONS.jsonl... 
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import callsort

TRANSCRIPTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "calls" / "transcripts.csv"


def real_calls():
    """The real labelled transcripts as a CallTable (a copy of benchmarks/common.py's, public API only)."""
    if not TRANSCRIPTS.is_file():
        sys.exit(f"{TRANSCRIPTS}: not found; this attempt needs the real calls in ../shared/data/calls")
    return callsort.read_calls(TRANSCRIPTS, text_column="Text", label_column="Tag")


def spans(text: str, found: list[dict]) -> list[list]:
    marks = []
    for item in found:
        pattern = (r"(?<!\w)" if item["text"][:1].isalnum() else "") + re.escape(item["text"]) + \
                  (r"(?!\w)" if item["text"][-1:].isalnum() else "")
        marks += [[m.start(), m.end(), item["kind"]] for m in re.finditer(pattern, text)]
    marks.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    personal, keep = [], []
    for start, end, kind in marks:
        target = keep if kind.startswith("keep_") else personal
        if any(a <= start and end <= b for a, b, _ in target):
            continue  # inside a longer span of the same family
        target.append([start, end, kind])
    keep = [k for k in keep if not any(a < k[1] and k[0] < b for a, b, _ in personal)]
    return sorted(personal + keep)


def main() -> None:
    out, sources = Path(sys.argv[1]), sys.argv[2:]
    table = real_calls()
    texts = {int(s.rsplit(":", 1)[1]): t for s, t in zip(table.sources, table.texts, strict=False)}
    by_row: dict[int, list[dict]] = {}
    rows: set[int] = set()
    for source in sources:
        calls = Path(source).with_name(Path(source).name.replace("out_", "calls_"))
        rows |= {json.loads(line)["row"] for line in calls.read_text().splitlines() if line.strip()}
        for line in Path(source).read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                by_row.setdefault(item["row"], []).append(item)
    result = {"what": "personal data and must-keep words in real calls, marked by reading: [start, end, kind] "
                      "character offsets into the Text of each 1-based row of transcripts.csv",
              "rows": {str(r): spans(texts[r], by_row.get(r, [])) for r in sorted(rows)}}
    lines = [f"  {json.dumps(r)}: {json.dumps(m)}" for r, m in result["rows"].items()]  # one call a line
    out.write_text(f'{{"what": {json.dumps(result["what"])},\n "rows": {{\n' + ",\n".join(lines) + "\n}}\n")
    counts: dict[str, int] = {}
    for marks in result["rows"].values():
        for _, _, kind in marks:
            counts[kind] = counts.get(kind, 0) + 1
    print(f"{out}: {len(result['rows'])} calls, mentions by kind: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
