"""The transcript cache: a recording's transcript on disk, keyed by its bytes, the speech model and every
setting that changes the transcript (redaction included), so a re-run or a second pass reads instead of
recognising. What is cached is what was returned: under --redact, the redacted transcript only."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from ..registry import cache_dir
from .audio import file_sha256
from .transcript import Transcript

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # bump when the transcript format or recognition changes


class TranscriptCache:
    """Transcripts of one speech model and one set of transcript settings (`AsrConfig.cache_settings()`)."""

    def __init__(self, model_dir: Path, settings: dict, folder: Path | None = None):
        model_bin = model_dir / "model.bin"
        model_id = [str(model_dir), model_bin.stat().st_size] if model_bin.is_file() else [str(model_dir)]
        self.salt = json.dumps([CACHE_VERSION, model_id, settings]).encode()
        self.folder = folder or cache_dir() / "transcripts"

    def key(self, path: str | Path) -> str | None:
        """The recording's key, or None when it cannot be read (decoding then reports the problem)."""
        try:
            digest = file_sha256(path)
        except OSError:
            return None
        return hashlib.sha256(digest.encode() + self.salt).hexdigest()

    def get(self, key: str | None, path: str | Path) -> Transcript | None:
        if key is None:
            return None
        try:
            data = json.loads(self._file(key).read_text())
        except (OSError, ValueError):
            return None
        return Transcript(**{**data, "source": str(path), "cached": True})

    def put(self, key: str | None, transcript: Transcript) -> None:
        if key is None or transcript.error:
            return
        file = self._file(key)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({k: v for k, v in transcript.to_dict().items() if k not in ("source", "cached")}))
            os.replace(partial, file)
        except OSError as exc:  # a read-only cache slows re-runs down but must not fail them
            log.warning("transcript cache not written (%s)", exc)

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"
