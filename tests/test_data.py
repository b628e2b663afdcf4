import json
from pathlib import Path

import pandas as pd
import pytest

from callsort import read_calls
from callsort.data import check_trainable, normalise_label
from callsort.errors import InputError


def write_csv(path, rows, header=("Text", "Tag")):
    pd.DataFrame(rows, columns=list(header)).to_csv(path, index=False)
    return path


ROWS = [("hello I need a furnace repair", "New Customer -  Lead Booked "), ("nobody answered", "Missed Call"),
        ("", "Other"), ("please call me back", "Voicemail - Lead")]


def test_labels_are_normalised():
    assert normalise_label("  New Customer -  Lead\tNot Booked ") == "New Customer - Lead Not Booked"


def test_csv_case_insensitive_columns_and_empty_rows_skipped(tmp_path):
    table = read_calls(write_csv(tmp_path / "c.csv", ROWS), "text", "tag")
    assert table.texts == ["hello I need a furnace repair", "nobody answered", "please call me back"]
    assert table.labels == ["New Customer - Lead Booked", "Missed Call", "Voicemail - Lead"]
    assert table.skipped == 1
    assert table.sources[0].endswith("c.csv:1")


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "parquet"])
def test_other_table_formats(tmp_path, fmt):
    frame = pd.DataFrame(ROWS, columns=["Text", "Tag"])
    path = tmp_path / f"c.{fmt}"
    if fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    else:
        frame.to_parquet(path)
    table = read_calls(path, "Text", "Tag")
    assert len(table) == 3 and table.labels[0] == "New Customer - Lead Booked"


def test_txt_folder_labels_from_subfolders(tmp_path):
    for label, name, text in [("Missed Call", "a", "hello?"), ("Other", "b", "job application")]:
        (tmp_path / label).mkdir()
        (tmp_path / label / f"{name}.txt").write_text(text)
    table = read_calls(tmp_path)
    assert sorted(table.labels) == ["Missed Call", "Other"]
    unlabelled = read_calls(tmp_path, label_column=None)
    assert unlabelled.labels is None and len(unlabelled) == 2


def test_fingerprint_changes_with_labels(tmp_path):
    a = read_calls(write_csv(tmp_path / "a.csv", ROWS), "Text", "Tag")
    rows = [(t, "Other") for t, _ in ROWS]
    b = read_calls(write_csv(tmp_path / "b.csv", rows), "Text", "Tag")
    assert a.fingerprint() != b.fingerprint() and len(a.fingerprint()) == 16


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.csv", "no such file"),
    (lambda p: (p / "empty.csv").write_text("") and p / "empty.csv" or p / "empty.csv", "empty"),
    (lambda p: (p / "calls.xlsx").write_text("x") and p / "calls.xlsx", "unknown format"),
])
def test_unreadable_inputs(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        read_calls(make(tmp_path))


def test_missing_column_names_the_columns(tmp_path):
    path = write_csv(tmp_path / "c.csv", ROWS)
    with pytest.raises(InputError, match=r"no text column 'transcript'; columns are: Text, Tag"):
        read_calls(path, "transcript", "Tag")


def test_not_utf8_is_reported_and_encoding_overrides(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9 furnace,Other\nok,Missed Call\n".encode("latin-1"))
    with pytest.raises(InputError, match="not valid utf-8.*--encoding"):
        read_calls(path)
    assert read_calls(path, encoding="latin-1").texts[0] == "café furnace"


def test_trainability_checks(tmp_path):
    single = read_calls(write_csv(tmp_path / "s.csv", [("a", "Other"), ("b", "Other")]), "Text", "Tag")
    with pytest.raises(InputError, match="single class"):
        check_trainable(single, "s.csv")
    few = read_calls(write_csv(tmp_path / "f.csv", [("a", "Other"), ("b", "Other"), ("c", "Missed Call")]),
                     "Text", "Tag")
    with pytest.raises(InputError, match="fewer than 2 examples in class 'Missed Call' \\(1\\)"):
        check_trainable(few, "f.csv")


def test_unlabelled_folder_reads_recordings_txt_and_tables_but_not_a_labels_table(tmp_path, voicemail_call, caplog):
    """A folder of calls may mix recordings, .txt transcripts and transcript tables; a table without the text
    column (a labels.csv beside recordings, as phone systems export) is left out with a warning."""
    import shutil

    shutil.copy(voicemail_call, tmp_path / voicemail_call.name)
    (tmp_path / "note.txt").write_text("Hello, my sink is leaking")
    (tmp_path / "calls.csv").write_text("text\nMy boiler is broken\n")
    (tmp_path / "labels.csv").write_text(f"file,label\n{voicemail_call.name},Voicemail - Lead\n")
    calls = read_calls(tmp_path, label_column=None)
    assert [Path(s).name for s in calls.sources] == ["calls.csv:1", "note.txt", voicemail_call.name]
    assert calls.texts[:2] == ["My boiler is broken", "Hello, my sink is leaking"]
    assert [calls.is_recording(i) for i in range(3)] == [False, False, True]
    assert "labels.csv: no 'text' column" in caplog.text
    (tmp_path / "calls.csv").unlink()
    (tmp_path / "note.txt").unlink()
    (tmp_path / voicemail_call.name).unlink()
    with pytest.raises(InputError, match="no table in the folder has a 'text' column"):
        read_calls(tmp_path, label_column=None)
