"""The words of a transcript as callsort reads them, the same for every engine and the Python matcher: whole
words (letters and digits), lower case, accents removed; and the sides of a split recording ('Agent: …' and
'Caller: …' lines; the rest is "other")."""

from __future__ import annotations

import re
import unicodedata

SIDES = ("agent", "caller", "other")  # FTS5 columns and PostgreSQL weights A, B, C (filter tags apart)
_TOKEN = re.compile(r"[^\W_]+")
_TURN = re.compile(r"^(Agent|Caller):[ \t]?", re.MULTILINE)


def fold(token: str) -> str:
    """A token as it is indexed: lower case, accents removed (as SQLite's unicode61 remove_diacritics 2)."""
    token = token.lower()
    if token.isascii():  # most words: nothing to remove (and the build of a million calls is 3x faster)
        return token
    return "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The whole words of a text as every engine indexes them."""
    text = text or ""
    if text.isascii():  # lower case keeps ASCII's word characters: the same words as folding each one
        return _TOKEN.findall(text.lower())
    return [fold(m.group()) for m in _TOKEN.finditer(text)]


def spans(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of each whole word, offsets into `text`."""
    return [(fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text or "")]


def side_words(transcript: str) -> dict[str, list[str]]:
    """Each side's words, as `sides` finds them without their offsets (faster: what the index and matcher need)."""
    found: dict[str, list] = {side: [] for side in SIDES}
    for line in re.finditer(r"[^\n]+", transcript or ""):
        turn = _TURN.match(line.group())
        found[turn.group(1).lower() if turn else "other"] += words(line.group()[turn.end():] if turn else line.group())
    return found


def sides(transcript: str) -> dict[str, list[tuple[str, int, int]]]:
    """Each side's words with their offsets in the transcript; the 'Agent:'/'Caller:' tags are not words."""
    found: dict[str, list] = {side: [] for side in SIDES}
    for line in re.finditer(r"[^\n]+", transcript or ""):
        turn = _TURN.match(line.group())
        side, skip = (turn.group(1).lower(), turn.end()) if turn else ("other", 0)
        found[side] += [(w, line.start() + skip + s, line.start() + skip + e)
                        for w, s, e in spans(line.group()[skip:])]
    return found
