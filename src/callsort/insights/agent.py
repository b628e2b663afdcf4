"""Who answered, for the report: the names agents give in greetings (speech/agent.py finds them) merged across
speech recognition's spellings, and mapped to agents by a table the user gives."""

from __future__ import annotations


def merged_names(names: list[str], given: dict[str, str] | None = None, similar: float = 0.7) -> dict[str, str]:
    """Each heard name -> the agent it stands for: the user's table first (`given`: heard -> agent, any case;
    map a name to itself to keep it apart), then spellings that differ only as ASR hears them ("Kristen",
    "Kristin"; "Holly", "Hollie": the same Soundex code and a difflib similarity of at least `similar`) merged
    into the spelling heard most often."""
    from collections import Counter
    from difflib import SequenceMatcher

    given = {k.strip().lower(): v.strip() for k, v in (given or {}).items()}
    counts = Counter(n for n in names if n)
    merged = {n: given[n.lower()] for n in counts if n.lower() in given}
    kept: list[str] = []  # the spellings that stand for themselves, commonest first
    for name, _ in counts.most_common():
        if name in merged:
            continue
        twin = next((k for k in kept if soundex(k) == soundex(name)
                     and SequenceMatcher(None, k.lower(), name.lower()).ratio() >= similar), None)
        merged[name] = twin or name
        if twin is None:
            kept.append(name)
    return merged


SOUNDEX = {c: str(d) for d, letters in enumerate(("aeiouyhw", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r")) for c in letters}


def soundex(name: str) -> str:
    """American Soundex ("Kristen" and "Kristin" -> K623): how a name sounds, not how it is spelled."""
    letters = [c for c in name.lower() if c in SOUNDEX]
    if not letters:
        return ""
    codes, last = [], SOUNDEX[letters[0]]
    for c in letters[1:]:
        code = SOUNDEX[c]
        if code != "0" and code != last:
            codes.append(code)
        if c not in "hw":  # h and w do not separate equal codes; vowels do
            last = code
    return (letters[0].upper() + "".join(codes) + "000")[:4]


def read_agent_names(path) -> dict[str, str]:
    """A small table (CSV/TSV/JSONL/Parquet) with columns `heard` and `agent`: how each name is heard -> who."""
    from pathlib import Path

    from ..data import read_table_frame
    from ..errors import InputError

    if not Path(path).is_file():
        raise InputError(f"{path}: no such agent-names table")
    frame = read_table_frame(Path(path))
    columns = {str(c).strip().lower(): c for c in frame.columns}
    if not {"heard", "agent"} <= set(columns):
        raise InputError(f"{path}: needs the columns heard and agent")
    return {str(h): str(a) for h, a in zip(frame[columns["heard"]], frame[columns["agent"]], strict=False) if str(h).strip()}
