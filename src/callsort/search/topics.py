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

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .query import Query, one_of

STARTER = Path(__file__).with_name("topics.yaml")


@dataclass
class Topics:
    """Named topics, in the file's order."""

    queries: dict[str, Query]
    source: str = ""  # the file they came from
    phrases: dict[str, list[str]] = field(default_factory=dict)  # each topic's phrases, as the file gives them

    @property
    def names(self) -> list[str]:
        return list(self.queries)

    def described(self) -> list[dict]:
        """[{"name", "phrases", "side"}] in the file's order: what a page or a person is shown of the topics."""
        return [{"name": name, "phrases": self.phrases.get(name, []), "side": query.side}
                for name, query in self.queries.items()]

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
    topics = Topics({}, str(path))
    for name, value in found.items():
        topics.queries[str(name)], topics.phrases[str(name)] = _topic(path, str(name), value)
    return topics


def copy_starter(path: str | Path) -> Path:
    """Write a copy of the shipped starter file to `path` (never over an existing file), for a manager to edit."""
    path = Path(path)
    if path.exists():
        raise InputError(f"{path}: already exists; choose another name or remove it")
    try:
        path.write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the starter topics ({exc.strerror or exc})") from None
    return path


def _topic(path: Path, name: str, value) -> tuple[Query, list[str]]:
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
    phrases = [str(p) for p in value]
    try:
        return one_of(phrases, side=side), phrases
    except InputError as exc:
        raise InputError(f"{path}: topic {name!r}: {exc}") from None
