"""GET /v1/search and the page's Search tab, through a real `callsort serve --store` process over a store that
`callsort predict --store` filled: keys, filters, the service's --topics, paging, errors, GET /v1/review's
pages; under --redact nothing personal can be found, nor read in the store's file; Chromium types a query,
sees the count and the marked words, and opens a call."""

import time
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, signed_in_page, start_server, wait_for
from test_search_cli import FILES, expected, transcripts

from callsort.demo import sample_path
from callsort.search.topics import load_topics

KEY, REVIEWER = "search-admin-key-0123456789", "search-reviewer-key-012345"
TOPICS = 'heating:\n  phrases: ["furnace", "no heat", "heat pump"]\nbooking:\n  phrases: ["book*"]\n  side: caller\n'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory, tfidf_dir):
    folder = tmp_path_factory.mktemp("search")
    store, topics = folder / "jobs.db", folder / "topics.yaml"
    topics.write_text(TOPICS, encoding="utf-8")
    for name in FILES:  # --review-below 1.01: every call needs review, so the review queue holds them all
        run_cli("predict", sample_path(name), "-m", tfidf_dir, "-o", folder / f"{name}.out.csv", "--store", store,
                "--review-below", "1.01", "-q")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY,
                             "--reviewer-key", REVIEWER, "--topics", str(topics))
    yield url, topics
    proc.terminate()
    proc.wait(10)


def client(url: str, key: str | None = REVIEWER) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": key} if key else {}, timeout=60)


def test_search_needs_a_key_and_finds_what_the_rules_say(served):
    url, _ = served
    assert client(url, None).get("/v1/search", params={"q": "furnace"}).status_code == 401
    assert client(url, "wrong-key-0123456789").get("/v1/search", params={"q": "furnace"}).status_code == 401
    for key in (REVIEWER, KEY):
        found = client(url, key).get("/v1/search", params={"q": "furnace"}).json()
        assert (found["count"], found["limit"], found["offset"]) == (expected("furnace"), 20, 0)
    first = found["results"][0]
    assert "/" not in first["source"]  # the file's name, never the server's path
    assert all(first["snippet"]["text"][s:e].lower() == "furnace" for s, e in first["snippet"]["highlights"])
    for query in ('"cold air"', "heat OR cooling", "technician -tomorrow", "zzzunheardof"):
        assert client(url).get("/v1/search", params={"q": query}).json()["count"] == expected(query), query


def test_filters_and_the_services_topics(served):
    url, topics = served
    http = client(url)

    def count(**params):
        return http.get("/v1/search", params=params).json()["count"]

    heating = sum(load_topics(topics).query("heating").matches(t) for t in transcripts())
    assert heating and count(topic="heating") == heating  # the service's topics file, not the rows' topics
    assert count(q="furnace", topic="heating") == expected("furnace")
    assert count(needs_review="true") == len(transcripts()) and count(needs_review="false") == 0
    labels = http.get("/v1/search", params={"q": "furnace"}).json()["results"]
    category = labels[0]["label"]
    assert {r["label"] for r in http.get("/v1/search", params={"q": "furnace", "category": category}).json()["results"]} == {category}
    assert count(q="furnace", side="caller") == 0  # the samples have no 'Caller:' lines: nothing said by a side
    assert count(q="furnace", since="2001-01-01") == 0  # the samples carry no call times


def test_paging_and_errors(served):
    url, _ = served
    http = client(url)
    every = http.get("/v1/search", params={"q": "the", "limit": 12}).json()
    assert every["count"] > 12
    pages = [http.get("/v1/search", params={"q": "the", "limit": 4, "offset": o}).json() for o in (0, 4, 8)]
    assert [r["id"] for p in pages for r in p["results"]] == [r["id"] for r in every["results"]]
    past = http.get("/v1/search", params={"q": "the", "offset": 1000}).json()
    assert past["count"] == every["count"] and past["results"] == []
    for params, says in (({"q": "furnace ("}, "query 'furnace ('"), ({"q": "NEAR(a b, 99)"}, "NEAR"),
                         ({"q": ""}, "nothing to search for"), ({"q": "x", "since": "2026-13-01"}, "expected a date"),
                         ({"q": "x", "batch": "nope"}, "no such batch"), ({"q": "x", "topic": "nope"}, "not in")):
        answer = http.get("/v1/search", params=params)
        assert answer.status_code == 422 and says in answer.json()["detail"], (params, answer.text)
    for params in ({"q": "x", "side": "both"}, {"q": "x", "limit": 0}, {"q": "x", "limit": 201}, {"q": "x", "offset": -1}):
        assert http.get("/v1/search", params=params).status_code == 422, params


