"""How people say personal data on the phone (privacy/spoken.py) and what is kept (privacy/keep.py), through
the real Redactor (Presidio + spaCy) on made-up calls written the way speech recognition writes them."""

import pytest

from callsort.privacy.keep import KeepList, learn_keep_list

pytest.importorskip("presidio_analyzer")


@pytest.fixture(scope="module")
def redactor():
    from callsort.privacy.redact import Redactor

    keep = learn_keep_list(company_calls())
    return Redactor(agent_names=True, keep=keep)


def company_calls() -> list[str]:
    """A hundred training calls of a company the recogniser hears as "Brandon Sons", "Brandt and Suns"…"""
    spellings = ["Brandon Sons", "Brandt and Suns", "Branden Suns", "brand and sons"]
    return [f"Thank you for calling {spellings[i % 4]}. Please visit our website@brandensons.com. This is "
            f"{['Holly', 'Keaton'][i % 2]}, how can I help you? My furnace in Akron is out. Is it call {i}?"
            for i in range(100)]


def check(redactor, text: str, said=(), kept=()) -> None:
    """What was said is gone from the redacted text; what must stay is still there."""
    out = redactor.redact(text)[0]
    for words in said:
        assert words not in out, f"{words!r} left in: {out}"
    for words in kept:
        assert words in out, f"{words!r} removed: {out}"


def test_spelled_names_and_spelling_alphabets(redactor):
    check(redactor, "Can I get your first and last name, please? Dusty. D-U-S-T-Y. And the last name? "
                    "T as in Tom. H-O-L-T as in Tom. Thanks, and Dusty, what's the best number?",
          said=("Dusty", "D-U-S-T-Y", "H-O-L-T", "T as in Tom"), kept=("best number",))


def test_streets_with_and_without_numbers_and_zip_codes(redactor):
    check(redactor, "What's the address? It's 3902. Sheraton drive in Akron, 44134. And is this for Fairmont "
                    "Boulevard? Yes. And the other one is 1175 Dorset. D-O-R-S-E-T. Court.",
          said=("3902", "Sheraton", "44134", "Fairmont Boulevard", "1175", "Dorset", "D-O-R-S-E-T", "Court"),
          kept=("Akron",))  # a town, said in most training calls: kept


def test_names_given_and_said_again_in_any_case(redactor):
    check(redactor, "Hi, this is Tara Rupert calling about my heater. Okay, is it rosemary on the account? "
                    "My last name is Price. Thank you, Ms. Price. And rupert was my maiden name.",
          said=("Tara", "Rupert", "rupert", "rosemary", "Price"), kept=("heater", "account"))


def test_email_users_of_several_words_and_phone_pieces(redactor):
    check(redactor, "My email is JRC seven, five, eight@gmail.com. Or Derekrcholt at Gmail. The number is three "
                    "30. Um, 322-4411. The unit is from 2012 and the call fee is $1200, come at 1230 to 215.",
          said=("JRC", "seven, five, eight", "Derekrcholt", "322-4411", "three 30"),
          kept=("2012", "$1200", "1230", "215"))  # a year, a price, times


def test_one_wrong_find_does_not_spread_and_towns_stay(redactor):
    check(redactor, "My last name is Stauffer. S-T-A-U-F-F-E-R. Got it. And I got your address, I live in "
                    "Norton. You are in Norton, Ohio? Yes, Norton. Could you resend it that way? The room is 1300 "
                    "square feet, come after 435 o'clock. It's about 1650 a month. Okay, honey.",
          said=("Stauffer", "S-T-A-U-F-F-E-R"),
          kept=("I got your", "Norton, Ohio", "Yes, Norton", "resend it that way", "1300 square", "435 o'clock",
                "1650 a month", "honey"))


def test_greetings_handoffs_and_domains_said_any_way(redactor):
    check(redactor, "Brandon Sons, this is candy. How can I help? I would need to get you over to Diane. My email "
                    "is mhickle at S-I-L l.com. And my address is 52. The letters are g as in John, e as in "
                    "elephant. Thank you. Send it to me at the office.",
          said=("candy", "Diane", "mhickle", "S-I-L", "52", "g as in John"),
          kept=("Brandon Sons", "Send it to me at the office"))


