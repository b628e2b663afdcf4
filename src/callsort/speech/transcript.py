"""A recording's transcript, and how its segments become speaker-tagged turns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .patterns import AGENT, AGENT_PHRASES, CALLER


@dataclass
class Transcript:
    """One recording's transcript, or the one-line reason it has none."""

    source: str
    text: str = ""  # every word in time order: what the classifier reads
    transcript: str = ""  # for people: speaker-tagged turns when channels were split, else the text
    duration_s: float | None = None
    asr_model: str = ""
    channels: str = ""  # mix or split, as decided for this file
    segments: list[dict] = field(default_factory=list)  # speaker, start, end, text (+ channel, words on request)
    speech: list[dict] = field(default_factory=list)  # split channels: each side's speech (VAD), speaker/start/end
    error: str = ""
    cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def agent_greets_first(segments: list[dict]) -> list[dict]:
    """With `agent_channel="auto"`: swap the speaker tags when the side tagged Caller sounds more like the agent
    in its first 80 words (patterns.AGENT_PHRASES: the greeting, an offer of help, a voicemail prompt; call
    systems differ in which channel carries the agent; ties keep left = agent)."""
    def score(speaker: str) -> int:
        words = " ".join(s["text"] for s in segments if s["speaker"] == speaker).split()[:80]
        return len(AGENT_PHRASES.findall(" ".join(words)))

    if score(CALLER) <= score(AGENT):
        return segments
    swap = {AGENT: CALLER, CALLER: AGENT}
    return [{**s, "speaker": swap[s["speaker"]]} for s in segments]


def speaker_turns(segments: list[dict]) -> str:
    """'Agent: …' / 'Caller: …' lines, one per run of segments from the same side."""
    turns: list[list] = []
    for s in segments:
        if turns and turns[-1][0] == s["speaker"]:
            turns[-1][1].append(s["text"])
        else:
            turns.append([s["speaker"], [s["text"]]])
    return "\n".join(f"{speaker}: {' '.join(texts)}" for speaker, texts in turns)
