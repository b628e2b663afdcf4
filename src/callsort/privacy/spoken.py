"""How people say personal data on the phone, as speech recognition writes it down: the recognisers that a
general name finder misses (designed on 100 real calls marked by reading; benchmarks/README.md, "Redaction
on real calls").

- spelled runs and spelling alphabets: "W-I-L-K-I-N-S", "D as in David, A-M-A-R-I-S", "B like boy";
- name-giving phrases and answers to "what is your name?": "my name is", "it's", "last name. Thult.",
  "Ms. Leahy", "is this nate?", lowercase and unusual names included;
- streets with or without a house number, the number split off by a full stop or a question mark, zip codes,
  and what follows "the address is";
- phone numbers in pieces ("The 330329. Okay. 2383");
- e-mail usernames of several words ("JRC seven, five, eight@gmail.com", "Derekrcholt at Gmail").

Each finder returns (start, end, entity) triples; redact.py merges them with the name finder's, then removes
every other mention of what was found (one call, one memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..speech.patterns import DIGIT_TOKEN, DIGIT_WORDS, PLACE

STOP_WORDS = ENGLISH_STOP_WORDS | {"i'm", "i'll", "i've", "i'd", "it's", "that's", "don't", "can't", "didn't",
                                   "you're", "we're", "they're", "he's", "she's", "let's", "what's", "there's"}


@dataclass
class Span:
    """One redacted stretch of a text: [start, end) and its type."""

    start: int
    end: int
    entity: str


STREET = (r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|way|boulevard|blvd|place|pl|circle|"
          r"parkway|pkwy|terrace|trail|highway|hwy|route|creek|crest|run|pike|cove|bend|crossing|loop|path|"
          r"square|row|pointe|point|ridge)")
DIRECTION = r"(?:north|south|east|west)(?:east|west)?"
WORD = r"[A-Za-z][A-Za-z'’]*"

# words that are never a name, whatever precedes them (beyond spaCy's stop words)
CALL_WORDS = frozenset("""okay ok yes yeah yep no nope sure correct perfect great right alright fine good well
    hello hi hey thanks thank please sorry calling call called speaking trying looking going wondering just
    actually basically still also here there sir ma'am mam maam customer service account name last first
    number phone address email e-mail home cell work street road drive avenue lane court the that's it's
    about from with for like so um uh oh hmm and but or not now today tomorrow morning afternoon evening
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december spell spelled spelling letter letters correct perfect
    appointment service plumbing heating cooling electric electrical furnace unit water heater ac air
    conditioner system technician tech office company gonna wanna mister miss mrs ms mr dr doctor visa
    mastercard discover amex american express card got gotcha say contact mondays tuesdays wednesdays thursdays
    fridays saturdays sundays mornings afternoons evenings weekends honey sweetie sweetheart dear darling hun hon
    buddy bud babe baby residential commercial gmail yahoo hotmail aol icloud outlook com net org dot""".split())

SPELLED_LETTER = r"(?:[A-Za-z](?:[-‐][A-Za-z]){2,})"  # W-I-L-K
# C as in Charlie, B like boy (never "I'd like to": a capital letter standing alone, and not "I like")
ALPHABET = rf"(?:(?<![\w'’])(?:[A-Za-z],?\s+as in|[A-HJ-Z]\s+like)\s+{WORD})"
SPELLED_PART = rf"(?:{SPELLED_LETTER}(?:\s+(?:as in|like)\s+{WORD})?|{ALPHABET})"
SPELLED_RUN = re.compile(rf"{SPELLED_PART}(?:(?:[\s.,]+|\s+or\s+){SPELLED_PART})*")

# after these, a name even in lowercase ("is it rosemary"); after the weaker cues, only a capitalised word
NAME_CUE = re.compile(
    r"\b(?:my name is|name is|name's|(?:first|last|middle) name(?: is)?|name on the (?:card|account)(?: is)?|"
    r"your (?:first |last )?name[?.:]|name,? please[?.]?|name of|mrs?\.?|ms\.?|miss|mister|dr\.?|is this(?: for)?|is it)[\s,.?:]+",
    re.I)
WEAK_NAME_CUE = re.compile(r"\b(?:this is|it's|it is|i am|i'm|speaking with|put|under|hi|hey|hello|and|voicemail for|"
                           r"mailbox for|over to|speak (?:to|with)|transfer you to|transferring you to|technician|tech|"
                           r"\bname\b[^.?!]{0,50}\?|my (?:wife|husband|son|daughter|mother|father|mom|dad|brother|sister|"
                           r"tenant|landlord|neighbou?r|friend)(?:'s)?)[\s,.?:]+", re.I)
NOT_NAME_ENDINGS = ("ing", "ed", "ly", "able", "ible", "est", "ful", "ous", "ive", "less")
NAME_WORD = re.compile(rf"({WORD})[.,?]?(?:\s+|$)")
ORDINAL = r"\d+(?:st|nd|rd|th)\b"
STREET_NAME = re.compile(
    rf"\b(?:(?:{DIGIT_TOKEN}[\s\-:]+){{0,5}}{DIGIT_TOKEN}[.?,]?\s+)?(?:{DIRECTION}\s+)?(?:(?:{SPELLED_LETTER}|{ORDINAL}|{WORD})[.,]?\s+){{1,3}}"
    rf"{STREET}\b(?:,?\s+(?:{DIRECTION}|(?:unit|apt\.?|apartment|lot|suite)\s+\w+))*", re.I)
ADDRESS_ANSWER = re.compile(
    rf"\baddress\b[^.?!]{{0,40}}[?.:]?\s+(?:(?:it's|it is|is|yes|yeah|okay|sure)[.,]?\s+){{0,2}}"
    rf"(?P<x>(?:{DIGIT_TOKEN}[\s\-.,]+){{0,5}}{DIGIT_TOKEN}[.?,]?(?:\s+{WORD}){{1,3}}|\d{{2,6}}(?=[.,]))", re.I)
UNITS = (r"\s*(?:square|sq\b|sqft|feet|foot|ft\b|miles?|gallons?|btus?|tons?|amps?|volts?|watts?|years?|percent|"
         r"degrees|pounds|lbs|hours|minutes|dollars|a month|a year|per|monthly|o['’]clock)")
ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
NUMBER_RUN = re.compile(rf"\b{DIGIT_TOKEN}(?:[\s,.\-/]+{DIGIT_TOKEN})*\b", re.I)
EMAIL_AT = re.compile(r"(?:@[\w-]+(?:\.[\w-]+)+|\s+at\s*@?\s*(?:gmail|yahoo|hotmail|aol|icloud|outlook|msn|live|"
                      r"comcast|att|sbcglobal|spcglobal|protonmail|ymail)\b(?:\s*(?:dot|\.)\s*(?:com|net|org))?|"
                      r"\s+at\s+(?:(?!at\s)[\w\-,.]+\s+){0,12}?[\w\-]*(?:\.|\s+dot\s+)(?:com|net|org|edu|gov|us)\b)",
                      re.I)
EMAIL_STOP = frozenset("is it's it to me email e-mail address mine use have an a the my that which was and".split())


def is_common(word: str, keep: frozenset[str] = frozenset()) -> bool:
    """A word that is never a person's name: a stop word, a word of every call, a number, or kept."""
    w = word.lower().strip(".,?!'’ \n")
    return (len(w) < 2 or w in STOP_WORDS or w in CALL_WORDS or w in keep or not w.isalpha()
            or re.fullmatch(DIGIT_WORDS, w) is not None)