def test_ordinal_streets_answers_to_a_name_and_spellings_are_not_places(redactor):
    check(redactor, "The address? 1123 7th Street, and the other is 6869 St. Regis Boulevard, lot 35. Is this "
                    "Emily I'm speaking with? How do you spell the last name? Poling. First letter P as in Paul. "
                    "The account is under the name of Norma. That's my wife, Tanya. She lives in Akron.",
          said=("1123", "7th", "6869", "Regis", "lot 35", "Emily", "Poling", "P as in Paul", "Norma", "Tanya"),
          kept=("Akron",))


def test_area_codes_house_numbers_again_and_two_word_towns(redactor):
    check(redactor, "What's the best number? Three 30. Yes, and then 322-4411. The name is c as in cat. "
                    "O-C-H-E-N-O-U-R. Thank you. Cochenour, right? We're at 461 Graham Road. 461 what? Graham. Can "
                    "someone come out to Maple Heights? That Maple Heights area is busy. The part was $461 dollars, "
                    "at three 30 we close.",
          said=("Three 30", "Cochenour", "O-C-H-E-N-O-U-R", "461 what", "Graham"),
          kept=("out to Maple Heights", "That Maple Heights area", "$461", "at three 30"))


def test_numbers_heard_as_times_role_mailboxes_and_towns_after_in(redactor):
    check(redactor, "Is this for 200:25 Parker Road? Yes, the 202 number is mine, and that's 41st northwest. Our "
                    "office is at support@brandensons.com. I'm at 27 Main Street in Apple Creek. It's at angie.com. "
                    "A-N-G-I-E. Okay.",
          said=("200:25", "Parker", "202", "41st northwest", "27 Main"),
          kept=("support@brandensons.com", "in Apple Creek", ".com"))


def test_the_company_its_website_and_agents_are_learned_apart(redactor):
    keep = redactor.keep
    assert {"brandon", "suns", "sons", "website@brandensons.com", "akron"} <= keep.words
    assert not {"holly", "keaton"} & keep.words  # agents greet in every call: never "common words"
    check(redactor, "Thank you for calling Brandt and Sons, this is Holly. Visit website@brandensons.com.",
          said=("Holly",), kept=("Brandt and Sons", "website@brandensons.com"))


def test_user_keep_phrases_and_the_saved_list(tmp_path):
    keep = learn_keep_list(company_calls())
    keep.save(tmp_path)
    loaded = KeepList.load(tmp_path).with_phrases(["Cuyahoga Falls", "Ace Rooter"])
    assert loaded.words >= keep.words and "Cuyahoga Falls" in loaded.phrases
    assert "rupert" not in (tmp_path / "keep_words.json").read_text()
    assert KeepList.load(tmp_path / "nowhere").words == frozenset()


def test_predict_redacts_a_table_keeps_the_company_and_what_the_user_keeps(tfidf_dir, tmp_path):
    """`callsort predict --redact` on a transcript table: the `transcript` column holds the redacted text, the
    company's name (learned by `train`, saved with the model) and the user's --keep phrase stay."""
    import csv

    from conftest import run_cli

    assert "summit" in (tfidf_dir / "keep_words.json").read_text()  # learned from the shipped training calls
    table = tmp_path / "calls.csv"
    table.write_text('text\n"Thank you for calling Summit Electric, this is Tom. Hi, my name is Wilma Quorrington, '
                     'Q-U-O-R-R-I-N-G-T-O-N, at 52 Elmwood Road out in Gotham Falls. My heater is broken."\n')
    done = run_cli("predict", table, "--model", tfidf_dir, "--out", tmp_path / "p.csv", "--redact", "--keep",
                   "Gotham Falls", "-q")
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(open(tmp_path / "p.csv")))
    for said in ("Wilma", "Quorrington", "Q-U-O-R", "52 Elmwood Road"):
        assert said not in row["transcript"], row["transcript"]
    assert "Summit Electric" in row["transcript"] and "Gotham Falls" in row["transcript"]
    assert "heater" in row["transcript"] and row["label"]
    refused = run_cli("predict", table, "--model", tfidf_dir, "--out", tmp_path / "q.csv", "--keep", "x",
                      check_code=2)
    assert "--keep needs --redact" in refused.stderr and "Traceback" not in refused.stderr
