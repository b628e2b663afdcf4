"""The ring-back list's first words on real calls: how many entries open with the company's greeting or phone
menu instead of the caller's words (issue 31, part 3; target at most 10 %).

The calls are those whose true tag is recoverable (lost leads, voicemail leads, missed calls: what the list
is for). An entry *opens with the greeting or menu* when its first 8 words match OPENS below ("thank you for
calling", "press one", "for service, press", "your call is important", "you have reached", "how can I
help", the voicemail prompt…): a rule of its own, not the one that skips the opening. Three rules side by
side: before (the first 30 words of the transcript), after without a model (generic patterns only: a report
of rows whose model folder is not known) and after with what the company says learned at train
(KeepList.company_says, learned from the 580 tuning calls as `callsort train` would; measured on the test
part's calls, which it never saw). The generic patterns (speech/patterns.py OPENING) were written reading the
openings of these calls, test part included: for them no part is unseen. An *empty* entry: the caller said
nothing after the opening (by tag below). Writes results/first_words.md; never quotes a call.

    python first_words.py
"""

from __future__ import annotations

import re
from collections import Counter

from accuracy import split
from common import RESULTS, real_calls

from callsort.insights.callbacks import FIRST_WORDS, first_words, recoverable
from callsort.insights.rules import LeadRules
from callsort.privacy.keep import learn_keep_list

OPENS = re.compile(
    r"thank(?:s| you) for (?:calling|choosing|holding)|\bpress(?:ed)? (?:one|two|three|four|five|\d|the pound)"
    r"|\bfor [\w ,']{1,40}press\b|your call (?:is|has been|may be)|\bcall (?:is being|may be) recorded"
    r"|you(?:'ve| have) reached|how (?:can|may|could) (?:i |we )?(?:help|assist)|please (?:hold|listen|leave)"
    r"|leave (?:a|your) message|at the tone|after the (?:tone|beep)|no one is available|voice ?mail|mailbox"
    r"|menu options|next available|office hours|this is \w+ speaking|next caller|in (?:the )?queue"
    r"|value your business|visit our website|listen carefully", re.I)


def opens_with_greeting(words: str) -> bool:
    return bool(OPENS.search(" ".join(words.split()[:8])))


def old_rule(transcript: str) -> str:
    """What the list showed before: the transcript's first 30 words."""
    words = transcript.split()
    return " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")


def shares(texts: list[str], rule) -> dict:
    shown = [rule(t) for t in texts]
    greeting = sum(opens_with_greeting(s) for s in shown)
    return {"calls": len(texts), "greeting": greeting, "share": round(greeting / len(texts), 3) if texts else None,
            "empty": sum(not s for s in shown)}


def main() -> None:
    table = real_calls()
    rules = LeadRules()
    tune, test = split(table)
    keep = learn_keep_list([table.texts[i] for i in tune])  # what `callsort train` learns on the tuning part
    said = keep.company_says
    wanted = [i for i, label in enumerate(table.labels) if recoverable(label, rules)]
    parts = {"every recoverable call": [table.texts[i] for i in wanted],
             "test part's recoverable calls": [table.texts[i] for i in wanted if i in set(test)]}
    rule_names = {"before: first 30 words": old_rule,
                  "after, no model (generic patterns)": first_words,
                  "after, with the model (learned opening)": lambda t: first_words(t, company=said)}
    lines = ["# The ring-back list's first words: entries that open with the greeting or menu", "",
             "`benchmarks/first_words.py`. Calls whose true tag is a lost lead, a voicemail lead or a missed call; an "
             "entry opens with the greeting or menu when its first 8 words match the benchmark's own rule (OPENS). "
             f"Learned opening: {len(keep.company)} words of the company's name and {len(keep.opening)} sentences, "
             "learned from the 580 tuning calls (on every call, the tuning calls' own openings were learned from).",
             "", "| calls | rule | entries | open with greeting/menu | share | empty |", "|---|---|---:|---:|---:|---:|"]
    for part, texts in parts.items():
        for name, rule in rule_names.items():
            r = shares(texts, rule)
            lines.append(f"| {part} | {name} | {r['calls']} | {r['greeting']} | {r['share']:.1%} | {r['empty']} |")
    empty = Counter(table.labels[i] for i in wanted if not first_words(table.texts[i], company=said))
    lines += ["", "The generic patterns were written reading these calls' openings (test part included); the learned "
              "opening saw only the tuning part. Empty entries (the caller said nothing after the opening), by true "
              "tag: " + ", ".join(f"{tag} {n}" for tag, n in empty.most_common()) + "."]
    (RESULTS / "first_words.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
