"""Phone-call patterns written once (speech/patterns.py), and the modules that ask them: speaker tags, the
company's greeting, digits said as words, a phone number's digits, the cues around a town's name."""

import ast
from pathlib import Path

from callsort.evidence.customers import Said, said_in
from callsort.insights.callbacks import first_words
from callsort.jobs.corrections import words_of
from callsort.privacy.keep import KeepList, learn_keep_list
from callsort.privacy.spoken import places
from callsort.speech import patterns
from callsort.speech.agent import agent_name
from callsort.speech.transcript import agent_greets_first, speaker_turns

SPLIT = "Agent: Thanks for calling Brandt and Sons, this is Holly. How can I help?\nCaller: Hi, my heat is out.\n" \
        "Agent: Sorry to hear that.\nCaller: Can someone come today?"


def test_it_imports_nothing_from_callsort():
    tree = ast.parse(Path(patterns.__file__).read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + \
               [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert all(not m.startswith(("callsort", ".")) and m for m in imported if m != "__future__"), imported


def test_speaker_tags_one_way_for_every_reader():
    segments = [{"speaker": "Agent", "text": "Thanks for calling, this is Holly."},
                {"speaker": "Caller", "text": "Hi, my heat is out."}]
    assert speaker_turns(segments) == "Agent: Thanks for calling, this is Holly.\nCaller: Hi, my heat is out."
    assert patterns.side(SPLIT, patterns.CALLER) == "Hi, my heat is out. Can someone come today?"
    assert patterns.side("no tags here", patterns.CALLER) == "" and patterns.tagged("Agent: hi") == ("Agent", "hi")
    assert words_of(SPLIT).startswith("Thanks for calling Brandt and Sons, this is Holly. How can I help? Hi, my")
    # the agent's name is read from the agent's side only, the greeting in any of its forms
    assert agent_name("", "Caller: this is Dave. How can I help you?\nAgent: thanks for choosing us, this is Kim.") == "Kim"
    # the side that greets is the agent's, whichever channel it came on
    swapped = agent_greets_first([{"speaker": "Agent", "text": "hello?"},
                                  {"speaker": "Caller", "text": "thanks for holding, how may I help you"}])
    assert [s["speaker"] for s in swapped] == ["Caller", "Agent"]


def test_the_company_after_the_greeting():
    calls = [f"Thank you for calling Brandt and Sons. This is {name}, how can I help? Call {i}."
             for i, name in enumerate(["Holly", "Kim"] * 5)]
    keep = learn_keep_list(calls)
    assert keep.company == {"brandt", "sons"}  # "and": a stop word
    assert patterns.COMPANY.search("thanks for holding for Brandt and Sons today").group(1) == "Brandt and Sons"


def test_digits_said_as_words_and_phone_numbers():
    assert patterns.spoken_digits("five five five, Oh one nine nine") == "5 5 5, 0 1 9 9"
    assert patterns.spoken_digits("someone told me") == "someone told me"  # whole words only
    from callsort.evidence.phone import phone_digits

    assert phone_digits("+1 (555) 010-0199") == phone_digits("555-010-0199") == "5550100199"
    assert phone_digits("ext. 204") == "" and phone_digits("anonymous") == ""


class FoundPhone:
    """A stand-in for the redactor's finders: the one span a phone number said in words."""

    def find(self, text):
        from callsort.privacy.spoken import Span

        return [Span(0, len(text), "PHONE")]


def test_customers_read_spoken_digits_the_same_way():
    said = said_in("five five five oh one oh oh one nine nine", FoundPhone())
    assert said == Said(["5550100199"], [], [], [])


def test_place_cues():
    assert places("I live out in Norton and work near Kent, Richfield, ohio, and that Hudson area.") == \
        {"norton", "kent", "richfield", "hudson"}
    assert places("What city? Peninsula Falls") == {"peninsula", "falls"}  # "city" before a town, not after one
    assert patterns.BEFORE_PLACE.search("she lives out in ") and patterns.BEFORE_PLACE.search("calling from ")
    assert not patterns.BEFORE_PLACE.search("let me put you over to ")
    assert patterns.AFTER_PLACE.match(", Ohio") and patterns.AFTER_PLACE.match(" Heights")
    keep = KeepList()
    from callsort.privacy.spoken import Span

    text = "We are out in Aurora today"
    assert keep.covers(text, Span(text.index("Aurora"), text.index("Aurora") + 6, "NAME"))


MENU = ("Thank you for calling Brandt and Sons. This call may be recorded. For service, press one. For accounting, "
        "press two. Your call is important to us, please stay on the line. ")


def test_first_words_are_the_callers():
    # the greeting and menu, then the agent who answers: the caller's request is what is shown
    assert first_words(MENU + "Brandt and Sons. This is Penny. Hi, Penny. My furnace stopped last night.") == \
        "Hi, Penny. My furnace stopped last night."
    # a voicemail: after the prompt, "this is Mark" is the caller's
    voicemail = MENU + "No one is available to take your call. At the tone, please record your message. " \
                       "Hi, this is Mark. Please call me back about a quote."
    assert first_words(voicemail) == "Hi, this is Mark. Please call me back about a quote."
    # a split recording: the caller's turns, whatever the agent said first
    assert first_words(SPLIT, 4) == "Hi, my heat is …"
    # a missed call that hung up in the menu: the caller said nothing
    assert first_words(MENU) == "" and first_words("") == ""
    # a call that opens with the caller is left as it is
    assert first_words("Hello? Is this the plumber? My sink is leaking.") == "Hello? Is this the plumber? My sink is leaking."
    assert first_words("one two three", 2) == "one two …"


def test_what_the_company_says_is_learned_at_train_and_skipped(tmp_path):
    slogan = "Proudly serving Summit County families since 1952."
    calls = [f"Thank you for calling Brandt and Sons. {slogan} This is Holly. Hello Holly, my drain {i} is slow."
             for i in range(20)]
    keep = learn_keep_list(calls)
    assert "proudly serving summit county families since 1952" in keep.opening
    keep.save(tmp_path)
    company = KeepList.load(tmp_path).company_says
    assert {"brandt", "sons"} <= company
    said = f"Brandt and Sons. {slogan} Uh, yes. Hello Holly, the basement is flooding."
    assert first_words(said).startswith("Brandt and Sons. Proudly")  # generic patterns do not know the slogan
    assert first_words(said, company=company) == "Uh, yes. Hello Holly, the basement is flooding."
    # learned from the agent's side of a split recording
    split = [f"Agent: {slogan} How can I help?\nCaller: My kitchen drain is slow." for _ in range(10)]
    assert learn_keep_list(split).opening == {"proudly serving summit county families since 1952", "how can i help"}


def test_the_report_shows_callers_words_with_the_models_company():
    from callsort.insights.report import calls_to_ring_back

    slogan = "Proudly serving Summit County families since 1952."
    rows = [{"source": "a.mp3", "label": "Missed Call", "probabilities": {"Missed Call": 1.0},
             "transcript": f"{slogan} Hi, call me back on my cell.", "meta": {}}]
    assert calls_to_ring_back(rows)[0]["first_words"].startswith("Proudly")
    company = {"proudly serving summit county families since 1952"}
    assert calls_to_ring_back(rows, company=company)[0]["first_words"] == "Hi, call me back on my cell."
