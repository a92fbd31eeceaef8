"""Pages: /search (tabs per kind, results, did-you-mean, pages) and /search/suggest (htmx, as you type)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.search import runtime, service
from socius.search.api import SearchParameters

router = APIRouter(include_in_schema=False)


@router.get("/search")
async def search_page(request: Request, db: Session, principal: Caller, search_request: SearchParameters
                      ) -> Response:
    found = await service.search(db, principal, runtime.from_request(request), search_request)
    context = {"found": found, "q": search_request.q, "kind": (search_request.kinds or [""])[0],
               "labels": service.kind_labels()}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "search-results":
        return render(request, "search/_results.html", context)
    return render(request, "search/page.html", context)


@router.get("/search/suggest")
async def suggest(request: Request, db: Session, principal: Caller, q: str = "") -> Response:
    items = await service.suggest(db, principal, runtime.from_request(request), q)
    return render(request, "search/_suggestions.html", {"items": items, "q": q})
