"""One call's evidence, where it comes from, and the one function that applies it to a prediction.

A run reads its evidence sources once (`EvidenceSources`: the --meta join and the customer list); after that
they are only read, so concurrent requests and workers share them safely. Each call's `Evidence` is made from
its own name and words (before redaction) and travels with the call to its row: nothing is kept between calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import EvidenceConfig
from ..labels import is_lost_lead
from ..search.topics import load_topics
from .answered import answered_fact, with_answered
from .customers import CustomerList, CustomerMatcher, with_customer
from .metadata import joiner, sidecar_facts


@dataclass(frozen=True)
class Evidence:
    """What is known of one call besides its words."""

    meta: dict = field(default_factory=dict)  # the phone system's facts (metadata.py)
    customer: str = ""  # "existing" / "new" when the customer list says so, else ""
    customer_match: str = ""  # what matched (caller number, phone, name, name+street), never the values


NO_EVIDENCE = Evidence()


class EvidenceSources:
    """The phone-system facts and the customer list of a run, read once from an `EvidenceConfig`."""

    def __init__(self, config: EvidenceConfig | None = None, finder=None):
        """`finder`: the redaction's finders (privacy.redact.Redactor), which find names, phones and addresses
        for the customer list; built from the default recognisers when a list is given without one."""
        self.config = config or EvidenceConfig()
        self.join_meta = joiner(self.config.meta, self.config.meta_pattern)
        self.matcher = None
        self.topics = load_topics(self.config.topics) if self.config.topics else None  # rows' `topics`
        if self.config.customers:
            if finder is None:
                from ..privacy.redact import Redactor

                finder = Redactor()
            self.matcher = CustomerMatcher(CustomerList.read(self.config.customers), finder,
                                           self.config.customers_complete, self.join_meta)

    @classmethod
    def build(cls, config: EvidenceConfig | None, redactor=None, model_dir: str | Path | None = None) -> EvidenceSources:
        """The sources of `config`; the customer list finds names with the run's redactor, else with one that
        keeps the words the model in `model_dir` learned are not personal."""
        if config is not None and config.customers and redactor is None:
            from ..privacy.keep import KeepList
            from ..privacy.redact import Redactor

            redactor = Redactor(keep=KeepList.load(model_dir))
        return cls(config, redactor)

    def of(self, source: str, said: str) -> Evidence:
        """A call's evidence from its name and its words as said (before redaction)."""
        meta = {**sidecar_facts(str(source)), **(self.join_meta(str(source)) if self.join_meta else {})}
        if self.matcher is None:
            return Evidence(meta) if meta else NO_EVIDENCE
        customer, how = self.matcher.verdict(said or "", str(source))
        return Evidence(meta, customer, how)


@dataclass
class Decision:
    """A prediction with its call's evidence applied, and whether the call was answered (and what said so)."""

    prediction: object  # models.classifier.Prediction
    answered: bool | None = None
    answered_by: str = ""


def apply_evidence(prediction, evidence: Evidence, agent_name: str = "", turns: int | None = None) -> Decision:
    """The prediction with the evidence applied: the customer list sets a lead's side, the phone system's
    facts (or a live agent on a split recording: `agent_name`, `turns`) rule out Missed Call or the answered
    categories; the label, its confidence and the reason follow the moved probabilities. Probabilities are
    rounded to 4 places first, as rows keep them."""
    prediction = replace(prediction, probabilities={k: round(v, 4) for k, v in prediction.probabilities.items()})
    _, probabilities = with_customer(prediction.label, prediction.probabilities, evidence.customer)
    answered, answered_by = answered_fact(evidence.meta, agent_name, turns)
    voicemail = str(evidence.meta.get("disposition", "")).strip().lower() == "voicemail"
    probabilities = with_answered(probabilities, answered, voicemail)
    if probabilities == prediction.probabilities:
        return Decision(prediction, answered, answered_by)
    label = max(probabilities, key=probabilities.get)
    kept = label == prediction.label
    reason = prediction.reason if kept or is_lost_lead(label) else ""  # a reason is a lost lead's
    moved = replace(prediction, label=label, probabilities=probabilities,
                    confidence=prediction.confidence if kept else probabilities[label], reason=reason,
                    reason_confidence=prediction.reason_confidence if reason else None)
    return Decision(moved, answered, answered_by)
