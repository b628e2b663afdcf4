"""The manager's report: the figures on known rows, then `callsort report` on the shipped recordings and
calls with a metadata table, checked in Chromium (and on the real recordings of ../shared when present)."""

import csv
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import run_cli, start_server

from callsort.insights.report import LeadRules, summarise

KEY = "callsort-test-key"  # serve refuses keys under 16 characters

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def row(label, reason="", agent="", when="", **more):
    return {"source": f"/calls/{agent or 'x'}-{when}.mp3", "label": label, "reason": reason, "needs_review": False,
            "meta": {"agent": agent, "datetime": when} if when else {"agent": agent}, **more}


def test_figures_on_known_rows():
    rows = [row("New Customer - Lead Booked", agent="Ann", when="2026-11-23 09:05"),
            row("New Customer - Lead Not Booked", "CSR Needs to Call Customer Back", "Ann", "2026-11-23 10:30"),
            row("Existing Customer - Lead Booked", agent="Bob", when="2026-11-24 09:40", ring_or_hold_s=4.0,
                agent_talk_s=30.0, caller_talk_s=10.0),
            row("Existing Customer - Lead Not Booked", "Price Shopper", "Bob", "2026-11-24 11:00"),
            row("Existing Customer - Lead Not Booked", "CSR Needs to Call Customer Back", "Bob", "2026-11-25 16:20"),
            row("Missed Call", when="2026-11-28 19:00"), row("Voicemail - Lead", when="2026-11-28 19:45"),
            {"source": "/calls/broken.mp3", "error": "broken.mp3: not audio"}]
    s = summarise(rows)
    assert (s["calls"], s["failed"], s["leads"], s["booked"], s["booking_rate"]) == (8, 1, 5, 2, 0.4)
    # without the model's quantifier: counts with their 90 % Wilson interval, marked thin under 10 leads
    assert s["booking_by_agent"] == {
        "Ann": {"booked": 1, "leads": 2, "rate": 0.5, "interval": [0.1209, 0.8791], "calls": 2, "thin": True},
        "Bob": {"booked": 1, "leads": 3, "rate": 0.3333, "interval": [0.0783, 0.7465], "calls": 3, "thin": True},
        "(not known)": {"booked": 0, "leads": 0, "rate": None, "interval": None, "calls": 2, "thin": True}}
    assert s["booking_by_hour"]["09:00"] == {"booked": 2, "leads": 2, "rate": 1.0, "interval": [0.425, 1.0],
                                             "calls": 2, "thin": True}
    assert s["booking_by_hour"]["19:00"]["rate"] is None and s["missing_metadata"] == {
        "booking_by_source": "No marketing sources: pass --meta with a source column (or --meta-pattern with {source})"}
    assert s["unanswered_by_hour"] == {"19:00": 2} and s["unanswered_by_weekday"] == {"Sat": 2}
    assert s["lost_reasons"] == {"CSR Needs to Call Customer Back": 2, "Price Shopper": 1}
    assert [c["when"] for c in s["callbacks"]] == ["2026-11-28 19:45", "2026-11-28 19:00", "2026-11-25 16:20",
                                                   "2026-11-24 11:00", "2026-11-23 10:30"]  # every lost or unanswered call, newest first
    assert s["median_wait_s"] == {"value": 4.0, "calls": 1} and s["agent_talk_share"]["value"] == 0.75
    assert s["period"] == {"first": "2026-11-23 09:05", "last": "2026-11-28 19:45", "dated_calls": 7,
                           "unit": "week", "periods": 1} and s["change"] is None
    by_day = summarise(rows, period="day")  # counted: the change without an interval
    assert by_day["change"] == {"from": "2026-11-25", "to": "2026-11-28", "change": None, "interval": None,
                                "thin": True}  # the last day holds no leads: no change to give
    by_day = summarise(rows[:5], period="day")
    assert by_day["change"] == {"from": "2026-11-24", "to": "2026-11-25", "change": -0.5, "interval": None,
                                "thin": True}
    narrow = summarise(rows, LeadRules(lead_labels=["New Customer - Lead Booked", "New Customer - Lead Not Booked"]))
    assert (narrow["leads"], narrow["booked"]) == (2, 1)


