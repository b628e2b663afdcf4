"""The one path from a call to its row, and the test that holds every front end to it."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callsort import ResultRow, classify_calls, load_model, read_calls
from callsort.errors import InputError
from callsort.jobs import run_stored
from callsort.pipeline import write_rows
from callsort.serve import create_app
from callsort.store import JobStore
from conftest import run_cli

ROW_KEYS = set(ResultRow.__dataclass_fields__)


@pytest.fixture
def table_with_empty(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text('text\n"Hello? Hello? Anyone there?"\n""\n"Hi, do you clean chimneys? No, we only do HVAC."\n')
    return read_calls(path, label_column=None, drop_empty=False)


def test_rows_one_per_input_with_errors(tfidf_dir, table_with_empty):
    model = load_model(tfidf_dir)
    rows = list(classify_calls(table_with_empty, model))
    assert len(rows) == 3 and all(isinstance(r, ResultRow) for r in rows)
    assert rows[1].error == f"{table_with_empty.sources[1]}: empty transcript" and rows[1].label == ""
    good = rows[0]
    assert good.error == "" and good.label in good.probabilities and good.model == model.identity
    assert good.needs_review == (good.confidence < model.review_below) and good.transcript is None


def test_a_folder_or_a_loaded_model_give_the_same_rows(tfidf_dir, table_with_empty):
    by_folder = [r.to_dict() for r in classify_calls(table_with_empty, tfidf_dir)]
    assert by_folder == [r.to_dict() for r in classify_calls(table_with_empty, load_model(tfidf_dir))]


def test_review_threshold_override(tfidf_dir, table_with_empty):
    assert all(r.needs_review for r in classify_calls(table_with_empty, tfidf_dir, review_below=1.01))


def test_write_csv_and_jsonl(tfidf_dir, table_with_empty, tmp_path):
    rows = list(classify_calls(table_with_empty, tfidf_dir))
    write_rows(rows, tmp_path / "p.csv")
    back = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert list(back[0]) == list(ResultRow.__dataclass_fields__)
    assert json.loads(back[0]["probabilities"]) == rows[0].probabilities
    write_rows(rows, tmp_path / "p.jsonl")
    lines = [json.loads(line) for line in open(tmp_path / "p.jsonl")]
    assert lines[2]["label"] == rows[2].label
    with pytest.raises(InputError, match="unknown output format"):
        write_rows(rows, tmp_path / "p.xlsx")


def test_a_row_from_an_older_store_reads_back_whole():
    """Regression: a Ray worker's failed row was stored as {source, label, error} and broke every later read."""
    row = ResultRow.from_dict({"source": "a.mp3", "label": "", "error": "RuntimeError: boom", "extra": 1})
    assert row.needs_review and row.probabilities == {} and set(row.to_dict()) == ROW_KEYS


@pytest.fixture(scope="module")
def call_inputs(tmp_path_factory, booked_call, voicemail_call, bad_audio):
    """Texts in a table, and a folder of two good recordings and a corrupt one."""
    folder = tmp_path_factory.mktemp("paths")
    (folder / "audio").mkdir()
    for f in (booked_call, voicemail_call, bad_audio["empty file"]):
        shutil.copy(f, folder / "audio" / f.name)
    texts = ["You have reached our voicemail, please leave a message after the tone",
             "Hi, my furnace stopped working, can someone come out tomorrow morning? Yes, booked for 9.",
             "Hello? Hello? Is anyone there?"]
    with open(folder / "texts.csv", "w", newline="") as f:
        csv.writer(f).writerows([["text"], *[[t] for t in texts]])
    return {"texts": texts, "table": folder / "texts.csv", "audio": folder / "audio"}


def _cli_rows(*args, tmp_path, name):
    out = tmp_path / f"{name}.jsonl"
    run_cli("predict", *args, "--out", out, "--quiet", check_code=None)
    return [json.loads(line) for line in open(out)]


def _by_file(rows):
    return {Path(r["source"]).name: r for r in rows}


