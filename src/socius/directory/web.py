"""Administration pages: directory sources, their sync reports, and the review queue."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.directory import service
from socius.people.service import people_by_ids

router = APIRouter(include_in_schema=False)


@router.get("/admin/directory")
async def sources(request: Request, db: Session, principal: Caller) -> Response:
    summaries = await service.list_sources(db, principal)
    reviews = await service.open_reviews(db, principal)
    return render(request, "directory/sources.html", {"summaries": summaries, "open_reviews": len(reviews)})


@router.get("/admin/directory/sources/{source_id}")
async def source(request: Request, db: Session, principal: Caller, source_id: int) -> Response:
    found, reports = await service.source_reports(db, principal, source_id)
    return render(request, "directory/source.html", {"source": found, "reports": reports})


@router.get("/admin/directory/reviews")
async def reviews(request: Request, db: Session, principal: Caller) -> Response:
    items = await service.open_reviews(db, principal)
    ids = {i for r in items for i in [*(r.candidate_ids or []), *([r.person_id] if r.person_id else [])]}
    sources = {s.source.id: s.source for s in await service.list_sources(db, principal)}
    return render(request, "directory/reviews.html", {
        "items": items, "people": await people_by_ids(db, ids), "sources": sources,
        "reasons": service.REVIEW_REASONS,
    })


@router.post("/admin/directory/reviews/{review_id}")
async def decide(db: Session, principal: Caller, review_id: int, decision: str = Form(...),
                 person_id: str = Form("")) -> Response:
    chosen = int(person_id) if person_id.strip().isdigit() else None
    await service.resolve_review(db, principal, review_id, decision, chosen)
    return RedirectResponse("/admin/directory/reviews", status_code=303)
