"""Call timing from a dual-channel recording's segment times: what the two sides did, not what they said.

Every figure is in seconds of the recording, from each channel's speech regions as the voice-activity
detector found them before recognition (Silero VAD in faster-whisper; each region padded by 200 ms,
`vad_speech_pad_ms`). Whisper's own segment times are too coarse for this: a segment may span the
silence in which the other side spoke. A mono recording has no sides, so its figures are None.

- ring_or_hold_s: from the start of the recording to the agent's first words (ringing, menu, hold); the
  whole recording when the agent never speaks.
- agent_talk_s / caller_talk_s: time the agent / the caller is speaking (overlapping segments of one side
  counted once).
- overlap_s: time both are speaking at once.
- silence_s: time neither is speaking (duration minus the union of both sides' speech).
- turns: runs of speech by one side, in time order (agent, caller, agent = 3).
"""

from __future__ import annotations

from .patterns import AGENT, CALLER

TIMING_FIELDS = ("ring_or_hold_s", "agent_talk_s", "caller_talk_s", "silence_s", "overlap_s", "turns")


def call_timing(segments: list[dict], duration_s: float | None) -> dict:
    """The timing figures of one call from its speech regions ({speaker, start, end}: Transcript.speech);
    all None without two sides."""
    sides: dict[str, list] = {AGENT: [], CALLER: []}
    for s in segments:
        if s.get("speaker") in sides and s["end"] > s["start"]:
            sides[s["speaker"]].append((float(s["start"]), float(s["end"])))
    if duration_s is None or not segments or not any(s.get("speaker") for s in segments):
        return dict.fromkeys(TIMING_FIELDS)
    agent, caller = _union(sides[AGENT]), _union(sides[CALLER])
    speech = _union(agent + caller)
    ordered = sorted((s for s in segments if s.get("speaker") in sides), key=lambda s: s["start"])
    turns = sum(1 for i, s in enumerate(ordered) if i == 0 or s["speaker"] != ordered[i - 1]["speaker"])
    return {
        "ring_or_hold_s": round(agent[0][0] if agent else duration_s, 2),
        "agent_talk_s": round(_length(agent), 2),
        "caller_talk_s": round(_length(caller), 2),
        "silence_s": round(max(0.0, duration_s - _length(speech)), 2),
        "overlap_s": round(_length(agent) + _length(caller) - _length(speech), 2),
        "turns": turns,
    }


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in intervals)
