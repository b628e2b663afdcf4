"""Speech recognition with the real tiny.en Whisper on the shipped synthesised calls and on bad files."""

import numpy as np
import pytest
from conftest import write_wav

from callsort.config import AsrConfig
from callsort.data import read_calls
from callsort.errors import AudioError, ConfigError, ModelError
from callsort.pipeline import load_calls
from callsort.registry import resolve_asr_model
from callsort.speech.audio import load_recording
from callsort.speech.recognise import Recogniser


@pytest.fixture(scope="module")
def recogniser():
    return Recogniser(AsrConfig(use_cache=False))


def test_split_channels_give_speaker_turns(recogniser, booked_call):
    t = recogniser.transcribe(booked_call)
    assert t.channels == "split" and t.asr_model == "tiny.en" and not t.error
    lines = t.transcript.splitlines()
    assert lines[0].startswith("Agent: ") and "calling" in lines[0].lower()
    assert lines[1].startswith("Caller: ") and "freezing" in lines[1].lower()
    assert len(lines) >= 4  # turns interleave, not one block per side
    assert "tomorrow" in t.text.lower() and "Agent:" not in t.text  # the classifier reads untagged words
    assert {s["speaker"] for s in t.segments} == {"Agent", "Caller"}


def test_parallel_workers_give_the_same_transcript(booked_call):
    """Chunks shared out among two Whisper workers come back to the same speakers and times as with one."""
    one = Recogniser(AsrConfig(workers=1, use_cache=False)).transcribe(booked_call)
    two_workers = Recogniser(AsrConfig(workers=2, threads=2, use_cache=False))
    assert two_workers.workers == 2 and two_workers.threads_per_worker == 1
    two = two_workers.transcribe(booked_call)
    assert [s["speaker"] for s in two.segments] == [s["speaker"] for s in one.segments]
    assert np.allclose([s["start"] for s in two.segments], [s["start"] for s in one.segments], atol=0.5)
    assert two.transcript.splitlines()[0] == one.transcript.splitlines()[0]


def test_mixing_and_agent_side(booked_call):
    mixed = Recogniser(AsrConfig(channels="mix", use_cache=False)).transcribe(booked_call)
    assert mixed.channels == "mix" and "Agent:" not in mixed.transcript and "tomorrow" in mixed.text.lower()
    swapped = Recogniser(AsrConfig(agent_channel="right", use_cache=False)).transcribe(booked_call)
    assert swapped.transcript.startswith("Caller: ")


def test_auto_agent_side_follows_the_greeting(booked_call, tmp_path):
    """The same call with its channels swapped (agent on the right): auto still tags the greeting side Agent."""
    recording = load_recording(booked_call)
    mirrored = write_wav(tmp_path / "agent_right.wav", np.stack(recording.channels[::-1]))
    auto = Recogniser(AsrConfig(use_cache=False)).transcribe(mirrored)
    first = auto.transcript.splitlines()[0]
    assert first.startswith("Agent: ") and "calling" in first.lower()
    left = Recogniser(AsrConfig(agent_channel="left", use_cache=False)).transcribe(mirrored)
    assert left.transcript.startswith("Caller: ") and left.text == auto.text  # only the tags differ


def test_recognition_alone_never_caches(voicemail_call, tmp_path, monkeypatch):
    """The cache belongs to the run (needs.py): a Recogniser recognises every time and writes nothing."""
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path))
    recogniser = Recogniser(AsrConfig())  # the default settings say use_cache: they are not its business
    first, second = recogniser.transcribe_many([voicemail_call, voicemail_call])
    assert not first.cached and not second.cached and first.text == second.text
    assert not any(tmp_path.rglob("*.json"))


def test_batch_finishes_and_names_each_bad_file(recogniser, bad_audio, voicemail_call, silent_wav):
    files = [*bad_audio.values(), voicemail_call, silent_wav]
    results = list(recogniser.transcribe_many(files))
    assert [r.source for r in results] == [str(f) for f in files]
    for (problem, path), r in zip(bad_audio.items(), results, strict=False):
        assert problem in r.error and str(path) in r.error and not r.text
    voicemail, silence = results[-2:]
    assert not voicemail.error and "leave" in voicemail.text.lower()
    assert not silence.error and silence.text == "" and silence.duration_s == pytest.approx(3.0, abs=0.01)


def test_single_bad_file_raises(recogniser, bad_audio):
    with pytest.raises(AudioError, match="empty file"):
        recogniser.transcribe(bad_audio["empty file"])


def test_model_names_and_folders(tmp_path):
    assert (resolve_asr_model("tiny.en") / "model.bin").is_file()
    with pytest.raises(ModelError, match="unknown speech model"):
        resolve_asr_model("large-v9")
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_asr_model(str(tmp_path))
    with pytest.raises(ConfigError):
        AsrConfig(channels="stereo")


def test_local_folder_model_works(booked_call):
    folder = resolve_asr_model("tiny.en")
    t = Recogniser(AsrConfig(model=str(folder), use_cache=False)).transcribe(booked_call)
    assert t.asr_model == folder.name and "tomorrow" in t.text.lower()


@pytest.mark.slow
def test_whisper_base_is_joined_once_and_transcribes(voicemail_call):
    folder = resolve_asr_model("base")
    size = (folder / "model.bin").stat().st_size
    assert size > 140_000_000 and resolve_asr_model("base") == folder
    t = Recogniser(AsrConfig(model="base", use_cache=False)).transcribe(voicemail_call)
    assert t.asr_model == "base" and "name" in t.text.lower()


def test_tables_point_at_recordings(tmp_path, booked_call, voicemail_call):
    import shutil

    for call in (booked_call, voicemail_call):
        shutil.copy(call, tmp_path / call.name)
    (tmp_path / "labels.csv").write_text(
        f"file,label\n{booked_call.name},New Customer - Lead Booked\n{voicemail_call.name},Voicemail - Lead\n")
    raw = read_calls(tmp_path / "labels.csv", audio_column="file")
    assert raw.texts == ["", ""] and raw.audio[0] == str(tmp_path / booked_call.name)
    table = load_calls(tmp_path / "labels.csv", audio_column="file")
    assert table.labels == ["New Customer - Lead Booked", "Voicemail - Lead"]
    assert "tomorrow" in table.texts[0].lower() and table.details[0]["asr_model"] == "tiny.en"


@pytest.mark.slow
def test_real_dual_channel_recording(shared_audio):
    t = Recogniser(AsrConfig(use_cache=False)).transcribe(shared_audio / "other.mp3")
    assert t.channels == "split" and len(t.text.split()) > 20 and not t.error
