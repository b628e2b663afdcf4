"""The transcription step: recordings -> transcripts, in this order: the cache, else Whisper, then redaction,
then the cache is written. So under --redact no transcript callsort makes is ever written unredacted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import ConfigError
from .privacy.names import DisplayNames
from .speech.cache import TranscriptCache
from .speech.recognise import Recogniser
from .speech.transcript import Transcript


class Transcriber:
    """A recogniser (None: the run reads transcripts only), its transcript cache (None: --no-cache) and the
    redactor (None: no --redact); `silenced`: the folder of silenced copies (--redact-audio), else None."""

    def __init__(self, recogniser: Recogniser | None = None, cache: TranscriptCache | None = None, redactor=None,
                 silenced: str | Path | None = None):
        self.recogniser, self.cache, self.redactor = recogniser, cache, redactor
        self.silenced = Path(silenced) if silenced else None
        self.names = DisplayNames(redactor)

    def heard(self, paths: Iterable[str | Path], progress: bool = False) -> Iterator[tuple[Transcript, str]]:
        """Per recording, in order: its Transcript (redacted under --redact) and the words as heard, before
        redaction (from the cache: what redaction left). A file that cannot be used gives a Transcript with
        its error, never an exception."""
        if self.recogniser is None:
            raise ConfigError("this run was set up for transcripts only, but recordings came")
        paths = [str(p) for p in paths]
        keys = [self.cache.key(p) if self.cache else None for p in paths]
        found = [self.cache.get(k, p) if self.cache else None for k, p in zip(keys, paths, strict=True)]
        fresh = self.recogniser.transcribe_many([p for p, t in zip(paths, found, strict=True) if t is None], progress)
        for path, key, transcript in zip(paths, keys, found, strict=True):
            said = transcript.text if transcript is not None else None
            if transcript is None:
                heard = next(fresh)
                said, transcript = heard.text, self.redact_transcript(heard)
                if self.cache is not None:
                    self.cache.put(key, transcript)
            if self.silenced is not None and not transcript.error:
                self._write_silenced(path, transcript)
            yield transcript, said

    def transcripts(self, paths: Iterable[str | Path], progress: bool = False) -> Iterator[Transcript]:
        """One Transcript per recording, in order (see `heard`)."""
        for transcript, _ in self.heard(paths, progress):
            yield transcript

    def redact_transcript(self, transcript: Transcript) -> Transcript:
        from .privacy.transcripts import redact_transcript

        return transcript if self.redactor is None else redact_transcript(transcript, self.redactor)

    def unload(self) -> None:
        """Free Whisper (recognition is over; the text model comes next). It loads again if needed."""
        if self.recogniser is not None:
            self.recogniser.unload()

    def _write_silenced(self, path: str, transcript: Transcript) -> None:
        from .privacy.silence import write_silenced
        from .speech.audio import load_recording

        write_silenced(load_recording(path), transcript, self.silenced / self.names.copy_name(path))
