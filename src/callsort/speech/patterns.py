"""How phone calls are said, written once: the company's greeting and phone menu, the speaker tags of split
recordings, digits said as words, and the cues around a town's name (a phone number's digits: evidence/phone.py).

Used by redaction (privacy/), agent names and the ring-back list (insights/), the keep list and the customer
list. Plain regular expressions and small functions: this module imports nothing from callsort.
"""

from __future__ import annotations

import re

# ---- speaker tags: speech/transcript.speaker_turns writes one "Agent: …" or "Caller: …" line per turn -------
AGENT, CALLER = "Agent", "Caller"
SPEAKER_TAG = re.compile(rf"^({AGENT}|{CALLER}): ", re.MULTILINE)


def tagged(line: str) -> tuple[str, str]:
    """(speaker, words) of one transcript line; ("", line) for a line without a speaker tag."""
    m = SPEAKER_TAG.match(line)
    return (m.group(1), line[m.end():]) if m else ("", line)


def side(transcript: str, speaker: str) -> str:
    """The words of one speaker's turns in order, or '' when the transcript has no turn of theirs."""
    return " ".join(words for who, words in map(tagged, (transcript or "").splitlines()) if who == speaker)


def untagged(transcript: str) -> str:
    """A speaker-tagged transcript's words in order, without the tags."""
    return " ".join(SPEAKER_TAG.sub("", transcript or "").split())


# ---- how the company answers -------------------------------------------------------------------------------
GREETING = r"\bthank(?:s| you) for (?:calling|choosing|holding)"  # "Thank you for calling Blend and Sons"
# the company's name: up to three words after the greeting
COMPANY = re.compile(r"\b(?:thank you|thanks) for (?:calling|choosing|holding(?: for)?)\s+((?:[\w'’.-]+\s+){0,2}[\w'’.-]+)",
                     re.IGNORECASE)
HELP_OFFER = r"\bhow (?:can|may|could) (?:i |we )?(?:help|assist)"  # ASR drops small words: "how may help you"
REACHED = r"\byou(?:'ve| have) reached"
VOICEMAIL_PROMPT = (r"\bleave (?:a|your) (?:message|name)|\bafter the (?:tone|beep)|\bat the tone|\brecord your message"
                    r"|\bno one is (?:available|here)|\bvoice ?mail|\bmailbox|\bpound key|\bhang up")
NUMBER_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|\d)"
MENU = (rf"\bpress(?:ed)?(?: {NUMBER_WORD}\b| the pound| pound| star|[.,])|\bfor [\w ,']{{1,60}}?,? press\b|\bmenu options?"
        r"|\bplease (?:hold|stay on the line|listen|visit our)|\bnext (?:available|caller)|\bin (?:the )?queue"
        r"|\bwe value your business|\bthe opportunity to (?:assist|serve|help)|\bthank you for your patience"
        r"|\b(?:agents|representatives) are (?:still )?(?:assisting|busy|helping|on)"
        r"|\byour call (?:is|has been|may be|will be)|\b(?:this|your) call (?:is being|may be|will be) (?:recorded|monitored)"
        r"|\bdisconnect at this time|\b(?:our )?(?:office|business) hours\b|\bour office is (?:closed|open)"
        r"|\bif (?:this is|it's|you are|you're) (?:an? )?(?:emergency|nonemergency|non-emergency|existing|new)")
# what the person (or machine) answering a business line says, and the caller does not
AGENT_PHRASES = re.compile(rf"{GREETING}|{HELP_OFFER}|{REACHED}|\bleave (?:a|your) (?:message|name)|\bafter the tone",
                           re.IGNORECASE)
# a sentence of the company's opening: greeting, menu, hold and voicemail prompts, the agent giving a name
OPENING = re.compile(rf"{GREETING}|{HELP_OFFER}|{REACHED}|{VOICEMAIL_PROMPT}|{MENU}|\bthis is \w+ speaking\b",
                     re.IGNORECASE)
SENTENCE = re.compile(r"(?:[^.?!]|[.?!](?=\w))+[.?!]*")  # "website@blendsons.com" is not two sentences
AGENT_INTRODUCES = re.compile(r"^\W*(?:hello|hi|good (?:morning|afternoon|evening))?[,.]?\s*(?:this is|it's)\s+\w+"
                              r"(?:\s+speaking)?\W*$", re.IGNORECASE)  # "This is Penny." said alone



def sentence_words(sentence: str) -> list[str]:
    """A sentence's words, lowercase, without punctuation: how an opening's sentences are compared."""
    return re.findall(r"[a-z0-9']+", sentence.lower())


# ---- digits said as words ----------------------------------------------------------------------------------
DIGIT_WORDS = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|ten|double|triple)"  # in a run of digits
DIGIT_TOKEN = rf"(?:\d+|{DIGIT_WORDS})"
DIGIT_VALUES = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())} | {"oh": "0"}
SPOKEN_DIGIT = re.compile(rf"\b({'|'.join(DIGIT_VALUES)})\b", re.IGNORECASE)


def spoken_digits(text: str) -> str:
    """`text` with each digit said as a word written as the digit ("five five five, oh one" -> "5 5 5, 0 1")."""
    return SPOKEN_DIGIT.sub(lambda m: DIGIT_VALUES[m.group(1).lower()], text)


# ---- places: a town's name is not a person's ("out in Aurora", "Ravenna, Ohio") ----------------------------
# One set of cue words, read two ways (measured on the real-call redaction benchmark: finding towns with the
# wider cues, "from"/"of"/"to", left 3-8 more callers' names and streets unredacted on three tuning sets).
TOWN = r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
BEFORE_TOWN = r"in|out in|out to|near"  # said before a town, and seldom before a person
AFTER_TOWN = r"ohio|oh|county|township|falls|heights|village"  # said after a town
# A found name or address right after these is a place when it is made of everyday words anyway (keep.py,
# redact.py); "from", "of" and "to" precede people too: not "my name of", "over to Diane", "transfer you to Mike".
BEFORE_PLACE = re.compile(rf"(?:(?<!\bas )\b(?:{BEFORE_TOWN}|from)|(?<!name )\bof|(?<!over )(?<!you )(?<!speak )(?<!talk )\bto)\s+$",
                          re.IGNORECASE)
# "city" comes after a town ("Kent city") and before one ("What city? Kent"): PLACE reads it as the latter only
AFTER_PLACE = re.compile(rf"(?:,?\s+(?:{AFTER_TOWN}|city)\b)", re.IGNORECASE)
PLACE = re.compile(  # the towns said in a call: after "in"/"near"/"the city?", before ", ohio"/"county", "that X area"
    rf"(?:(?<!\bas )\b(?:{BEFORE_TOWN}|city(?: is| of)?[?.]?(?:\s+(?:it's|it is|is it))?|town(?: is| of)?)\s+(?P<x>{TOWN})\b|"
    rf"\b(?P<y>{TOWN}),?\s+(?:{AFTER_TOWN})\b|\bthat\s+(?P<z>{TOWN})\s+area\b)")
