"""Was the call answered? (evidence/answered.py): the phone system's disposition and a live agent on the
recording decide Missed Call against the answered categories. No real call carries such a column, so this is
checked with metadata and recordings the tests make."""

import csv
import json
import shutil

from conftest import run_cli

from callsort.evidence.answered import answered_fact, with_answered

PROBS = {"Missed Call": 0.5, "Voicemail - Lead": 0.1, "New Customer - Lead Booked": 0.3, "Other": 0.1}


def test_the_evidence_rules_categories_out():
    assert answered_fact({"disposition": "Abandoned"}) == (False, "disposition: abandoned (metadata)")
    assert answered_fact({"answered": "yes"}) == (True, "answered (metadata)")
    assert answered_fact({}, agent_name="Holly") == (True, "a live agent spoke (recording)")
    assert answered_fact({}, turns=2) == (None, "")
    answered = with_answered(PROBS, True)
    assert answered["Missed Call"] == 0 and answered["New Customer - Lead Booked"] == 0.75
    missed = with_answered(PROBS, False)
    assert set(k for k, v in missed.items() if v) == {"Missed Call", "Voicemail - Lead"}
    assert with_answered(PROBS, False, voicemail=True)["Voicemail - Lead"] == 1.0
    assert with_answered(PROBS, None) is PROBS


def test_predict_with_a_disposition_column_and_a_recording(tfidf_dir, booked_call, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    table = calls / "texts.csv"
    table.write_text('text\n"Thank you for calling, this is Holly, how can I help? My AC is out, can you come today?"\n'
                     '"Hello? Hello? Anyone there?"\n')
    shutil.copy(booked_call, calls / "booked.mp3")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,disposition\ntexts.csv:1,abandoned\ntexts.csv:2,answered\n")
    out = tmp_path / "p.csv"
    done = run_cli("predict", calls, "--model", tfidf_dir, "--out", out, "--meta", meta, "-q", check_code=None)
    assert done.returncode == 0, done.stderr
    rows = {r["source"].rsplit("/", 1)[-1]: r for r in csv.DictReader(open(out))}
    first, second = rows["texts.csv:1"], rows["texts.csv:2"]
    assert (first["answered"], first["label"]) == ("no", first["label"]) and first["label"] in ("Missed Call", "Voicemail - Lead")
    assert second["answered"] == "yes" and second["label"] not in ("Missed Call", "Voicemail - Lead")
    assert second["answered_by"] == "disposition (metadata)" or second["answered_by"].startswith("disposition")
    recording = rows["booked.mp3"]  # two channels, the agent greets by name: a live agent
    assert recording["answered"] == "yes" and recording["answered_by"] == "a live agent spoke (recording)"
    for row in rows.values():
        probs = json.loads(row["probabilities"])
        assert max(probs, key=probs.get) == row["label"]
