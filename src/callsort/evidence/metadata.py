"""Facts a phone system knows about each call (when, which agent, which marketing source, who called), joined
onto result rows by the recording's file name: from an exported table (`--meta calls.csv`) or parsed from
the file names (`--meta-pattern "{date}_{time}_{agent}.mp3"`).

Missing or unparsable metadata is a warning for that file, never a failed call. The keys the report reads:
`datetime` (or `date` and `time`), `agent`, `source` (marketing source or tracking number), `caller`.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

from ..data import read_table_frame
from ..errors import InputError

log = logging.getLogger(__name__)

FILE_COLUMNS = ("file", "filename", "file_name", "recording", "source")


def read_meta(path: str | Path) -> dict[str, dict]:
    """A metadata table -> {file name: {column: value}}; the file column is one of FILE_COLUMNS."""
    if not Path(path).is_file():
        raise InputError(f"{path}: no such metadata file")
    frame = read_table_frame(Path(path))
    columns = {str(c).strip().lower(): c for c in frame.columns}
    key = next((columns[c] for c in FILE_COLUMNS if c in columns), None)
    if key is None:
        raise InputError(f"{path}: no file column ({', '.join(FILE_COLUMNS)}) to join the calls on")
    rows = {}
    for record in frame.to_dict("records"):
        name = Path(str(record.pop(key)).strip()).name
        rows[name] = {str(k).strip().lower(): str(v).strip() for k, v in record.items() if str(v).strip()}
    return rows


def pattern_regex(pattern: str) -> re.Pattern:
    """"{date}_{time}_{agent}.mp3" -> a regex with one named group per field (a field stops at the next
    literal character of the pattern)."""
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(regex + "$")


def meta_for(source: str, table: dict[str, dict] | None, pattern: re.Pattern | None) -> dict:
    """What is known of one recording: the table's row for its file name, then what its name's pattern says."""
    name = Path(source).name
    found = dict(table.get(name, {})) if table else {}
    if table is not None and name not in table:
        log.warning("%s: not in the metadata table", name)
    if pattern is not None:
        match = pattern.match(name)
        if match:
            found.update({k: v for k, v in match.groupdict().items() if k not in found})
        else:
            log.warning("%s: file name does not match the metadata pattern", name)
    return found


def joiner(meta: str | Path | None = None, pattern: str | None = None):
    """source -> what is known of it, from a metadata table and/or a file-name pattern; None without either."""
    if meta is None and pattern is None:
        return None
    table = read_meta(meta) if meta else None
    regex = pattern_regex(pattern) if pattern else None
    return lambda source: meta_for(source, table, regex)


def attach_meta(rows: list, meta: str | Path | None = None, pattern: str | None = None) -> list:
    """Set each ResultRow's `meta` from a metadata table and/or a file-name pattern; returns the rows."""
    join = joiner(meta, pattern)
    for row in rows if join else []:
        row.meta = join(row.source)
    return rows


SIDECAR_KEYS = ("caller", "called_at", "agent", "answered", "disposition", "external_id")


def sidecar_facts(source: str) -> dict:
    """The phone system's facts in a sidecar `NAME.json` beside a call's file (keys SIDECAR_KEYS; `called_at`
    ISO 8601, kept as the report's `datetime`), or {}; a sidecar that cannot be read is a warning."""
    import json

    path = Path(source).with_suffix(".json")
    if not path.is_file() or Path(source).suffix.lower() == ".json":
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s: sidecar not read (%s)", path.name, exc)
        return {}
    facts = {k: str(data[k]).strip() for k in SIDECAR_KEYS if isinstance(data, dict) and data.get(k) not in (None, "")}
    if "called_at" in facts:
        try:
            facts["datetime"] = datetime.fromisoformat(facts["called_at"].replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            log.warning("%s: called_at %r is not ISO 8601", path.name, facts["called_at"])
    return facts


def call_datetime(meta: dict) -> datetime | None:
    """When the call was made, from `datetime`, or `date` and `time` (ISO-like or compact forms), else None."""
    text = meta.get("datetime") or " ".join(filter(None, (meta.get("date"), meta.get("time"))))
    if not text:
        return None
    digits = re.sub(r"[^0-9]", "", text)
    for fmt, size in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        if len(digits) == size:
            try:
                return datetime.strptime(digits, fmt)
            except ValueError:
                return None
    return None
