"""Phone-system facts joined onto rows: from a table or from file names; gaps are warnings, not failures."""

import logging
from datetime import datetime

import pytest

from callsort.errors import InputError
from callsort.evidence.metadata import call_datetime, meta_for, pattern_regex, read_meta


def test_file_name_pattern():
    regex = pattern_regex("{date}_{time}_{agent}.mp3")
    assert meta_for("/calls/20261127_0914_dana.mp3", None, regex) == {"date": "20261127", "time": "0914",
                                                                       "agent": "dana"}
    assert call_datetime({"date": "20261127", "time": "0914"}) == datetime(2026, 11, 27, 9, 14)
    assert call_datetime({"datetime": "2026-11-27 09:14:05"}) == datetime(2026, 11, 27, 9, 14, 5)
    assert call_datetime({"date": "last tuesday"}) is None and call_datetime({}) is None


def test_table_join_and_warnings(tmp_path, caplog):
    table_path = tmp_path / "calls.csv"
    table_path.write_text("File,Datetime,Agent,Source,Caller\nsub/a.mp3,2026-11-27 09:14,Dana,Google Ads,555-0101\n")
    table = read_meta(table_path)
    assert meta_for("/x/a.mp3", table, None) == {"datetime": "2026-11-27 09:14", "agent": "Dana",
                                                  "source": "Google Ads", "caller": "555-0101"}
    with caplog.at_level(logging.WARNING):
        assert meta_for("/x/b.mp3", table, pattern_regex("{date}_{agent}.mp3")) == {}
    assert "b.mp3: not in the metadata table" in caplog.text and "does not match the metadata pattern" in caplog.text
    (tmp_path / "bad.csv").write_text("name,agent\na.mp3,Dana\n")
    with pytest.raises(InputError, match="no file column"):
        read_meta(tmp_path / "bad.csv")
    with pytest.raises(InputError, match="no such metadata file"):
        read_meta(tmp_path / "missing.csv")
