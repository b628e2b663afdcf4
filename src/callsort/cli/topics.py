"""The command topics: a store's calls per topic, re-tagging stored calls when the topics file changes, and a
copy of the starter file to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .app import app, emit, setup
from .options import Output, settings_options


@app.command()
@settings_options(output=Output)
def topics(
    output: Output,
    store: Annotated[str | None, typer.Argument(help="Results store (SQLite file or SQLAlchemy URL).")] = None,
    apply: Annotated[Path | None, typer.Option(
        "--apply", help="Topics file (YAML): re-tag every stored call from its stored transcript (the search "
                        "index follows), then count.")] = None,
    starter: Annotated[Path | None, typer.Option(
        "--starter", help="Write a copy of the starter topics file that ships with callsort here, to edit.")] = None,
) -> None:
    """How many stored calls mention each topic (from the search index); with --apply FILE, every stored call's
    topics recomputed from its transcript first; with --starter PATH, a starter topics file to edit."""
    from ..jobs.searching import count_topics
    from ..search.topics import STARTER, copy_starter, load_topics

    progress = setup(output)
    if starter is not None:
        written = copy_starter(starter)
        emit({"starter": str(written)}, output, [f"starter topics ({STARTER.name}) → {written}: edit it, then use "
                                                 f"--topics {written}"])
        return
    if store is None:
        raise InputError("give a results store (callsort topics STORE [--apply FILE]) or --starter PATH")
    chosen = load_topics(apply) if apply is not None else None  # a bad file fails before the store is touched
    summary = count_topics(store, chosen, progress)
    lines = [f"{summary['changed']} of {summary['calls']} stored calls changed topics (from {apply})"] if chosen else []
    lines += [f"  {n:6d}  {name}" for name, n in summary["topics"].items()] or [f"{store}: no call carries a topic"]
    emit({"store": store, **summary}, output, lines)