def test_small_groups_never_look_certain_and_groups_without_leads_say_so():
    """A one-lead agent's booking rate is 100 % of one call, not "100 %–100 %": counted or estimated, a group on
    three leads or fewer has an interval at least 30 points wide (the 90 % Wilson interval, here checked
    against scipy's for whole counts); an agent whose calls hold no lead has no rate, and the page says so."""
    from scipy.stats import binomtest

    from callsort.insights.quantify import Quantifier, wilson
    from callsort.insights.report_page import render_page

    for booked, leads in ((0, 1), (1, 1), (2, 3), (3, 3), (5, 17)):
        ci = binomtest(booked, leads).proportion_ci(0.9, method="wilson")
        assert wilson(booked / leads, leads) == pytest.approx((ci.low, ci.high))
    labels = ["New Customer - Lead Booked", "New Customer - Lead Not Booked", "Other"]
    sure = {"New Customer - Lead Booked": [0.98, 0.01, 0.01], "New Customer - Lead Not Booked": [0.01, 0.98, 0.01],
            "Other": [0.01, 0.01, 0.98]}
    rows = [{**row(label, agent=agent, when=f"2026-11-{23 + i % 4} 09:00"), "model": "m@1",
             "probabilities": dict(zip(labels, sure[label], strict=True))}
            for i, (label, agent) in enumerate([(labels[0], "Solo")] + [(labels[1], "Three")] * 3
                                               + [(labels[2], "None")] * 4 + [(labels[i % 2], "Many") for i in range(40)])]
    truth = [labels[i % 3] for i in range(300)]
    quantifier = Quantifier.fit([sure[t] for t in truth], truth, labels)  # a model that is never wrong
    for s in (summarise(rows), summarise(rows, quantifier=quantifier, model="m@1")):
        agents = s["booking_by_agent"]
        for name in ("Solo", "Three"):
            low, high = agents[name]["interval"]
            assert high - low >= 0.30 and low <= agents[name]["rate"] <= high and agents[name]["thin"]
        assert (agents["Solo"]["rate"], agents["Three"]["rate"]) == pytest.approx((1.0, 0.0), abs=0.02)
        assert (agents["None"]["rate"], agents["None"]["interval"], agents["None"]["calls"]) == (None, None, 4)
        low, high = agents["Many"]["interval"]
        assert agents["Many"]["calls"] == 40 and high - low < 0.30  # many leads: the interval can be narrow
        page = render_page(s)
        assert "no leads" in page and "None (thin)" in page
    assert "PACC" in s["estimated_by"] and s["booking_by_agent"]["Solo"]["leads"] == pytest.approx(1.0, abs=0.1)


def test_the_report_command_without_phone_system_metadata(tmp_path):
    """`callsort report` on rows without --meta (agents heard in greetings only): the agent chart with its
    one-lead and no-lead agents, and for hour, day, week and source one line naming what would fill them."""
    made_up = [("New Customer - Lead Booked", "Solo"), ("Missed Call", "Quiet"), ("Other", "Quiet"),
               *[("New Customer - Lead Not Booked" if i % 3 else "New Customer - Lead Booked", "Many") for i in range(12)]]
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"source": f"/calls/{i}.mp3", "label": label, "agent_name": agent,
                                        "reason": "", "needs_review": False, "error": None}) + "\n"
                            for i, (label, agent) in enumerate(made_up)))
    summary = json.loads(run_cli("report", rows, "--out", tmp_path / "report", "--json").stdout)
    assert summary == json.loads((tmp_path / "report" / "summary.json").read_text()) | {"report": summary["report"]}
    agents = summary["booking_by_agent"]
    low, high = agents["Solo"]["interval"]
    assert (agents["Solo"]["rate"], agents["Solo"]["calls"]) == (1.0, 1) and high - low >= 0.30
    assert (agents["Quiet"]["rate"], agents["Quiet"]["interval"], agents["Quiet"]["calls"]) == (None, None, 2)
    no_times = "No call times: pass --meta with a datetime column (or --meta-pattern with {date} and {time})"
    assert summary["missing_metadata"] == {
        **dict.fromkeys(("booking_by_day", "booking_by_hour", "booking_by_period"), no_times),
        "booking_by_source": "No marketing sources: pass --meta with a source column (or --meta-pattern with {source})",
        **dict.fromkeys(("unanswered_by_hour", "unanswered_by_weekday"), no_times)}
    page = (tmp_path / "report" / "index.html").read_text()
    assert page.count("<figure class=chart><svg") == 3  # categories, agents, why leads were not booked
    assert "Booking rate by agent" in page and not re.search(r"Booking rate by (hour|day|week|source)", page)
    assert page.count(f"{no_times} — for the booking rate by hour of day, booking rate by day, booking rate by week") == 1
    assert page.count("No marketing sources") == 1 and "no leads" in page and "(no time)" not in page


