"""A recording's speech as Whisper hears it: speech regions packed into <= 30 s chunks (faster-whisper's
collect_chunks), decoded as clips by the batched pipeline, and segment times mapped back to each channel's
own timeline (faster-whisper's SpeechTimestampsMap)."""

from __future__ import annotations

import bisect

from ..config import AsrConfig
from .audio import SAMPLE_RATE

CHUNK_S = 30  # Whisper hears 30 s at a time


def pack_chunks(parts: list) -> tuple[list, list]:
    """The chunks of every part (speaker, audio, speech regions, channel), and per chunk its owner: (speaker,
    timestamp map, chunk start in its part, channel)."""
    from faster_whisper.vad import SpeechTimestampsMap, collect_chunks

    chunks, owners = [], []
    for speaker, audio, speech, channel in parts:
        if not speech:
            continue
        packed, metadata = collect_chunks(audio, speech, SAMPLE_RATE, max_duration=CHUNK_S)
        ts_map = SpeechTimestampsMap(speech, SAMPLE_RATE)
        chunks += packed
        owners += [(speaker, ts_map, meta["offset"], channel) for meta in metadata]
    return chunks, owners


def decode_share(model, chunks: list, config: AsrConfig, timestamps: bool, words: bool = False) -> list[tuple]:
    """One worker's chunks through faster-whisper's batched pipeline: (chunk index, start, end, text, words)
    with times relative to the chunk's start; words (word, start, end) only when asked for."""
    import numpy as np
    from faster_whisper import BatchedInferencePipeline

    starts = [float(t) for t in np.cumsum([0] + [len(c) / SAMPLE_RATE for c in chunks])]
    clips = [{"start": starts[i], "end": starts[i + 1]} for i in range(len(chunks))]
    found, _ = BatchedInferencePipeline(model).transcribe(
        np.concatenate(chunks), clip_timestamps=clips, without_timestamps=not (timestamps or words),
        word_timestamps=words, language=config.language, beam_size=config.beam_size, batch_size=config.batch_size)
    results = []
    for seg in found:
        if seg.text.strip():
            i = max(bisect.bisect_right(starts[:-1], (seg.start + seg.end) / 2) - 1, 0)
            said = [(w.word, w.start - starts[i], w.end - starts[i]) for w in (seg.words or [])]
            results.append((i, seg.start - starts[i], seg.end - starts[i], seg.text.strip(), said))
    return results


def place_segments(decoded: list[tuple], owners: list, words: bool) -> list[dict]:
    """Decoded segments of a share of chunks (`owners[i]` owns chunk i) as segments of the recording: speaker,
    start, end, text; with `words`, the channel and each word's times (for silencing redacted words)."""
    segments = []
    for i, start, end, text, said in decoded:
        speaker, ts_map, offset, channel = owners[i]
        segment = {"speaker": speaker, **original_times(ts_map, start + offset, end + offset), "text": text}
        if words:
            segment["channel"] = channel
            segment["words"] = [{"word": w, **original_times(ts_map, a + offset, b + offset)} for w, a, b in said]
        segments.append(segment)
    return segments


def original_times(ts_map, start: float, end: float) -> dict:
    """Times in a packed chunk -> times in the recording. Whisper often starts a segment where the previous one
    ended, i.e. at the very end of the previous speech region: the region is taken from a point just inside."""
    region = ts_map.get_chunk_index(min(start + 0.5, (start + end) / 2))
    return {"start": ts_map.get_original_time(start, region), "end": ts_map.get_original_time(end, is_end=True)}
