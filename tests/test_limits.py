"""Issue 32: bounded work per call. A recording over --max-audio-minutes is refused from the length its file
declares, and while decoding when the file does not say; such a failure is final in a stored run."""

import csv

import av
import numpy as np
import pytest
from conftest import run_cli

from callsort.errors import AudioError
from callsort.speech.audio import load_recording


def flac_of_unknown_length(path, seconds: float = 90.0, rate: int = 16000):
    """A real FLAC whose header does not say how long it is (STREAMINFO total samples 0, as a streamed encoder
    writes it)."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.2 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").reshape(1, -1)
    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    data = bytearray(path.read_bytes())
    header = int.from_bytes(data[18:26], "big") & ~((1 << 36) - 1)  # STREAMINFO: the low 36 bits count samples
    data[18:26] = header.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_a_long_recording_is_refused_before_decoding(booked_call):
    with pytest.raises(AudioError, match=r"over the 0.2-minute limit \(--max-audio-minutes\)"):
        load_recording(booked_call, max_minutes=0.2)  # it declares 31 s
    assert load_recording(booked_call, max_minutes=1).duration_s > 30


def test_a_file_that_does_not_say_its_length_is_stopped_while_decoding(tmp_path):
    path = flac_of_unknown_length(tmp_path / "unknown.flac")
    with av.open(str(path)) as container:
        assert container.streams.audio[0].duration is None  # nothing to check before decoding
    assert load_recording(path).duration_s == pytest.approx(90.0)
    with pytest.raises(AudioError, match=r"over the 1-minute limit"):
        load_recording(path, max_minutes=1)


def test_a_call_too_long_is_failed_not_retried(booked_call, tfidf_dir, tmp_path):
    store, args = tmp_path / "jobs.db", ("--max-audio-minutes", "0.2", "--no-cache", "-q")
    for _ in range(2):  # a second run retries failures that may pass; this one cannot
        run_cli("predict", booked_call, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--store", store, *args,
                check_code=3)
    row = next(csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8")))
    assert "(--max-audio-minutes)" in row["error"] and row["attempts"] == "1"
