"""The report's topics (`topics` in summary.json): for each topic a manager named, the calls that mention it and
their share, the booking rate of the leads that mention it, and its weekly trend.

A call's topics are those its row carries (predict/serve with --topics), or, with `report --topics FILE`, its
transcript matched again against the file. The booking rate per topic is one more breakdown of the report's
(report.py): counted with the same 90 % Wilson interval as the per-agent/per-hour figures, or estimated by the
same PACC bootstrap (estimates.estimated_figures) when the model's quantifier allows. A call can mention
several topics, so each topic is a breakdown of its own (its calls, or left out), not a group of one.
"""

from __future__ import annotations

from collections import Counter

from ..search.topics import Topics

TOPIC_GROUP = "topic:"  # the prefix of a topic's breakdown in estimated_figures' groups
NO_RATE = {"rate": None, "interval": None, "calls": 0, "thin": True, "leads": 0.0}  # an estimate of no calls


def mentions_of(rows: list[dict], topics: Topics | None = None) -> list[list[str]]:
    """Each row's topics: matched again from its transcript when `topics` is given, else those it carries."""
    if topics is not None:
        return [topics.of(row.get("transcript") or row.get("text")) for row in rows]
    return [list(row.get("topics") or []) for row in rows]


def topic_names(mentions: list[list[str]], topics: Topics | None = None) -> list[str]:
    """The topics to show: the file's, in its order, or those the rows carry, most mentioned first."""
    if topics is not None:
        return topics.names
    counts = Counter(name for found in mentions for name in found)
    return sorted(counts, key=lambda name: (-counts[name], name))


def topic_groups(mentions: list[list[str]], names: list[str]) -> dict[str, list[str | None]]:
    """One breakdown per topic for estimated_figures: a row's group is the topic's name when it mentions it."""
    return {TOPIC_GROUP + name: [name if name in found else None for found in mentions] for name in names}


def estimated_rates(figures: dict, names: list[str]) -> dict[str, dict]:
    """Each topic's estimated booking figure, taken out of estimated_figures' answer (`figures`, changed)."""
    return {name: (figures.pop(TOPIC_GROUP + name, None) or {}).get(name) or dict(NO_RATE) for name in names}


def topic_figures(names: list[str], mentions: list[list[str]], facts: list[dict], rates: dict[str, dict]) -> list[dict]:
    """[{"name", "calls", "share", "booking", "weekly"}]: `rates` holds each topic's booking figure (counted by
    report._rate or estimated); `facts` the report's facts of the same rows (their `when` gives the weeks);
    `weekly` is None when no call has a time."""
    total = len(mentions)
    weeks = [iso_week(f["when"]) for f in facts]
    calls_per_week = Counter(w for w in weeks if w)
    found = []
    for name in names:
        mine = [name in m for m in mentions]
        calls = sum(mine)
        weekly = None
        if calls_per_week:
            per_week = Counter(w for w, hit in zip(weeks, mine, strict=True) if w and hit)
            weekly = [{"week": w, "calls": per_week[w], "of": n, "share": round(per_week[w] / n, 4)}
                      for w, n in sorted(calls_per_week.items())]
        found.append({"name": name, "calls": calls, "share": round(calls / total, 4) if total else None,
                      "booking": rates.get(name) or dict(NO_RATE), "weekly": weekly})
    return found


def iso_week(when) -> str | None:
    """"2026-W48": the ISO week of a call time (weeks start on Monday), None without one."""
    if when is None:
        return None
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"
