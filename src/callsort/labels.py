"""The categories' vocabulary, named once, at the bottom: what a category's name says (a lead? booked? which
customer side?) and the customer sides, asked by everything that reads a label (`is_lost_lead(label)`, never
`"Not Booked" in label`). Rules a manager sets otherwise live in insights/rules.py (LeadRules)."""

from __future__ import annotations

BOOKED, NOT_BOOKED = "Lead Booked", "Lead Not Booked"  # the outcome part of a lead category's name
EXISTING, NEW = "Existing Customer", "New Customer"  # the customer side of a lead category's name
SIDES = {"existing": EXISTING, "new": NEW}  # a side as rows and the customer list say it -> as labels spell it
MISSED, VOICEMAIL = "Missed Call", "Voicemail - Lead"  # the categories of calls nobody answered
UNANSWERED = (MISSED, VOICEMAIL)


def is_lead(label: str) -> bool:
    """A lead category: its name says booked or not booked."""
    return BOOKED in label or NOT_BOOKED in label


def is_booked(label: str) -> bool:
    return is_lead(label) and NOT_BOOKED not in label


def is_lost_lead(label: str) -> bool:
    """A lead that did not book: the categories that carry a reason."""
    return NOT_BOOKED in label


def side_of(label: str) -> str:
    """"existing", "new", or "" for a category without a customer side."""
    return next((side for side, name in SIDES.items() if label.startswith(name)), "")


def with_side(label: str, side: str) -> str:
    """The category's name with its customer side set to `side` ("existing"/"new"); others as they are."""
    now = side_of(label)
    return label.replace(SIDES[now], SIDES[side], 1) if now and side in SIDES else label


def without_side(label: str) -> str:
    """The category with the customer side dropped (both sides read as one question: booked or not)."""
    return with_side(label, "new")
