"""The speed-to-lead list: every call worth ringing back, likeliest first.

A call is *recoverable* when it is a lost lead (any reason), a voicemail lead or a missed call. Its chance of
being one is the sum of its calibrated probabilities over those categories (a call a person checked: 1 or 0),
so a call likely to be recoverable is listed even when its top label is something else. A caller who rang
again later and booked is dropped when the caller's number is known (`caller` from --meta).

The threshold was chosen on the tuning part's out-of-fold calls (benchmarks/callbacks.py): at 0.25 the list
held 91 % of the truly recoverable calls, 77 % of its entries being so.

Each entry shows the caller's first words (the request, the voicemail message), not the company's greeting
and phone menu: the caller's turns of a split recording, else the words after the opening (patterns.OPENING,
and what the company says as learned at train: KeepList.company_says). benchmarks/first_words.py measures it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from ..evidence.phone import phone_digits
from ..speech import patterns

CALLBACK_THRESHOLD = 0.25
FIRST_WORDS = 30
OPENING_WORDS = 400  # an opening (greeting, menu, hold message, voicemail prompt) is over within these words
BETWEEN = 6  # words of a sentence that may sit between two parts of an opening ("Hello, Blend and Sons.")
GREETING_WORDS = frozenset("hello hi hey good morning afternoon evening thank thanks you for calling this is it's "
                           "the and of".split())


def recoverable(label: str, rules) -> bool:
    """A lost lead, or a call nobody answered (rules.unanswered_labels: missed calls and voicemail leads)."""
    return (rules.is_lead(label) and not rules.is_booked(label)) or label in rules.unanswered_labels


def chance_recoverable(row: dict, rules) -> float:
    """How likely the call is worth ringing back: its probabilities summed over the recoverable categories;
    certain for a call a person checked, and the top label's verdict for a row without probabilities."""
    probabilities = row.get("probabilities") or {}
    if row.get("checked") or not probabilities:
        return float(recoverable(row.get("label") or "", rules))
    return min(1.0, sum(p for label, p in probabilities.items() if recoverable(label, rules)))


def callback_list(rows: list[dict], facts: list[dict], rules, threshold: float = CALLBACK_THRESHOLD,
                  company: Collection[str] = ()) -> list[dict]:
    """The calls to ring back (`rows` and their report facts, in the same order), likeliest first (in steps of
    ten points), then newest first; each with when, number, category, reason, agent and the caller's first
    words (`company`: what the company says, KeepList.company_says, when the model is known)."""
    bookings = _bookings_by_caller(facts, rules)
    entries = []
    for i, (row, fact) in enumerate(zip(rows, facts, strict=False)):
        chance = chance_recoverable(row, rules)
        if chance < threshold or _booked_since(i, fact, bookings):
            continue
        entries.append((round(chance, 1), fact["when"] or datetime.min, {
            "source": str(row.get("source", "")), "call": call_name(str(row.get("source", ""))),
            "when": fact["when"].strftime("%Y-%m-%d %H:%M") if fact["when"] else "",
            "caller": fact["caller"], "tel": tel_link(fact["caller"]), "label": fact["label"],
            "chance": round(chance, 2), "reason": fact["reason"], "agent": fact["agent"],
            "first_words": first_words(row.get("transcript") or "", company=company),
            "done": bool(row.get("callback_done")),
            **({"call_id": row["call_id"]} if "call_id" in row else {})}))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [entry for _, _, entry in entries]


def _bookings_by_caller(facts: list[dict], rules) -> dict[str, list[tuple[int, datetime | None]]]:
    """Each caller number's booked calls: (row index, when; None when not dated)."""
    bookings: dict[str, list] = {}
    for i, fact in enumerate(facts):
        number = phone_digits(fact["caller"])
        if number and rules.is_booked(fact["label"]):
            bookings.setdefault(number, []).append((i, fact["when"]))
    return bookings


def _booked_since(i: int, fact: dict, bookings: dict) -> bool:
    """Whether the same number booked on another call: a later one, or one of unknown order (when either
    call is not dated, the booking is taken to have met the need)."""
    for j, when in bookings.get(phone_digits(fact["caller"]), []):
        if j != i and (when is None or fact["when"] is None or when > fact["when"]):
            return True
    return False


def tel_link(number: str) -> str:
    """"tel:+15550100199" for a number that has digits, else ""."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return ""
    return f"tel:+{digits}" if (number or "").strip().startswith("+") else f"tel:{digits}"


def call_name(source: str) -> str:
    """What a person calls the call: a recording's file name, or "calls_week.csv row 96" for a table row."""
    table_row = re.fullmatch(r"(.+\.[A-Za-z]+):(\d+)", source)
    if table_row:
        return f"{Path(table_row.group(1)).name} row {table_row.group(2)}"
    return Path(source).name


def first_words(transcript: str, count: int = FIRST_WORDS, company: Collection[str] = ()) -> str:
    """The caller's first words on one line, "…" when cut: the caller's turns of a split recording, else the
    transcript after the company's opening (opening_end); '' when the caller said nothing after it."""
    said = patterns.side(transcript, patterns.CALLER) or patterns.untagged(transcript)
    said = said[opening_end(said, company):].lstrip(" ,.;:!?\"“”'‘’")
    said = said if re.search(r"\w", said) else ""  # a closing quote mark is no words
    words = said.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def opening_end(text: str, company: Collection[str] = ()) -> int:
    """Where the company's opening ends in `text` (0: it opens with none): the leading sentences that greet,
    read a phone menu or a hold or voicemail message, or give the agent's name ("This is Penny."), with at most
    three short sentences between them ("Hello, Blend and Sons."). `company`, what the company says (its name's
    words and the sentences of its opening, lowercase), as learned at train."""
    end = gap = said = 0
    prompted = False  # after a voicemail prompt, "Hi, this is Mark." is the caller
    for m in patterns.SENTENCE.finditer(text):
        words = patterns.sentence_words(m.group(0))
        said += len(words)
        if said > OPENING_WORDS:
            break
        voicemail = bool(re.search(patterns.VOICEMAIL_PROMPT, m.group(0), re.I))
        if patterns.OPENING.search(m.group(0)) or _companys(words, company) or \
                (not prompted and patterns.AGENT_INTRODUCES.match(m.group(0))):
            end, gap, prompted = m.end(), 0, prompted or voicemail
        elif len(words) <= BETWEEN and gap < 3:
            gap += 1
        else:
            break
    return end


def _companys(words: list[str], company: Collection[str]) -> bool:
    """A sentence the company says: one learned whole, or its name with greeting words only ("Blend and Sons.")."""
    return bool(words) and bool(company) and (" ".join(words) in company or (
        any(w in company for w in words) and all(w in company or w in GREETING_WORDS for w in words)))
