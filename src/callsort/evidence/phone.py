"""Phone numbers as evidence: one caller, however the number is written."""

from __future__ import annotations

import re


def phone_digits(text: str) -> str:
    """A phone number's last ten digits, or '' when it has fewer than seven: "+1 (555) 010-0199" and
    "555-010-0199" are one caller; an extension or "anonymous" is no number."""
    found = re.sub(r"\D", "", text or "")
    return found[-10:] if len(found) >= 7 else ""
