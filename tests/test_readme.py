"""The README's module map lists every module of the package (a newcomer's map stays true)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_module_map_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("src/callsort/\n", 1)[1].split("```", 1)[0]
    folder = None
    named = set()
    for line in block.splitlines():
        head = re.match(r"  ([a-z_]+)/\s", line)
        if head:
            folder = head.group(1)
        elif re.match(r"  \S", line):
            folder = None
        for name in re.findall(r"\b([a-z_]+\.py)\b", line):
            named.add(f"{folder}/{name}" if folder else name)
    package = ROOT / "src" / "callsort"
    modules = {str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "__init__.py"}
    assert sorted(modules - named) == []  # every module is on the map
    assert sorted(named - modules - {"__init__.py"}) == []  # and nothing on it is gone
