"""The manager's report: what the calls say about the business, as one self-contained HTML page.

`summarise(rows)` turns result rows (a predictions file or a results store) into figures, each with the
number of calls it rests on; `write_report` draws them (matplotlib, inline SVG: no CDN, opens offline)
into `index.html` beside `summary.json`.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

from ..errors import InputError
from ..evidence.metadata import call_datetime
from ..search.topics import Topics
from .agent import merged_names
from .callbacks import callback_list
from .quantify import wilson
from .rules import LeadRules  # noqa: F401 - the report's definitions, importable from here too
from .topics import estimated_rates, mentions_of, topic_figures, topic_groups, topic_names

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def read_predictions(path: str | Path) -> list[dict]:
    """Result rows from a predictions file (.csv or .jsonl, as `predict` writes)."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise InputError(f"{path}: not a predictions file (.csv, .jsonl)")
    if not path.is_file():
        raise InputError(f"{path}: no such predictions file")
    return _read_predictions(path)


def add_meta(rows: list[dict], meta: str | Path | None = None, pattern: str | None = None) -> list[dict]:
    """Join phone-system facts onto rows by file name (metadata.py); facts already on a row stay."""
    from ..evidence.metadata import joiner

    join = joiner(meta, pattern)
    for row in rows if join else []:
        row["meta"] = {**join(str(row.get("source", ""))), **(row.get("meta") or {})}
    return rows


