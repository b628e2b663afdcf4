"""What is not personal: words common across many calls of the company (its name in every ASR spelling, its
website, its towns, its services), learned from the training calls and saved with the model, plus phrases
the user gives (`--keep`). A redacted stretch made only of kept words is left in place.

Learned without learning people: a word is kept only when it is said in at least MIN_SHARE of the training
calls (and MIN_CALLS of them), so one caller's name or street cannot reach the list, and never when the
greeting rule takes it for an agent's name or the name-giving phrases (spoken.py: "my name is …", "this is
…") give it as a person's name in two calls or more (agents greet in every call, technicians are named across
many). The company's own name, which a name finder takes for a person ("Blindensun's"), is learned from
where the company says it: the words after "thank you for calling", in as many calls. Learning takes well
under a second on 580 calls; Presidio's spaCy model took a minute and excluded nothing more.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..speech.patterns import AFTER_PLACE, AGENT, BEFORE_PLACE, COMPANY, SENTENCE, sentence_words, side
from .spoken import CALL_WORDS, STOP_WORDS, given_names, is_common

FILE = "keep_words.json"
ROLES = frozenset("website info service support office contact sales help billing accounting".split())  # e-mail users
MIN_SHARE, MIN_CALLS = 0.03, 5
OPENING_WORDS, OPENING_SENTENCE = 200, 4  # where a company's opening is said; its sentences' fewest words
TOKEN = re.compile(r"[\w@.'’-]+")


def tokens(text: str) -> list[str]:
    """Lowercased words, with e-mail and web addresses whole ("website@blindensuns.com")."""
    words = (re.sub(r"['’]s$", "", t.strip(".,'’-").lower()) for t in TOKEN.findall(text))
    return [w for w in words if w]


@dataclass
class KeepList:
    """Words (lowercase) and phrases never redacted."""

    words: frozenset[str] = frozenset()
    phrases: tuple[str, ...] = ()
    learned_from: int = field(default=0)  # training calls the words were learned from
    company: frozenset[str] = frozenset()  # of `words`, those of the company's name (after "thank you for calling")
    opening: frozenset[str] = frozenset()  # sentences of the company's greeting and menu (sentence_words joined)

    @property
    def company_says(self) -> frozenset[str]:
        """The company's name's words and its opening's sentences: what the ring-back list skips."""
        return self.company | self.opening

    def covers(self, text: str, span) -> bool:
        """Whether a found stretch is made only of kept words (with at least one), or lies in a kept phrase."""
        piece = text[span.start:span.end]
        if any(span.start >= m.start() and span.end <= m.end() for p in self.phrases
               for m in re.finditer(re.escape(p), text, re.I)):
            return True
        words = tokens(piece)
        user = re.split(r"@|\s+at\s+", piece.lower().strip())[0].split()
        if span.entity == "EMAIL" and user and user[-1].strip(" .,") in ROLES:
            return True  # the company's own address ("website@…" in its phone menu): a role, not a person
        if span.entity in ("ADDRESS", "PHONE", "CARD") and re.search(r"\d", piece):
            return False
        # a place, not a person: "out in Aurora", "Portage county" (a name finder takes towns for people)
        if span.entity == "NAME" and (self._company_beside(text, span) or BEFORE_PLACE.search(text[:span.start])
                                      or AFTER_PLACE.match(text[span.end:])):
            return True
        return bool(words) and any(w in self.words for w in words) and all(
            w in self.words or is_common(w) for w in words)

    def _company_beside(self, text: str, span) -> bool:
        """A name that is the company's, misheard: its last word, or the next ("Glenn and Suns"), is one of the
        company's words, or it follows "calling"."""
        words = tokens(text[span.start:span.end])
        after = re.match(r"[\s,]+(?:and\s+|&\s+)?([\w'’]+)", text[span.end:])
        return bool(words and words[-1] in self.company) or bool(after and tokens(after.group(1))[:1] and
                                                                  tokens(after.group(1))[0] in self.company) \
            or bool(re.search(r"\bcalling\s+$", text[max(0, span.start - 12):span.start], re.I))

    def with_phrases(self, phrases: list[str]) -> KeepList:
        """This list and the user's phrases (their single words join the words)."""
        phrases = [p.strip() for p in phrases if p.strip()]
        return KeepList(self.words | {w for p in phrases for w in tokens(p)}, self.phrases + tuple(phrases),
                        self.learned_from, self.company, self.opening)

    def save(self, folder: str | Path) -> None:
        (Path(folder) / FILE).write_text(json.dumps({"learned_from_calls": self.learned_from, "min_share": MIN_SHARE,
                                                     "words": sorted(self.words), "company": sorted(self.company),
                                                     "opening": sorted(self.opening)},
                                                    indent=0))

    @classmethod
    def load(cls, folder: str | Path | None) -> KeepList:
        """The list saved with a model folder (empty for a model without one)."""
        path = Path(folder) / FILE if folder else None
        if path is None or not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        return cls(frozenset(data["words"]), (), data.get("learned_from_calls", 0), frozenset(data.get("company", ())),
                   frozenset(data.get("opening", ())))


def learn_keep_list(texts: list[str]) -> KeepList:
    """The words said in at least MIN_SHARE (and MIN_CALLS) of `texts`, less stop words, agents' names from
    greetings and words given as a person's name (spoken.given_names: "my name is …", "this is …") in two or
    more calls or a tenth of the calls that say them; plus the company's words (after "thank you for
    calling"), and the sentences of its opening (said near the start of as many calls: its greeting, menu and
    voicemail prompt, for the ring-back list)."""
    from ..speech.agent import agent_name

    said = Counter(w for text in texts for w in set(tokens(text)))
    agents = {agent_name(text).lower() for text in texts} - {""}
    named = Counter(w for text in texts for w in {text[a:b].lower() for a, b, _ in given_names(text)})
    people = {w for w, n in named.items() if n >= 2 or n >= 0.1 * said[w]} | agents
    least = max(MIN_CALLS, MIN_SHARE * len(texts))
    words = {w for w, n in said.items() if n >= least and w not in STOP_WORDS and w not in CALL_WORDS
             and w not in people and not re.search(r"\d", w)}
    company = Counter(w for text in texts for w in {w for m in COMPANY.finditer(text) for w in tokens(m.group(1))})
    ours = {w for w, n in company.items() if n >= least and w not in agents and w not in STOP_WORDS}
    openings = Counter(s for text in texts for s in _opening_sentences(text))
    opening = {s for s, n in openings.items() if n >= least}
    return KeepList(frozenset(words | ours), (), len(texts), frozenset(ours), frozenset(opening))


def _opening_sentences(text: str) -> set[str]:
    """The sentences of OPENING_SENTENCE words or more said within a call's first OPENING_WORDS words (of the
    agent's side, in a speaker-tagged transcript)."""
    found, said = set(), 0
    for m in SENTENCE.finditer(side(text, AGENT) or text):
        words = sentence_words(m.group(0))
        said += len(words)
        if said > OPENING_WORDS:
            break
        if len(words) >= OPENING_SENTENCE:
            found.add(" ".join(words))
    return found
