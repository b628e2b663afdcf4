"""Corrections in the results store, the review queue, and corrected calls joining training data."""

import pytest

from callsort.data import CallTable
from callsort.errors import InputError
from callsort.jobs.corrections import Corrections, add_corrections, words_of
from callsort.jobs.queue import WorkQueue
from callsort.service.review import review_queue


def stored(url, rows: list[dict]) -> tuple[WorkQueue, list[int]]:
    """A store holding one finished call per row (source, transcript, label, confidence, needs_review)."""
    store = WorkQueue(url)
    keys = [(r["source"], f"hash-{r['source']}") for r in rows]
    store.add("job", keys)
    ids = store.ids("job", keys)
    for item, row in zip(store.claim("job", len(rows), 3), rows):
        store.finish(item, {"source": row["source"], "label": row.get("label", "Other"),
                            "confidence": row.get("confidence", 0.5), "needs_review": row.get("needs_review", True),
                            "transcript": row.get("transcript", ""), "error": ""})
    return store, ids


def test_queue_is_least_confident_first_and_drops_corrected_calls(tmp_path):
    store, ids = stored(tmp_path / "jobs.db", [
        {"source": "a.mp3", "confidence": 0.6}, {"source": "b.mp3", "confidence": 0.3},
        {"source": "c.mp3", "confidence": 0.95, "needs_review": False}, {"source": "d.mp3", "confidence": 0.45}])
    assert [r["source"] for r in review_queue(store, ids)] == ["b.mp3", "d.mp3", "a.mp3"]
    Corrections(store.db).add(ids[1], "Missed Call", reviewer="ann")
    assert [r["source"] for r in review_queue(store, ids)] == ["d.mp3", "a.mp3"]


def test_a_later_correction_supersedes_and_history_is_kept(store_url, tmp_path):  # SQLite and PostgreSQL
    store, ids = stored(store_url, [{"source": "a.mp3", "transcript": "Agent: hello\nCaller: hi", "label": "Other"}])
    corrections = Corrections(store.db)
    corrections.add(ids[0], "Missed Call", reviewer="ann")
    corrections.add(ids[0], "Voicemail - Lead", reason="left a message", reviewer="bob")
    latest = corrections.all()
    assert [(c["label"], c["reviewer"], c["predicted"]) for c in latest] == [("Voicemail - Lead", "bob", "Other")]
    assert [c["label"] for c in corrections.all(history=True)] == ["Missed Call", "Voicemail - Lead"]
    with pytest.raises(InputError, match="call 999"):
        corrections.add(999, "Other")

    out = corrections.export(tmp_path / "all.jsonl", history=True)
    assert out == 2 and len((tmp_path / "all.jsonl").read_text().splitlines()) == 2


def test_corrections_join_training_data(tmp_path):
    store, ids = stored(tmp_path / "jobs.db", [
        {"source": "a.mp3", "transcript": "Agent: thanks for calling\nCaller: my furnace is out"},
        {"source": "b.mp3", "transcript": "Agent: hello\nCaller: wrong number sorry"},
        {"source": "c.mp3", "transcript": ""}])  # no words: nothing to learn from
    for i, label in zip(ids, ["Existing Customer - Lead Booked", "Other", "Missed Call"]):
        Corrections(store.db).add(i, label)
    store.close()
    data = CallTable(["thanks for calling my furnace is out", "please leave a message"], ["d:1", "d:2"],
                     ["New Customer - Lead Booked", "Voicemail - Lead"])
    merged, counts = add_corrections(data, tmp_path / "jobs.db")
    assert counts == {"used": 2, "relabelled": 1, "added": 1}
    assert merged.labels == ["Existing Customer - Lead Booked", "Voicemail - Lead", "Other"]
    assert merged.texts[2] == "hello wrong number sorry"
    with pytest.raises(InputError, match="no such results store"):
        add_corrections(data, tmp_path / "missing.db")


def test_words_of_drops_speaker_tags():
    assert words_of("Agent: Good morning.\nCaller: Hi,  my AC\nis out") == "Good morning. Hi, my AC is out"
