"""GET /v1/topics: the topics of `serve --topics FILE` (none without one), each with its phrases, its side and
how many stored calls mention it, for the page's topic select and for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..jobs.fulltext import SearchFilters
from ..jobs.searching import search_store
from .deps import ServiceDep, role

router = APIRouter(dependencies=[Depends(role)])  # a reviewer's key is enough, as for GET /v1/calls


@router.get("/v1/topics")
def topics(service: ServiceDep) -> dict:
    """{"topics": [{"name", "phrases", "side", "calls"}]}: `calls` counts the stored calls whose transcripts
    mention the topic's phrases, as a search with that topic finds them (None without a store)."""
    chosen = service.needs.evidence.topics
    if chosen is None:
        return {"topics": []}
    found = []
    for topic in chosen.described():
        calls = None
        if service.work is not None:
            calls = search_store(service.work.db, None, SearchFilters(topic=topic["name"]), count_only=True,
                                 topics=chosen)["count"]
        found.append({**topic, "calls": calls})
    return {"topics": found}
