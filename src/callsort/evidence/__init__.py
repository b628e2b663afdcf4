"""Evidence: what is known of a call besides its words, and the one function that applies it to a prediction.

- metadata.py: the phone system's facts per call (--meta table or --meta-pattern on file names);
- answered.py: was the call answered (the facts, or a live agent on a split recording)?
- customers.py: new or existing, from the customer list (--customers); phone.py: one caller's number, however
  it is written;
- apply.py: `EvidenceSources` (read once per run from an `EvidenceConfig`, read-only after), `Evidence` (one
  call's, travelling with it from reading to row) and `apply_evidence` (called by the pipeline and by evaluate).
"""

from .apply import Evidence, EvidenceSources, apply_evidence

__all__ = ["Evidence", "EvidenceSources", "apply_evidence"]
