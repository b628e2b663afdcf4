"""Topics a manager names (issue 35): topics files and their one-line errors, `predict --topics` rows,
`report`'s topics (shares, booking rates with intervals, weekly trend), `callsort topics STORE --apply`
re-tagging a store so a search by topic finds its calls, and GET /v1/topics from a real `callsort serve`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server

from callsort.errors import InputError
from callsort.jobs.fulltext import SearchFilters
from callsort.jobs.searching import search_store
from callsort.search.topics import STARTER, load_topics

KEY, REVIEWER = "callsort-topics-admin-key", "callsort-topics-reviewer-key"
TOPICS = """\
price:
  phrases: ["diagnostic", "dollars", "price*"]
first call:
  phrases: ["first time", "recommended"]
voicemail: ["leave a message", "leave your"]
maintenance:
  phrases: ["maintenance"]
  side: caller
"""


@pytest.fixture
def topics_file(tmp_path) -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(TOPICS)
    return path


def texts_of(csv_path: Path) -> list[str]:
    import pandas as pd

    return pd.read_csv(csv_path)["text"].tolist()


@pytest.mark.parametrize(("content", "says"), [
    ("price: [\"a\", \n", "not YAML"),
    ("price:\n  phrases: [cost]\n  words: [fee]\n", "unknown key 'words'"),
    ("price:\n  phrases: []\n", "expected a list of phrases"),
    ("price:\n  phrases: [cost]\n  side: customer\n", "side 'customer'"),
    ("- cost\n- fee\n", "expected topics"),
])
def test_a_bad_topics_file_is_one_line_naming_the_file(tmp_path, content, says):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_topics(path)
    assert says in str(caught.value) and str(path) in str(caught.value) and "\n" not in str(caught.value)
    proc = run_cli("topics", tmp_path / "store.db", "--apply", path, check_code=None)
    assert proc.returncode != 0 and proc.stderr.strip().count("\n") == 0 and says in proc.stderr
    assert not (tmp_path / "store.db").exists()  # the file is read before the store is touched


def test_starter_copy_loads_and_keeps_its_phrases(tmp_path):
    run_cli("topics", "--starter", tmp_path / "mine.yaml")
    assert (tmp_path / "mine.yaml").read_text() == STARTER.read_text()
    topics = load_topics(tmp_path / "mine.yaml")
    assert topics.names == ["price", "emergency", "financing", "warranty", "maintenance plan", "cancellation"]
    assert all(t["phrases"] and t["side"] is None for t in topics.described())
    again = run_cli("topics", "--starter", tmp_path / "mine.yaml", check_code=None)
    assert again.returncode != 0 and "already exists" in again.stderr and again.stderr.count("\n") == 1
    assert "give a results store" in run_cli("topics", check_code=None).stderr


def test_predict_rows_carry_the_topics_their_transcripts_mention(sample_csv, tfidf_dir, topics_file, tmp_path):
    topics = load_topics(topics_file)
    expected = [topics.of(text) for text in texts_of(sample_csv)]
    assert sum(bool(e) for e in expected) >= 10 and not any("maintenance" in e for e in expected)  # no caller side
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "p.jsonl", "--topics", topics_file, "-q")
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["topics"] for r in rows] == expected
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "p.csv", "--topics", topics_file, "-q",
            "--store", tmp_path / "store.db")
    cells = (tmp_path / "p.csv").read_text()
    assert "price; first call" in cells or "first call; voicemail" in cells or "price; voicemail" in cells
    assert '["' not in cells.split("\n", 1)[1]  # names a person reads, not JSON
    from callsort.insights.report import read_predictions

    assert [r["topics"] for r in read_predictions(tmp_path / "p.csv")] == expected
    found = search_store(tmp_path / "store.db", None, SearchFilters(topic="first call"), count_only=True)
    assert found["count"] == len({t for t, e in zip(texts_of(sample_csv), expected, strict=True) if "first call" in e})


def dated_rows(path: Path, rows: list[dict]) -> Path:
    """Predictions with call times from a phone system: three ISO weeks of November 2026."""
    for i, row in enumerate(rows):
        row["meta"] = {"datetime": f"2026-11-{9 + (i % 3) * 7 + i % 5:02d} {8 + i % 9:02d}:15:00"}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def counted(rows: list[dict], name: str) -> dict:
    """A topic's figures counted here: calls, share, booked/leads with scipy's 90 % Wilson interval."""
    from scipy.stats import binomtest

    mine = [r for r in rows if name in r["topics"]]
    leads = [r for r in mine if "Lead Booked" in r["label"] or "Lead Not Booked" in r["label"]]
    booked = sum("Not Booked" not in r["label"] for r in leads)
    ci = binomtest(booked, len(leads)).proportion_ci(0.9, method="wilson") if leads else None
    return {"calls": len(mine), "share": round(len(mine) / len(rows), 4), "booked": booked, "leads": len(leads),
            "interval": [round(float(ci.low), 4), round(float(ci.high), 4)] if ci else None}


def test_report_topics_shares_booking_intervals_and_weekly_trend(sample_csv, tfidf_dir, topics_file, tmp_path):
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "plain.jsonl", "-q")
    rows = [json.loads(line) for line in (tmp_path / "plain.jsonl").read_text().splitlines()]
    assert all(r["topics"] == [] for r in rows)
    dated = dated_rows(tmp_path / "dated.jsonl", rows)
    summary = json.loads(run_cli("report", dated, "--topics", topics_file, "--out", tmp_path / "r", "--json").stdout)
    topics = load_topics(topics_file)
    for r in rows:
        r["topics"] = topics.of(r["transcript"])
    assert [t["name"] for t in summary["topics"]] == topics.names and summary["topics_from"] == str(topics_file)
    for topic in summary["topics"]:
        want = counted(rows, topic["name"])
        assert (topic["calls"], topic["share"]) == (want["calls"], want["share"])
        booking = topic["booking"]
        assert (booking["booked"], booking["leads"], booking["interval"]) == (want["booked"], want["leads"],
                                                                              want["interval"])
        assert [w["week"] for w in topic["weekly"]] == ["2026-W46", "2026-W47", "2026-W48"]
        assert sum(w["calls"] for w in topic["weekly"]) == topic["calls"]
        assert sum(w["of"] for w in topic["weekly"]) == len(rows)
        assert all(w["share"] == round(w["calls"] / w["of"], 4) for w in topic["weekly"])
    price = next(t for t in summary["topics"] if t["name"] == "price")
    assert price["calls"] >= 5 and price["booking"]["leads"] >= 2 and price["booking"]["interval"][0] < price["booking"]["rate"]
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<h2>Topics</h2>" in page and "2026-W48" in page and "first call" in page

    # the same figures from the topics the rows carry (predict --topics), without --topics; no call times
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "tagged.csv", "--topics", topics_file, "-q")
    carried = json.loads(run_cli("report", tmp_path / "tagged.csv", "--out", tmp_path / "r2", "--json").stdout)
    assert {t["name"]: t["calls"] for t in carried["topics"]} == {
        t["name"]: t["calls"] for t in summary["topics"] if t["calls"]}
    assert all(t["weekly"] is None for t in carried["topics"]) and "no call times" in (tmp_path / "r2" / "index.html").read_text()

    # estimated like the other breakdowns when the quantifier is allowed: an interval from the same PACC bootstrap
    estimated = json.loads(run_cli("report", dated, "--topics", topics_file, "--out", tmp_path / "r3",
                                   "--min-quantifier-calls", "10", "--json").stdout)
    assert "PACC" in estimated["estimated_by"]
    price = next(t for t in estimated["topics"] if t["name"] == "price")
    assert price["booking"]["leads"] > 1 and price["booking"]["interval"][0] <= price["booking"]["rate"] <= price["booking"]["interval"][1]
    assert not any(key.startswith("topic:") for key in estimated)


def test_apply_retags_a_store_and_a_search_by_topic_finds_the_calls(sample_csv, tfidf_dir, topics_file, tmp_path):
    store = tmp_path / "store.db"
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "p.csv", "--store", store, "-q")
    assert "no call carries a topic" in run_cli("topics", store).stdout
    assert search_store(store, None, SearchFilters(topic="price"), count_only=True)["count"] == 0
    texts = texts_of(sample_csv)
    topics = load_topics(topics_file)
    done = json.loads(run_cli("topics", store, "--apply", topics_file, "--json").stdout)
    expected = {name: sum(name in topics.of(t) for t in texts) for name in topics.names}
    assert done["calls"] == len(texts) and done["changed"] == sum(bool(topics.of(t)) for t in texts)
    assert done["topics"] == expected and expected["price"] >= 5
    found = search_store(store, None, SearchFilters(topic="price"), limit=200)
    assert found["count"] == expected["price"]
    assert all("price" in r["topics"] for r in found["results"])
    assert sorted(int(r["source"].rsplit(":", 1)[-1]) for r in found["results"]) == sorted(
        i + 1 for i, t in enumerate(texts) if "price" in topics.of(t))  # sources name the row
    words_and_topic = search_store(store, "dollars", SearchFilters(topic="price"), count_only=True)["count"]
    assert 0 < words_and_topic <= expected["price"]
    # the counts alone, from the rows' topics; applying the same file again changes nothing
    listed = run_cli("topics", store).stdout
    assert f"{expected['price']:6d}  price" in listed
    assert json.loads(run_cli("topics", store, "--apply", topics_file, "--json").stdout)["changed"] == 0
    # a file without a topic takes its tags off the calls
    (tmp_path / "less.yaml").write_text("voicemail: [\"leave a message\", \"leave your\"]\n")
    fewer = json.loads(run_cli("topics", store, "--apply", tmp_path / "less.yaml", "--json").stdout)
    assert fewer["topics"] == {"voicemail": expected["voicemail"]}
    assert search_store(store, None, SearchFilters(topic="price"), count_only=True)["count"] == 0


def test_v1_topics_from_a_served_topics_file(sample_csv, tfidf_dir, topics_file, tmp_path):
    store = tmp_path / "store.db"
    run_cli("predict", sample_csv, "-m", tfidf_dir, "-o", tmp_path / "p.csv", "--store", store, "-q")  # untagged
    topics = load_topics(topics_file)
    texts = texts_of(sample_csv)
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY,
                             "--reviewer-key", REVIEWER, "--topics", str(topics_file))
    try:
        assert httpx.get(f"{url}/v1/topics", timeout=30).status_code == 401
        body = httpx.get(f"{url}/v1/topics", headers={"x-api-key": REVIEWER}, timeout=30).json()
        assert [t["name"] for t in body["topics"]] == topics.names
        price, _, _, maintenance = body["topics"]
        assert price == {"name": "price", "phrases": ["diagnostic", "dollars", "price*"], "side": None,
                         "calls": sum("price" in topics.of(t) for t in texts)}  # stored before --topics: still found
        assert maintenance["side"] == "caller" and maintenance["calls"] == 0
    finally:
        proc.terminate()
        proc.wait(30)
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY)
    try:
        assert httpx.get(f"{url}/v1/topics", headers={"x-api-key": KEY}, timeout=30).json() == {"topics": []}
    finally:
        proc.terminate()
        proc.wait(30)
