"""Decoding recordings, channel decisions, and the one-line errors for bad files (audio made by the tests)."""

import numpy as np
import pytest
from conftest import tone, write_wav

from callsort.errors import AudioError, InputError
from callsort.speech.audio import SAMPLE_RATE, choose_channels, find_recordings, load_recording


def test_shipped_call_decodes_to_two_16k_channels(booked_call):
    rec = load_recording(booked_call)
    assert len(rec.channels) == 2 and 30 < rec.duration_s < 33
    assert all(ch.dtype == np.float32 and len(ch) == len(rec.channels[0]) for ch in rec.channels)
    assert choose_channels(rec, "auto") == "split"  # agent and caller take turns on separate sides


@pytest.mark.parametrize("rate", [8000, 44100])
def test_any_rate_is_resampled(tmp_path, rate):
    rec = load_recording(write_wav(tmp_path / "t.wav", tone(2.0, rate=rate), rate=rate))
    assert len(rec.channels) == 1 and abs(len(rec.channels[0]) - 2 * SAMPLE_RATE) < 50


def test_channel_decisions(tmp_path):
    same = load_recording(write_wav(tmp_path / "same.wav", np.stack([tone(2.0), tone(2.0)])))
    assert choose_channels(same, "auto") == "mix"
    one_sided = load_recording(write_wav(tmp_path / "one.wav", np.stack([tone(2.0), np.zeros(32000)])))
    assert choose_channels(one_sided, "auto") == "mix"
    assert choose_channels(same, "split") == "split"
    mono = load_recording(write_wav(tmp_path / "mono.wav", tone(2.0)))
    assert choose_channels(mono, "split") == "mix"
    with pytest.raises(InputError, match="channel mode"):
        choose_channels(mono, "left")


def test_bad_files_raise_one_line_errors_naming_file_and_problem(bad_audio):
    for problem, path in bad_audio.items():
        with pytest.raises(AudioError) as info:
            load_recording(path)
        message = str(info.value)
        assert str(path) in message and problem in message and "\n" not in message, message


def test_silence_is_not_an_error(silent_wav):
    assert load_recording(silent_wav).duration_s == pytest.approx(3.0, abs=0.01)


def test_find_recordings_walks_folders(tmp_path, booked_call):
    (tmp_path / "a" / "b").mkdir(parents=True)
    write_wav(tmp_path / "a" / "b" / "x.wav", tone(1.0))
    (tmp_path / "a" / "readme.txt").write_text("not audio")
    assert [p.name for p in find_recordings([tmp_path, booked_call])] == ["x.wav", booked_call.name]
    with pytest.raises(InputError, match="no such file"):
        find_recordings([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no audio"):
        find_recordings([tmp_path / "empty"])
