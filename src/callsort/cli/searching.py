"""The command search: find stored calls by what was said in them (jobs/searching.search_store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from .app import app, setup
from .options import Output, settings_options


@app.command()
@settings_options(output=Output)
def search(
    store: Annotated[str, typer.Argument(help="Results store (SQLite file or SQLAlchemy URL).")],
    query: Annotated[str, typer.Argument(
        help='What was said: words (all of them), "a phrase", furn* (a prefix), OR, -word (not), '
             "NEAR(furnace noise, 5); '' to list the calls the filters pick (docs/search.md).")],
    output: Output,
    category: Annotated[str | None, typer.Option(help="Only calls of this category (a person's label counts).")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's calls.")] = None,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD: calls from this day on (calls without a time "
                                                   "are left out).")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD: calls up to this day, included.")] = None,
    needs_review: Annotated[bool | None, typer.Option(
        "--needs-review/--no-needs-review", help="Only calls still to check / only those that need no check "
                                                 "(default: either).", show_default=False)] = None,
    batch: Annotated[str | None, typer.Option(help="Only the calls of this batch (its id).")] = None,
    topic: Annotated[str | None, typer.Option(help="Only calls that mention this topic.")] = None,
    side: Annotated[Literal["agent", "caller"] | None, typer.Option(
        help="Only what this side said (split recordings, 'Agent:'/'Caller:' lines).")] = None,
    topics: Annotated[Path | None, typer.Option(
        help="A topics file: --topic searches its phrases instead of the topics the stored rows carry.")] = None,
    limit: Annotated[int, typer.Option(help="Calls shown (1 to 200).")] = 20,
    offset: Annotated[int, typer.Option(help="Calls skipped first (the next page: --offset 20).")] = 0,
    count: Annotated[bool, typer.Option("--count", help="Print only how many calls match (alone on the last "
                                                        "line; 0 when none).")] = False,
) -> None:
    """Find stored calls by what was said in them, best matches first, with the matching words in a snippet."""
    from ..jobs.fulltext import SearchFilters
    from ..jobs.searching import search_store
    from ..jobs.store import open_database
    from ..search.topics import load_topics

    progress = setup(output)
    filters = SearchFilters(category=category, agent=agent, since=since, until=until, needs_review=needs_review,
                            batch=batch, topic=topic, side=side)
    named = load_topics(topics) if topics else None
    db = open_database(store, must_exist=True, progress=progress)  # an older store is indexed now (a bar)
    try:
        found = search_store(db, query, filters, limit, offset, count_only=count, topics=named)
    finally:
        db.close()
    if output.json:
        typer.echo(json.dumps({"count": found["count"]} if count else found, indent=2, default=str))
    elif count:
        typer.echo(found["count"])
    else:
        _show(found, offset)


def _show(found: dict, offset: int) -> None:
    """The page of calls for people: a header with the count, then each call and its snippet, matches in bold."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    results, total = found["results"], found["count"]
    shown = f" (showing {offset + 1}–{offset + len(results)})" if results and len(results) < total else ""
    console.print(f"{total} call{'' if total == 1 else 's'} match{'es' if total == 1 else ''}{shown}")
    for r in results:
        confidence = "" if r["confidence"] is None else f"{r['confidence']:.2f}"
        review = "  needs review" if r["needs_review"] else ""
        console.print(Text(f"\n#{r['id']}  {r['label'] or '-'}  {confidence}  {r['source']}{review}"))
        line = Text("    " + r["snippet"]["text"])
        for start, end in r["snippet"]["highlights"]:
            line.stylize("bold", start + 4, end + 4)
        console.print(line)
