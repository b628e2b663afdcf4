"""Recognition window by window (audio.stream_recording), so memory stays flat whatever a recording's length.

Each window is voice-detected, packed and recognised alone, and its times shifted by where it starts. A speech
region that runs into a window's end is not recognised there: the audio from its start is carried over into
the next window, so no word is cut at a boundary. A recording of one window is recognised exactly as a whole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .audio import SAMPLE_RATE, Window
from .patterns import AGENT, CALLER


@dataclass
class Prepared:
    """A recording up to its first window voice-detected: what the helper thread hands to recognition."""

    path: str
    windows: object  # the rest of audio.stream_recording's windows (it is sent the audio to carry)
    mode: str  # mix or split
    window: Window | None
    parts: list | None  # (speaker, audio, speech regions, channel) of the first window
    segments: list[dict] = field(default_factory=list)
    speech: list[dict] = field(default_factory=list)
    decoded: int = 0  # samples decoded so far


def parts_of(channels: list[np.ndarray], mode: str, agent_channel: str) -> list[tuple]:
    """(speaker, audio, channel) to recognise: each side alone when split, else the channels' average."""
    if mode == "split":
        agent = 1 if agent_channel == "right" else 0  # auto: left until the words say otherwise
        return [(AGENT, channels[agent], agent), (CALLER, channels[1 - agent], 1 - agent)]
    if len(channels) == 1:
        return [("", channels[0], None)]
    mixed = channels[0] + channels[1]
    mixed /= 2  # in place: the same values as (left + right) / 2, one array fewer
    return [("", mixed, None)]  # channel None: every channel


def recognise_windows(recogniser, prepared: Prepared) -> int:
    """Recognise every window of a prepared recording into `prepared.segments`/`.speech` (times in the whole
    recording); returns the recording's length in samples. AudioError when a later window cannot be decoded."""
    config, split = recogniser.config, prepared.mode == "split"
    window, parts, offset = prepared.window, prepared.parts, 0
    prepared.window = prepared.parts = None  # held here only, so that each window goes once it is done
    while True:
        length = len(window.channels[0])
        cut = length if window.last else carry_from(parts, length, recogniser.margin_samples())
        done = [(who, audio, [r for r in regions if r["end"] <= cut], channel)
                for who, audio, regions, channel in parts]
        segments = recogniser._recognise(done, timestamps=split, words=recogniser.word_times)
        prepared.segments += shifted(segments, offset / SAMPLE_RATE)
        if split:
            prepared.speech += [{"speaker": who, "start": round((r["start"] + offset) / SAMPLE_RATE, 3),
                                 "end": round((r["end"] + offset) / SAMPLE_RATE, 3)}
                                for who, _, regions, _ in done for r in regions]
        if window.last:
            return offset + length
        carried = [channel[cut:].copy() for channel in window.channels]  # copies: the window itself can go
        del window, parts, done  # only the carried audio stays while the next window is decoded
        give_back_memory()
        window = prepared.windows.send(carried if cut < length else None)  # decoded after the carried audio
        offset, prepared.decoded = window.start, window.start + len(window.channels[0])  # start: old offset + cut
        del carried
        parts = recogniser.voice(parts_of(window.channels, prepared.mode, config.agent_channel))


def carry_from(parts: list, length: int, margin: int) -> int:
    """Where a window's recognition stops and the carried audio starts: the start of any speech region (of
    any side) that reaches the window's end, or is less than `margin` samples from it (the voice detector
    might have joined it to speech beyond), and of any region of another side running across that point.
    At most half a window is carried: with speech on some side throughout, the window's end it is."""
    cut = length
    moved = True
    while moved:
        moved = False
        for _, _, regions, _ in parts:
            for region in regions:
                if region["start"] < cut and region["end"] > min(cut, length - margin):
                    cut, moved = region["start"], True
    return cut if cut >= length // 2 else length


def shifted(segments: list[dict], seconds: float) -> list[dict]:
    """Segments (and their words) of a window as times in the recording."""
    if not seconds:
        return segments
    for segment in segments:
        for item in [segment, *segment.get("words", [])]:
            item["start"], item["end"] = round(item["start"] + seconds, 3), round(item["end"] + seconds, 3)
    return segments


def give_back_memory() -> None:
    """Return the memory freed with a window to the system. glibc otherwise keeps much of it: arrays it serves
    from its heaps once its adaptive threshold has grown (up to 32 MB), and free space in per-thread heaps; a
    long recording's peak then grows by ~100 MB (benchmarks/long_audio.py). Fixing the threshold at 1 MB has
    every large array mapped and unmapped alone; nothing to do off glibc (macOS, musl)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
        libc.malloc_trim(0)


@functools.cache
def _glibc():
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None
