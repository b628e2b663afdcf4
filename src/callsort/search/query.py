"""callsort's own query language, the same on every engine: words (several = all of them), "phrases",
prefixes (furn*), OR, NOT (-word), NEAR(word word, N) and parentheses; whole words, case-insensitive.

A query is parsed once into a small tree that can (1) say whether a transcript matches, in Python (topics,
snippets), (2) become an SQLite FTS5 MATCH expression and (3) a PostgreSQL tsquery. Every engine sees the same
words because the index holds `words()` of the text, never the engine's own reading of it.

A transcript has up to three sides: the agent's turns, the caller's turns (split recordings, 'Agent: …' and
'Caller: …' lines) and the rest; a query can be limited to one side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputError
from .words import SIDES, side_words, sides, spans, words

__all__ = ["SIDES", "WEIGHTS", "Query", "one_of", "parse", "side_words", "spans", "words"]  # words.py's too

WEIGHTS = {"agent": "A", "caller": "B", "other": "C"}
NEAR_DEFAULT, NEAR_MOST = 10, 50  # words between two NEAR words, by default and at most
# --- the tree ---------------------------------------------------------------------------------------------

@dataclass
class Term:
    """One whole word, or every word it begins (`prefix`)."""

    word: str
    prefix: bool = False

    def hits(self, tokens: list[str]) -> list[tuple[int, int]]:
        return [(i, i + 1) for i, t in enumerate(tokens) if (t.startswith(self.word) if self.prefix else t == self.word)]

    def fts5(self) -> str:
        return f'"{self.word}"' + (" *" if self.prefix else "")

    def tsquery(self, weights: str) -> str:
        marks = ("*" if self.prefix else "") + weights
        return f"'{self.word}':{marks}" if marks else f"'{self.word}'"


@dataclass
class Phrase:
    """Words one after the other."""

    words: list[str]

    def hits(self, tokens: list[str]) -> list[tuple[int, int]]:
        n = len(self.words)
        return [(i, i + n) for i in range(len(tokens) - n + 1) if tokens[i:i + n] == self.words]

    def fts5(self) -> str:
        return '"' + " ".join(self.words) + '"'

    def tsquery(self, weights: str) -> str:
        return "(" + " <-> ".join(f"'{w}':{weights}" if weights else f"'{w}'" for w in self.words) + ")"


@dataclass
class Near:
    """Two words with at most `distance` words between them, in either order."""

    first: Term
    second: Term
    distance: int = NEAR_DEFAULT

    def hits(self, tokens: list[str]) -> list[tuple[int, int]]:
        found = []
        for i, _ in self.first.hits(tokens):
            found += [(min(i, j), max(i, j) + 1) for j, _ in self.second.hits(tokens) if 0 < abs(i - j) <= self.distance + 1]
        return found

    def fts5(self) -> str:
        return f"NEAR({self.first.fts5()} {self.second.fts5()}, {self.distance})"

    def tsquery(self, weights: str) -> str:
        a, b = self.first.tsquery(weights), self.second.tsquery(weights)
        return "(" + " | ".join(f"{x} <{d}> {y}" for d in range(1, self.distance + 2) for x, y in ((a, b), (b, a))) + ")"


@dataclass
class All:
    """Every one of `wanted`, none of `unwanted`."""

    wanted: list = field(default_factory=list)
    unwanted: list = field(default_factory=list)


@dataclass
class Any:
    """At least one of `options`."""

    options: list = field(default_factory=list)


ATOMS = (Term, Phrase, Near)


@dataclass
class Query:
    """A parsed query, limited to one side of the call (`side`) or not (None)."""

    text: str
    root: object
    side: str | None = None

    def _sides(self) -> tuple[str, ...]:
        return (self.side,) if self.side else SIDES

    def matches(self, transcript: str) -> bool:
        """Whether the transcript matches, by the rules every engine follows."""
        return _matches(self.root, side_words(transcript), self._sides())

    def hits(self, transcript: str) -> list[tuple[int, int]]:
        """Character spans (start, end) of the words that made the transcript match, in order."""
        found = sides(transcript)
        tokens = {side: [w for w, _, _ in words_of] for side, words_of in found.items()}
        spans_ = set()
        for atom in _wanted_atoms(self.root):
            for side in self._sides():
                for i, j in atom.hits(tokens[side]):
                    spans_.add((found[side][i][1], found[side][j - 1][2]))
        return sorted(spans_)

    def fts5(self) -> str:
        """An SQLite FTS5 MATCH expression over the columns of the sides."""
        columns = self.side or "{" + " ".join(SIDES) + "}"
        return _compile(self.root, lambda atom: f"{columns} : {atom.fts5()}", " AND ", " OR ", " NOT ")

    def tsquery(self) -> str:
        """A PostgreSQL tsquery over lexemes weighted by side (any weight without a side: the filter tags are
        lexemes no query word can be, so GIN answers without reading rows again)."""
        weights = WEIGHTS[self.side] if self.side else ""
        return _compile(self.root, lambda atom: atom.tsquery(weights), " & ", " | ", " & !")


def _matches(node, tokens: dict, allowed: tuple[str, ...]) -> bool:
    if isinstance(node, All):
        return (all(_matches(n, tokens, allowed) for n in node.wanted)
                and not any(_matches(n, tokens, allowed) for n in node.unwanted))
    if isinstance(node, Any):
        return any(_matches(n, tokens, allowed) for n in node.options)
    return any(node.hits(tokens[side]) for side in allowed)


def _wanted_atoms(node) -> list:
    if isinstance(node, All):
        return [a for n in node.wanted for a in _wanted_atoms(n)]
    if isinstance(node, Any):
        return [a for n in node.options for a in _wanted_atoms(n)]
    return [node]


def _compile(node, atom, and_: str, or_: str, not_: str) -> str:
    if isinstance(node, All):
        text = "(" + and_.join(_compile(n, atom, and_, or_, not_) for n in node.wanted) + ")"
        for n in node.unwanted:  # FTS5's NOT is binary: ((a AND b) NOT c) NOT d
            text = f"({text}{not_}{_compile(n, atom, and_, or_, not_)})"
        return text
    if isinstance(node, Any):
        return "(" + or_.join(_compile(n, atom, and_, or_, not_) for n in node.options) + ")"
    return atom(node)


# --- parsing ----------------------------------------------------------------------------------------------

_PIECE = re.compile(r'\s*(NEAR\(|"[^"]*"?|[()]|,|-(?=\S)|[^\s()",]+)')


def parse(text: str, side: str | None = None) -> Query:
    """Parse a query; an InputError (one line) says what is wrong with it."""
    _check_side(side)
    pieces = [m.group(1) for m in _PIECE.finditer(text or "")]
    parser = _Parser(pieces, text)
    root = parser.any_of()
    if parser.pieces:
        raise InputError(f"query {text!r}: unexpected {parser.pieces[0]!r}")
    return Query(text, root, side)


def _check_side(side: str | None) -> None:
    if side is not None and side not in SIDES[:2]:
        raise InputError(f"side {side!r}: expected agent or caller")


def one_of(phrases: list[str], side: str | None = None) -> Query:
    """A query matching any of `phrases` (each its words in order; `word*` a prefix): a topic's rule."""
    _check_side(side)
    atoms = [_word_or_phrase(p.strip(), p) for p in phrases if words(p)]
    if not atoms:
        raise InputError(f"phrases {phrases!r}: no words to look for")
    return Query(" OR ".join(phrases), atoms[0] if len(atoms) == 1 else Any(atoms), side)


