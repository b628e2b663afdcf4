"""New or existing? Ask the customer list (`--customers FILE`).

A call is matched to a customer by the caller's number from the phone system (`--meta` caller) when known,
else by what is said in it: phone numbers, names (the name finder the redaction uses, spelled names too) and
street addresses — normalised, and fuzzy enough for speech recognition's spellings (difflib). A confident
match sets the *Existing* side of a lead's label; with `complete` (the list holds every customer) a caller
who gives a name or number that matches no one is *New*; otherwise the model's answer stands. The outcome
side (booked or not) stays the model's. Rows record `customer` (existing, new or empty) and
`customer_match` (what matched: phone, name, name+street…; never the values). The list is read into memory
only: it never reaches an output, a log or the cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from ..errors import InputError
from ..labels import SIDES, with_side
from ..speech.patterns import spoken_digits
from .phone import phone_digits as digits

COLUMNS = ("name", "phone", "address", "email")
NAME_SIMILAR, STREET_SIMILAR = 0.85, 0.8


def name_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", (text or "").lower()) if len(w) > 1]


@dataclass
class Customer:
    names: list[str]  # lowercase words of the name
    phone: str  # last ten digits
    house: str  # the house number
    street: str  # the street's words, lowercase
    email: str


class CustomerList:
    """The customers, normalised for matching."""

    def __init__(self, customers: list[Customer]):
        self.customers = customers
        self.by_phone: dict[str, int] = {}
        for i, c in enumerate(customers):
            if c.phone:
                self.by_phone.setdefault(c.phone[-7:], i)

    @classmethod
    def read(cls, path: str | Path) -> CustomerList:
        """A CSV/TSV/JSONL/Parquet table with any of the columns name, phone, address, email (any case)."""
        from ..data import read_table_frame

        if not Path(path).is_file():
            raise InputError(f"{path}: no such customer list")
        frame = read_table_frame(Path(path))
        columns = {str(c).strip().lower(): c for c in frame.columns}
        if not set(COLUMNS) & set(columns):
            raise InputError(f"{path}: a customer list needs a name, phone, address or email column")
        get = {k: (frame[columns[k]].fillna("").astype(str).tolist() if k in columns else [""] * len(frame))
               for k in COLUMNS}
        customers = []
        for name, phone, address, email in zip(*(get[k] for k in COLUMNS), strict=False):
            house = re.match(r"\s*(\d+)", address)
            customers.append(Customer(name_words(name), digits(phone), house.group(1) if house else "",
                                      " ".join(name_words(re.sub(r"^\s*\d+", "", address))), email.strip().lower()))
        return cls(customers)

    def __len__(self) -> int:
        return len(self.customers)

    def match(self, said: Said, caller: str = "") -> tuple[int | None, str]:
        """(the customer's index or None, what matched) for a call: its caller number, then what was said."""
        for number, how in ((digits(caller), "caller number"), *((n, "phone") for n in said.phones)):
            if number and number[-7:] in self.by_phone:
                return self.by_phone[number[-7:]], how
        best, how_best = None, ""
        for i, c in enumerate(self.customers):
            name = _name_score(c.names, said.names)
            street = _street_score(c, said)
            how = "+".join(k for k, ok in (("name", name), ("street", street)) if ok)
            if how and (how_best.count("+") < how.count("+") or best is None):
                best, how_best = i, how
        return best, how_best


@dataclass
class Said:
    """What a caller gave in a call: phone numbers (digits), name words, house numbers and street words."""

    phones: list[str]
    names: list[str]
    houses: list[str]
    streets: list[str]

    @property
    def anything(self) -> bool:
        return bool(self.phones or self.names or self.houses)


def _name_score(customer: list[str], said: list[str]) -> bool:
    """Every word of the customer's name (at least two) heard in the call, each at least NAME_SIMILAR alike."""
    if len(customer) < 2:
        return False
    return all(any(SequenceMatcher(None, w, s).ratio() >= NAME_SIMILAR for s in said) for w in customer)


def _street_score(customer: Customer, said: Said) -> bool:
    """The house number said, and the street's words alike."""
    if not customer.house or customer.house not in said.houses or not customer.street:
        return False
    words = customer.street.split()
    main = [w for w in words if len(w) > 2][:1] or words[:1]
    return any(SequenceMatcher(None, main[0], s).ratio() >= STREET_SIMILAR for s in said.streets)


def said_in(text: str, redactor) -> Said:
    """What a caller gives in a call, found by the redaction's finders (privacy/redact.py) in its original
    text: numbers said as words become digits, spelled names become words."""
    from ..privacy.spoken import spelled_words

    phones, names, houses, streets = [], [], [], []
    for span in redactor.find(text):
        piece = text[span.start:span.end]
        spoken = spoken_digits(piece)
        if span.entity == "PHONE" and digits(spoken):
            phones.append(digits(spoken))
        elif span.entity == "NAME":
            names += name_words(piece) + sorted(spelled_words(piece))
        elif span.entity == "ADDRESS":
            houses += re.findall(r"\d+", re.sub(r"[\s\-]", "", spoken[:12])) + re.findall(r"\b\d+\b", spoken)
            streets += name_words(piece)
    return Said(phones, names, houses, streets)


class CustomerMatcher:
    """Matches calls to a customer list, and sets the customer side of a lead's label."""

    def __init__(self, customers: CustomerList, redactor, complete: bool = False, join_meta=None):
        self.customers, self.redactor, self.complete, self.join_meta = customers, redactor, complete, join_meta

    def verdict(self, text: str, source: str = "") -> tuple[str, str]:
        """("existing" | "new" | "", what matched) for one call's original text; its caller number comes from
        the phone system's facts (join_meta) when known."""
        caller = (self.join_meta(source) if self.join_meta and source else {}).get("caller", "")
        said = said_in(text, self.redactor) if text else Said([], [], [], [])
        found, how = self.customers.match(said, caller)
        if found is not None:
            return "existing", how
        if self.complete and (said.anything or digits(caller)):
            return "new", ""
        return "", ""


def with_customer(label: str, probabilities: dict[str, float], verdict: str) -> tuple[str, dict[str, float]]:
    """The label and probabilities with the customer side set: each "New Customer - X" moved to "Existing
    Customer - X" (or back) when both categories exist; other labels as they are."""
    if verdict not in SIDES:
        return label, probabilities
    moved = dict(probabilities)
    for name, p in probabilities.items():
        twin = with_side(name, verdict)
        if twin != name and twin in probabilities:
            moved[twin] = round(moved[twin] + p, 4)
            moved[name] = 0.0
    twin = with_side(label, verdict)
    return (twin if twin in probabilities else label), moved
