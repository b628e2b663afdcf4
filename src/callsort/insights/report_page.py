"""The report's page: report.summarise's figures drawn with matplotlib as inline SVG in one HTML file."""

from __future__ import annotations

import html
import io
import re

CALLBACKS_SHOWN = 200  # the page lists the likeliest; summary.json has every one
STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:10rem}
.card b{font-size:1.4rem;display:block}.small{color:#666;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left}
figure{margin:1rem 0}svg{max-width:100%;height:auto}td{overflow-wrap:anywhere}
@media (max-width:40rem){table.callbacks thead{display:none}table.callbacks tr{display:block;border-bottom:2px solid #ccc;padding:.3rem 0}
table.callbacks td{display:block;border:0;padding:.1rem 0}table.callbacks td:empty{display:none}
table.callbacks td::before{content:attr(data-label) ": ";color:#666}}"""


def render_page(summary: dict) -> str:
    """The whole page as one string: cards, charts, the callback list; no external resources."""
    unit = (summary.get("period") or {}).get("unit", "week")
    rates = [(name, f"booking rate by {what}", _rates) for name, what in (
        ("booking_by_agent", "agent"), ("booking_by_hour", "hour of day"), ("booking_by_day", "day"),
        ("booking_by_period", unit), ("booking_by_source", "source"))]
    staffing = [("unanswered_by_hour", "missed and voicemail calls by hour of day", _bars),
                ("unanswered_by_weekday", "missed and voicemail calls by weekday", _bars)]
    span = summary.get("period")
    when = f"Calls from {span['first']} to {span['last']} ({span['dated_calls']} dated). " if span else ""
    body = [f"<h1>What the calls say</h1><p class=small>{escape(when)}{summary['calls']} calls ({summary['failed']} could not "
            f"be classified); {summary.get('checked', 0)} of {summary['calls']} checked by a person (counted at "
            f"their corrected label). Rates and shares: {escape(summary.get('estimated_by', ''))}. "
            f"{escape(summary['definition'][:1].upper() + summary['definition'][1:])}. "
            f"Every figure shows how many calls it rests on.</p>",
            _cards(summary), "<h2>Bookings</h2>", _bars("Calls by category", summary["by_category"], horizontal=True),
            *_charts(summary, rates), "<h2>Staffing: calls nobody answered</h2>", *_charts(summary, staffing),
            "<h2>Lost leads</h2>", _bars("Why leads were not booked", summary["lost_reasons"], horizontal=True),
            *(["<h2>Topics</h2>", _topics_table(summary)] if summary.get("topics") else []),
            "<h2>Ring back today</h2>", _callback_table(summary)]
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>callsort report</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<link rel=icon href='data:,'><style>{STYLE}</style></head>"  # no favicon request: fully offline
            f"<body>{''.join(body)}</body></html>")


def _charts(summary: dict, breakdowns: list[tuple]) -> list[str]:
    """Each (name, title, draw) breakdown's chart; those no call could fill (`missing_metadata`: every call "not
    known") are one line per missing fact, naming the metadata that would fill them."""
    missing = summary.get("missing_metadata") or {}
    drawn = [draw(title[:1].upper() + title[1:], summary.get(name) or {})
             for name, title, draw in breakdowns if name not in missing]
    unfilled: dict[str, list[str]] = {}
    for name, title, _ in breakdowns:
        if name in missing:
            unfilled.setdefault(missing[name], []).append(title)
    return drawn + [f"<p class='small missing'>{escape(line)} — for the {escape(', '.join(titles))}.</p>"
                    for line, titles in unfilled.items()]


def _cards(s: dict) -> str:
    rate = percent_with_interval(s["booking_rate"], s.get("booking_rate_interval"))
    wait, share = s["median_wait_s"], s["agent_talk_share"]
    basis = (f"estimated from {s['calls'] - s['failed']} calls" if s.get("booking_rate_interval")
             else f"{s['booked']} of {s['leads']} leads (counted)")
    cards = [("booking rate", rate, basis + (" · too few to read" if s.get("booking_rate_thin") else "")),
             *([("change", change_text(s["change"], short=True), f"{s['change']['to']} vs {s['change']['from']}"
                 + (" · too few to read" if s["change"]["thin"] else ""))] if s.get("change") else []),
             ("need review", f"{s['needs_review']['calls']}", f"of {s['needs_review']['of']} calls"),
             ("to ring back", f"{sum(not c['done'] for c in s['callbacks'])}",
              "lost leads, voicemails, missed calls"),
             ("median wait before an answer", f"{wait['value']} s" if wait["value"] is not None else "–",
              f"{wait['calls']} answered two-channel calls"),
             ("agent's share of talk", f"{share['value']:.0%}" if share["value"] is not None else "–",
              f"{share['calls']} two-channel calls")]
    return "<div class=cards>" + "".join(f"<div class=card>{escape(t)}<b>{escape(v)}</b><span class=small>"
                                         f"{escape(n)}</span></div>" for t, v, n in cards) + "</div>"


CALLBACK_COLUMNS = ("when", "number", "category", "chance", "reason", "agent", "call", "first words", "done")


def _callback_table(s: dict) -> str:
    """The speed-to-lead list: likeliest first, then newest; the number rings from a phone. On a narrow screen
    each call is a block of labelled lines (STYLE), so the page never scrolls sideways."""
    if not s["callbacks"]:
        return "<p class=small>No call looks worth ringing back.</p>"
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in CALLBACK_COLUMNS) + "</tr>"
    rows = []
    for c in s["callbacks"][:CALLBACKS_SHOWN]:
        cells = (escape(c["when"]), _tel(c), escape(c["label"]), f"{c['chance']:.0%}", escape(c["reason"]),
                 escape(c["agent"]), escape(c["call"]), escape(c["first_words"]), "✓" if c["done"] else "")
        rows.append("<tr>" + "".join(f"<td data-label='{n}'>{v}</td>" for n, v in zip(CALLBACK_COLUMNS, cells, strict=False)) + "</tr>")
    more = (f"<p class=small>The first {CALLBACKS_SHOWN} of {len(s['callbacks'])}; summary.json lists them all.</p>"
            if len(s["callbacks"]) > CALLBACKS_SHOWN else "")
    return (f"<p class=small>Lost leads, voicemail leads and missed calls, likeliest first, then newest; a caller "
            f"who booked on a later call is left out.</p><table class=callbacks><thead>{head}</thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{more}")


TREND_WEEKS = 6  # the page shows the last few weeks; summary.json has every one


def _topics_table(s: dict) -> str:
    """Each topic: calls that mention it (share), the booking rate of its leads with its interval, the last weeks."""
    rows = []
    for topic in s["topics"]:
        booking = topic["booking"]
        rate = "no leads" if booking.get("rate") is None else (
            percent_with_interval(booking["rate"], booking.get("interval")) + (" · too few to read" if booking.get("thin") else ""))
        weeks = " · ".join(f"{w['week']}: {w['calls']} ({w['share']:.0%})" for w in (topic["weekly"] or [])[-TREND_WEEKS:])
        share = f" ({topic['share']:.0%})" if topic["share"] is not None else ""
        rows.append(f"<tr><td>{escape(topic['name'])}</td><td>{topic['calls']}{share}</td><td>{escape(rate)}</td>"
                    f"<td>{escape(weeks or 'no call times')}</td></tr>")
    return (f"<p class=small>Calls that mention each topic ({escape(s.get('topics_from', ''))}), and the booking rate "
            f"of the leads among them.</p><table class=topics><thead><tr><th>topic</th><th>calls</th>"
            f"<th>booking rate of its leads</th><th>by week</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _tel(entry: dict) -> str:
    if not entry["tel"]:
        return escape(entry["caller"])
    return f"<a href='{escape(entry['tel'])}'>{escape(entry['caller'])}</a>"


def _rates(title: str, groups: dict) -> str:
    """Booking rate per group; each bar notes its interval (estimates) or booked/leads and the interval (counts);
    a group without leads is noted "no leads", not drawn as 0 %; thin groups are marked, not hidden."""
    names = [f"{g} (thin)" if groups[g]["thin"] else g for g in groups]
    return _chart(title, names, [(groups[g]["rate"] or 0) * 100 for g in groups], [_note(groups[g]) for g in groups],
                  "% of leads booked", percent=True)


def _note(group: dict) -> str:
    if group["rate"] is None:
        return "no leads"
    interval = group.get("interval")
    span = f"{interval[0]:.0%}–{interval[1]:.0%}" if interval and None not in interval else ""
    if "booked" in group:  # counted
        return f"{group['booked']}/{group['leads']}" + (f"\n{span}" if span else "")
    return span


def change_text(change: dict, short: bool = False) -> str:
    """"+5 points (-8 to +17)": the booking rate's change from the previous period to the last."""
    if change.get("change") is None:
        return "–"
    value = f"{change['change'] * 100:+.0f} points"
    if change.get("interval") and None not in change["interval"]:
        value += f" ({change['interval'][0] * 100:+.0f} to {change['interval'][1] * 100:+.0f})"
    return value if short else f"booking rate {value}: {change['to']} vs {change['from']}"


def percent_with_interval(rate: float | None, interval: list | None) -> str:
    """"50 % (42–58 %)", or "50 %" without an interval, or "–"."""
    if rate is None:
        return "–"
    if interval and None not in interval:
        return f"{rate:.0%} ({interval[0]:.0%}–{interval[1]:.0%})"
    return f"{rate:.0%}"


def _bars(title: str, counts: dict, horizontal: bool = False) -> str:
    labels = list(counts)
    return _chart(title, labels, [counts[k] for k in labels], [str(counts[k]) for k in labels], "calls", horizontal)


def _chart(title: str, labels: list[str], values: list[float], notes: list[str], unit: str,
           horizontal: bool = False, percent: bool = False) -> str:
    """One bar chart as an inline <figure><svg>; each bar carries its count. `percent`: a 0-100 axis with room
    above 100 for two-line notes (counts and interval), and wider bars for them."""
    if not labels:
        return f"<figure><figcaption>{escape(title)}</figcaption><p class=small>no calls</p></figure>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: small files, selectable
    plt.rcParams["text.parse_math"] = False  # an agent or source named "Promo $$" is text, never maths
    size = (7.5, 0.35 * len(labels) + 1.2) if horizontal else (max(4.5, (0.75 if percent else 0.55) * len(labels) + 1.5), 3.2)
    fig, ax = plt.subplots(figsize=size)
    positions = range(len(labels))
    bars = (ax.barh if horizontal else ax.bar)(positions, values, color="#4a8")
    (ax.set_yticks if horizontal else ax.set_xticks)(positions, labels, **({} if horizontal else {"rotation": 30, "ha": "right"}))
    ax.bar_label(bars, notes, padding=2, fontsize=8)
    (ax.set_xlabel if horizontal else ax.set_ylabel)(unit)
    if percent:
        ax.set_ylim(0, 128)
        ax.set_yticks(range(0, 101, 20))
        ax.spines["left"].set_bounds(0, 100)
    if horizontal:
        ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.S)  # dates, tool names: not needed
    return f"<figure class=chart>{svg[svg.index('<svg'):]}</figure>"


def escape(value) -> str:
    return html.escape("" if value is None else str(value))
