"""Pages: /search (tabs per kind, results, did-you-mean, pages) and /search/suggest (htmx, as you type)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.search import runtime, service
from socius.search.api import request_from

router = APIRouter(include_in_schema=False)


@router.get("/search")
async def search_page(
    request: Request,
    db: Session,
    principal: Caller,
    q: str = "",
    kind: Annotated[list[str], Query()] = [],  # noqa: B006
    community: int | None = None,
    author: int | None = None,
    tag: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    order: str = "relevance",
    page: int = 1,
    include_former: bool = False,
) -> Response:
    search_request = request_from(q, kind, community, author, tag, since, until, order, page, 20, include_former)
    found = await service.search(db, principal, runtime.from_request(request), search_request)
    context = {"found": found, "q": q, "kind": (search_request.kinds or [""])[0], "labels": service.kind_labels()}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "search-results":
        return render(request, "search/_results.html", context)
    return render(request, "search/page.html", context)


@router.get("/search/suggest")
async def suggest(request: Request, db: Session, principal: Caller, q: str = "") -> Response:
    items = await service.suggest(db, principal, runtime.from_request(request), q)
    return render(request, "search/_suggestions.html", {"items": items, "q": q})
