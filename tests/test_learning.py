"""Learning in place (issue 33): a service with no model keeps calls for labelling, trains, checks and activates
its own versions, rolls back, and never activates a worse candidate. Through the real app (FastAPI's client)."""

import json
import random
import time
from pathlib import Path

import pytest
from conftest import LOCAL, finished_batch
from fastapi.testclient import TestClient

from callsort.config import AsrConfig
from callsort.models.classifier import load_model
from callsort.service.app import Service, build_app
from callsort.service_config import LearningConfig, ServeConfig

KEY, REVIEWER = "learning-admin-key-0123", "learning-reviewer-key-0123"


@pytest.fixture()
def calls_folder(tmp_path, sample_table) -> tuple[Path, dict[str, str]]:
    """The shipped sample calls as .txt files, and each file's true category."""
    folder = tmp_path / "calls"
    folder.mkdir()
    truth = {}
    for i, (text, label) in enumerate(zip(sample_table.texts, sample_table.labels, strict=True)):
        (folder / f"call{i:03d}.txt").write_text(text)
        truth[f"call{i:03d}.txt"] = label
    return folder, truth


def learning_client(tmp_path, labels: list[str], **learning) -> TestClient:
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    config = ServeConfig(store=str(tmp_path / "jobs.db"), api_key=KEY, reviewer_key=REVIEWER)
    service = Service(None, config, AsrConfig(use_cache=False), recordings=False,
                      learning=LearningConfig(labels=str(tmp_path / "labels.txt"), **learning))
    return TestClient(build_app(service), base_url=LOCAL, headers={"x-api-key": KEY})


