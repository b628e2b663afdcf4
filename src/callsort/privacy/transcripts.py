"""Redaction of a recording's transcript: its text, its speaker-tagged turns and its segments (whose words,
when Whisper gave word times, are marked so that silence.py can silence them in an audio copy)."""

from __future__ import annotations

import re

from ..speech.patterns import tagged
from ..speech.transcript import Transcript
from .redact import Redactor, Span, replace_spans
from .silence import mark_words


def redact_transcript(t: Transcript, redactor: Redactor) -> Transcript:
    """The transcript with personal data replaced. Found in the whole text, then removed wherever it occurs:
    a turn or a segment alone is often too short for the name finder."""
    if t.error:
        return t
    text, in_text = redactor.redact(t.text)
    removed = {t.text[s.start:s.end]: s.entity for s in in_text}

    def spans(piece: str) -> list[Span]:
        return redactor.find(piece) + [Span(m.start(), m.end(), kind) for stretch, kind in removed.items()
                                       for m in re.finditer(re.escape(stretch), piece)]

    turns = []  # turn by turn, so that the "Agent: " / "Caller: " tags are never taken for names
    for line in t.transcript.splitlines():
        tag, words = tagged(line)
        turns.append(f"{tag}: {replace_spans(words, spans(words))}" if tag else replace_spans(words, spans(words)))
    segments = []
    for segment in t.segments:
        found = spans(segment["text"])
        segments.append({**segment, "text": replace_spans(segment["text"], found),
                         **({"words": mark_words(segment["words"], found)} if "words" in segment else {})})
    return Transcript(**{**t.__dict__, "text": text, "transcript": "\n".join(turns), "segments": segments})
