"""`callsort search` through the real CLI, on a store `callsort predict --store` filled (SQLite, and a real
PostgreSQL server): words, phrases, --count, --json, filters, topics files, errors, and an older store indexed
on first open (quietly with --quiet)."""

import csv
import json

import pytest
from conftest import run_cli

from callsort.demo import sample_path
from callsort.search.query import parse
from callsort.search.topics import load_topics

FILES = ("sample_test.csv", "sample_new_calls.csv")


def transcripts() -> list[str]:
    """Every stored call's transcript, as the samples hold them."""
    texts = []
    for name in FILES:
        with open(sample_path(name), newline="", encoding="utf-8") as f:
            texts += [row["text"] for row in csv.DictReader(f)]
    return texts


def expected(query: str) -> int:
    return sum(parse(query).matches(t) for t in transcripts())


@pytest.fixture
def store(store_url, tfidf_dir, tmp_path):
    for name in FILES:
        run_cli("predict", sample_path(name), "-m", tfidf_dir, "-o", tmp_path / f"{name}.out.csv", "--store", store_url,
                "-q")
    return store_url


def search(store, *args, code=0):
    return run_cli("search", store, *args, check_code=code)


def test_words_phrases_count_and_json(store, tmp_path):
    assert expected("furnace") >= 2 and expected('"cold air"') >= 1 and expected("technician -tomorrow") >= 1
    shown = search(store, "furnace").stdout
    first = shown.splitlines()[0]
    assert first.startswith(f"{expected('furnace')} calls match")
    assert shown.count("\n#") == expected("furnace") and "furnace" in shown.lower()
    for query in ("furnace", '"cold air"', "furn*", "technician -tomorrow", "heat OR cooling",
                  "NEAR(furnace cold, 3)", "zzzunheardof"):
        last = search(store, query, "--count").stdout.splitlines()[-1]
        assert last == str(expected(query)), query
    found = json.loads(search(store, '"cold air"', "--json").stdout)
    assert set(found) == {"count", "results"} and found["count"] == len(found["results"]) == expected('"cold air"')
    snippet = found["results"][0]["snippet"]
    assert [snippet["text"][s:e].lower() for s, e in snippet["highlights"]] == ["cold air"]
    paged = json.loads(search(store, "furnace", "--json", "--limit", "1", "--offset", "1").stdout)
    every = json.loads(search(store, "furnace", "--json").stdout)
    assert paged["count"] == every["count"] and paged["results"] == every["results"][1:2]


def test_filters_and_topics_files(store, tmp_path):
    labels = [r["label"] for name in FILES for r in csv.DictReader(open(tmp_path / f"{name}.out.csv", encoding="utf-8"))]
    category = max(set(labels), key=labels.count)
    listed = json.loads(search(store, "", "--category", category, "--json", "--limit", "200").stdout)
    assert listed["count"] == labels.count(category) and {r["label"] for r in listed["results"]} == {category}
    either = int(search(store, "", "--needs-review", "--count").stdout.split()[-1])
    neither = int(search(store, "", "--no-needs-review", "--count").stdout.split()[-1])
    assert either + neither == len(labels)
    assert search(store, "furnace", "--since", "2001-01-01", "--count").stdout.split()[-1] == "0"  # no dated calls
    topics = tmp_path / "topics.yaml"
    topics.write_text('heating:\n  phrases: ["furnace", "no heat", "heat pump"]\n', encoding="utf-8")
    want = sum(load_topics(topics).query("heating").matches(t) for t in transcripts())
    assert want and search(store, "", "--topic", "heating", "--topics", topics, "--count").stdout.split()[-1] == str(want)
    assert search(store, "", "--topic", "heating", "--count").stdout.split()[-1] == "0"  # the rows carry no topics


ERRORS = [(("furnace (",), "query 'furnace ('"), (("NEAR(a b, 99)",), "NEAR's distance"),
          (("",), "nothing to search for"), (("furnace", "--since", "2026-13-01"), "expected a date"),
          (("furnace", "--batch", "nope"), "no such batch"),
          (("furnace", "--topic", "x", "--topics", "missing.yaml"), "cannot read the topics file")]


def test_errors_are_one_line(store):
    for args, says in ERRORS:
        proc = search(store, *args, code=2)
        assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_a_missing_store_and_an_older_store(store, tmp_path):
    proc = run_cli("search", tmp_path / "none.db", "furnace", check_code=2)
    assert proc.stderr.strip() == f"error: {tmp_path / 'none.db'}: no such results store"
    from callsort.jobs.fulltext import TABLE
    from callsort.jobs.store import Database

    for quiet in (True, False):
        db = Database(store)
        with db.engine.begin() as conn:  # as a store made before search: no index, no mark that it was built
            conn.exec_driver_sql(f"DROP TABLE {TABLE}")
            conn.exec_driver_sql("DELETE FROM alert_marks")
        db.close()
        proc = search(store, "furnace", "--count", *(["--quiet"] if quiet else []))
        assert proc.stdout.splitlines()[-1] == str(expected("furnace"))
        assert ("indexing stored calls for search" in proc.stderr) is not quiet
