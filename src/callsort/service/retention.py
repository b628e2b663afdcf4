"""How long the service keeps what it writes from a call (--keep-uploads-days): uploaded batches' files, the
transcripts it cached and the silenced copies (--redact-audio). One rule, counted from when each was written;
the rows in the store stay."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_FOLDER = "transcript-cache"  # under the uploads folder


@dataclass
class Retention:
    """`keep_days` (0: forever) and the folders whose files it expires, each with the file pattern kept there."""

    keep_days: float = 0
    folders: list[tuple[Path, str]] = field(default_factory=list)

    def is_old(self, written_at: float) -> bool:
        return bool(self.keep_days) and time.time() - written_at > self.keep_days * 86400

    def expire_files(self) -> int:
        """Delete the files of `folders` written over `keep_days` ago; how many were deleted."""
        deleted = 0
        for folder, pattern in self.folders if self.keep_days else []:
            for file in Path(folder).rglob(pattern):
                try:
                    if file.is_file() and not file.is_symlink() and self.is_old(file.stat().st_mtime):
                        file.unlink()
                        deleted += 1
                except OSError as exc:  # deleted meanwhile, or not ours to delete: tried again next time
                    log.warning("%s: not deleted (%s)", file, exc)
        if deleted:
            log.info("%d file(s) deleted after %g days (--keep-uploads-days)", deleted, self.keep_days)
        return deleted
