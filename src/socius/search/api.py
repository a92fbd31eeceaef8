"""JSON API: /api/v1/search (ranked results, facets, did-you-mean) and /api/v1/search/suggest (as you type)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from socius.core.requests import Caller, Session, json_response
from socius.search import runtime, service
from socius.search.schemas import SearchHitOut, SearchOut, SuggestionOut, SuggestionsOut

router = APIRouter(tags=["search"])


def kinds_from(values: list[str]) -> list[str]:
    """`kind=person&kind=idea` and `kind=person,idea` both work."""
    return [k.strip() for value in values for k in value.split(",") if k.strip()]


def search_request(
    q: str = "",
    kind: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    community: int | None = None,
    author: int | None = None,
    tag: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    order: str = "relevance",
    page: int = 1,
    per_page: int = 20,
    include_former: bool = False,
) -> service.SearchRequest:
    """The query parameters of a search, for the API and the page alike (the service checks them)."""
    return service.SearchRequest(q=q, kinds=kinds_from(kind), community=community, author=author, tag=tag,
                                 since=since, until=until, order=order, page=page, per_page=per_page,
                                 include_former=include_former)


SearchParameters = Annotated[service.SearchRequest, Depends(search_request)]


@router.get("/search", response_model=SearchOut)
async def search(request: Request, db: Session, principal: Caller, wanted: SearchParameters) -> Response:
    found = await service.search(db, principal, runtime.from_request(request), wanted)
    return json_response(SearchOut(
        q=wanted.q, total=found.total, total_is_estimate=found.total_is_estimate, page=wanted.page,
        per_page=wanted.per_page, facets=found.facets, estimated_facets=sorted(found.estimated),
        did_you_mean=found.did_you_mean, items=[SearchHitOut(**service.as_json(r)) for r in found.results],
    ))


@router.get("/search/suggest", response_model=SuggestionsOut)
async def suggest(request: Request, db: Session, principal: Caller, q: str = "") -> Response:
    items = await service.suggest(db, principal, runtime.from_request(request), q)
    return json_response(SuggestionsOut(items=[
        SuggestionOut(kind=i.kind, id=i.id, title=i.title, url=i.url, subtitle=i.subtitle) for i in items
    ]))
