"""Redaction measured: recall and precision per kind of personal data on call transcripts this script writes
(personal data planted the ways speech recognition writes it, with where each is), words wrongly removed,
the time it adds per call, and what redacting costs the classifier in macro-F1 on the real calls.

    python benchmarks/redaction.py [--calls 300]

Writes results/redaction.{json,md}. The planted transcripts are made here, from word lists, with a fixed seed.
"""

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CORES, TRANSCRIPTS, write_results  # noqa: E402

from callsort.privacy.redact import ENTITIES, Redactor  # noqa: E402

FIRST = ["Laura", "Mike", "Patricia", "Robert", "Jennifer", "David", "Maria", "James", "Linda", "Kevin", "Sofia",
         "Daniel", "Angela", "Thomas", "Nancy", "Brian", "Karen", "Steven", "Olivia", "Marcus"]
LAST = ["Jenkins", "Doyle", "Gomez", "Miller", "Nguyen", "Schmidt", "Okafor", "Rossi", "Patel", "Kowalski",
        "Brennan", "Harris", "Lopez", "Fischer", "Young", "Carter"]
STREETS = ["Maple", "Elm", "Lakeview", "Genova", "Oak", "Cedar Ridge", "Main", "Sycamore", "Willow", "Hillcrest"]
SUFFIXES = ["Street", "Avenue", "Road", "Lane", "Drive", "Court", "Way", "Boulevard"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
AGENTS = ["Holly", "Ellie", "Heather", "Dana", "Tom"]
FILLER = ["My furnace stopped working last night and the house is freezing.",
          "The technician can come tomorrow between eight and ten.", "It's eighty nine dollars for the diagnostic.",
          "We have two units, one upstairs and one in the basement.", "Is this for the water heater we installed?",
          "Can someone come out today? Our first opening is Tuesday at three.", "Okay, I'll check with my wife.",
          "The air conditioner is making a loud noise.", "We can do a free estimate on a new system.",
          "Alright, you're all set for Thursday the eighth.", "Thank you so much, have a good one."]


def spoken(digits: str, rng) -> str:
    words = ["oh" if d == "0" and rng.random() < 0.5 else DIGITS[int(d)] for d in digits]
    return " ".join(words)


def plant(kind: str, rng) -> str:
    """One piece of personal data of `kind`, written as an ASR transcript might."""
    number = "".join(str(rng.randint(0, 9)) for _ in range(10))
    if kind == "NAME":
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        return name if rng.random() < 0.8 else name.split()[0]
    if kind == "PHONE":
        return rng.choice([f"{number[:3]}-{number[3:6]}-{number[6:]}", f"{number[:3]} {number[3:6]} {number[6:]}",
                           f"{spoken(number[:3], rng)}, {spoken(number[3:6], rng)}, {spoken(number[6:], rng)}",
                           f"555 {number[:4]}", f"five five five, {spoken(number[:4], rng)}"])
    if kind == "EMAIL":
        user, host = rng.choice(FIRST).lower(), rng.choice(["gmail", "yahoo", "outlook", "aol"])
        return rng.choice([f"{user}.{rng.choice(LAST).lower()}@{host}.com", f"{user} at {host} dot com",
                           f"{' '.join(user)} at {host} dot com", f"{user} dot {rng.choice(LAST).lower()} at {host} dot com"])
    if kind == "ADDRESS":
        house = str(rng.randint(10, 9999))
        street = f"{rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
        return rng.choice([f"{house} {street}", f"{spoken(house, rng)} {street}", f"{house} {street.lower()}"])
    if kind == "CARD":
        card = "4" + "".join(str(rng.randint(0, 9)) for _ in range(15))
        groups = [card[i:i + 4] for i in range(0, 16, 4)]
        return rng.choice([" ".join(groups), ", ".join(spoken(g, rng) for g in groups), "-".join(groups)])
    month = rng.choice(["March", "July", "October", "January", "May"])
    return rng.choice([f"{month} {rng.randint(1, 28)}, 19{rng.randint(40, 99)}",
                       f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/19{rng.randint(40, 99)}",
                       f"{month} {rng.choice(['third', 'fourth', '21st'])}, nineteen {rng.choice(['seventy two', 'eighty', 'sixty five'])}"])


LEADS = {"NAME": ["my name is {}.", "this is {} calling.", "it's under {}.", "the account is for {}."],
         "PHONE": ["my number is {}.", "you can reach me at {}.", "call me back at {}."],
         "EMAIL": ["my email is {}.", "send it to {}."], "ADDRESS": ["I live at {}.", "the address is {}."],
         "CARD": ["the card number is {}.", "I'll pay with card {}."],
         "DATE_OF_BIRTH": ["I was born on {}.", "my date of birth is {}."]}


def make_call(rng) -> tuple[str, list[tuple[int, int, str]]]:
    """A transcript and where its planted personal data is: [(start, end, kind)]."""
    agent = rng.choice(AGENTS)
    parts, planted = [f"Thank you for calling Northside Heating, this is {agent}, how can I help you?"], []
    for kind in rng.sample(ENTITIES, k=rng.randint(2, 4)):
        parts.append(rng.choice(FILLER))
        value = plant(kind, rng)
        lead = rng.choice(LEADS[kind])
        before = " ".join(parts) + " " + lead[:lead.index("{}")]
        planted.append((len(before), len(before) + len(value), kind))
        parts.append(lead.format(value).capitalize() if lead.startswith("{") else lead.format(value))
    parts.append(rng.choice(FILLER))
    return " ".join(parts), planted


def score(calls, redactor) -> dict:
    found = {k: [0, 0] for k in ENTITIES}  # kind -> [planted spans fully removed, planted spans]
    typed = {k: [0, 0] for k in ENTITIES}  # kind -> [spans of that kind on planted data of that kind, spans]
    spans_total, spans_right, words_kept_total, words_lost = 0, 0, 0, 0
    seconds = []
    for text, planted in calls:
        started = time.perf_counter()
        spans = redactor.find(text)
        seconds.append(time.perf_counter() - started)
        removed = np.zeros(len(text), bool)
        for s in spans:
            removed[s.start:s.end] = True
        is_pii = np.zeros(len(text), bool)
        for start, end, kind in planted:
            is_pii[start:end] = True
            found[kind][1] += 1
            core = [i for i in range(start, end) if text[i].isalnum()]
            found[kind][0] += all(removed[i] for i in core)
        spans_total += len(spans)
        spans_right += sum(1 for s in spans if is_pii[s.start:s.end].any())
        for s in spans:
            typed[s.entity][1] += 1
            typed[s.entity][0] += any(s.start < end and start < s.end and kind == s.entity
                                      for start, end, kind in planted)
        for m in re.finditer(r"\w+", text):
            if not is_pii[m.start():m.end()].any():
                words_kept_total += 1
                words_lost += bool(removed[m.start():m.end()].any())
    return {"recall": {k: round(a / b, 3) if b else None for k, (a, b) in found.items()},
            "planted": {k: b for k, (_, b) in found.items()}, "precision": round(spans_right / max(spans_total, 1), 3),
            "precision_by_kind": {k: round(a / b, 3) if b else None for k, (a, b) in typed.items()},
            "spans_by_kind": {k: b for k, (_, b) in typed.items()},
            "spans": spans_total, "words_wrongly_removed": words_lost, "other_words": words_kept_total,
            "ms_per_call": round(1000 * float(np.median(seconds)), 1)}


def classifier_cost(redactor) -> dict | None:
    """macro-F1 of the tf-idf kind on accuracy.py's fixed test part, trained and scored on redacted text vs not
    (the redactor keeping what `train` learns from the tuning calls), with a paired bootstrap interval of the
    difference (the same resampled test calls for both)."""
    if not TRANSCRIPTS.is_file():
        return None
    from accuracy import split
    from common import real_calls
    from sklearn.metrics import f1_score

    import callsort
    from callsort.models.evaluate import classification_metrics
    from callsort.privacy.keep import learn_keep_list
    from callsort.privacy.redact import Redactor

    table = real_calls()
    tune_idx, test_idx = split(table)
    redactor = Redactor(keep=learn_keep_list([table.texts[i] for i in tune_idx]))
    started = time.perf_counter()
    redacted = callsort.CallTable([redactor.redact(t)[0] for t in table.texts], table.sources, table.labels)
    per_call = (time.perf_counter() - started) / len(table)
    out, predicted = {"s_per_real_call": round(per_call, 3)}, {}
    for name, data in (("plain", table), ("redacted", redacted)):
        model = callsort.train(data.subset(tune_idx), callsort.TrainConfig(model="tfidf"), progress=False).model
        test = data.subset(test_idx)
        predicted[name] = [p.label for p in model.predict(test.texts)]
        out[name] = round(classification_metrics(test.labels, predicted[name], model.labels)["macro_f1"], 4)
    truth, rng, diffs = np.array(test.labels), np.random.default_rng(20261130), []
    plain, red = np.array(predicted["plain"]), np.array(predicted["redacted"])
    for _ in range(1000):
        i = rng.integers(0, len(truth), len(truth))
        diffs.append(f1_score(truth[i], red[i], average="macro", zero_division=0)
                     - f1_score(truth[i], plain[i], average="macro", zero_division=0))
    out["difference_interval_90"] = [round(float(np.percentile(diffs, 5)), 4), round(float(np.percentile(diffs, 95)), 4)]
    return out


def word_time_cost(repeats: int = 3) -> dict:
    """Seconds to transcribe the two shipped recordings with --redact, with and without --redact-audio (word
    times), interleaved in one run; medians."""
    import tempfile

    from callsort import AsrConfig, RunNeeds
    from callsort.demo import SAMPLE_RECORDINGS, sample_path

    paths = [str(sample_path(n)) for n in SAMPLE_RECORDINGS]
    times = {"redact": [], "redact_audio": []}
    with tempfile.TemporaryDirectory() as out:
        plain = RunNeeds.build(AsrConfig(redact=True, use_cache=False))  # Whisper, then redaction
        audio = RunNeeds.build(AsrConfig(redact=True, use_cache=False, redact_audio=out))
        for needs in (plain, audio):  # warm-up: Whisper and spaCy loaded
            list(needs.transcriber.transcripts(paths[:1]))
        for _ in range(repeats):
            for name, needs in (("redact", plain), ("redact_audio", audio)):
                started = time.perf_counter()
                list(needs.transcriber.transcripts(paths))
                times[name].append(time.perf_counter() - started)
    return {k: round(statistics.median(v), 2) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(20261129)
    calls = [make_call(rng) for _ in range(args.calls)]
    started = time.perf_counter()
    redactor = Redactor()
    load_s = time.perf_counter() - started
    result = {"date": time.strftime("%Y-%m-%d"), "cores": CORES, "calls": len(calls), "load_s": round(load_s, 1),
              **score(calls, redactor), "classifier": classifier_cost(redactor), "word_times": word_time_cost()}
    r = result
    lines = [f"# Redaction ({r['date']}, {CORES} cores)", "",
             f"{r['calls']} call transcripts written by `benchmarks/redaction.py` (seed 20261129), 2–4 pieces of "
             "personal data planted in each, as speech recognition writes them.", "",
             "| kind | planted | recall (every letter and digit removed) | spans found | precision (of that kind, on data of that kind) |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {k} | {r['planted'][k]} | {r['recall'][k]:.3f} | {r['spans_by_kind'][k]} | "
              f"{r['precision_by_kind'][k]:.3f} |" for k in ENTITIES]
    lines += ["", f"Precision (redacted stretches that hold planted data): {r['precision']:.3f} of {r['spans']}. "
              f"Other words wrongly removed: {r['words_wrongly_removed']} of {r['other_words']} "
              f"({r['words_wrongly_removed'] / r['other_words']:.2%}). Median {r['ms_per_call']} ms per call "
              f"(plus {r['load_s']} s to load spaCy and Presidio once)."]
    if r["classifier"]:
        c = r["classifier"]
        lines += ["", f"Classifier cost on the real calls (tf-idf, fixed test part of accuracy.py; paired bootstrap "
                  f"90 % interval of redacted minus plain: {c['difference_interval_90']}): macro-F1 "
                  f"{c['plain']:.3f} on plain text, {c['redacted']:.3f} with training and test text redacted "
                  f"({c['s_per_real_call']} s per real transcript to redact)."]
    w = r["word_times"]
    lines += ["", f"--redact-audio (word times from Whisper, silenced copies written) on the two shipped recordings "
              f"(50 s of audio), median of 3 interleaved runs: {w['redact_audio']} s against {w['redact']} s with "
              f"--redact alone ({w['redact_audio'] / w['redact']:.2f}x)."]
    write_results("redaction", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
