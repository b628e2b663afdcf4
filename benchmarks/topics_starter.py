"""The starter topics file (src/callsort/search/topics.yaml) on the real calls: the share of calls each topic
finds, the booking rate of the leads that mention it (from the Tag column, counted, with the report's 90 %
Wilson interval), and what the bare words the starter file no longer uses would have found (they match the
phone menu and the on-hold advert that open many recordings). Counts and shares only: no call's words.

Skips (exit 0) when ../shared/data/calls is absent. Writes results/topics_starter.{json,md}.

    python topics_starter.py
"""

from __future__ import annotations

import sys

from common import TRANSCRIPTS, real_calls, write_results

# the bare words the starter file replaced by conversational phrases (topics.yaml's header says why)
BARE_WORDS = {"price": ["estimate", "charge"], "emergency": ["emergency", "right away", "as soon as possible"],
              "financing": ["financing", "credit"], "warranty": ["guarantee", "covered"],
              "maintenance plan": ["maintenance plan", "tune up", "member", "club"],
              "cancellation": ["cancel", "reschedule"]}


def main() -> int:
    if not TRANSCRIPTS.is_file():
        print(f"skipped: {TRANSCRIPTS} is not here (the real calls live in ../shared/data/calls)")
        return 0
    from callsort.insights.quantify import wilson
    from callsort.insights.rules import LeadRules
    from callsort.search.query import one_of
    from callsort.search.topics import STARTER, load_topics

    table = real_calls()
    topics, rules = load_topics(STARTER), LeadRules()
    found = [topics.of(text) for text in table.texts]
    total = len(table.texts)
    report = {"calls": total, "starter": STARTER.name, "topics": {}}
    for name, phrases in topics.phrases.items():
        mine = [i for i, names in enumerate(found) if name in names]
        leads = [i for i in mine if rules.is_lead(table.labels[i])]
        booked = sum(rules.is_booked(table.labels[i]) for i in leads)
        bare = {word: sum(one_of([word]).matches(t) for t in table.texts) for word in BARE_WORDS.get(name, [])}
        report["topics"][name] = {
            "phrases": len(phrases), "calls": len(mine), "share": round(len(mine) / total, 4),
            "leads": len(leads), "booked": booked, "booking_rate": round(booked / len(leads), 4) if leads else None,
            "interval": [round(x, 4) for x in wilson(booked / len(leads), len(leads))] if leads else None,
            "bare_words_calls": bare}
    all_leads = [i for i in range(total) if rules.is_lead(table.labels[i])]
    report["all_leads"] = {"leads": len(all_leads), "booking_rate": round(
        sum(rules.is_booked(table.labels[i]) for i in all_leads) / len(all_leads), 4)}
    report["calls_with_any_topic"] = sum(bool(names) for names in found)
    write_results("topics_starter", report, markdown(report))
    print("\n".join(markdown(report)))
    return 0


def markdown(report: dict) -> list[str]:
    lines = [f"# The starter topics on {report['calls']} real calls", "",
             f"{report['calls_with_any_topic']} calls mention at least one topic; the booking rate of all "
             f"{report['all_leads']['leads']} leads is {report['all_leads']['booking_rate']:.0%}.", "",
             "| topic | calls | share | leads | booking rate (90 % interval) | bare words would find (calls) |",
             "|---|---:|---:|---:|---|---|"]
    for name, t in report["topics"].items():
        rate = (f"{t['booking_rate']:.0%} ({t['interval'][0]:.0%}–{t['interval'][1]:.0%})"
                if t["booking_rate"] is not None else "no leads")
        bare = ", ".join(f"'{w}' {n}" for w, n in t["bare_words_calls"].items())
        lines.append(f"| {name} | {t['calls']} | {t['share']:.1%} | {t['leads']} | {rate} | {bare} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
