"""The Ray engine: same labels as the local engine, results in the same store (a real local Ray instance)."""

import shutil

import pytest

from callsort import load_model, read_calls
from callsort.jobs import JobConfig, run_stored
from callsort.store import JobStore
from callsort.transcribe import AsrConfig

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, booked_call, voicemail_call, bad_audio, request):
    folder = tmp_path_factory.mktemp("ray_batch")
    for f in (booked_call, voicemail_call, bad_audio["empty file"]):
        shutil.copy(f, folder / f.name)
    shared = request.getfixturevalue("shared_calls") / "audio" if _has_shared(request) else None
    if shared is not None:  # the real recordings too, when ../shared is there
        for f in sorted(shared.glob("*.mp3")):
            shutil.copy(f, folder / f.name)
    return folder


def _has_shared(request) -> bool:
    try:
        request.getfixturevalue("shared_calls")
        return True
    except pytest.skip.Exception:
        return False


@pytest.mark.slow
def test_ray_gives_the_same_labels_as_local(recordings, tfidf_dir, tmp_path):
    model = load_model(tfidf_dir)
    table = read_calls(recordings, label_column=None, drop_empty=False)
    asr = AsrConfig(use_cache=False)  # both engines really transcribe
    local = run_stored(table, model, JobStore(tmp_path / "local.db"), asr)
    store = JobStore(tmp_path / "ray.db")
    try:
        on_ray = run_stored(table, model, store, asr, JobConfig(engine="ray", workers=2))
    finally:
        ray.shutdown()
    assert [r["source"] for r in on_ray] == [r["source"] for r in local]
    assert [r["label"] for r in on_ray] == [r["label"] for r in local]
    assert sum(1 for r in on_ray if r["error"]) == 1  # the empty file, recorded as failed
    summary = store.summary()[0]
    assert summary["done"] == len(table) - 1 and summary["failed"] == 1
