"""Phone-call patterns written once (speech/patterns.py), and the modules that ask them: speaker tags, the
company's greeting, digits said as words, a phone number's digits, the cues around a town's name."""

import ast
from pathlib import Path

from callsort.customers import Said, said_in
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
    assert patterns.phone_digits("+1 (555) 010-0199") == patterns.phone_digits("555-010-0199") == "5550100199"
    assert patterns.phone_digits("ext. 204") == "" and patterns.phone_digits("anonymous") == ""


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
