"""What a run needs, built from its calls and settings with the real objects: no Whisper for transcripts, no
redactor without --redact; and the transcripts of a run: cache, else Whisper, then the cache is written."""

import shutil
import time

import pytest

from callsort import AsrConfig, CallTable, RunNeeds, read_calls
from callsort.errors import ConfigError
from callsort.speech.cache import TranscriptCache
from callsort.speech.recognise import Recogniser


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, booked_call, voicemail_call):
    folder = tmp_path_factory.mktemp("recordings")
    for call in (booked_call, voicemail_call):
        shutil.copy(call, folder / call.name)
    return read_calls(folder, label_column=None, drop_empty=False)


def test_transcripts_need_neither_whisper_nor_a_redactor(sample_table):
    needs = RunNeeds.for_calls(sample_table)
    assert needs.recogniser is None and needs.cache is None and needs.redactor is None
    assert needs.job_settings(sample_table.has_audio) is None  # a text job depends on the model only
    assert needs.redact_texts(sample_table) is sample_table  # nothing to redact without --redact
    needs.unload()  # nothing loaded, nothing to free
    with pytest.raises(ConfigError, match="transcripts only"):
        next(needs.transcriber.transcripts(["call.mp3"]))


def test_recordings_need_whisper_and_its_cache(recordings):
    assert recordings.has_audio
    needs = RunNeeds.for_calls(recordings, AsrConfig())
    assert isinstance(needs.recogniser, Recogniser) and not needs.recogniser.loaded  # Whisper loads on first use
    assert needs.recogniser.model_name == "tiny.en" and not needs.recogniser.word_times
    assert isinstance(needs.cache, TranscriptCache) and needs.redactor is None
    assert RunNeeds.for_calls(recordings, AsrConfig(use_cache=False)).cache is None  # --no-cache
    settings = needs.job_settings(True)
    assert settings is not None and settings["model"] == "tiny.en"
    assert settings != RunNeeds(AsrConfig(channels="mix")).job_settings(True)  # other transcripts: other work
    assert settings == RunNeeds(AsrConfig(workers=1)).job_settings(True)  # speed knobs are not


def test_redaction_needs_a_redactor_for_transcripts_too(sample_table):
    pytest.importorskip("presidio_analyzer")
    from callsort.privacy.redact import Redactor

    needs = RunNeeds.for_calls(sample_table, AsrConfig(redact=True))
    assert isinstance(needs.redactor, Redactor) and needs.recogniser is None and needs.cache is None
    settings = needs.job_settings(False)
    assert settings is not None and settings["redact"] is True  # redacted rows are other work than plain ones
    calls = CallTable(["hi, my number is 330-208-3944, please call me back"], ["t:1"])
    assert needs.redact_texts(calls).texts == ["hi, my number is [PHONE], please call me back"]


def test_cache_reuses_transcripts(booked_call, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path))
    needs = RunNeeds.build(AsrConfig())
    first = next(needs.transcriber.transcripts([booked_call]))
    assert needs.recogniser.loaded
    needs.unload()
    assert not needs.recogniser.loaded
    started = time.perf_counter()
    second = next(needs.transcriber.transcripts([booked_call]))
    assert second.cached and not first.cached and second.text == first.text
    assert time.perf_counter() - started < 1.0 and not needs.recogniser.loaded  # read, not recognised
    other_settings = next(RunNeeds.build(AsrConfig(channels="mix")).transcriber.transcripts([booked_call]))
    assert not other_settings.cached
    assert len(list(tmp_path.glob("transcripts/*/*.json"))) == 2
    uncached = next(RunNeeds.build(AsrConfig(use_cache=False)).transcriber.transcripts([booked_call]))
    assert not uncached.cached and uncached.text == first.text
    assert len(list(tmp_path.glob("transcripts/*/*.json"))) == 2  # --no-cache neither reads nor writes


def test_bad_files_are_transcripts_with_errors(bad_audio, voicemail_call, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path))
    files = [bad_audio["empty file"], voicemail_call, bad_audio["truncated"]]
    found = list(RunNeeds.build(AsrConfig()).transcriber.transcripts(files))
    assert [t.source for t in found] == [str(f) for f in files]
    assert "empty file" in found[0].error and "truncated" in found[2].error and not found[1].error
    assert len(list(tmp_path.glob("transcripts/*/*.json"))) == 1  # only the good one is cached
