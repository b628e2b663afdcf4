import csv
import json

import pytest

from callsort import InputError, load_model, read_calls
from callsort.predict import predict_calls, write_rows


@pytest.fixture
def table_with_empty(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text('text\n"Hello? Hello? Anyone there?"\n""\n"Hi, do you clean chimneys? No, we only do HVAC."\n')
    return read_calls(path, label_column=None, drop_empty=False)


def test_rows_one_per_input_with_errors(tfidf_dir, table_with_empty):
    rows = predict_calls(load_model(tfidf_dir), table_with_empty)
    assert len(rows) == 3
    assert rows[1]["error"] == "empty transcript" and rows[1]["label"] == ""
    good = rows[0]
    assert good["error"] == "" and good["label"] in good["probabilities"]
    assert good["needs_review"] == (good["confidence"] < load_model(tfidf_dir).review_below)


def test_review_threshold_override(tfidf_dir, table_with_empty):
    rows = predict_calls(load_model(tfidf_dir), table_with_empty, review_below=1.01)
    assert all(r["needs_review"] for r in rows)


def test_write_csv_and_jsonl(tfidf_dir, table_with_empty, tmp_path):
    rows = predict_calls(load_model(tfidf_dir), table_with_empty)
    write_rows(rows, tmp_path / "p.csv")
    back = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert list(back[0]) == ["source", "label", "confidence", "probabilities", "needs_review", "error"]
    assert json.loads(back[0]["probabilities"]) == rows[0]["probabilities"]
    write_rows(rows, tmp_path / "p.jsonl")
    lines = [json.loads(line) for line in open(tmp_path / "p.jsonl")]
    assert lines[2]["label"] == rows[2]["label"]
    with pytest.raises(InputError, match="unknown output format"):
        write_rows(rows, tmp_path / "p.xlsx")
