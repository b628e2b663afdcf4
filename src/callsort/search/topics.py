"""Topics a manager names (--topics topics.yaml): a topic is a name and the phrases that mean it, optionally
limited to what one side of the call said. They match by the search's rules (query.py: whole words,
case-insensitive, `word*` a prefix), so a topic's calls are the calls a search for its phrases finds.

    price:
      phrases: ["how much", "too expensive", "price*", "quote"]
    emergency:
      phrases: ["emergency", "no heat", "flooding"]
      side: caller

A starter file for home services ships with callsort (STARTER); copy it and make it yours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .query import Query, one_of

STARTER = Path(__file__).with_name("topics.yaml")


@dataclass
class Topics:
    """Named topics, in the file's order."""

    queries: dict[str, Query]
    source: str = ""  # the file they came from

    @property
    def names(self) -> list[str]:
        return list(self.queries)

    def of(self, transcript: str | None) -> list[str]:
        """The names of the topics a transcript mentions, in the file's order."""
        return [name for name, query in self.queries.items() if transcript and query.matches(transcript)]

    def query(self, name: str) -> Query:
        if name not in self.queries:
            raise InputError(f"topic {name!r}: not in {self.source or 'the topics'} ({', '.join(self.names)})")
        return self.queries[name]


def load_topics(path: str | Path) -> Topics:
    """Read a topics file; a one-line InputError names the file and what is wrong in it."""
    import yaml

    path = Path(path)
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the topics file ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(found, dict) or not found:
        raise InputError(f"{path}: expected topics, each a name with its phrases (see {STARTER.name})")
    return Topics({str(name): _topic(path, str(name), value) for name, value in found.items()}, str(path))


def _topic(path: Path, name: str, value) -> Query:
    side = None
    if isinstance(value, dict):
        unknown = set(value) - {"phrases", "side"}
        if unknown:
            raise InputError(f"{path}: topic {name!r}: unknown key {sorted(unknown)[0]!r} (phrases, side)")
        value, side = value.get("phrases"), value.get("side")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(p, str | int | float) for p in value):
        raise InputError(f"{path}: topic {name!r}: expected a list of phrases")
    try:
        return one_of([str(p) for p in value], side=side)
    except InputError as exc:
        raise InputError(f"{path}: topic {name!r}: {exc}") from None
