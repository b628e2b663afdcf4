"""The one path from a call to its row, and the test that holds every front end to it."""

import csv
import json

import pytest

from callsort import ResultRow, classify_calls, load_model, read_calls
from callsort.errors import InputError
from callsort.jobs.queue import WorkQueue
from callsort.jobs.run import run_stored
from callsort.output import write_rows

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
    assert good.needs_review == (good.confidence < model.review_below)
    assert good.transcript == "Hello? Hello? Anyone there?"  # a table's row: the text it was classified on


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


def test_a_failed_row_in_the_store_does_not_break_later_runs(tfidf_dir, table_with_empty, tmp_path):
    """Regression: a failed row of the old shape in the store made every later `predict --store` die."""
    from callsort.jobs.run import content_hash, job_id

    model = load_model(tfidf_dir)
    store = WorkQueue(tmp_path / "jobs.db")
    job = job_id(model.identity, None)
    keys = [(s, content_hash(table_with_empty, i)) for i, s in enumerate(table_with_empty.sources)]
    store.add(job, keys)
    for item in store.claim(job, 10, 3):
        store.fail(item, "RuntimeError: worker died", {"source": item.source, "label": "", "error": "boom"})
    rows = run_stored(table_with_empty, model, store)
    assert [bool(r.label) for r in rows] == [True, False, True] and set(rows[1].to_dict()) == ROW_KEYS
    assert rows[0].attempts == 2 and rows[1].error.endswith("empty transcript")
