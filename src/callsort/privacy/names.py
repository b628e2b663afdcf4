"""File names as answers and written files show them: under --redact, with the personal data in a name replaced."""

from __future__ import annotations

import re
from pathlib import Path

from .redact import redact_fragment

# words phone systems put in file names: never names, even where a name is given ("my name is voicemail")
FILE_WORDS = frozenset("""call calls voicemail voicemails recording recordings record rec audio inbound outbound
    incoming outgoing missed answered ext extension line queue transcript transcripts agent caller sample samples
    test demo file export copy part track mono stereo left right new old final""".split())


class DisplayNames:
    """Names of calls and of their silenced copies, as shown; `redactor` None (no --redact) shows them as given."""

    def __init__(self, redactor=None):
        self.redactor = redactor  # privacy.redact.Redactor
        self._shown: dict[str, str] = {}  # a table's rows share one file name: it is redacted once

    def shown_name(self, name: str) -> str:
        """A file name as answers show it: under --redact with personal data replaced (the stem only:
        "Robert_Johnson_555-867-5309.mp3" -> "[NAME]_[PHONE].mp3"), else as given."""
        if self.redactor is None:
            return name
        if name not in self._shown:
            self._shown[name] = self._redacted_name(name)
        return self._shown[name]

    def _redacted_name(self, name: str) -> str:
        stem, suffix = Path(name).stem, Path(name).suffix
        said = re.sub(r"_+", " ", stem)  # "Robert_Johnson": words, as the name finder reads them
        redacted = redact_fragment(said, self.redactor, FILE_WORDS)
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
        from ..speech.audio import file_sha256

        return f"{Path(self.shown_name(Path(path).name)).stem}.{file_sha256(path)[:12]}.redacted.wav"
