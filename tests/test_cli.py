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


@pytest.mark.slow
def test_train_transformer_json_output_is_pure_json(sample_csv, tmp_path):
    """--json: the Trainer's per-epoch log lines and save bars must not reach stdout."""
    out = run_cli("train", sample_csv, "--out", tmp_path / "m", "--model", "blend", "--epochs", "1", "--max-length", "48",
                  "--batch-size", "16", "--json")
    summary = json.loads(out.stdout)
    assert summary["labels"] and "eval_loss" not in out.stdout and "Writing model shards" not in out.stderr


def test_train_evaluate_predict_tfidf(sample_csv, sample_test_csv, tmp_path):
    model = tmp_path / "tf"
    out = run_cli("train", sample_csv, "--model", "tfidf", "--out", model, "--test", sample_test_csv, "--json")
    summary = json.loads(out.stdout)
    assert summary["test_metrics"]["n"] == 24 and (model / "report" / "metrics.json").is_file()
    assert summary["calibration"] == "temperature" and 0 <= summary["expected_coverage"] <= 1

    out = run_cli("evaluate", sample_test_csv, "--model", model, "--out", tmp_path / "rep", "--quiet")
    assert "macro-F1" in out.stdout and (tmp_path / "rep" / "errors.csv").is_file()
    assert "auto-labelled at ≥ 90 % accuracy" in out.stdout and (tmp_path / "rep" / "reliability.png").is_file()
    out = run_cli("train", sample_csv, "--model", "tfidf", "--out", tmp_path / "tf2", "--auto-accuracy", "0.99",
                  "--calibration", "isotonic", "--quiet")
    info = json.loads((tmp_path / "tf2" / "callsort.json").read_text())
    assert info["calibration"] == "isotonic" and info["auto_accuracy"] == 0.99

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
    assert rows[0]["label"] and rows[1]["error"] == f"{new}:2: empty transcript"
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


@pytest.fixture
def mixed_folder(tmp_path, booked_call, voicemail_call, bad_audio, silent_wav):
    """Good recordings, silence, and every kind of bad file in one folder tree."""
    import shutil

    folder = tmp_path / "recordings"
    (folder / "bad").mkdir(parents=True)
    for f in (booked_call, voicemail_call, silent_wav):
        shutil.copy(f, folder / f.name)
    for f in bad_audio.values():
        shutil.copy(f, folder / "bad" / f.name)
    return folder


def test_predict_folder_of_recordings_with_bad_files(tfidf_dir, mixed_folder, tmp_path):
    proc = run_cli("predict", mixed_folder, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--quiet",
                   check_code=3)
    assert "Traceback" not in proc.stderr
    rows = {r["source"].rsplit("/", 1)[1]: r for r in csv.DictReader(open(tmp_path / "p.csv"))}
    assert len(rows) == 8 and "5 failed" in proc.stdout
    for name in ("empty.mp3", "notes.mp3", "header_only.wav", "truncated.wav", "click.wav"):
        assert rows[name]["error"] and name in rows[name]["error"] and not rows[name]["label"]
    booked, silence = rows["sample_call_booked.mp3"], rows["silence.wav"]
    assert booked["label"] and not booked["error"] and booked["asr_model"] == "tiny.en"
    assert booked["transcript"].startswith("Agent: ") and float(booked["duration_s"]) > 30
    assert silence["label"] and silence["needs_review"] == "true" and silence["transcript"] == ""


