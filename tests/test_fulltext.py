"""The search index in the store (jobs/fulltext.py), on SQLite FTS5 and a real PostgreSQL server: both engines
find exactly the calls the Python rules say match, filters hold, labels and old stores are kept in step."""

import pytest

from callsort.jobs.corrections import Corrections
from callsort.jobs.fulltext import TABLE, SearchFilters, SearchIndex
from callsort.jobs.queue import WorkQueue
from callsort.jobs.store import Database
from callsort.search.query import parse

TEXTS = [
    "Agent: Thanks for calling Acme, this is Dana.\nCaller: My air conditioner is not cooling and the furnace makes noise.",
    "Caller: no heat in the house, the furnace died. Too expensive to replace?",
    "Hello, leaving a message about a furnace tune-up and the maintenance plan. Call me back.",
    "Agent: Acme Heating.\nCaller: Do you do financing? The heat pump quote was too expensive.",
    "Caller: Café owner here: the AC unit is leaking water, it's an emergency!",
]
QUERIES = ["furnace", '"too expensive"', "furn*", "heat OR cooling", "furnace -heat", "NEAR(furnace noise, 1)",
           "NEAR(heat quote, 3)", "cafe", "(heat OR water) -emergency", '"heat pump" financing', "it's", "dana"]


def stored(url: str, rows: list[dict]) -> WorkQueue:
    queue = WorkQueue(url)
    queue.add("job", [(f"call{i}", f"hash{i}") for i in range(len(rows))])
    for item, row in zip(queue.claim("job", 100, 3), rows, strict=True):
        queue.finish(item, {"source": item.source, **row})
    return queue


def rows_of(texts):
    return [{"label": "Other" if i % 2 else "Voicemail - Lead", "transcript": t, "needs_review": i == 0,
             "meta": {"agent": "Dana Smith", "datetime": f"2026-11-0{i + 1} 10:00:00"},
             "topics": ["price"] if "expensive" in t else []} for i, t in enumerate(texts)]


def test_both_engines_find_what_the_rules_say(store_url):
    index = SearchIndex(stored(store_url, rows_of(TEXTS)).db)
    for text in QUERIES:
        for side in (None, "agent", "caller"):
            query = parse(text, side=side)
            expected = {i + 1 for i, t in enumerate(TEXTS) if query.matches(t)}
            count, ids = index.search(query, SearchFilters(side=side))
            assert (count, set(ids)) == (len(expected), expected), (text, side)


def test_filters_and_labels_stay_in_step(store_url):
    queue = stored(store_url, rows_of(TEXTS))
    index, furnace = SearchIndex(queue.db), parse("furnace")
    assert sorted(index.search(furnace, SearchFilters(category="Voicemail - Lead"))[1]) == [1, 3]
    assert index.search(None, SearchFilters(topic="price"), count_only=True)[0] == 2
    assert index.search(furnace, SearchFilters(needs_review=True))[1] == [1]
    assert index.search(furnace, SearchFilters(agent="dana smith"), count_only=True)[0] == 3
    assert set(index.search(furnace, SearchFilters(since="2026-11-02", until="2026-11-03"))[1]) == {2, 3}
    with queue.db.engine.begin() as conn:
        conn.execute(queue.db.table("batches").insert().values(id="b1", job="job", folder="x", call_ids="[1, 2]",
                                                                created_at=0))
    assert index.search(furnace, SearchFilters(batch="b1"))[0] == 2
    Corrections(queue.db).add(1, "Missed Call")  # a person's label moves the call between categories
    assert index.search(furnace, SearchFilters(category="Missed Call"))[1] == [1]
    assert index.search(furnace, SearchFilters(needs_review=True))[0] == 0
    queue.replace_result(2, {"source": "call1", "label": "Other", "transcript": "now about a boiler"})
    assert index.search(furnace, SearchFilters())[0] == 2 and index.search(parse("boiler"), SearchFilters())[1] == [2]


