"""Who answered: the agent's name, when the agent says it in the greeting ("this is Maria, how can I help").

Read from the agent's side of a split transcript when there is one, else from the whole text. Three forms,
most specific first; a name is one capitalised word that is not a common word. Empty when none is said.
How often it is right: benchmarks/README.md, "Who answered". Used by the pipeline (a row's agent_name) and by
redaction (staff names); the report's merging of spellings is insights/agent.py.
"""

from __future__ import annotations

import re

from .patterns import AGENT, GREETING, side

NAME = r"([A-Z][a-z]+)"
GREETINGS = (
    # "this is Holly. How can I help you?" (404 of the 423 names found in the real calls)
    re.compile(r"\b(?:this is|my name is|name is|you're speaking with|speaking with)\s+" + NAME +
               r"\b[.,!]?\s+(?:how (?:can|may|could)(?: I)? help|what can I do)", re.I),
    # "Thank you for calling Blend and Sons. This is Kate" / "Good morning, this is Becky"
    re.compile(rf"(?:{GREETING}|\bgood (?:morning|afternoon|evening))\b"
               r"[^.?!]{0,70}?[.,!]?\s+(?:this is|it's)\s+" + NAME + r"\b(?!\s+(?:call|is))", re.I),
    # a transcript that starts with the agent: "This is Terry."
    re.compile(r"^\W*(?:hi,?\s+)?this is\s+" + NAME + r"\b[.,]", re.I),
)
NOT_NAMES = frozenset("""yes yeah yep no okay ok hi hello hey sorry thanks thank the this that your our a an
    calling not is it just me him her who what customer service support sales office accounting""".split())


def agent_name(text: str, transcript: str | None = None) -> str:
    """The agent's first name as said in the greeting, or ''."""
    said = side(transcript, AGENT) if transcript else ""
    said = said or text or ""
    for pattern in GREETINGS:
        for match in pattern.finditer(said):
            name = match.group(1).capitalize()
            if name.lower() not in NOT_NAMES:
                return name
    return ""
