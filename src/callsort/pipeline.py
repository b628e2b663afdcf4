"""The one path from a call to its result row, which every front end (CLI, engines, HTTP, demo) calls.

calls (texts or recordings) -> transcripts (RunNeeds: cache, Whisper, redaction) -> the model -> ResultRow.
Recognition runs before the text model is loaded, so the two memory peaks never add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .config import AsrConfig
from .data import CallTable, read_calls, usable_calls
from .evidence import Evidence, apply_evidence
from .insights.rules import LeadRules
from .models.classifier import Classifier, load_model, model_identity, read_model_info
from .needs import RunNeeds
from .speech.agent import agent_name
from .speech.timing import TIMING_FIELDS, call_timing


@dataclass
class ResultRow:
    """One call's result, or the one-line reason it has none (`error`). Every output carries every field."""

    source: str  # file:row of a table, a recording's path, or an upload's name
    label: str = ""
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    # the questions behind the label (insights/rules.py): is it a lead? given a lead, booked? an existing customer?
    p_lead: float | None = None
    p_booked: float | None = None
    p_existing: float | None = None
    customer: str = ""  # with --customers: "existing" or "new" when the customer list says so (evidence/customers.py)
    customer_match: str = ""  # what matched: caller number, phone, name, name+street (never the values)
    answered: str = ""  # "yes" / "no" when the phone system or the recording says (evidence/answered.py)
    answered_by: str = ""  # what said so
    needs_review: bool = True  # confidence under the model's threshold, no words, or failed
    error: str = ""
    attempts: int = 1  # tries this result took (stored runs retry failed calls)
    reason: str = ""  # why a lead was not booked (models trained with a reason column), else ''
    reason_confidence: float | None = None
    transcript: str | None = None  # what was classified; recordings: speaker-tagged turns when channels were split
    duration_s: float | None = None
    asr_model: str | None = None
    # dual-channel recordings: who talked when (speech/timing.py for the definitions); None otherwise
    ring_or_hold_s: float | None = None
    agent_talk_s: float | None = None
    caller_talk_s: float | None = None
    silence_s: float | None = None
    overlap_s: float | None = None
    turns: int | None = None
    agent_name: str = ""  # the name the agent gives in the greeting, when heard (insights/agent.py)
    meta: dict = field(default_factory=dict)  # facts about the call from the phone system (evidence/metadata.py)
    model: str = ""  # the classifier's identity (models.classifier.Classifier.identity)
    model_dir: str = ""  # its folder, so `callsort report` finds its quantifier (left out of the service's answers)
    model_version: int | None = None  # the service's model version that made it (learning in place), else None
    topics: list[str] = field(default_factory=list)  # with --topics: the topics its transcript mentions

    @classmethod
    def failed(cls, source: str, error: str, model: str = "", attempts: int = 1, **audio) -> ResultRow:
        """The one shape of a failed row, wherever the failure happened."""
        return cls(source=source, error=error or "failed", model=model, attempts=attempts, **audio)

    @classmethod
    def from_dict(cls, row: dict) -> ResultRow:
        """A row read back from a store or a worker; unknown keys are ignored, missing ones take defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})

    def to_dict(self) -> dict:
        return asdict(self)


def transcribe_calls(calls: CallTable, needs: RunNeeds, progress: bool = False) -> CallTable:
    """Fill in the text of every row that points at a recording; each row's ASR details go to `details`.
    A recording's error names the call's source (an upload's name, not the server's temporary file)."""
    if not calls.has_audio:
        return calls
    return _joined(calls, [one for one, _ in _one_by_one(calls, needs, progress)])


def _joined(calls: CallTable, ones: list[CallTable]) -> CallTable:
    return CallTable([one.texts[0] for one in ones], calls.sources, calls.labels, calls.skipped, calls.audio,
                     [one.details[0] if one.details else {} for one in ones], calls.reasons)


def _one_by_one(calls: CallTable, needs: RunNeeds, progress: bool) -> Iterator[tuple[CallTable, Evidence | None]]:
    """Each call as a one-row table, a recording's as soon as its transcript exists, with the recording's
    evidence (from its words as heard, before redaction); None for a row that is not a recording."""
    transcripts = needs.transcriber.heard([a for a in calls.audio or [] if a], progress)
    for i in range(len(calls)):
        one, evidence = calls.subset([i]), None
        if calls.is_recording(i):
            t, heard = next(transcripts)
            evidence = needs.evidence.of(calls.sources[i], heard)
            details = {"transcript": t.transcript, "duration_s": t.duration_s, "asr_model": t.asr_model,
                       "error": t.error.replace(str(calls.audio[i]), calls.sources[i]),
                       **call_timing(t.speech, t.duration_s)}
            one = CallTable([t.text], one.sources, one.labels, 0, one.audio, [details], one.reasons)
        yield one, evidence


def classify_calls(calls: CallTable, model: Classifier | str | Path, needs: RunNeeds | None = None,
                   review_below: float | None = None, progress: bool = False) -> Iterator[ResultRow]:
    """Yield one row per input call, in order.

    `model` is a loaded model or a model folder; `needs` what the run was set up with (default: what the
    calls need under default settings). A folder is loaded only after every recording is recognised (and
    Whisper freed), so the two models are never in memory together. With a loaded model, each recording's row
    comes as soon as its transcript exists (a stored run commits it at once).
    A recording in which no words were recognised (silence, a hang-up) is still classified, from its empty
    transcript, and always flagged for review; an empty row of a transcript table is an error.
    Each call's evidence (evidence/) is made from its own name and words and travels with it to its row.
    """
    identity = identity_of(model), folder_of(model), version_of(model)
    needs = needs or RunNeeds.for_calls(calls)
    to_transcribe = calls.details is None and calls.has_audio
    # the words as given, before redaction; a recording still to transcribe gets its evidence when heard
    evidence = [None if to_transcribe and calls.is_recording(i) else needs.evidence.of(calls.sources[i], text)
                for i, text in enumerate(calls.texts)]
    calls = needs.redact_texts(calls)
    if to_transcribe and isinstance(model, Classifier):
        for i, (one, heard) in enumerate(_one_by_one(calls, needs, progress)):
            yield from _kept(_classify(one, model, identity, review_below, [evidence[i] or heard]), needs)
        return
    if to_transcribe:
        had_whisper = needs.recogniser is not None and needs.recogniser.loaded
        ones = list(_one_by_one(calls, needs, progress))
        calls, evidence = _joined(calls, [one for one, _ in ones]), [e or h for e, (_, h) in zip(evidence, ones, strict=True)]
        if not had_whisper:
            needs.unload()  # recognition is over: free Whisper before the text model loads
    yield from _kept(_classify(calls, model, identity, review_below, evidence, progress), needs)


PERSONAL_FACTS = ("caller",)  # the phone system's facts that are personal data: used, never written under --redact


def _kept(rows: Iterator[ResultRow], needs: RunNeeds) -> Iterator[ResultRow]:
    """Rows as written: under --redact without the caller's number (it served the evidence, and stops here);
    with --topics, the topics of the transcript as written (redacted under --redact, as the search index)."""
    topics = needs.evidence.topics
    for row in rows:
        if topics is not None:
            row.topics = topics.of(row.transcript)
        if needs.redactor is not None and row.meta:
            row.meta = {k: v for k, v in row.meta.items() if k not in PERSONAL_FACTS}
        yield row


def _classify(calls: CallTable, model, identity: tuple, review_below: float | None,
              evidence: list[Evidence], progress: bool = False) -> Iterator[ResultRow]:
    errors = calls.errors()
    ok = [i for i, text in enumerate(calls.texts) if not errors[i] and (text.strip() or calls.is_recording(i))]
    predictions = {}
    if model is None:  # no model yet (learning in place): the calls are transcribed and kept, for people to label
        for i in range(len(calls)):
            yield (_unclassified_row(calls, i, errors[i], evidence[i]) if i in ok
                   else _row(calls, i, None, identity, errors[i], evidence[i]))
        return
    if ok:
        model = model if isinstance(model, Classifier) else load_model(model)
        threshold = model.review_below if review_below is None else review_below
        found = model.predict([calls.texts[i] for i in ok], progress=progress)
        predictions = {i: (p, threshold) for i, p in zip(ok, found, strict=True)}
    for i in range(len(calls)):
        yield _row(calls, i, predictions.get(i), identity, errors[i], evidence[i])


def _unclassified_row(calls: CallTable, i: int, error: str, evidence: Evidence) -> ResultRow:
    """A call's row before any model exists: its transcript and what was heard, waiting for a person's label."""
    audio = _heard(calls, i)
    return ResultRow(source=calls.sources[i], needs_review=True, error=error, meta=dict(evidence.meta),
                     agent_name=agent_name(calls.texts[i], audio.get("transcript")), **audio)


def _heard(calls: CallTable, i: int) -> dict:
    """A row's transcript fields: a recording's (turns, duration, timing), or a table row's text (redacted under
    --redact)."""
    if calls.is_recording(i):
        return {k: calls.details[i].get(k) for k in ("transcript", "duration_s", "asr_model", *TIMING_FIELDS)}
    return {"transcript": calls.texts[i] or None}


def _row(calls: CallTable, i: int, prediction, identity: tuple, error: str, evidence: Evidence) -> ResultRow:
    audio = _heard(calls, i)
    if prediction is None:
        return ResultRow.failed(calls.sources[i], error or f"{calls.sources[i]}: empty transcript", identity[0], **audio)
    p, threshold = prediction
    audio["agent_name"] = agent_name(calls.texts[i], audio.get("transcript"))
    split = audio.get("turns") is not None  # a dual-channel recording: the agent's side is known
    decided = apply_evidence(p, evidence, audio["agent_name"] if split else "", audio.get("turns"))
    p = decided.prediction
    return ResultRow(source=calls.sources[i], label=p.label, confidence=round(p.confidence, 4),
                     probabilities=p.probabilities, **LeadRules().questions(p.probabilities),
                     customer=evidence.customer, customer_match=evidence.customer_match,
                     answered={True: "yes", False: "no"}.get(decided.answered, ""), answered_by=decided.answered_by,
                     reason=p.reason, reason_confidence=round(p.reason_confidence, 4) if p.reason else None,
                     needs_review=p.confidence < threshold or not calls.texts[i].strip(), model=identity[0],
                     model_dir=identity[1], model_version=identity[2], meta=dict(evidence.meta), **audio)


def identity_of(model: Classifier | str | Path | None) -> str:
    """A model's identity, from a loaded model or (cheaply, weights unread) from its folder; '' for none."""
    if model is None:
        return ""
    if isinstance(model, Classifier):
        return model.identity
    return model_identity(read_model_info(model), Path(model).resolve())


