"""Pages: /notifications (the list; opening it marks everything read) and the bell (htmx, loaded after the page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.notifications import service

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
async def notifications(request: Request, db: Session, principal: Caller) -> Response:
    items = await service.latest(db, principal)
    await service.mark_read(db, principal)  # shown is read; the list still marks what was new
    return render(request, "notifications/list.html", {"items": items})


@router.get("/notifications/bell")
async def bell(request: Request, db: Session, principal: Caller) -> Response:
    return render(request, "notifications/_bell.html", {"unread": await service.unread_count(db, principal)})


@router.post("/notifications/read")
async def mark_all_read(db: Session, principal: Caller) -> Response:
    await service.mark_read(db, principal)
    return RedirectResponse("/notifications", status_code=303)