def test_transcribe_command(mixed_folder, booked_call, tmp_path):
    out = run_cli("transcribe", booked_call, mixed_folder / "bad" / "empty.mp3", "--out", tmp_path / "t.jsonl",
                  "--json", check_code=3)
    summary = json.loads(out.stdout)
    assert summary["files"] == 2 and summary["failed"] == 1 and "empty file" in summary["errors"][0]
    rows = [json.loads(line) for line in open(tmp_path / "t.jsonl")]
    assert rows[0]["channels"] == "split" and rows[0]["segments"] and rows[1]["error"]
    run_cli("transcribe", booked_call, "--out", tmp_path / "t.csv", "--quiet")
    row = next(csv.DictReader(open(tmp_path / "t.csv")))
    assert row["transcript"].startswith("Agent: ") and "segments" not in row
    one_line_error(run_cli("transcribe", tmp_path / "nothing", "--out", tmp_path / "x.csv", check_code=None),
                   "no such file")
    one_line_error(run_cli("transcribe", booked_call, "--asr-model", "huge", "--out", tmp_path / "x.csv",
                           check_code=None), "unknown speech model")


def test_train_and_evaluate_from_recordings(tmp_path, booked_call, voicemail_call, sample_csv):
    """A labelled folder of recordings (one sub-folder per label) evaluates like a table does."""
    import shutil

    folder = tmp_path / "labelled"
    for call, label in ((booked_call, "New Customer - Lead Booked"), (voicemail_call, "Voicemail - Lead")):
        (folder / label).mkdir(parents=True)
        shutil.copy(call, folder / label / call.name)
    run_cli("train", sample_csv, "--model", "tfidf", "--out", tmp_path / "m", "--quiet")
    out = run_cli("evaluate", folder, "--model", tmp_path / "m", "--out", tmp_path / "rep", "--json")
    assert json.loads(out.stdout)["n"] == 2
    table = tmp_path / "labels.csv"
    table.write_text(f"file,label\n{folder}/New Customer - Lead Booked/{booked_call.name},New Customer - Lead Booked\n"
                     f"{folder}/Voicemail - Lead/{voicemail_call.name},Voicemail - Lead\n" * 2)
    out = run_cli("train", table, "--audio-column", "file", "--model", "tfidf", "--out", tmp_path / "m2", "--json")
    assert json.loads(out.stdout)["labels"] == ["New Customer - Lead Booked", "Voicemail - Lead"]


def test_models_command():
    out = run_cli("models", "--json")
    names = {m["name"]: m for m in json.loads(out.stdout)["models"]}
    assert names["tiny.en"]["installed"] and names["tiny.en"]["default"] and names["minilm"]["installed"]


def test_plain_train_predict_report_estimates_without_model(sample_csv, tmp_path):
    """Issue 31: `train` with no options, `predict`, then `report` on the predictions alone follows the rows'
    model folder to its quantifier; a moved folder is said in one line and the figures are counted."""
    model = tmp_path / "m"
    run_cli("train", sample_csv, "--out", model, "--quiet")
    info = json.loads((model / "callsort.json").read_text())
    assert info["training"]["data"]["val_calls"] == 0 and info["calibrated_on"].endswith("out-of-fold calls (5 folds)")
    run_cli("predict", sample_csv, "--model", model, "--out", tmp_path / "p.csv", "--quiet")
    rows = list(csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8")))
    assert {r["model_dir"] for r in rows} == {str(model.resolve())}
    report = json.loads(run_cli("report", tmp_path / "p.csv", "--out", tmp_path / "r", "--min-quantifier-calls", "30",
                                "--json").stdout)
    assert report["estimated_by"].startswith("probabilistic adjusted counting")
    assert report["booking_rate_interval"] is not None
    run_cli("predict", sample_csv, "--model", model, "--out", tmp_path / "s.csv", "--store", tmp_path / "jobs.db", "-q")
    stored = json.loads(run_cli("report", tmp_path / "jobs.db", "--out", tmp_path / "rs", "--min-quantifier-calls",
                                "30", "--json").stdout)  # a store's rows name their model folder too
    assert stored["estimated_by"].startswith("probabilistic adjusted counting")
    model.rename(tmp_path / "moved")
    report = json.loads(run_cli("report", tmp_path / "p.csv", "--out", tmp_path / "r", "--json").stdout)
    assert report["estimated_by"] == (f"counting each call's top label: the rows' model folder {model.resolve()} "
                                      "is missing or moved: pass --model")
    assert report["booking_rate_interval"] is None