def _reason(row):
    """An error without the file's place: the CLI names the path, the service the upload's name."""
    return row["error"].split(": ", 1)[1]


@pytest.mark.slow
def test_every_path_gives_the_same_rows(call_inputs, tfidf_dir, tmp_path):
    ray = pytest.importorskip("ray")
    store = tmp_path / "jobs.db"
    text_rows = {
        "plain": _cli_rows(call_inputs["table"], "--model", tfidf_dir, tmp_path=tmp_path, name="t-plain"),
        "store": _cli_rows(call_inputs["table"], "--model", tfidf_dir, "--store", store, tmp_path=tmp_path,
                           name="t-store"),
    }
    audio_args = (call_inputs["audio"], "--model", tfidf_dir)
    audio_rows = {
        "plain": _cli_rows(*audio_args, tmp_path=tmp_path, name="a-plain"),
        "store": _cli_rows(*audio_args, "--store", store, tmp_path=tmp_path, name="a-store"),
        "ray": _cli_rows(*audio_args, "--store", tmp_path / "ray.db", "--engine", "ray", "--workers", "1",
                         tmp_path=tmp_path, name="a-ray"),
    }
    ray.shutdown()
    client = TestClient(create_app(tfidf_dir))
    text_rows["http"] = client.post("/v1/classify/batch", json={"texts": call_inputs["texts"]}).json()["results"]
    files = [("files", (p.name, open(p, "rb"))) for p in sorted(call_inputs["audio"].iterdir())]
    audio_rows["http"] = client.post("/v1/classify/batch", files=files).json()["results"]
    singles = []
    for p in sorted(call_inputs["audio"].iterdir()):
        with open(p, "rb") as f:
            singles.append(client.post("/v1/classify", files={"file": (p.name, f)}))

    for rows in [*text_rows.values(), *audio_rows.values()]:
        assert all(set(r) == ROW_KEYS for r in rows)
    labels = {path: [r["label"] for r in rows] for path, rows in text_rows.items()}
    assert len({tuple(v) for v in labels.values()}) == 1 and all(labels["plain"])
    plain = _by_file(audio_rows["plain"])
    assert len(plain) == 3 and plain["empty.mp3"]["error"] and not plain["empty.mp3"]["label"]
    for path, rows in audio_rows.items():
        rows = _by_file(rows)
        assert {n: r["label"] for n, r in rows.items()} == {n: r["label"] for n, r in plain.items()}, path
        assert _reason(rows["empty.mp3"]) == _reason(plain["empty.mp3"]), path
        assert rows["sample_call_booked.mp3"]["transcript"] == plain["sample_call_booked.mp3"]["transcript"], path
    by_name = dict(zip(sorted(p.name for p in call_inputs["audio"].iterdir()), singles))
    assert by_name["empty.mp3"].status_code == 415
    assert by_name["empty.mp3"].json()["detail"] == audio_rows["http"][0]["error"]
    assert by_name["sample_call_booked.mp3"].json()["label"] == plain["sample_call_booked.mp3"]["label"]


def test_a_failed_row_in_the_store_does_not_break_later_runs(tfidf_dir, table_with_empty, tmp_path):
    """Regression: a failed row of the old shape in the store made every later `predict --store` die."""
    from callsort.jobs import content_hash, job_id

    model = load_model(tfidf_dir)
    store = JobStore(tmp_path / "jobs.db")
    job = job_id(model.identity, None)
    keys = [(s, content_hash(table_with_empty, i)) for i, s in enumerate(table_with_empty.sources)]
    store.add(job, keys)
    for item in store.claim(job, 10, 3):
        store.fail(item, "RuntimeError: worker died", {"source": item.source, "label": "", "error": "boom"})
    rows = run_stored(table_with_empty, model, store)
    assert [bool(r.label) for r in rows] == [True, False, True] and set(rows[1].to_dict()) == ROW_KEYS
    assert rows[0].attempts == 2 and rows[1].error.endswith("empty transcript")
