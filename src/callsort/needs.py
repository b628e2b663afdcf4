"""What a run needs, decided once from its calls and settings, built once and passed down.

A run over recordings needs the transcription step (transcription.Transcriber: Whisper, its transcript cache
and, under --redact, the redactor); a run under --redact needs a redactor and shows file names redacted
(privacy.names.DisplayNames); a run with --meta or --customers reads its evidence sources once
(evidence.EvidenceSources). Front ends build a RunNeeds and hand it to the one path (pipeline.classify_calls);
the service builds one at start and every request and batch shares it: nothing in it changes per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import AsrConfig, EvidenceConfig
from .data import CallTable
from .evidence import EvidenceSources
from .privacy.names import DisplayNames
from .speech.cache import TranscriptCache
from .speech.recognise import Recogniser
from .transcription import Transcriber

if TYPE_CHECKING:  # Presidio loads only when redacting
    from .privacy.redact import Redactor


@dataclass
class RunNeeds:
    """The transcription step, the redactor (None: no --redact), the display names and the evidence sources of
    a run, with the recognition settings they were built from."""

    asr: AsrConfig
    transcriber: Transcriber = field(default_factory=Transcriber)
    redactor: Redactor | None = None
    evidence: EvidenceSources = field(default_factory=EvidenceSources)

    @classmethod
    def build(cls, asr: AsrConfig | None = None, recordings: bool = True, model_dir: str | Path | None = None,
              cache_folder: Path | None = None) -> RunNeeds:
        """Build what the settings ask for: speech recognition only when `recordings` may come; under --redact,
        a redactor that keeps the words the model in `model_dir` learned are not personal, and --keep.
        `cache_folder`: where transcripts are cached (default: the user's cache folder)."""
        asr = asr or AsrConfig()
        recogniser = cache = redactor = None
        learned: list[str] = []
        if asr.redact:
            from .privacy.keep import KeepList
            from .privacy.redact import Redactor

            keep = KeepList.load(model_dir)
            learned = sorted(keep.words)
            redactor = Redactor(asr.entity_list(), asr.redact_agent_names, keep.with_phrases(asr.keep_phrases()))
        if recordings:
            recogniser = Recogniser(asr, word_times=bool(asr.redact_audio))
            if asr.use_cache:  # a redacted transcript depends on the kept words too
                settings = {**asr.cache_settings(), **({"keep_learned": learned} if learned else {})}
                cache = TranscriptCache(recogniser.model_dir, settings, cache_folder)
        return cls(asr, Transcriber(recogniser, cache, redactor, asr.redact_audio), redactor)

    @classmethod
    def for_calls(cls, calls: CallTable, asr: AsrConfig | None = None, model_dir: str | Path | None = None) -> RunNeeds:
        """What these calls need: a recogniser only if some of them are recordings."""
        return cls.build(asr, recordings=calls.has_audio, model_dir=model_dir)

    def with_evidence(self, config: EvidenceConfig | None, model_dir: str | Path | None = None) -> RunNeeds:
        """Classify with the phone system's facts and the customer list of `config` (its names found by the
        run's redactor, or by one keeping the words the model in `model_dir` learned are not personal)."""
        self.evidence = EvidenceSources.build(config, self.redactor, model_dir)
        return self

    @property
    def recogniser(self) -> Recogniser | None:
        return self.transcriber.recogniser

    @property
    def cache(self) -> TranscriptCache | None:
        return self.transcriber.cache

    @property
    def names(self) -> DisplayNames:
        return self.transcriber.names

    def job_settings(self, has_audio: bool) -> dict | None:
        """The settings a stored result depends on besides the model: recognition and redaction settings for
        calls with recordings or under --redact (a new --asr-model or redaction is new work), else none."""
        if not (has_audio or self.redactor is not None):
            return None
        return {"model": self.asr.model, **self.asr.cache_settings()}

    def redact_texts(self, calls: CallTable) -> CallTable:
        """The calls with the text of every transcript row redacted (recordings are redacted as they are
        transcribed), so the classifier reads what is kept."""
        if self.redactor is None:
            return calls
        texts = [text if calls.is_recording(i) or not text.strip() else self.redactor.redact(text)[0]
                 for i, text in enumerate(calls.texts)]
        return CallTable(texts, calls.sources, calls.labels, calls.skipped, calls.audio, calls.details, calls.reasons)

    def unload(self) -> None:
        """Free Whisper (recognition is over; the text model comes next). It loads again if needed."""
        self.transcriber.unload()