def test_the_review_queue_pages(served):
    url, _ = served
    http = client(url)
    whole = http.get("/v1/review").json()
    assert whole["count"] == len(whole["calls"]) == len(transcripts())
    page = http.get("/v1/review", params={"limit": 5, "offset": 5}).json()
    assert page["count"] == whole["count"] and page["calls"] == whole["calls"][5:10]


def test_the_search_box_in_chromium(served):
    playwright = pytest.importorskip("playwright.sync_api")
    url, _ = served
    topics = client(url).get("/v1/topics")
    with playwright.sync_playwright() as p:
        browser, page, errors = signed_in_page(p, url, REVIEWER)
        page.click("nav [data-tab=search]")
        page.fill("#search-q", "furnace")
        page.press("#search-q", "Enter")
        wait_for(page, f"document.querySelector('#search-count').textContent === '{expected('furnace')} calls'")
        marks = page.eval_on_selector_all("#search-results mark", "ms => ms.map(m => m.textContent.toLowerCase())")
        assert marks and set(marks) == {"furnace"}
        offered = topics.status_code == 200 and bool(topics.json()["topics"])
        assert page.is_hidden("#search-topic") is not offered  # hidden when the service has no topics route/topics
        page.fill("#search-q", "the")
        page.click("#search-go")
        wait_for(page, "document.querySelector('#search-count').textContent.includes('1–20')")
        page.click("#search-next")
        wait_for(page, "document.querySelector('#search-count').textContent.includes('21–')")
        assert page.is_visible("#search-prev") and page.is_hidden("#search-next")
        first = page.get_attribute("#search-results li.found", "data-id")
        page.click("#search-results li.found button.open-call")
        page.wait_for_selector("#item:not([hidden])")
        assert page.is_visible("#tab-queue") and page.text_content("#queue-count").endswith("found")
        called = client(url).get(f"/v1/calls/{first}").json()
        assert page.text_content("#item-transcript") == called["result"]["transcript"]
        browser.close()
    assert [e for e in errors if "404" not in e] == []  # a service without GET /v1/topics answers 404 to it


MADE_UP = ["Hi, my name is Griselda Vantwerp, my furnace stopped working, call me at 330-555-0199.",
           "Caller: this is Orvald Penhallow, my number is 330 555 0187, the water heater is leaking."]
TRACES = ("Griselda", "Vantwerp", "Orvald", "Penhallow", "0199", "0187")


def test_under_redact_nothing_personal_is_found_or_stored(tfidf_dir, tmp_path):
    pytest.importorskip("presidio_analyzer")
    store = tmp_path / "jobs.db"
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY, "--redact")
    try:
        admin = client(url, KEY)
        ids = [admin.post("/v1/calls", files={"file": (f"call-{i}.txt", text.encode())}).json()["id"]
               for i, text in enumerate(MADE_UP)]
        deadline = time.time() + 120
        while not all(admin.get(f"/v1/calls/{i}").json()["state"] == "done" for i in ids):
            assert time.time() < deadline, "the pushed calls were not classified"
            time.sleep(0.3)
        assert admin.get("/v1/search", params={"q": "furnace OR heater"}).json()["count"] == 2  # indexed, redacted
        for word in TRACES:
            assert admin.get("/v1/search", params={"q": word}).json()["count"] == 0, word
        assert admin.get("/v1/search", params={"q": '"330 555"'}).json()["count"] == 0
    finally:
        proc.terminate()
        proc.wait(10)
    raw = b"".join(Path(f"{store}{end}").read_bytes() for end in ("", "-wal") if Path(f"{store}{end}").exists())
    for word in TRACES:
        assert word.encode() not in raw and word.lower().encode() not in raw, word