def version_of(model: Classifier | str | Path | None) -> int | None:
    """The service's version number of a model it trained (learning in place), else None."""
    if model is None:
        return None
    info = model.info if isinstance(model, Classifier) else read_model_info(model)
    return info.training.get("version")


def folder_of(model: Classifier | str | Path | None) -> str:
    """The folder a model was loaded from or saved to ('' for a model never saved, or none)."""
    if model is None:
        return ""
    folder = model.path if isinstance(model, Classifier) else Path(model).resolve()
    return str(folder) if folder else ""


def load_calls(path: str | Path, text_column: str = "text", label_column: str | None = "label",
               encoding: str = "utf-8", audio_column: str | None = None, asr: AsrConfig | None = None,
               progress: bool = False, reason_column: str | None = None,
               model_dir: str | Path | None = None) -> CallTable:
    """Read calls and transcribe any recordings among them (see `data.read_calls`); `model_dir`: under
    --redact, the model whose learned keep list applies (evaluation).

    With labels (training, evaluation) rows without a usable transcript are left out with a warning;
    without labels (prediction) every row is kept so that each failure gets its own output row.
    Under --redact, training and scoring read what is kept, as prediction does.
    """
    table = read_calls(path, text_column, label_column, encoding, drop_empty=label_column is not None,
                       audio_column=audio_column, reason_column=reason_column)
    needs = RunNeeds.for_calls(table, asr, model_dir)
    if table.has_audio:
        table = transcribe_calls(table, needs, progress)
        if label_column is not None:
            table = usable_calls(table, str(path))
    return needs.redact_texts(table)