def phone_system_export(path: Path, names: list[str]) -> Path:
    """What a phone system exports: one row per call (file name), two weeks, two agents, two marketing sources."""
    path.write_text("file,datetime,agent,source,caller\n" + "".join(
        f"{name},2026-11-{16 + 7 * (i % 4 == 0) + i % 5} {8 + i % 10}:{10 + i % 50}:00,{'Ann' if i % 2 else 'Bob'},"
        f"{'Google Ads' if i % 3 else 'Yard sign'},555-01{i % 100:02d}\n" for i, name in enumerate(names)))
    return path


def by_source(rows: list[dict]) -> dict:
    """What the report must say of each marketing source: its calls, leads and booked leads, counted here, with
    scipy's 90 % Wilson interval."""
    from scipy.stats import binomtest

    counts = {}
    for r in rows:
        if not r["error"]:
            entry = counts.setdefault(r["meta"]["source"], {"booked": 0, "leads": 0, "calls": 0})
            entry["calls"] += 1
            if "Lead Booked" in r["label"] or "Lead Not Booked" in r["label"]:
                entry["leads"] += 1
                entry["booked"] += "Not Booked" not in r["label"]
    out = {}
    for k, v in sorted(counts.items()):
        ci = binomtest(v["booked"], v["leads"]).proportion_ci(0.9, method="wilson") if v["leads"] else None
        out[k] = {"booked": v["booked"], "leads": v["leads"],
                  "rate": round(v["booked"] / v["leads"], 4) if v["leads"] else None,
                  "interval": [round(float(ci.low), 4), round(float(ci.high), 4)] if ci else None,
                  "calls": v["calls"], "thin": v["leads"] < 10}
    return out


@pytest.mark.slow
def test_report_page_from_recordings_and_calls(sample_test_csv, booked_call, voicemail_call, tfidf_dir, tmp_path):
    """The shipped recordings and transcripts, each call with a row of phone-system metadata."""
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for call in (booked_call, voicemail_call):
        shutil.copy(call, recordings / call.name)
    names = sorted(p.name for p in recordings.iterdir())
    texts = [f"{sample_test_csv.name}:{n}" for n in range(1, 25)]  # a table's rows are named file:row
    meta = phone_system_export(tmp_path / "calls.csv", names + texts)
    run_cli("predict", recordings, "--model", tfidf_dir, "--out", tmp_path / "rec.jsonl", "--meta", meta, "-q")
    run_cli("predict", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "text.csv", "--meta", meta, "-q")
    done = run_cli("report", tmp_path / "rec.jsonl", tmp_path / "text.csv", "--out", tmp_path / "report", "--json")
    summary = json.loads(done.stdout)
    rows = [json.loads(line) for line in open(tmp_path / "rec.jsonl")]
    rows += [{**r, "meta": json.loads(r["meta"])} for r in csv.DictReader(open(tmp_path / "text.csv"))]
    assert len(rows) == len(names) + 24 and all(r["meta"]["source"] for r in rows)  # every call joined
    assert summary["calls"] == len(names) + 24 and summary["failed"] == 0 and summary["leads"] > 0
    assert summary["booking_by_source"] == by_source(rows)
    assert set(summary["booking_by_source"]) == {"Google Ads", "Yard sign"}
    assert set(summary["booking_by_agent"]) == {"Ann", "Bob"}
    page = tmp_path / "report" / "index.html"
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//|url\((?!#)", page.read_text())  # nothing from elsewhere
    assert page.read_text().count("<figure class=chart><svg") == 9  # every chart has data to draw
    check_in_chromium(page.as_uri(), expected_charts=9, cards=6)
    assert summary["booking_rate_interval"] is None and "counting" in summary["estimated_by"]
    assert summary["period"]["periods"] == 2 and summary["period"]["first"].startswith("2026-11-16")
    assert (summary["change"]["from"], summary["change"]["to"]) == ("week of 2026-11-16", "week of 2026-11-23")
    assert "week of 2026-11-23 vs week of 2026-11-16" in page.read_text()  # the change card (counted: no interval)

    # with the model folder: estimates with 90 % intervals (its quantifier: here the 64 sample calls' out-of-fold
    # probabilities, allowed for the test; by default 300 are needed), thin groups marked, on the page too
    too_few = json.loads(run_cli("report", tmp_path / "text.csv", "--model", tfidf_dir, "--out", tmp_path / "few",
                                 "--json").stdout)
    assert too_few["booking_rate_interval"] is None and "rests on only 64 calls" in too_few["estimated_by"]
    done = run_cli("report", tmp_path / "rec.jsonl", tmp_path / "text.csv", "--model", tfidf_dir,
                   "--min-quantifier-calls", "5", "--out", tmp_path / "estimated", "--json")
    estimated = json.loads(done.stdout)
    low, high = estimated["booking_rate_interval"]
    assert 0 <= low <= estimated["booking_rate"] <= high <= 1 and "PACC" in estimated["estimated_by"]
    assert set(estimated["booking_by_source"]) == {"Google Ads", "Yard sign"}
    assert all(len(g["interval"]) == 2 and g["calls"] > 0 for g in estimated["booking_by_agent"].values())
    shares = estimated["category_shares"]
    assert abs(sum(v["rate"] for v in shares.values()) - 1) < 0.01
    html = (tmp_path / "estimated" / "index.html").read_text()
    assert f"{estimated['booking_rate']:.0%} ({low:.0%}–{high:.0%})" in html and "PACC" in html
    change = estimated["change"]  # paired bootstrap: the interval holds the estimate
    assert change["interval"][0] <= change["change"] <= change["interval"][1] and "week of 2026-11-23 vs" in html
    check_in_chromium((tmp_path / "estimated" / "index.html").as_uri(), expected_charts=9, cards=6)