def _word_or_phrase(piece: str, query: str):
    prefix = piece.endswith("*")
    found = words(piece.strip('"'))
    if not found:
        return None
    if prefix and len(found) > 1:
        raise InputError(f"query {query!r}: * ends a single word only ({piece!r})")
    return Term(found[0], prefix) if len(found) == 1 else Phrase(found)


class _Parser:
    """Recursive descent over the query's pieces: any_of := all_of (OR all_of)*; all_of := [-|NOT] item+."""

    def __init__(self, pieces: list[str], text: str):
        self.pieces, self.text = pieces, text

    def fail(self, why: str):
        raise InputError(f"query {self.text!r}: {why}")

    def any_of(self):
        options = [self.all_of()]
        while self.pieces and self.pieces[0] == "OR":
            self.pieces.pop(0)
            options.append(self.all_of())
        return options[0] if len(options) == 1 else Any(options)

    def all_of(self):
        node = All()
        while self.pieces and self.pieces[0] not in (")", "OR"):
            piece = self.pieces.pop(0)
            if piece == "AND":
                continue
            negative = piece in ("-", "NOT")
            item = self.item(self.pieces.pop(0) if negative and self.pieces else piece if not negative else None)
            if item is not None:
                (node.unwanted if negative else node.wanted).append(item)
        if not node.wanted:
            self.fail("nothing to look for (a query needs a word besides -words)")
        return node.wanted[0] if len(node.wanted) == 1 and not node.unwanted else node

    def item(self, piece: str | None):
        if piece is None or piece in (")", ",", "OR"):
            self.fail("a word is missing")
        if piece == "(":
            node = self.any_of()
            self.expect(")")
            return node
        if piece == "NEAR(":
            return self.near()
        return _word_or_phrase(piece, self.text)

    def near(self) -> Near:
        terms = []
        while self.pieces and self.pieces[0] not in (")", ","):
            terms.append(_word_or_phrase(self.pieces.pop(0), self.text))
        distance = NEAR_DEFAULT
        if self.pieces and self.pieces[0] == ",":
            self.pieces.pop(0)
            number = self.pieces.pop(0) if self.pieces else ""
            if not number.isdigit() or int(number) > NEAR_MOST:
                self.fail(f"NEAR's distance must be a number of words from 0 to {NEAR_MOST}")
            distance = int(number)
        self.expect(")")
        if len(terms) != 2 or not all(isinstance(t, Term) for t in terms):
            self.fail("NEAR takes two single words, e.g. NEAR(furnace noise, 5)")
        return Near(terms[0], terms[1], distance)

    def expect(self, piece: str) -> None:
        if not self.pieces or self.pieces.pop(0) != piece:
            self.fail(f"{piece!r} is missing")
