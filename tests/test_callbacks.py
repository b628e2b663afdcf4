"""The speed-to-lead list (insights/callbacks.py): who is listed, in what order, the "called again and booked"
rule on made-up caller numbers, and the done tick kept in a store and shown in the report."""

from callsort.insights.callbacks import call_name, chance_recoverable, first_words, tel_link
from callsort.insights.report import LeadRules, calls_to_ring_back, summarise

LOST, BOOKED = "New Customer - Lead Not Booked", "New Customer - Lead Booked"


def call(name, label, probabilities=None, when="", caller="", **more):
    return {"source": f"/calls/{name}", "label": label, "probabilities": probabilities or {label: 1.0},
            "transcript": f"Agent: thanks for calling, this is {name}.\nCaller: hi", "needs_review": False,
            "meta": {k: v for k, v in (("datetime", when), ("caller", caller)) if v}, **more}


def test_every_recoverable_kind_is_listed_likeliest_then_newest():
    rows = [call("lost.mp3", LOST, when="2026-11-23 09:00", reason="Price Shopper"),
            call("voicemail.mp3", "Voicemail - Lead", when="2026-11-23 10:00"),
            call("missed.mp3", "Missed Call", when="2026-11-23 11:00"),
            call("booked.mp3", BOOKED, when="2026-11-23 12:00"),
            call("unsure.mp3", "Other", {"Other": 0.6, "Existing Customer - Lead Not Booked": 0.4}, "2026-11-23 13:00"),
            call("calls.csv:96", "Other", {"Other": 0.9, LOST: 0.1})]
    listed = calls_to_ring_back(rows)
    # chance 1.0 newest first, then the call whose top label is Other but 40 % likely a lost lead
    assert [c["call"] for c in listed] == ["missed.mp3", "voicemail.mp3", "lost.mp3", "unsure.mp3"]
    assert listed[-1]["label"] == "Other" and listed[-1]["chance"] == 0.4
    assert listed[2]["reason"] == "Price Shopper" and listed[2]["first_words"] == "hi"  # the caller's words
    assert calls_to_ring_back(rows, LeadRules(callback_threshold=0.05))[-1]["call"] == "calls.csv row 96"


def test_a_caller_who_booked_later_is_dropped_by_number():
    rows = [call("first.mp3", LOST, when="2026-11-23 09:00", caller="(555) 010-0199"),
            call("again.mp3", BOOKED, when="2026-11-24 09:00", caller="+1 555 010 0199"),  # same caller, booked
            call("other.mp3", LOST, when="2026-11-23 09:30", caller="555-010-0200"),
            call("before.mp3", BOOKED, when="2026-11-22 09:00", caller="555-010-0300"),  # booked before: still lost
            call("after.mp3", LOST, when="2026-11-23 10:00", caller="555-010-0300"),
            call("undated.mp3", LOST, caller="555-010-0400"), call("undated-booked.mp3", BOOKED, caller="555-010-0400")]
    listed = {c["call"]: c for c in calls_to_ring_back(rows)}
    assert set(listed) == {"other.mp3", "after.mp3"}
    assert listed["other.mp3"]["tel"] == "tel:5550100200" and tel_link("+1 555 010 0199") == "tel:+15550100199"


def test_checked_calls_count_as_a_person_said():
    rules = LeadRules()
    unsure = {"label": "Other", "probabilities": {"Other": 0.5, LOST: 0.5}}
    assert chance_recoverable(unsure, rules) == 0.5
    assert chance_recoverable({**unsure, "checked": True}, rules) == 0.0
    assert chance_recoverable({"label": "Missed Call", "probabilities": {"Missed Call": 1.0}, "checked": True}, rules) == 1.0


def test_names_and_words():
    assert call_name("/data/week/calls_week.csv:96") == "calls_week.csv row 96"
    assert call_name("/srv/up/ab12/2026-11-23_0905.mp3") == "2026-11-23_0905.mp3"
    assert first_words("one two three", 2) == "one two …" and first_words("") == ""


def test_the_report_lists_them_and_marks_those_done():
    rows = [call("a.mp3", LOST, when="2026-11-23 09:00", caller="555-010-0100", callback_done=True),
            call("b.mp3", "Missed Call", when="2026-11-23 10:00", caller="555-010-0101")]
    s = summarise(rows)
    assert [(c["call"], c["done"]) for c in s["callbacks"]] == [("b.mp3", False), ("a.mp3", True)]
    from callsort.insights.report_page import render_page

    page = render_page(s)
    assert "<a href='tel:5550100101'>555-010-0101</a>" in page and "✓" in page
    assert ">1</b><span class=small>lost leads, voicemails, missed calls" in page  # one left to ring back
