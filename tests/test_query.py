"""callsort's query language (search/query.py): what matches, what each engine is told, and clear errors."""

import pytest

from callsort.errors import InputError
from callsort.search.query import one_of, parse, words
from callsort.search.snippets import snippet

CALL = ("Agent: Thanks for calling Acme Heating, this is Dana.\n"
        "Caller: Hi, my air conditioner is not cooling and the furnace makes a noise. Isn't that too expensive?")


@pytest.mark.parametrize("query, expected", [
    ("furnace", True), ("FURNACE", True), ("furn", False), ("furn*", True),  # whole words, case-insensitive
    ("furnace cooling", True), ("furnace heat", False),  # several words: all of them
    ('"air conditioner"', True), ('"conditioner air"', False),
    ("heat OR cooling", True), ("heat OR boiler", False), ("furnace -cooling", False), ("furnace NOT boiler", True),
    ("NEAR(furnace noise, 2)", True), ("NEAR(noise furnace, 2)", True), ("NEAR(furnace noise, 1)", False),
    ("isn't", True), ("(heat OR noise) expensive", True), ("agent", False),  # the speaker tags are not words
])
def test_what_matches(query, expected):
    assert parse(query).matches(CALL) is expected


def test_a_side_is_what_that_side_said():
    assert parse("dana", side="agent").matches(CALL) and not parse("dana", side="caller").matches(CALL)
    assert parse("furnace", side="caller").matches(CALL) and parse("dana").matches(CALL)


def test_words_fold_case_and_accents():
    assert words("Café-Crème, NO heat!") == ["cafe", "creme", "no", "heat"]


@pytest.mark.parametrize("query, why", [
    ("", "nothing to look for"), ("-furnace", "nothing to look for"), ('"air', None), ("(heat OR", "nothing to look for"), ("(heat", "missing"),
    ("NEAR(a b c)", "NEAR takes two"), ("NEAR(a b, 99)", "distance"), ("air-con*", "single word"), ("heat )", "unexpected"),
])
def test_bad_queries_say_what_is_wrong(query, why):
    if why is None:  # an unclosed quote is forgiven: the phrase runs to the end
        assert parse(query).matches("the air")
        return
    with pytest.raises(InputError, match=why) as error:
        parse(query)
    assert "\n" not in str(error.value)


def test_each_engine_is_told_the_same_tree():
    query = parse('"no heat" furn* -boiler', side="caller")
    assert query.fts5() == '((caller : "no heat" AND caller : "furn" *) NOT caller : "boiler")'
    assert query.tsquery() == "((('no':B <-> 'heat':B) & 'furn':*B) & !'boiler':B)"


def test_topic_phrases_are_phrases():
    topic = one_of(["too expensive", "price*"])
    assert topic.matches("That is too expensive") and topic.matches("what are your prices")
    assert not topic.matches("expensive, too")


def test_snippet_marks_the_matching_words():
    found = snippet(CALL, parse('"air conditioner" noise'))
    marked = [found["text"][s:e] for s, e in found["highlights"]]
    assert marked == ["air conditioner", "noise"] and "\n" not in found["text"]
