"""The report's shares and rates as estimates with 90 % intervals (quantify.py), overall and per breakdown.

Every group (an agent, a day, an hour, a source, a period) is estimated from all its calls, not only those
whose top label is a lead: PACC re-weighs which calls are leads. A group's interval is at least the 90 % Wilson
interval of its estimated leads (quantify.at_least_wilson): one lead is never "100 %–100 %". A group whose
calls hold under half a lead (estimated) has rate and interval None ("no leads"). A group is marked thin when it rests on fewer
than MIN_CALLS calls or its interval is wider than MAX_WIDTH: too uncertain to read. The change from the
previous period to the last pairs the two periods' bootstrap draws (same confusion draw), so its interval
holds the confusion's uncertainty once, not twice.
"""

from __future__ import annotations

import numpy as np

from .quantify import Quantifier, at_least_wilson, interval

MIN_CALLS, MAX_WIDTH = 10, 0.4
NO_LEADS = 0.5  # a group estimated to hold fewer leads than this holds none: its rate and interval are None


def estimated_figures(rows: list[dict], groups: dict[str, list[str]], quantifier: Quantifier, rules) -> dict:
    """booking_rate (+ _interval), category shares, each breakdown's rates and the change between the last
    two periods, from the rows' probabilities (`groups`: breakdown name -> each row's group; a row whose group
    is None is left out of that breakdown)."""
    labels = quantifier.labels
    probs = np.array([[float((r.get("probabilities") or {}).get(k, 0.0)) for k in labels] for r in rows]).reshape(-1, len(labels))
    sides = np.array([r.get("customer") or "" for r in rows], dtype=object)  # set by the customer list
    checked = np.array([bool(r.get("checked")) and r.get("label") in labels for r in rows], dtype=bool)
    lead = np.array([rules.is_lead(k) for k in labels])
    booked = np.array([rules.is_booked(k) for k in labels])
    draws: dict[tuple[str, str], np.ndarray] = {}

    def booking(counts):
        return counts[booked].sum() / counts[lead].sum() if counts[lead].sum() > 0 else float("nan")

    def of(index: np.ndarray, measure, keep: tuple[str, str] | None = None) -> dict:
        known = np.bincount([labels.index(rows[i]["label"]) for i in index if checked[i]], minlength=len(labels))
        open_rows = [i for i in index if not checked[i]]
        value, found = quantifier.estimate_draws(probs[open_rows], known.astype(float), measure, sides=sides[open_rows])
        if keep:
            draws[keep] = value, found
        value, low, high = interval(value, found)
        leads = None
        if keep:  # a breakdown's group: its estimated leads, and an interval never narrower than they allow
            leads = float(quantifier.expected(probs[open_rows], known.astype(float), sides[open_rows])[lead].sum())
            if leads < NO_LEADS:  # PACC leaves a sliver of a lead in any group: not a booking rate of 0 %
                value = float("nan")
            elif np.isfinite(value):
                low, high = at_least_wilson(value, low, high, leads)
        return _figure(value, low, high, len(index), leads)

    everyone = np.arange(len(rows))
    overall = of(everyone, booking)
    shares = {k: of(everyone, lambda c, j=j: c[j] / c.sum()) for j, k in enumerate(labels)}  # "rate": the share
    breakdowns = {}
    for name, keys in groups.items():
        members: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key is not None:
                members.setdefault(key, []).append(i)
        breakdowns[name] = {key: of(np.array(index), booking, (name, key)) for key, index in sorted(members.items())}
    periods = breakdowns.get("booking_by_period") or {}
    change = None
    if len(periods) >= 2:
        before, last = list(periods)[-2:]
        (a, draws_a), (b, draws_b) = draws["booking_by_period", before], draws["booking_by_period", last]
        value, low, high = interval(b - a, draws_b - draws_a)
        if None in (periods[before]["rate"], periods[last]["rate"]):  # a period without leads: no change
            value = float("nan")
        change = {"from": before, "to": last, "change": _round(value),
                  "interval": [_round(low), _round(high)] if np.isfinite(value) else None,
                  "thin": periods[before]["thin"] or periods[last]["thin"]}
    return {"booking_rate": overall["rate"], "booking_rate_interval": overall["interval"],
            "booking_rate_thin": overall["thin"], "category_shares": shares, **breakdowns, "change": change}


def _figure(value: float, low: float, high: float, calls: int, leads: float | None = None) -> dict:
    """A share or rate with its 90 % interval and the calls it rests on; rate and interval None when undefined
    (a group without leads); a breakdown's group also says how many leads it holds (estimated)."""
    figure = {"rate": _round(value), "interval": [_round(low), _round(high)] if np.isfinite(value) else None,
              "calls": calls, "thin": calls < MIN_CALLS or not np.isfinite(high - low) or high - low > MAX_WIDTH}
    return figure if leads is None else {**figure, "leads": round(leads, 1)}


def _round(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None
