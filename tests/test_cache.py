"""The transcript cache on real files: keyed by a recording's bytes, the speech model and the transcript
settings; a transcript written comes back whole; what cannot be read or written is a miss, never an error."""

import shutil

import pytest

from callsort.config import AsrConfig
from callsort.registry import resolve_asr_model
from callsort.speech.cache import TranscriptCache
from callsort.speech.transcript import Transcript


@pytest.fixture(scope="module")
def tiny_en():
    return resolve_asr_model("tiny.en")


def cache_in(folder, model_dir, asr: AsrConfig | None = None) -> TranscriptCache:
    return TranscriptCache(model_dir, (asr or AsrConfig()).cache_settings(), folder)


def transcript_of(path) -> Transcript:
    """A transcript as the recogniser gives one (the cache stores whatever it is handed)."""
    segments = [{"speaker": "Agent", "start": 0.6, "end": 2.1, "text": "Thanks for calling, how can I help?"},
                {"speaker": "Caller", "start": 2.4, "end": 4.0, "text": "My furnace stopped working."}]
    return Transcript(source=str(path), text="Thanks for calling, how can I help? My furnace stopped working.",
                      transcript="Agent: Thanks for calling, how can I help?\nCaller: My furnace stopped working.",
                      duration_s=41.2, asr_model="tiny.en", channels="split", segments=segments,
                      speech=[{"speaker": "Agent", "start": 0.5, "end": 2.2}])


def test_the_key_follows_the_bytes_the_model_and_the_settings(booked_call, voicemail_call, tiny_en, tmp_path):
    cache = cache_in(tmp_path, tiny_en)
    key = cache.key(booked_call)
    assert key and key == cache.key(str(booked_call)) and len(key) == 64
    copy = shutil.copy(booked_call, tmp_path / "renamed.mp3")
    assert cache.key(copy) == key  # the same bytes under another name: the same transcript
    assert cache.key(voicemail_call) != key
    changed = tmp_path / "changed.mp3"
    changed.write_bytes(booked_call.read_bytes() + b"\0")
    assert cache.key(changed) != key
    assert cache_in(tmp_path, tiny_en, AsrConfig(channels="mix")).key(booked_call) != key
    assert cache_in(tmp_path, tiny_en, AsrConfig(redact=True)).key(booked_call) != key
    speed_only = AsrConfig(workers=1, threads=1, batch_size=2)  # how fast, not what is heard
    assert cache_in(tmp_path, tiny_en, speed_only).key(booked_call) == key
    other_model = tmp_path / "my-whisper"
    other_model.mkdir()
    assert cache_in(tmp_path, other_model).key(booked_call) != key


def test_put_then_get_round_trip(booked_call, tiny_en, tmp_path):
    cache = cache_in(tmp_path / "cache", tiny_en)
    key = cache.key(booked_call)
    assert cache.get(key, booked_call) is None  # nothing yet
    written = transcript_of(booked_call)
    cache.put(key, written)
    files = list((tmp_path / "cache").rglob("*.json"))
    assert [f.name for f in files] == [f"{key}.json"]
    copy = shutil.copy(booked_call, tmp_path / "copy.mp3")
    back = cache.get(cache.key(copy), copy)
    assert back.cached and back.source == str(copy)  # found by content, named by the file asked about
    assert {**back.to_dict(), "source": "", "cached": False} == {**written.to_dict(), "source": ""}
    assert str(booked_call) not in files[0].read_text()  # the cache keeps no paths
    mixed = cache_in(tmp_path / "cache", tiny_en, AsrConfig(channels="mix"))
    assert mixed.get(mixed.key(booked_call), booked_call) is None  # other settings: not this transcript


def test_what_cannot_be_read_or_written_is_a_miss(booked_call, tiny_en, tmp_path, caplog):
    cache = cache_in(tmp_path / "cache", tiny_en)
    missing = tmp_path / "gone.mp3"
    assert cache.key(missing) is None and cache.get(None, missing) is None
    cache.put(None, transcript_of(missing))  # no key: nothing written
    cache.put(cache.key(booked_call), Transcript(source=str(booked_call), error="speech recognition failed"))
    assert not (tmp_path / "cache").exists()  # a failure is never cached: the next run tries again
    key = cache.key(booked_call)
    cache.put(key, transcript_of(booked_call))
    file = next((tmp_path / "cache").rglob("*.json"))
    file.write_text('{"text": "half a wri')  # a torn write from a killed process
    assert cache.get(key, booked_call) is None
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    cache_in(blocked / "cache", tiny_en).put(key, transcript_of(booked_call))  # a warning, not a failed run
    assert "transcript cache not written" in caplog.text


def test_the_default_folder_follows_callsort_cache_dir(booked_call, tiny_en, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSORT_CACHE_DIR", str(tmp_path / "mine"))
    cache = TranscriptCache(tiny_en, AsrConfig().cache_settings())
    cache.put(cache.key(booked_call), transcript_of(booked_call))
    assert len(list((tmp_path / "mine" / "transcripts").rglob("*.json"))) == 1