def places(text: str) -> set[str]:
    """Lowercase words said as a town in this call: after "in"/"near"/"the city?", before ", Ohio"/"county"
    ("I live in Norton", "Richfield, Ohio", "What city is that? Richfield.")."""
    found = set()
    for m in PLACE.finditer(text):
        found |= {w.lower() for w in re.findall(WORD, m.group("x") or m.group("y") or m.group("z") or "")}
    return {w for w in found if w not in STOP_WORDS}


def spelled(text: str) -> list[tuple[int, int, str]]:
    """Spelled runs: an ADDRESS next to a street word, an EMAIL next to "at"/"@", else a NAME."""
    found = []
    for m in SPELLED_RUN.finditer(text):
        after, before = text[m.end():m.end() + 30].lower(), text[max(0, m.start() - 30):m.start()].lower()
        kind = ("ADDRESS" if re.search(rf"\b{STREET}\b", after[:15] + " " + before[-20:]) else
                "EMAIL" if re.match(r"\W*(?:at\b|@)", after) else "NAME")
        found.append((m.start(), m.end(), kind))
    return found


def spelled_words(text: str) -> set[str]:
    """The words spelled out in a text ("T-I-G-H-E" -> "tighe"), to find them said whole."""
    found = {re.sub(r"[^a-z]", "", m.group(0).lower()) for m in re.finditer(SPELLED_LETTER, text)}
    for run in SPELLED_RUN.finditer(text):
        letters = re.sub(rf"\b([A-Za-z]),?\s+(?:as in|like)\s+{WORD}", r"\1", run.group(0))
        found.add(re.sub(r"[^a-z]", "", letters.lower()))
    return {w for w in found if len(w) > 2}


