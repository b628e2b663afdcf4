"""The route of search (with `callsort serve --store`): stored calls by what was said in them, a page at a time,
with the same access as the table of every call (the reviewer key is enough)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from ..jobs.fulltext import SearchFilters
from ..jobs.searching import MOST_PER_PAGE, search_store
from .deps import ServiceDep, named, store_role

router = APIRouter(dependencies=[Depends(store_role)])


@router.get("/v1/search")
def search(service: ServiceDep, q: str = Query("", max_length=2000), category: str | None = None,
           agent: str | None = None, since: str | None = None, until: str | None = None,
           needs_review: bool | None = None, batch: str | None = None, topic: str | None = None,
           side: Literal["agent", "caller"] | None = None, limit: int = Query(20, ge=1, le=MOST_PER_PAGE),
           offset: int = Query(0, ge=0, le=2**62)) -> dict:
    """Calls whose transcripts match `q` (callsort's query language, docs/search.md) and the filters, best
    first: `count` (every match) and the page of `results` asked for, each with a snippet and the offsets of
    its matched words. A topic is looked up in the service's --topics, else in the topics stored rows carry.
    A query that cannot be read is a 422 saying why."""
    filters = SearchFilters(category=category, agent=agent, since=since, until=until, needs_review=needs_review,
                            batch=batch, topic=topic, side=side)
    found = search_store(service.work.db, q, filters, limit, offset, topics=service.needs.evidence.topics)
    return {"count": found["count"], "limit": limit, "offset": offset, "results": named(found["results"])}
