"""Redacted audio (`--redact-audio DIR`): a copy of each recording with every redacted stretch silenced.

Whisper is asked for word times (only then: it costs time, benchmarks/README.md); the words that a redacted span covers
are marked (their text dropped, so that the transcript cache never holds them) and their times, padded by
50 ms, are set to silence on the channel that spoke them (every channel of a mono or mixed recording).
The copy is 16 kHz WAV, the rate callsort decodes to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..speech.audio import SAMPLE_RATE, write_wav
from .redact import Span

PAD_S = 0.05


def mark_words(words: list[dict], spans: list[Span]) -> list[dict]:
    """The segment's words, those under a span marked {"word": "", "redacted": True}. Word texts joined give
    the segment's text (Whisper's own words, each with its leading space); if they do not, every word of a
    segment with a span is marked: better too much silence than a name left audible."""
    raw = "".join(w["word"] for w in words)
    lead, marked, at = len(raw) - len(raw.lstrip()), [], 0
    for w in words:
        start, end = at - lead, at - lead + len(w["word"])
        at += len(w["word"])
        hit = any(start < s.end and s.start < end for s in spans) if raw.strip() else bool(spans)
        marked.append({**w, "word": "", "redacted": True} if hit else w)
    return marked


def silenced_intervals(segments: list[dict]) -> list[tuple[int | None, float, float]]:
    """(channel or None for all, start s, end s) of every redacted word."""
    return [(s.get("channel"), w["start"] - PAD_S, w["end"] + PAD_S)
            for s in segments for w in s.get("words", []) if w.get("redacted")]


def write_silenced(recording, transcript, out: str | Path) -> Path:
    """Write `out`: the recording with the transcript's redacted words silenced."""
    channels = [np.array(c, dtype=np.float32) for c in recording.channels]
    for channel, start, end in silenced_intervals(transcript.segments):
        a, b = max(0, int(start * SAMPLE_RATE)), int(np.ceil(end * SAMPLE_RATE))
        for i in range(len(channels)) if channel is None else [channel]:
            channels[i][a:b] = 0.0
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return write_wav(Path(out), np.stack(channels))
