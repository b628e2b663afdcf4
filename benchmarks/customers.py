"""New or existing, with the customer list: a simulation on the fixed test part, written down as one.

No real customer list exists. The one simulated here is built from the readers' marks of the test part
(annotations/real_pii_test.json, marked for the redaction benchmark in a pass nobody tuned on): each call
tagged *Existing Customer* becomes a customer — the first caller's name the reader marked (two words or
more, or two single-word names joined), the first phone number, the first address with a house number —
spelled as heard ("exact") or with ASR-like errors added ("perturbed": a letter dropped, doubled or
swapped in each name word; the customer list holds the true spelling, the call what was heard); plus 300
other customers with made-up names, numbers and streets. The list is then 100 %, 80 % or 50 % complete (a
share of the Existing callers left out; `--customers-complete` only at 100 %).

Scored on the annotated lead calls in which the caller gives a name, number or street: the New/Existing
side (the list's verdict, else the model's, tf-idf trained on the tuning part) against the tag, with a 90 %
Wilson interval; and how many New callers were matched to someone. Writes results/customers.{json,md}.

    python customers.py
"""

from __future__ import annotations

import json
import random
import re

import numpy as np
from accuracy import split
from common import RESULTS, real_calls
from redaction_real import marks_of

import callsort
from callsort.evidence.customers import Customer, CustomerList, CustomerMatcher
from callsort.insights.rules import LeadRules


def wilson(k: int, n: int, z: float = 1.645) -> list[float]:
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(centre - half), 3), round(float(centre + half), 3)]


def perturbed(word: str, rng: random.Random) -> str:
    """The spelling a customer list might hold for a name heard as `word`: one letter dropped, doubled or
    swapped with its neighbour (what ASR does to names)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice([word[:i] + word[i + 1:], word[:i] + word[i] + word[i:], word[:i] + word[i + 1] + word[i] + word[i + 2:]])


def customer_of(text: str, marks: list, rng: random.Random | None) -> Customer | None:
    words = lambda piece: [w for w in re.findall(r"[a-z]+", piece.lower()) if len(w) > 1]  # noqa: E731
    names = [words(text[a:b]) for a, b, k in marks if k == "caller_name" and "-" not in text[a:b]]
    full = next((n for n in names if len(n) >= 2), None) or (names[0] + names[1] if len(names) >= 2 else None)
    phone = next((re.sub(r"\D", "", text[a:b]) for a, b, k in marks if k == "phone"
                  and len(re.sub(r"\D", "", text[a:b])) >= 7), "")
    address = next((text[a:b] for a, b, k in marks if k == "address" and re.match(r"\s*\d+\s+[A-Za-z]", text[a:b])), "")
    house = re.match(r"\s*(\d+)", address)
    if not (full or phone or house):
        return None
    full = [perturbed(w, rng) for w in full] if full and rng else (full or [])
    return Customer(full[:3], phone[-10:], house.group(1) if house else "",
                    " ".join(words(re.sub(r"^\s*\d+", "", address))), "")


def others(rng: random.Random, n: int = 300) -> list[Customer]:
    first = "ann bob carl dina eric fay gus hana ivan jill kurt lena mona ned olga pete quin rosa sven tina".split()
    last = "abbott barlow cotter dunmore ellery fenwick garrow hollis ingram jessop kettle lowell".split()
    return [Customer([rng.choice(first), rng.choice(last) + str(i)], f"440{rng.randrange(10**6, 10**7)}",
                     str(rng.randrange(1, 9999)), rng.choice(["maple street", "oak avenue", "pine road"]), "")
            for i in range(n)]


def main() -> None:
    from callsort.privacy.keep import learn_keep_list
    from callsort.privacy.redact import Redactor

    table = real_calls()
    tune, test = split(table)
    rules = LeadRules()
    marks = marks_of("test")
    texts = {int(s.rsplit(":", 1)[1]): (t, label) for s, t, label in zip(table.sources, table.texts, table.labels, strict=False)}
    model = callsort.train(table.subset(tune), callsort.TrainConfig(model="tfidf"), progress=False).model
    redactor = Redactor(keep=learn_keep_list([table.texts[i] for i in tune]))
    leads = {r: texts[r] for r in marks if rules.is_lead(texts[r][1])}
    giving = {r: v for r, v in leads.items() if any(k in ("caller_name", "phone", "address") for _, _, k in marks[r])}
    model_side = {r: "existing" if "Existing" in p.label else "new" if "New" in p.label else ""
                  for r, p in zip(giving, model.predict([t for t, _ in giving.values()]), strict=False)}
    results = {}
    for spelling in ("exact", "perturbed"):
        rng = random.Random(20261130)
        existing = {r: customer_of(t, marks[r], rng if spelling == "perturbed" else None)
                    for r, (t, label) in giving.items() if rules.is_existing(label)}
        existing = {r: c for r, c in existing.items() if c}
        for complete in (1.0, 0.8, 0.5):
            kept = sorted(existing)[: int(round(len(existing) * complete))] if complete < 1 else sorted(existing)
            listing = CustomerList([existing[r] for r in kept] + others(random.Random(7)))
            matcher = CustomerMatcher(listing, redactor, complete=complete == 1.0)
            right, wrong_new, new_calls = 0, 0, 0
            for r, (text, label) in giving.items():
                verdict, _ = matcher.verdict(text)
                side = verdict or model_side[r]
                truth = "existing" if rules.is_existing(label) else "new"
                right += side == truth
                if truth == "new":
                    new_calls += 1
                    wrong_new += verdict == "existing"
            results[f"{spelling}, list {complete:.0%} complete"] = {
                "side_right": right, "calls": len(giving), "share": round(right / len(giving), 3),
                "interval_90": wilson(right, len(giving)), "new_callers": new_calls, "new_matched": wrong_new}
    model_right = sum(model_side[r] == ("existing" if rules.is_existing(label) else "new")
                      for r, (_, label) in giving.items())
    results["no list (the model alone)"] = {"side_right": model_right, "calls": len(giving),
                                            "share": round(model_right / len(giving), 3),
                                            "interval_90": wilson(model_right, len(giving))}
    (RESULTS / "customers.json").write_text(json.dumps(results, indent=2))
    lines = ["# New or existing, with the customer list (a simulation on the fixed test part)", "",
             "| list | side right | of | share | 90 % interval | New callers matched to someone |", "|---|---:|---:|---:|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['side_right']} | {r['calls']} | {r['share']:.2f} | {r['interval_90']} | "
                     f"{str(r.get('new_matched', '–')) + ' of ' + str(r['new_callers']) if 'new_callers' in r else '–'} |")
    (RESULTS / "customers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
