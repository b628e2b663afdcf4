"""Corrections in the results store, the review queue, and corrected calls joining training data."""

from pathlib import Path

import pytest

from callsort.data import CallTable
from callsort.errors import InputError
from callsort.jobs.corrections import Corrections, add_corrections, words_of
from callsort.jobs.queue import WorkQueue
from callsort.service.review import review_queue

KEY = "callsort-test-key"  # serve refuses keys under 16 characters


def stored(url, rows: list[dict]) -> tuple[WorkQueue, list[int]]:
    """A store holding one finished call per row (source, transcript, label, confidence, needs_review)."""
    store = WorkQueue(url)
    keys = [(r["source"], f"hash-{r['source']}") for r in rows]
    store.add("job", keys)
    ids = store.ids("job", keys)
    for item, row in zip(store.claim("job", len(rows), 3), rows, strict=False):
        store.finish(item, {"source": row["source"], "label": row.get("label", "Other"),
                            "confidence": row.get("confidence", 0.5), "needs_review": row.get("needs_review", True),
                            "transcript": row.get("transcript", ""), "error": ""})
    return store, ids


def test_queue_is_least_confident_first_and_drops_corrected_calls(tmp_path):
    store, ids = stored(tmp_path / "jobs.db", [
        {"source": "a.mp3", "confidence": 0.6}, {"source": "b.mp3", "confidence": 0.3},
        {"source": "c.mp3", "confidence": 0.95, "needs_review": False}, {"source": "d.mp3", "confidence": 0.45}])
    assert [r["source"] for r in review_queue(store, ids)] == ["b.mp3", "d.mp3", "a.mp3"]
    assert review_queue(store, ids)[0]["first_words"] == ""
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
    for i, label in zip(ids, ["Existing Customer - Lead Booked", "Other", "Missed Call"], strict=False):
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


def test_corrections_reach_the_report_and_import_from_a_spreadsheet(sample_csv, sample_test_csv, tmp_path):
    """Through the real CLI: predict --store, corrections imported from a spreadsheet (unknown calls and labels
    reported, not recorded), then the report counts each corrected call at its corrected label, with certainty,
    and clears a reason that no longer fits; /report/all over HTTP says the same."""
    import csv
    import json

    from conftest import LOCAL, run_cli
    from fastapi.testclient import TestClient

    from callsort import TrainConfig, read_calls, train
    from callsort.config import AsrConfig
    from callsort.service.app import create_app
    from callsort.service_config import ServeConfig

    tfidf_dir = tmp_path / "model"  # with a lost-lead reason model
    train(read_calls(sample_csv, reason_column="reason"), TrainConfig(model="tfidf"), progress=False).model.save(tfidf_dir)
    store = tmp_path / "jobs.db"
    run_cli("predict", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "p.jsonl", "--store", store, "-q")
    predicted = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    lost = next(r for r in predicted if r["reason"])  # a Not Booked call with the model's reason
    other = next(r for r in predicted if r["label"] != "Missed Call" and not r["reason"])
    with open(tmp_path / "fixes.csv", "w", newline="") as f:
        csv.writer(f).writerows([["source", "label", "reason"],
                                 [Path(lost["source"]).name, "Missed Call", ""],  # a reason that no longer fits
                                 [other["source"], "Missed Call", ""],
                                 ["nowhere.mp3", "Other", ""], [Path(lost["source"]).name, "Not a label", ""]])
    imported = run_cli("corrections", store, "--import", tmp_path / "fixes.csv", "--reviewer", "ann", "--json",
                       check_code=3)
    summary = json.loads(imported.stdout)
    assert summary["imported"] == 2 and len(summary["problems"]) == 2
    assert "fixes.csv:4: 'nowhere.mp3': no such call" in summary["problems"][0]
    assert "'Not a label': not a label of this store" in summary["problems"][1]

    run_cli("report", store, "--out", tmp_path / "report", "-q")
    report = json.loads((tmp_path / "report" / "summary.json").read_text())
    before = sum(r["label"] == "Missed Call" for r in predicted)
    assert report["checked"] == 2 and report["by_category"]["Missed Call"] == before + 2
    assert "2 of 24 checked by a person" in (tmp_path / "report" / "index.html").read_text()
    run_cli("corrections", store, "--out", tmp_path / "c.csv", "-q")
    exported = list(csv.DictReader(open(tmp_path / "c.csv")))
    assert {r["reviewer"] for r in exported} == {"ann"} and len(exported) == 2

    from callsort.jobs.corrections import stored_rows

    rows = {r["source"]: r for r in stored_rows(store)}
    fixed = rows[lost["source"]]
    assert (fixed["label"], fixed["reason"], fixed["confidence"], fixed["checked"]) == ("Missed Call", "", 1.0, True)
    assert fixed["predicted"] == lost["label"] and rows[other["source"]]["checked"]
    assert sum(r["checked"] for r in rows.values()) == 2
    client = TestClient(create_app(tfidf_dir, ServeConfig(store=str(store), api_key=KEY), AsrConfig(use_cache=False)),
                        base_url=LOCAL, headers={"x-api-key": KEY})
    assert "2 of 24 checked by a person" in client.get("/report/all").text
