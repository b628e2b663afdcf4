"""A few words around where a query matched a transcript, with the matching words marked."""

from __future__ import annotations

from .query import Query, spans

AROUND = 12  # words shown before the first match and after the last one shown


def snippet(transcript: str, query: Query | None, around: int = AROUND) -> dict:
    """{"text": a short extract on one line, "highlights": [[start, end], …] offsets of matched words in it}."""
    transcript = transcript or ""
    tokens = spans(transcript)
    if not tokens:
        return {"text": "", "highlights": []}
    hits = query.hits(transcript) if query is not None else []
    first = next((i for i, (_, s, _) in enumerate(tokens) if hits and s >= hits[0][0]), 0)
    start_word = max(first - around, 0)
    end_word = min(first + 2 * around, len(tokens) - 1)
    start, end = tokens[start_word][1], tokens[end_word][2]
    text = transcript[start:end].replace("\n", " ")  # same length: offsets still hold
    marks = [[s - start, e - start] for s, e in hits if s >= start and e <= end]
    prefix = "… " if start_word > 0 else ""
    suffix = " …" if end_word < len(tokens) - 1 else ""
    return {"text": prefix + text + suffix, "highlights": [[s + len(prefix), e + len(prefix)] for s, e in marks]}