def test_an_older_store_is_indexed_on_first_open(store_url, capsys):
    queue = stored(store_url, rows_of(TEXTS))
    with queue.db.engine.begin() as conn:  # as a store made before search: no index, no mark
        conn.exec_driver_sql(f"DROP TABLE {TABLE}")
        conn.exec_driver_sql("DELETE FROM alert_marks")
    again = Database(store_url)
    assert SearchIndex(again).search(parse("furnace"), SearchFilters())[0] == 3
    assert "indexing stored calls for search" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["sqlite"])
def test_results_are_ranked(tmp_path, engine):
    texts = ["furnace", "the furnace, the furnace, the furnace again", "a call about something else and a furnace"]
    index = SearchIndex(stored(str(tmp_path / "jobs.db"), rows_of(texts)).db)
    count, ids = index.search(parse("furnace"), SearchFilters(), limit=2)
    assert count == 3 and ids[0] == 2 and len(ids) == 2
    assert index.search(parse("furnace"), SearchFilters(), limit=2, offset=2)[1] == [3]


def test_date_ranges_count_whole_months_and_edge_days(store_url):
    times = ["2026-10-31 23:59:59", "2026-11-01 00:00:00", "2026-11-30 12:00:00", "2026-12-01 00:00:00", None]
    rows = [{"label": "Other", "transcript": "the furnace again", "meta": {"datetime": t} if t else {}} for t in times]
    index, furnace = SearchIndex(stored(store_url, rows).db), parse("furnace")
    for since, until, expected in [("2026-10-31", "2026-11-30", {1, 2, 3}), ("2026-11-01", "2026-11-30", {2, 3}),
                                   ("2026-11-02", "2026-12-01", {3, 4}), ("2026-11-01", None, {2, 3, 4}),
                                   (None, "2026-11-01", {1, 2}), ("2026-01-01", "2026-12-31", {1, 2, 3, 4}),
                                   ("2000-01-01", "2040-12-31", {1, 2, 3, 4}),  # too many months: by the column
                                   ("2026-11-05", "2026-11-04", set())]:
        count, ids = index.search(furnace, SearchFilters(since=since, until=until))
        assert (count, set(ids)) == (len(expected), expected), (since, until)
    assert index.search(None, SearchFilters(since="2026-11-01", until="2026-11-30"))[1] == [2, 3]  # in id order


def test_the_review_queue_order_and_failed_calls(store_url):
    confidences = (0.7, None, 0.2, 0.9, 0.2)
    rows = [{**row, "needs_review": True, "confidence": c} for row, c in zip(rows_of(TEXTS), confidences, strict=True)]
    rows[3] = {"error": "call3: not a recording", "needs_review": True, "transcript": ""}  # a failed call
    queue = stored(store_url, rows)
    index, waiting = SearchIndex(queue.db), SearchFilters(needs_review=True, state="done")
    assert index.search(None, waiting, least_confident=True) == (4, [2, 3, 5, 1])  # no confidence, then lowest
    assert index.search(None, SearchFilters(state="failed"))[1] == [4]
    assert index.search(None, waiting, limit=2, offset=1, least_confident=True) == (4, [3, 5])
    Corrections(queue.db).add(3, "Other")  # labelled: off the queue
    assert index.search(None, waiting, least_confident=True) == (3, [2, 5, 1])


def test_an_index_of_an_earlier_layout_is_made_again(store_url):
    queue = stored(store_url, rows_of(TEXTS))
    with queue.db.engine.begin() as conn:  # the layout before confidence was kept, and no mark of this one
        conn.exec_driver_sql(f"DROP TABLE {TABLE}")
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (call_id integer PRIMARY KEY, words text)")
        conn.exec_driver_sql("DELETE FROM alert_marks")
    assert SearchIndex(Database(store_url, progress=False)).search(parse("furnace"), SearchFilters())[0] == 3
