"""Tags that disagree (models/label_issues.py): `train --label-issues` lists the calls the others contradict,
the list loads into the service as a batch, a person sets the right tag in the review queue, and
`train --corrections` applies it."""

import csv
import json
import time

import httpx
from conftest import run_cli, start_server

KEY = "callsort-test-key"  # serve refuses keys under 16 characters


def flipped_sample(sample_csv, path):
    """The shipped training calls with three voicemails tagged as booked leads."""
    rows = list(csv.DictReader(open(sample_csv)))
    texts = [r["text"] for r in rows]
    flipped = [i for i, r in enumerate(rows) if r["label"] == "Voicemail - Lead" and texts.count(r["text"]) == 1][:3]
    for i in flipped:
        rows[i]["label"] = "New Customer - Lead Booked"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, {rows[i]["text"] for i in flipped}


def test_contradicted_tags_are_listed_checked_in_the_service_and_applied(sample_csv, tmp_path):
    data, flipped = flipped_sample(sample_csv, tmp_path / "calls.csv")
    issues = tmp_path / "issues.csv"
    done = run_cli("train", data, "--model", "tfidf", "--out", tmp_path / "m", "--label-issues", issues, "-q")
    assert done.returncode == 0, done.stderr
    suspects = list(csv.DictReader(open(issues)))
    assert flipped <= {s["text"] for s in suspects[:10]}  # the flipped calls are among the most suspicious
    assert all(float(s["p_label"]) <= float(s["p_suggested"]) or s["suggested"] for s in suspects)
    assert {s["suggested"] for s in suspects if s["text"] in flipped and s["label"] != "Voicemail - Lead"} == {"Voicemail - Lead"}

    store = tmp_path / "jobs.db"
    proc, url = start_server("--model", str(tmp_path / "m"), "--store", str(store), "--api-key", KEY)
    key = {"x-api-key": KEY}
    try:
        with open(issues, "rb") as f:
            batch = httpx.post(f"{url}/v1/batches", files=[("file", ("issues.csv", f, "text/csv"))], headers=key).json()
        for _ in range(120):
            body = httpx.get(f"{url}/v1/batches/{batch['id']}", headers=key).json()
            if body["finished"]:
                break
            time.sleep(0.5)
        assert body["done"] == len(suspects)
        for row in body["results"]:  # a person checks each flipped call: a voicemail
            call = httpx.get(f"{url}/v1/calls/{row['id']}", headers=key).json()
            if call["result"]["transcript"] in flipped:
                saved = httpx.post(f"{url}/v1/calls/{row['id']}/correction", json={"label": "Voicemail - Lead"}, headers=key)
                assert saved.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
    again = run_cli("train", data, "--model", "tfidf", "--out", tmp_path / "m2", "--corrections", store, "--json")
    assert json.loads(again.stdout)["corrections"] == {"used": 3, "relabelled": 3, "added": 0}