def given_names(text: str, keep: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """Up to three name-like words after a name-giving phrase ("my name is Tara. Rupert."), lowercase too."""
    found = []
    cues = [(m, False) for m in NAME_CUE.finditer(text)] + [(m, True) for m in WEAK_NAME_CUE.finditer(text)]
    for cue, weak in cues:  # after a strong cue a common word can be a surname ("last name is Price")
        at = cue.end()
        for n in range(3):
            m = NAME_WORD.match(text, at)
            if not m or is_common(m.group(1), keep if weak else frozenset()) or \
                    (m.group(1).islower() and m.group(1).endswith(NOT_NAME_ENDINGS)) or \
                    (weak and n == 0 and not m.group(1)[0].isupper()):
                break
            found.append((m.start(1), m.end(1), "NAME"))
            at = m.end()
    return found + beside_spelled(text, keep)


def beside_spelled(text: str, keep: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """The word said just before or after a spelled name ("Damaris. I'll spell it. D as in David, …. Price.")."""
    found = []
    for start, end, kind in spelled(text):
        if kind != "NAME":
            continue
        after = NAME_WORD.match(text, end + len(text[end:]) - len(text[end:].lstrip(" .,")))
        before = re.search(rf"({WORD})[.,]?\s*$", text[max(0, start - 30):start])
        for m, offset in ((after, 0), (before, max(0, start - 30))):
            if m and not is_common(m.group(1)) and not m.group(1).lower().endswith(NOT_NAME_ENDINGS):
                found.append((offset + m.start(1), offset + m.end(1), "NAME"))
    return found


def streets(text: str, keep: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """Streets with or without a number, what answers "the address?", and zip codes."""
    found = []
    for m in STREET_NAME.finditer(text):
        start = m.start()  # drop leading common words ("is this for Fairmont Boulevard": from Fairmont)
        for w in re.finditer(rf"{WORD}[.,]?\s+", m.group(0)):
            if not is_common(w.group(0), keep) or re.match(DIGIT_TOKEN, w.group(0), re.I):
                break
            start = m.start() + w.end()
        name = text[start:m.end()]
        types = list(re.finditer(rf"\b{STREET}\b", name, re.I))
        named = name[:types[-1].start()] if types else name  # the words before the street type
        if not re.search(r"[A-Za-z]", named):
            continue
        # without a number, a street's name holds no stop word: not "resend it that way", "into place"
        said = re.sub(rf"{SPELLED_LETTER}|\b[A-Za-z],?\s+(?:as in|like)\s+{WORD}", " ", named)  # spellings aside
        if re.match(rf"{DIGIT_TOKEN}{UNITS}", name, re.I):  # "a 20 foot long run"
            continue
        if re.match(DIGIT_TOKEN, name, re.I) or not any(len(w) > 1 and w.lower() in STOP_WORDS for w in re.findall(WORD, said)):
            found.append((start, m.end(), "ADDRESS"))
    found += [(m.start("x"), m.end("x"), "ADDRESS") for m in ADDRESS_ANSWER.finditer(text)]
    found += [(m.start(), m.end(), "ADDRESS") for m in ZIP.finditer(text)]
    found += [(m.start(), m.end(), "ADDRESS") for m in re.finditer(rf"\b{ORDINAL}\s+{DIRECTION}\b", text, re.I)]
    return found


def number_pieces(text: str) -> list[tuple[int, int, str]]:
    """Runs of four or more digits that are not money or a year: pieces of phone numbers, house numbers."""
    found = []
    for m in NUMBER_RUN.finditer(text):
        digits = sum(len(d) if d.isdigit() else 1 for d in re.findall(rf"\d+|{DIGIT_WORDS}", m.group(0), re.I))
        bare = m.group(0).strip()
        money = text[max(0, m.start() - 1):m.start()] == "$" or re.match(r"\s*(?:dollars|bucks|k\b)", text[m.end():], re.I)
        time = re.fullmatch(r"(?:0?[1-9]|1[0-2])[0-5]\d", bare) and (  # "at 1230", "1230 to 215": a time
            re.search(r"\b(?:at|around|by|between|from|to|until|till|before|after|and|or|have)\s+$",
                      text[max(0, m.start() - 10):m.start()], re.I)
            or re.match(r"\s+(?:to|or|until|till)\b|\s*(?:a\.?m|p\.?m|o'clock)", text[m.end():], re.I))
        year = re.fullmatch(r"(?:19[5-9]\d|20[0-3]\d)", bare)
        measured = re.match(rf"{UNITS}|['’]clock", text[m.end():], re.I)  # "1300 square foot", "435 o'clock"
        area_code = digits == 3 and (re.match(r"\s+number\b", text[m.end():], re.I) or (  # "the 202 number"
            re.fullmatch(rf"{DIGIT_WORDS}\s+\d\d", bare, re.I) and
            re.search(r"\b(?:number|phone|cell|call)\b", text[max(0, m.start() - 80):m.start()], re.I) and
            not re.search(r"\b(?:at|around|by|about|after|before|until)\s+$", text[max(0, m.start() - 10):m.start()], re.I)))
        if area_code:
            found.append((m.start(), m.end(), "PHONE"))
        elif digits >= 4 and not money and not year and not time and not measured and re.search(r"\d", bare):
            found.append((m.start(), m.end(), "PHONE" if digits >= 7 or "number" in text[max(0, m.start() - 60):m.start()].lower() else "ADDRESS"))
    return found


def email_users(text: str) -> list[tuple[int, int, str]]:
    """An e-mail's user part said as several words, back to the words that introduce it."""
    found = []
    for m in EMAIL_AT.finditer(text):
        start = m.start()
        for w in reversed(list(re.finditer(r"\S+", text[max(0, m.start() - 80):m.start()]))):
            word = w.group(0).lower().strip(",")
            if word in EMAIL_STOP or word.endswith(("?", ":")) or (word.endswith(".") and len(word) > 3):
                break
            start = max(0, m.start() - 80) + w.start()
        if start < m.start() or m.group(0).startswith("@"):
            found.append((start, m.end(), "EMAIL"))
    return found


def joined(text: str, spans: list) -> list:
    """Spans of one address or one name said in pieces, joined: pieces apart by only punctuation and a space
    ("1175 Dorset. D-O-R-S-E-T. Court"), and an address stretched over the street word or house number beside
    it, so that no piece of it is left."""
    out: list = []
    for s in spans:
        if s.entity == "PHONE":  # the area code said apart: "Three 30. Um, 322-4411"
            before = re.search(rf"\b(?:{DIGIT_TOKEN}[\s\-]+)*{DIGIT_TOKEN}[.,]?\s+(?:(?:um|uh|so|and|it's|it is)[.,]?\s+)?$",
                               text[max(0, s.start - 30):s.start], re.I)
            s = Span(s.start - (len(before.group(0)) if before else 0), s.end, s.entity)
        if s.entity == "ADDRESS":
            after = re.match(rf"[\s.,]*\b{STREET}\b(?:\s+{DIRECTION})?", text[s.end:], re.I)
            before = re.search(rf"\b(?:{DIGIT_TOKEN}[\s\-]+)*{DIGIT_TOKEN}[.?,]?\s+$", text[max(0, s.start - 40):s.start], re.I)
            s = Span(s.start - (len(before.group(0)) if before else 0), s.end + (after.end() if after else 0), s.entity)
        if out and out[-1].entity == s.entity and s.entity in ("ADDRESS", "NAME") and \
                re.fullmatch(r"[\s.,?]{0,3}", text[out[-1].end:s.start]):
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end), s.entity)
        elif out and s.start < out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end), out[-1].entity)
        else:
            out.append(s)
    return out
