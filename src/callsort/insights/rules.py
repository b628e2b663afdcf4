"""What the categories mean to a manager: which are leads, which booked, which unanswered, and the questions
behind each call's label (is it a lead? was it booked? is the caller on file?) as probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import labels
from .callbacks import CALLBACK_THRESHOLD

QUESTIONS = ("p_lead", "p_booked", "p_existing")


@dataclass
class LeadRules:
    """What counts as a lead, a booked lead, an unanswered call and a call to ring back (settable)."""

    lead_labels: list[str] = field(default_factory=list)  # empty: every label with "Lead Booked"/"Lead Not Booked"
    booked_labels: list[str] = field(default_factory=list)  # empty: the lead labels without "Not Booked"
    unanswered_labels: tuple[str, ...] = labels.UNANSWERED
    # list a call to ring back from this chance of being a lost lead or unanswered (insights/callbacks.py)
    callback_threshold: float = CALLBACK_THRESHOLD

    def is_lead(self, label: str) -> bool:
        return label in self.lead_labels if self.lead_labels else labels.is_lead(label)

    def is_booked(self, label: str) -> bool:
        if not self.is_lead(label):
            return False
        return label in self.booked_labels if self.booked_labels else labels.is_booked(label)

    def definition(self) -> str:
        lead = ", ".join(self.lead_labels) or 'every category naming "Lead Booked" or "Lead Not Booked"'
        booked = ", ".join(self.booked_labels) or 'those without "Not Booked"'
        return (f"a lead is a call in {lead}; booked: {booked}; booking rate = booked leads / leads; to ring "
                f"back: every call at least {self.callback_threshold:.0%} likely to be a lost lead, a voicemail lead "
                "or a missed call, unless the caller booked on a later call")

    def is_existing(self, label: str) -> bool:
        return self.is_lead(label) and labels.side_of(label) == "existing"

    def questions(self, probabilities: dict[str, float]) -> dict[str, float | None]:
        """p_lead, and given a lead p_booked and p_existing: marginals of the calibrated probabilities (None
        where the question does not arise: no probabilities, or no chance of a lead)."""
        if not probabilities:
            return dict.fromkeys(QUESTIONS)

        def share(test) -> float:
            return sum(p for label, p in probabilities.items() if test(label))

        lead = share(self.is_lead)
        given = (lambda test: round(min(1.0, share(test) / lead), 4)) if lead > 0 else (lambda test: None)
        return {"p_lead": round(min(1.0, lead), 4), "p_booked": given(self.is_booked), "p_existing": given(self.is_existing)}