@pytest.mark.slow
def test_report_on_the_real_recordings(shared_audio, tfidf_dir, tmp_path):
    """The real dual-channel recordings of ../shared: every call read, joined to its metadata and counted."""
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for call in shared_audio.glob("*.mp3"):
        shutil.copy(call, recordings / call.name)
    names = sorted(p.name for p in recordings.iterdir())
    meta = phone_system_export(tmp_path / "calls.csv", names)
    run_cli("predict", recordings, "--model", tfidf_dir, "--out", tmp_path / "rec.jsonl", "--meta", meta, "-q")
    done = run_cli("report", tmp_path / "rec.jsonl", "--out", tmp_path / "report", "--json")
    summary = json.loads(done.stdout)
    rows = [json.loads(line) for line in open(tmp_path / "rec.jsonl")]
    assert sorted(Path(r["source"]).name for r in rows) == names and all(r["meta"]["agent"] for r in rows)
    assert summary["calls"] == len(names) and summary["failed"] == 0
    assert summary["booking_by_source"] == by_source(rows)
    talked = [r for r in rows if r["agent_talk_s"] is not None]  # dual-channel calls: who talked when
    assert talked and summary["agent_talk_share"]["calls"] == len(talked)


def check_in_chromium(url: str, expected_charts: int, headers: dict | None = None, cards: int = 5) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(extra_http_headers=headers or {})
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        charts = page.locator("figure.chart svg")
        assert charts.count() == expected_charts
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100  # drawn, not an empty element
        assert page.locator(".card").count() == cards and not errors
        browser.close()


@pytest.mark.slow
def test_the_service_serves_a_stored_jobs_report_behind_its_key(tfidf_dir, sample_test_csv, tmp_path):
    store = tmp_path / "jobs.db"
    run_cli("predict", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--store", store, "-q")
    proc, url = start_server("--model", str(tfidf_dir), "--store", str(store), "--api-key", KEY)
    try:
        assert httpx.get(f"{url}/report/all").status_code == 401
        assert httpx.get(f"{url}/report/nope", headers={"x-api-key": KEY}).status_code == 404
        page = httpx.get(f"{url}/report/all", headers={"x-api-key": KEY}).text  # rows without --meta
        assert "No call times: pass --meta" in page and "(no time)" not in page
        charts = page.count("<figure class=chart><svg")
        check_in_chromium(f"{url}/report/all", expected_charts=charts, headers={"x-api-key": KEY})
    finally:
        proc.terminate()
        proc.wait(10)
