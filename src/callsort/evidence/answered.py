"""Was the call answered? The phone system knows, and a split recording shows it: evidence that decides
*Missed Call* against the answered categories when it is there (issue 25).

- A metadata column (from --meta) `answered` (yes/no, true/false, 1/0) or `disposition` (answered,
  voicemail, abandoned, missed, no answer, busy): an unanswered call can only be a *Missed Call* or a
  *Voicemail - Lead* (voicemail: only the latter when the model allows it); an answered one is neither.
- A dual-channel recording whose agent side greets by name, or that has four or more turns: a live agent
  spoke after the menu, so it is not a *Missed Call*.

The probabilities are moved accordingly (the excluded categories' share spread over the allowed ones in
proportion), so the label, its confidence and the questions stay consistent. No real call carries such a
column: this is tested with metadata and recordings the tests make, not measured.
"""

from __future__ import annotations

from ..labels import MISSED, VOICEMAIL

NOT_ANSWERED = {"no", "false", "0", "abandoned", "missed", "no answer", "unanswered", "busy", "voicemail"}
ANSWERED = {"yes", "true", "1", "answered"}


def answered_fact(meta: dict, agent_name: str = "", turns: int | None = None) -> tuple[bool | None, str]:
    """(answered or not, or None when nothing says; what says so)."""
    for key in ("answered", "disposition"):
        value = str(meta.get(key, "")).strip().lower()
        if value in ANSWERED:
            return True, f"{key} (metadata)"
        if value in NOT_ANSWERED:
            return False, f"{key}: {value} (metadata)" if key == "disposition" else f"{key} (metadata)"
    if agent_name or (turns or 0) >= 4:
        return True, "a live agent spoke (recording)"
    return None, ""


def with_answered(probabilities: dict[str, float], answered: bool | None, voicemail: bool = False) -> dict[str, float]:
    """The probabilities with what the evidence rules out set to 0 and its share spread over the rest."""
    if answered is None or not probabilities:
        return probabilities
    if answered:
        allowed = {k for k in probabilities if k not in (MISSED, VOICEMAIL)}
    else:
        allowed = {VOICEMAIL} if voicemail and VOICEMAIL in probabilities else {MISSED, VOICEMAIL} & set(probabilities)
    if not allowed:
        return probabilities
    total = sum(probabilities[k] for k in allowed)
    if total <= 0:
        return {k: (round(1 / len(allowed), 4) if k in allowed else 0.0) for k in probabilities}
    return {k: (round(p / total, 4) if k in allowed else 0.0) for k, p in probabilities.items()}