def settled(client: TestClient, version: int, seconds: float = 120) -> dict:
    """GET /v1/models once `version` is out of training."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        models = client.get("/v1/models").json()
        found = [v for v in models["versions"] if v["version"] == version]
        if found and found[0]["state"] != "training" and not models["training"]:
            return models
        time.sleep(0.2)
    raise AssertionError(models)


def label(client: TestClient, calls: list[dict], truth: dict[str, str], headers=None) -> None:
    for call in calls:
        answer = client.post(f"/v1/calls/{call['id']}/correction", json={"label": truth[call["source"]]},
                             headers=headers or {})
        assert answer.status_code == 200, answer.text


def test_a_service_without_a_model_learns_from_its_peoples_labels(tmp_path, calls_folder, sample_table):
    folder, truth = calls_folder
    client = learning_client(tmp_path, sorted(set(sample_table.labels)), retrain_after=0)
    assert client.get("/healthz").json()["model"] is None
    assert client.post("/v1/classify", json={"text": "hello"}).status_code == 409  # no model yet, said why
    batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
    assert finished_batch(client, batch["id"])["done"] == len(truth)
    listed = client.get("/v1/calls").json()
    assert listed["calls"] == len(truth) and all(r["label"] == "" and r["model_version"] is None for r in listed["results"])
    assert len(client.get("/v1/calls", params={"limit": 10, "offset": 60}).json()["results"]) == len(truth) - 60
    assert client.post("/v1/models/train").status_code == 409  # nothing labelled: nothing can learn
    review = client.get("/v1/review").json()["calls"]
    assert len(review) == len(truth)
    label(client, review[:40], truth, headers={"x-api-key": REVIEWER})  # the reviewer key may label
    assert client.post("/v1/models/train", headers={"x-api-key": REVIEWER}).status_code == 403
    assert client.post("/v1/models/train").status_code == 202
    models = settled(client, 1)
    first = models["versions"][0]
    assert models["active"] == 1 and first["state"] == "active" and first["labelled_by_people"] == 40
    assert first["checked_on"] == 40 and first["trained_on"] == 40  # every label teaches; checked out of fold
    assert len(json.loads((tmp_path / "jobs.db.models" / "1" / "learned_from.json").read_text())) == 40
    assert models["labelled"] == 40 and set(models["missing"]) == set(models["categories"]) - {truth[c["source"]] for c in review[:40]}
    deadline = time.time() + 60  # the calls nobody labelled are re-scored by the active version
    while any(r["model_version"] != 1 for r in client.get("/v1/calls").json()["results"] if not r["corrected_label"]) \
            and time.time() < deadline:
        time.sleep(0.2)
    rows = client.get("/v1/calls").json()["results"]
    assert all(r["model_version"] == 1 and r["label"] for r in rows if not r["corrected_label"])
    assert [r["id"] for r in rows] == [r["id"] for r in listed["results"]]  # each call kept its id
    assert first["macro_f1"] is not None and first["macro_f1_interval"][0] <= first["macro_f1"] <= first["macro_f1_interval"][1]
    assert load_model(tmp_path / "jobs.db.models" / "1").info.training["version"] == 1  # an ordinary model folder
    answer = client.post("/v1/classify", json={"text": sample_table.texts[0]}).json()
    assert answer["model_version"] == 1 and answer["label"]
    learner = client.app.state.service.learning.learner
    corrections = learner.corrections.all()
    recorded = learner._learned_by(1, corrections)
    (tmp_path / "jobs.db.models" / "1" / "learned_from.json").unlink()  # a version made before versions recorded it
    assert learner._learned_by(1, corrections) == recorded  # the labels given before it was made


def test_a_worse_candidate_is_rejected_and_a_version_can_be_rolled_back(tmp_path, calls_folder, sample_table):
    """Version 1 learns 40 true labels; then the other calls are labelled at random. The candidate learns the
    random labels too; refitted on the same folds, the active model's data (the 40 true labels) predicts
    people's calls better than the candidate's: it is kept as rejected with both figures, never activated."""
    folder, truth = calls_folder
    client = learning_client(tmp_path, sorted(set(sample_table.labels)), retrain_after=0)
    batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
    finished_batch(client, batch["id"])
    calls = client.get("/v1/calls").json()["results"]
    label(client, calls[:40], truth)
    client.post("/v1/models/train")
    settled(client, 1)
    wrong = [truth[c["source"]] for c in calls[40:]]
    random.Random(0).shuffle(wrong)
    label(client, calls[40:], {c["source"]: w for c, w in zip(calls[40:], wrong, strict=True)})
    client.post("/v1/models/train")
    models = settled(client, 2)
    second = models["versions"][1]
    assert second["state"] == "rejected" and models["active"] == 1, second
    assert second["compared_with"]["version"] == 1 and second["macro_f1"] < second["compared_with"]["macro_f1"]
    assert client.post("/v1/models/2/activate").json()["active"] == 2  # a person may still choose it
    assert client.post("/v1/models/1/activate").json()["active"] == 1  # and roll back
    assert client.post("/v1/models/1/activate").status_code == 200  # already active: fine
    assert client.post("/v1/models/9/activate").status_code == 404


@pytest.mark.slow
def test_trainings_run_one_at_a_time_and_a_kill_during_one_leaves_the_active_model(tmp_path, calls_folder, sample_table):
    """Through a real `callsort serve`: two training requests at once train one after the other; kill -9 while
    a candidate trains leaves the active version active, the store whole and no partial folder; the interrupted
    version is listed as failed after the restart."""
    import os
    import signal

    import httpx
    from conftest import start_server

    from callsort.jobs.store import Database

    folder, truth = calls_folder
    big = tmp_path / "train.csv"  # a --train-data table large enough that a training takes a few seconds
    rows = [f'"{t} {i}",{label}' for i in range(40) for t, label in zip(sample_table.texts, sample_table.labels, strict=True)]
    big.write_text("text,label\n" + "\n".join(rows) + "\n")
    store = tmp_path / "jobs.db"
    args = ("--store", str(store), "--train-data", str(big), "--retrain-after", "0", "--api-key", KEY)
    proc, url = start_server(*args)
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60) as client:
            batch = client.post("/v1/batches", json={"folder": str(folder)}).json()
            finished_batch(client, batch["id"], seconds=120)
            label(client, client.get("/v1/calls").json()["results"][:20], truth)
            assert client.post("/v1/models/train").status_code == 202
            assert client.post("/v1/models/train").status_code == 202
            seen_training = set()
            deadline = time.time() + 300
            while time.time() < deadline:
                models = client.get("/v1/models").json()
                training = [v["version"] for v in models["versions"] if v["state"] == "training"]
                assert len(training) <= 1  # one at a time
                seen_training.update(training)
                if len(models["versions"]) == 2 and not models["training"]:
                    break
                time.sleep(0.1)
            assert [v["state"] for v in models["versions"]] in (["retired", "active"], ["active", "rejected"])
            assert client.post("/v1/models/train").status_code == 202
            while not any(v["state"] == "training" for v in client.get("/v1/models").json()["versions"]):
                time.sleep(0.05)
            active = client.get("/v1/models").json()["active"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert Database(store).integrity_ok()
        proc, url = start_server(*args)
        with httpx.Client(base_url=url, headers={"x-api-key": KEY}, timeout=60) as client:
            models = client.get("/v1/models").json()
        assert models["active"] == active and models["versions"][-1]["state"] == "failed"
        assert "interrupted" in models["versions"][-1]["error"]
        assert sorted(p.name for p in Path(f"{store}.models").iterdir()) == ["1", "2"]  # no partial folder
    finally:
        proc.kill()
        proc.wait(10)