def _read_predictions(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    from ..data import read_table_frame
    from ..output import NAME_LISTS, name_list, unsafe_cell

    rows = read_table_frame(path).to_dict("records")
    for row in rows:  # CSV cells hold JSON for nested values, true/false for booleans, '' for None
        for key, value in row.items():
            if key in NAME_LISTS:
                row[key] = name_list(unsafe_cell(value) if isinstance(value, str) else None)
            elif key in ("probabilities", "meta") and isinstance(value, str):
                row[key] = json.loads(value) if value.strip() else {}
            elif value in ("true", "false"):
                row[key] = value == "true"
            elif isinstance(value, str):
                row[key] = unsafe_cell(value)
            elif value == "":
                row[key] = None
    return rows


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rate(calls: list[tuple[str, bool | None]]) -> dict:
    """{group: {"booked", "leads", "rate", "interval", "calls", "thin"}} from (group, booked) pairs, booked None
    for a call that is no lead; groups sorted by name."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # booked, leads, calls
    for group, booked in calls:
        counts[group][0] += bool(booked)
        counts[group][1] += booked is not None
        counts[group][2] += 1
    return {g: _counted_group(*c) for g, c in sorted(counts.items())}


def _counted_group(booked: int, leads: int, calls: int) -> dict:
    """Booked / leads with its 90 % Wilson interval (one lead: 27-100 %, never "100 %-100 %"); rate and
    interval None without leads."""
    interval = [round(x, 4) for x in wilson(booked / leads, leads)] if leads else None
    return {"booked": booked, "leads": leads, "rate": round(booked / leads, 4) if leads else None,
            "interval": interval, "calls": calls, "thin": leads < 10}


MIN_QUANTIFIER_CALLS = 300  # measured: 70 validation calls estimated worse than counting, 580 out-of-fold better
PERIODS = ("week", "month", "day")


def summarise(rows: list[dict], rules: LeadRules | None = None, quantifier=None,
              min_quantifier_calls: int = MIN_QUANTIFIER_CALLS, model: str | None = None,
              period: str = "week", agent_names: dict[str, str] | None = None, company: Collection[str] = (),
              topics: Topics | None = None) -> dict:
    """Every figure of the report, each with its count. With the model's `quantifier` (insights/quantify.py),
    fitted on at least `min_quantifier_calls` calls, the booking rates and category shares are estimates with
    90 % intervals; otherwise counts of top labels, and the summary says why. Calls a person checked count at
    their label either way. `model`, the quantifier's model identity: rows of another model are counted.
    `period` (week, month, day): the unit of `booking_by_period` and of `change` (last period vs the one before).
    `agent_names` (heard -> agent) maps names heard in greetings; ASR spellings of one name are merged anyway.
    `company`: what the company says (KeepList.company_says of the model folder), skipped in the ring-back
    list's first words. `topics`: match each row's transcript against these (report --topics) instead of
    counting the topics the rows carry (insights/topics.py)."""
    if period not in PERIODS:
        raise InputError(f"period {period!r}: choose one of {', '.join(PERIODS)}")
    rules = rules or LeadRules()
    ok = [r for r in rows if not r.get("error")]
    facts = _same_agents([_facts(r, period) for r in ok], agent_names)
    figures = {"calls": len(rows), "failed": len(rows) - len(ok), "definition": rules.definition(),
               "period": _period(facts, period), **_counted(facts, rules),
               "callbacks": callback_list(ok, facts, rules, rules.callback_threshold, company),
               "checked": sum(1 for r in ok if r.get("checked")),  # calls whose label a person set
               "missing_metadata": missing_metadata(facts)}
    mentions = mentions_of(ok, topics)
    names = topic_names(mentions, topics)
    booked = [rules.is_booked(f["label"]) if rules.is_lead(f["label"]) else None for f in facts]  # None: no lead
    rates = _rate([(name, b) for b, found in zip(booked, mentions, strict=True) for name in found])
    rates = {name: rates.get(name) or _counted_group(0, 0, 0) for name in names}  # a topic no call mentions
    versions = Counter(r["model_version"] for r in ok if r.get("model_version") is not None)
    if versions:  # a learning service's rows: the model versions its figures come from, with their calls
        figures["model_versions"] = {str(v): n for v, n in sorted(versions.items())}
    others = {r.get("model") for r in ok if r.get("model")} - {model}
    if quantifier is not None and model and others:
        figures["estimated_by"] = (f"counting each call's top label: rows of {len(others)} other model(s) than "
                                   f"{model}, whose quantifier does not describe them")
    elif quantifier is not None and len(quantifier.truth) < min_quantifier_calls:
        figures["estimated_by"] = (f"counting each call's top label: the model's quantifier rests on only "
                                   f"{len(quantifier.truth)} calls (estimates need {min_quantifier_calls}: train on more labelled calls)")
    elif quantifier is not None and ok:
        from .estimates import estimated_figures

        groups = {name: [key(f) for f in facts] for name, key in BREAKDOWNS.items()}
        estimated = estimated_figures(ok, {**groups, **topic_groups(mentions, names)}, quantifier, rules)
        rates = estimated_rates(estimated, names)
        figures.update(estimated)
        figures["estimated_by"] = (f"probabilistic adjusted counting (PACC) from the calibrated probabilities, "
                                   f"90 % bootstrap intervals; its confusion measured on {len(quantifier.truth)} "
                                   "calls the model did not learn from")
    figures["topics"] = topic_figures(names, mentions, facts, rates)
    figures["topics_from"] = topics.source if topics is not None else "the topics the rows carry"
    return figures


def calls_to_ring_back(rows: list[dict], rules: LeadRules | None = None,
                       agent_names: dict[str, str] | None = None, company: Collection[str] = ()) -> list[dict]:
    """The speed-to-lead list of result rows alone (callbacks.py), as the report's `callbacks`."""
    rules = rules or LeadRules()
    ok = [r for r in rows if not r.get("error")]
    return callback_list(ok, _same_agents([_facts(r) for r in ok], agent_names), rules, rules.callback_threshold,
                         company)


BREAKDOWNS = {  # breakdown -> each call's group (None: left out)
    "booking_by_agent": lambda f: f["agent"] or "(not known)",
    "booking_by_day": lambda f: f["day"] or "(no date)",
    "booking_by_hour": lambda f: f"{f['hour']:02d}:00" if f["hour"] is not None else "(no time)",
    "booking_by_source": lambda f: f["source"] or "(not known)",
    "booking_by_period": lambda f: f["period"],
}


NO_TIMES = "No call times: pass --meta with a datetime column (or --meta-pattern with {date} and {time})"
FILLED_BY = {  # breakdown -> the fact it groups calls by, and what would fill it when no call has that fact
    "booking_by_agent": ("agent", "No agents: pass --meta with an agent column (or --meta-pattern with {agent}); "
                                  "agents who say their name in the greeting are found without it"),
    "booking_by_day": ("when", NO_TIMES), "booking_by_hour": ("when", NO_TIMES),
    "booking_by_period": ("when", NO_TIMES),
    "booking_by_source": ("source", "No marketing sources: pass --meta with a source column "
                                    "(or --meta-pattern with {source})"),
    "unanswered_by_hour": ("when", NO_TIMES), "unanswered_by_weekday": ("when", NO_TIMES),
}


def missing_metadata(facts: list[dict]) -> dict[str, str]:
    """{breakdown: what would fill it} for the breakdowns whose calls are all "not known" (no call has the fact
    they group by): the page says so in a line instead of drawing one "(no time)" bar."""
    return {name: line for name, (fact, line) in FILLED_BY.items() if facts and not any(f[fact] for f in facts)}


def _counted(facts: list[dict], rules: LeadRules) -> dict:
    """The figures as counts of each call's top label (what estimates replace when the model allows)."""
    leads = [(f, rules.is_booked(f["label"])) for f in facts if rules.is_lead(f["label"])]
    outcomes = [(f, rules.is_booked(f["label"]) if rules.is_lead(f["label"]) else None) for f in facts]  # None: no lead
    lost = [f for f, booked in leads if not booked]
    unanswered = [f for f in facts if f["label"] in rules.unanswered_labels]
    waits = [f["wait"] for f in facts if f["wait"] is not None and f["label"] not in rules.unanswered_labels]
    talk = [(f["agent_talk"], f["caller_talk"]) for f in facts if f["agent_talk"] is not None]
    breakdowns = {name: _rate([(key(f), b) for f, b in outcomes if key(f) is not None]) for name, key in BREAKDOWNS.items()}
    return {
        "by_category": dict(Counter(f["label"] for f in facts).most_common()),
        "leads": len(leads), "booked": sum(b for _, b in leads),
        "booking_rate": round(sum(b for _, b in leads) / len(leads), 4) if leads else None,
        **breakdowns, "change": _counted_change(breakdowns["booking_by_period"]),
        "unanswered_by_hour": dict(sorted(Counter(f"{f['hour']:02d}:00" if f["hour"] is not None else "(no time)"
                                                  for f in unanswered).items())),
        "unanswered_by_weekday": {d: n for d in (*WEEKDAYS, "(no date)")
                                  if (n := sum(1 for f in unanswered if (f["weekday"] or "(no date)") == d))},
        "lost_reasons": dict(Counter(f["reason"] or "(no reason)" for f in lost).most_common()),
        "needs_review": {"calls": sum(1 for f in facts if f["needs_review"]), "of": len(facts)},
        "median_wait_s": {"value": round(statistics.median(waits), 1) if waits else None, "calls": len(waits)},
        "agent_talk_share": {"value": round(sum(a for a, _ in talk) / max(sum(a + c for a, c in talk), 1e-9), 3)
                             if talk else None, "calls": len(talk)},
        "booking_rate_interval": None, "booking_rate_thin": len(leads) < 10,
        "estimated_by": "counting each call's top label (the model folder has no quantifier: pass --model)",
    }


def _counted_change(periods: dict) -> dict | None:
    if len(periods) < 2:
        return None
    before, last = list(periods)[-2:]
    rates = (periods[before]["rate"], periods[last]["rate"])
    return {"from": before, "to": last, "change": round(rates[1] - rates[0], 4) if None not in rates else None,
            "interval": None, "thin": periods[before]["thin"] or periods[last]["thin"]}


def _period(facts: list[dict], unit: str) -> dict | None:
    """First and last dated call, how many calls are dated, and in how many periods."""
    dated = sorted(f["when"] for f in facts if f["when"])
    if not dated:
        return None
    return {"first": dated[0].strftime("%Y-%m-%d %H:%M"), "last": dated[-1].strftime("%Y-%m-%d %H:%M"),
            "dated_calls": len(dated), "unit": unit, "periods": len({f["period"] for f in facts if f["when"]})}


def period_of(when, unit: str) -> str | None:
    """The period a call falls in: "week of 2026-11-23" (weeks start on Monday), "2026-11" or "2026-11-23"."""
    if when is None:
        return None
    if unit == "day":
        return when.strftime("%Y-%m-%d")
    if unit == "month":
        return when.strftime("%Y-%m")
    return f"week of {(when.date() - timedelta(days=when.weekday())):%Y-%m-%d}"


def _same_agents(facts: list[dict], agent_names: dict[str, str] | None) -> list[dict]:
    """Names heard in greetings mapped to one spelling per agent (agent.merged_names); the phone system's
    agent names (from --meta) are kept as they are."""
    heard = merged_names([f["agent"] for f in facts if f["heard"]], agent_names)
    return [{**f, "agent": heard.get(f["agent"], f["agent"])} if f["heard"] else f for f in facts]


def _facts(row: dict, period: str = "week") -> dict:
    """The few things the report reads from a row: label, reason, when, who, where from, timing."""
    meta = row.get("meta") or {}
    when = call_datetime(meta)
    return {"label": row.get("label") or "", "reason": row.get("reason") or "", "source": meta.get("source", ""),
            "agent": meta.get("agent") or row.get("agent_name") or "", "caller": meta.get("caller", ""),
            "heard": not meta.get("agent"),
            "when": when, "period": period_of(when, period), "day": when.strftime("%Y-%m-%d") if when else "", "hour": when.hour if when else None,
            "weekday": WEEKDAYS[when.weekday()] if when else "", "needs_review": bool(row.get("needs_review")),
            "wait": _number(row.get("ring_or_hold_s")), "agent_talk": _number(row.get("agent_talk_s")),
            "caller_talk": _number(row.get("caller_talk_s"))}


def write_report(summary: dict, out_dir: str | Path) -> Path:
    """report/index.html (one self-contained file) and report/summary.json; returns the page's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    from .report_page import render_page

    page = out / "index.html"
    page.write_text(render_page(summary), encoding="utf-8")
    return page
