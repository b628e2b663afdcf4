"""What a run needs, decided once from its calls and settings, built once and passed down.

A run over recordings needs a speech recogniser (and its transcript cache); a run under --redact needs a
redactor; a run over transcripts needs neither. Front ends build a RunNeeds and hand it to the one path
(pipeline.classify_calls); the service builds one at start and every request and batch shares it.

Transcription happens here, in this order: the cache, else Whisper, then redaction, then the cache is
written. So under --redact no transcript callsort makes is ever written unredacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import AsrConfig
from .data import CallTable
from .errors import ConfigError
from .speech.cache import TranscriptCache
from .speech.recognise import Recogniser
from .speech.transcript import Transcript


@dataclass
class RunNeeds:
    """The recogniser (None: the run reads transcripts only), the redactor (None: no --redact) and the
    transcript cache (None: --no-cache or no recordings) of a run, with the settings they were built from."""

    asr: AsrConfig
    recogniser: Recogniser | None = None
    redactor: object | None = None  # privacy.redact.Redactor (Presidio loads only when redacting)
    cache: TranscriptCache | None = None
    customers: object | None = None  # customers.CustomerMatcher (--customers), else None
    verdicts: dict = field(default_factory=dict)  # recording -> (customer, what matched), read before redaction
    join_meta: object | None = None  # source -> the phone system's facts (--meta), for evidence while classifying
    evidence: dict = field(default_factory=dict)  # where join_meta and customers came from (Ray workers rebuild them)

    @classmethod
    def build(cls, asr: AsrConfig | None = None, recordings: bool = True,
              model_dir: str | Path | None = None) -> RunNeeds:
        """Build what the settings ask for: speech recognition only when `recordings` may come; under --redact,
        a redactor that keeps the words the model in `model_dir` learned are not personal, and --keep."""
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
                cache = TranscriptCache(recogniser.model_dir, settings)
        return cls(asr, recogniser, redactor, cache)

    @classmethod
    def for_calls(cls, calls: CallTable, asr: AsrConfig | None = None, model_dir: str | Path | None = None) -> RunNeeds:
        """What these calls need: a recogniser only if some of them are recordings."""
        return cls.build(asr, recordings=calls.has_audio, model_dir=model_dir)

    def job_settings(self, has_audio: bool) -> dict | None:
        """The settings a stored result depends on besides the model: recognition and redaction settings for
        calls with recordings or under --redact (a new --asr-model or redaction is new work), else none."""
        if not (has_audio or self.redactor is not None):
            return None
        return {"model": self.asr.model, **self.asr.cache_settings()}

    def transcripts(self, paths: Iterable[str | Path], progress: bool = False) -> Iterator[Transcript]:
        """One Transcript per recording, in order: from the cache, else recognised, redacted, then cached.
        A file that cannot be used gives a Transcript with its error (never an exception)."""
        if self.recogniser is None:
            raise ConfigError("this run was set up for transcripts only, but recordings came")
        paths = [str(p) for p in paths]
        keys = [self.cache.key(p) if self.cache else None for p in paths]
        found = [self.cache.get(k, p) if self.cache else None for k, p in zip(keys, paths, strict=False)]
        fresh = self.recogniser.transcribe_many([p for p, t in zip(paths, found, strict=False) if t is None], progress)
        for path, key, transcript in zip(paths, keys, found, strict=False):
            if transcript is None:
                heard = next(fresh)
                self.verdicts[path] = self.customer_of(heard.text, path)  # the words as said, before redaction
                transcript = self.redact_transcript(heard)
                if self.cache is not None:
                    self.cache.put(key, transcript)
            else:  # from the cache: under --redact only the caller number and what redaction left can match
                self.verdicts[path] = self.customer_of(transcript.text, path)
            if self.asr.redact_audio and not transcript.error:
                self._write_silenced(path, transcript)
            yield transcript

    def with_evidence(self, meta=None, meta_pattern: str | None = None, customers=None, customers_complete: bool = False,
                      model_dir: str | Path | None = None) -> RunNeeds:
        """Classify with the phone system's facts (--meta/--meta-pattern: was it answered, the caller number)
        and the customer list (--customers, customers.py; its names found by the redaction's finders)."""
        from .customers import CustomerList, CustomerMatcher
        from .insights.metadata import joiner

        self.evidence = {"meta": str(meta) if meta else None, "meta_pattern": meta_pattern,
                         "customers": str(customers) if customers else None, "customers_complete": customers_complete}
        self.join_meta = joiner(meta, meta_pattern)
        if customers:
            from .privacy.keep import KeepList
            from .privacy.redact import Redactor

            finder = self.redactor or Redactor(keep=KeepList.load(model_dir))
            self.customers = CustomerMatcher(CustomerList.read(customers), finder, customers_complete, self.join_meta)
        return self

    def customer_of(self, text: str, source: str) -> tuple[str, str]:
        """("existing" | "new" | "", what matched) of one call, or ("", "") without a customer list."""
        return self.customers.verdict(text, str(source)) if self.customers is not None else ("", "")

    def redact_transcript(self, transcript: Transcript) -> Transcript:
        from .privacy.transcripts import redact_transcript

        return transcript if self.redactor is None else redact_transcript(transcript, self.redactor)

    def shown_name(self, name: str) -> str:
        """A file name as answers show it: under --redact with personal data replaced (the stem only:
        "Robert_Johnson_555-867-5309.mp3" -> "[NAME]_[PHONE].mp3"), else as given."""
        if self.redactor is None:
            return name
        stem, suffix = Path(name).stem, Path(name).suffix
        said = re.sub(r"_+", " ", stem)  # "Robert_Johnson": words, as the name finder reads them
        redacted = self.redactor.redact(said)[0]
        return (redacted.replace(" ", "_") if "_" in stem else redacted) + suffix if redacted != said else name

    def shown_source(self, source: str) -> str:
        """A row's source as written under --redact: its file's name as `shown_name` gives it (a table row
        keeps its ":row"); the folders are left as they are."""
        if self.redactor is None:
            return source
        path, row = (source.rsplit(":", 1) if re.search(r"\.[A-Za-z0-9]+:\d+$", source) else (source, None))
        shown = str(Path(path).with_name(self.shown_name(Path(path).name)))
        return f"{shown}:{row}" if row else shown

    def shown_row(self, row):
        """A ResultRow as written under --redact: its source and the error naming it as `shown_source` says."""
        if self.redactor is None:
            return row
        shown = self.shown_source(row.source)
        row.error = row.error.replace(row.source, shown).replace(Path(row.source).name, Path(shown).name)
        row.source = shown
        return row

    def copy_name(self, path: str | Path) -> str:
        """The name of a recording's silenced copy (--redact-audio): `<shown stem>.<12 hex of its SHA-256>
        .redacted.wav`, so a name with personal data never names a file, and the service finds the copy again."""
        from .speech.audio import file_sha256

        return f"{Path(self.shown_name(Path(path).name)).stem}.{file_sha256(path)[:12]}.redacted.wav"

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
        if self.recogniser is not None:
            self.recogniser.unload()

    def _write_silenced(self, path: str, transcript: Transcript) -> None:
        from .privacy.silence import write_silenced
        from .speech.audio import load_recording

        write_silenced(load_recording(path), transcript, Path(self.asr.redact_audio) / self.copy_name(path))
