"""The installed `callsort` command, run as a user runs it."""

import csv
import json

import pytest

from conftest import run_cli


def one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for fragment in fragments:
        assert fragment in lines[0]


def test_train_evaluate_predict_tfidf(sample_csv, sample_test_csv, tmp_path):
    model = tmp_path / "tf"
    out = run_cli("train", sample_csv, "--model", "tfidf", "--out", model, "--test", sample_test_csv, "--json")
    summary = json.loads(out.stdout)
    assert summary["test_metrics"]["n"] == 24 and (model / "report" / "metrics.json").is_file()

    out = run_cli("evaluate", sample_test_csv, "--model", model, "--out", tmp_path / "rep", "--quiet")
    assert "macro-F1" in out.stdout and (tmp_path / "rep" / "errors.csv").is_file()

    new = tmp_path / "new.csv"
    new.write_text('text,id\n"You have reached our voicemail, please leave a message",1\n"Hello? Hello?",2\n')
    out = run_cli("predict", new, "--model", model, "--out", tmp_path / "p.jsonl", "--json")
    assert json.loads(out.stdout)["rows"] == 2
    rows = [json.loads(line) for line in open(tmp_path / "p.jsonl")]
    assert [r["source"] for r in rows] == [f"{new}:1", f"{new}:2"]


def test_cross_validation_command(sample_csv, tmp_path):
    out = run_cli("train", sample_csv, "--model", "tfidf", "--cv", "3", "--out", tmp_path / "cv", "--json")
    assert len(json.loads(out.stdout)["folds"]) == 3


def test_predict_with_an_empty_row_exits_3(tfidf_dir, tmp_path):
    new = tmp_path / "new.csv"
    new.write_text('text\n"Hello? Hello?"\n""\n')
    proc = run_cli("predict", new, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--quiet", check_code=3)
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert rows[0]["label"] and rows[1]["error"] == "empty transcript"
    assert "1 failed" in proc.stdout


@pytest.fixture
def bad_inputs(tmp_path):
    files = {
        "empty": tmp_path / "empty.csv",
        "latin": tmp_path / "latin.csv",
        "single": tmp_path / "single.csv",
        "few": tmp_path / "few.csv",
        "xlsx": tmp_path / "calls.xlsx",
    }
    files["empty"].write_text("")
    files["latin"].write_bytes("text,label\ncaf\xe9,Other\n".encode("latin-1"))
    files["single"].write_text("text,label\na,Other\nb,Other\nc,Other\n")
    files["few"].write_text("text,label\na,Other\nb,Other\nc,Missed Call\n")
    files["xlsx"].write_text("not really")
    return files


@pytest.mark.parametrize("case, fragments", [
    ("missing", ["no such file"]),
    ("empty", ["empty.csv", "empty"]),
    ("xlsx", ["calls.xlsx", "unknown format"]),
    ("latin", ["latin.csv", "not valid utf-8", "--encoding"]),
    ("single", ["single class"]),
    ("few", ["fewer than 2 examples", "Missed Call"]),
])
def test_bad_training_input_is_one_line_exit_2(bad_inputs, tmp_path, case, fragments):
    path = bad_inputs.get(case, tmp_path / "missing.csv")
    one_line_error(run_cli("train", path, "--model", "tfidf", "--out", tmp_path / "m", check_code=None), *fragments)


def test_missing_column_and_bad_model_folder(sample_csv, tmp_path):
    proc = run_cli("train", sample_csv, "--text-column", "Transcript", "--out", tmp_path / "m", check_code=None)
    one_line_error(proc, "no text column 'Transcript'", "columns are: text, label")
    proc = run_cli("predict", sample_csv, "--model", tmp_path, "--out", tmp_path / "p.csv", check_code=None)
    one_line_error(proc, "not a callsort model")


def test_usage_error_exits_2():
    proc = run_cli("train", check_code=None)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
