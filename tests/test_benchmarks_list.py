"""The maintained benchmarks are one list (benchmarks/run_all.py): every top-level benchmark script is in it,
`make bench` runs it, the benchmarks README's table names exactly it, and every attempt has a README entry.
Nothing here runs a benchmark."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import callsort

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


def run_all():
    spec = importlib.util.spec_from_file_location("run_all", BENCHMARKS / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_top_level_script_is_maintained_and_listed():
    listed = run_all()
    scripts = {p.name for p in BENCHMARKS.glob("*.py")} - set(listed.HELPERS)
    assert sorted(scripts) == sorted(listed.MAINTAINED)
    assert all((BENCHMARKS / name).is_file() for name in listed.HELPERS)


def test_readme_table_names_exactly_the_list():
    text = (BENCHMARKS / "README.md").read_text()
    header = "| figure | script | full output |"
    rows = text[text.index(header):].split("\n\n", 1)[0].splitlines()[2:]
    named = [name for row in rows for name in re.findall(r"`([\w./]+\.py)`", row.split("|")[2])]
    assert len(named) == len(set(named)), "a script named twice in the table"
    assert sorted(named) == sorted(run_all().MAINTAINED)


def test_make_bench_runs_the_list_and_nothing_else():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert re.findall(r"[\w./]+\.py\b", recipe) == ["run_all.py"]
    assert "cd benchmarks" in recipe


def test_list_prints_every_script(capsys):
    module = run_all()
    assert module.main(["--list"]) == 0
    assert capsys.readouterr().out.split() == module.MAINTAINED
    assert module.main(["no_such_benchmark.py"]) == 2


def test_every_attempt_has_a_readme_entry():
    readme = (BENCHMARKS / "attempts" / "README.md").read_text()
    for script in (BENCHMARKS / "attempts").glob("*.py"):
        assert f"## `{script.name}`" in readme, script.name
        first_line = script.read_text().split("\n", 1)[0]
        if "Frozen: runs at commit" in first_line:
            commit = re.search(r"commit (\w+)", first_line).group(1)
            assert f"**frozen** at {commit}" in readme, script.name


def test_attempts_import_only_the_public_api_unless_frozen():
    local = {Path(name).stem for name in [*run_all().MAINTAINED, "common.py", "run_all.py"]}
    for script in (BENCHMARKS / "attempts").glob("*.py"):
        source = script.read_text()
        if "Frozen: runs at commit" in source.split("\n", 1)[0]:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module == "callsort":
                assert {a.name for a in node.names} <= set(callsort.__all__), script.name
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            for module in modules:
                assert not module.startswith("callsort."), f"{script.name} imports {module}"
                assert module not in local, f"{script.name} imports the maintained benchmark {module}"
