"""Call timing from the two channels: the definitions on hand-made segments, then on recordings the test
makes from a shipped call with known changes (silence added before it, the caller moved later)."""

import numpy as np
import pytest
from conftest import write_wav

from callsort.speech.audio import load_recording
from callsort.speech.timing import TIMING_FIELDS, call_timing


def test_definitions_on_known_segments():
    segments = [{"speaker": "Agent", "start": 2.0, "end": 5.0}, {"speaker": "Caller", "start": 4.5, "end": 8.0},
                {"speaker": "Agent", "start": 9.0, "end": 10.0}, {"speaker": "Agent", "start": 9.5, "end": 10.0}]
    assert call_timing(segments, 12.0) == {"ring_or_hold_s": 2.0, "agent_talk_s": 4.0, "caller_talk_s": 3.5,
                                           "silence_s": 5.0, "overlap_s": 0.5, "turns": 3}
    caller_only = call_timing([{"speaker": "Caller", "start": 1.0, "end": 4.0}], 20.0)
    assert caller_only["ring_or_hold_s"] == 20.0 and caller_only["agent_talk_s"] == 0.0  # nobody answered
    mono = call_timing([{"speaker": "", "start": 0.0, "end": 3.0}], 5.0)
    assert mono == dict.fromkeys(TIMING_FIELDS)


@pytest.mark.slow
def test_timing_follows_known_changes_to_a_real_recording(booked_call, tmp_path):
    from callsort import AsrConfig
    from callsort.speech.recognise import Recogniser

    rate = 16000
    left, right = load_recording(booked_call).channels
    pad = np.zeros(3 * rate, dtype=np.float32)
    shifted = np.zeros(len(right) + 2 * rate, dtype=np.float32)
    shifted[2 * rate:] = right  # the caller 2 s later: into the agent's next turn, so the two overlap
    files = {"original": write_wav(tmp_path / "original.wav", np.stack([left, right])),
             "held": write_wav(tmp_path / "held.wav", np.stack([np.concatenate([pad, left]), np.concatenate([pad, right])])),
             "late_caller": write_wav(tmp_path / "late.wav", np.stack([np.concatenate([left, np.zeros(2 * rate)]), shifted])),
             "mono": write_wav(tmp_path / "mono.wav", (left + right) / 2)}
    transcripts = dict(zip(files, Recogniser(AsrConfig(use_cache=False)).transcribe_many(list(map(str, files.values()))), strict=False))
    timing = {name: call_timing(t.speech, t.duration_s) for name, t in transcripts.items()}
    original, held, late = timing["original"], timing["held"], timing["late_caller"]
    assert 0.3 < original["ring_or_hold_s"] < 1.5  # the agent greets after ~0.6 s of silence
    assert original["overlap_s"] < 0.5 and original["turns"] == 6  # the script's six turns, one at a time
    assert held["ring_or_hold_s"] - original["ring_or_hold_s"] == pytest.approx(3.0, abs=0.3)
    assert held["silence_s"] - original["silence_s"] == pytest.approx(3.0, abs=1.0)
    for side in ("agent_talk_s", "caller_talk_s"):
        assert held[side] == pytest.approx(original[side], abs=1.5)
    assert late["overlap_s"] > original["overlap_s"] + 0.5
    assert timing["mono"] == dict.fromkeys(TIMING_FIELDS)
    total = original["agent_talk_s"] + original["caller_talk_s"] - original["overlap_s"] + original["silence_s"]
    assert total == pytest.approx(transcripts["original"].duration_s, abs=0.05)
