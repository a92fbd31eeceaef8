"""Pages: /notifications (the list; opening it marks everything read), the bell (htmx, loaded after the page),
and /notifications/preferences (which kinds arrive in the app and by e-mail)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.core.errors import ValidationFailed
from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.notifications import service
from socius.notifications.models import EmailMode

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


async def _preferences_page(request: Request, db, principal, *, status: int = 200, **extra) -> Response:
    context = {"items": await service.preferences(db, principal), "modes": list(EmailMode), **extra}
    return render(request, "notifications/preferences.html", context, status=status)


@router.get("/notifications/preferences")
async def preferences(request: Request, db: Session, principal: Caller) -> Response:
    return await _preferences_page(request, db, principal, saved=request.query_params.get("saved") == "1")


@router.post("/notifications/preferences")
async def save_preferences(request: Request, db: Session, principal: Caller) -> Response:
    """Each kind has a checkbox `in_app.<kind>` and a choice `email.<kind>`; a kind without the choice stays."""
    form = await request.form()
    changes = {}
    for kind in service.KINDS:
        email = form.get(f"email.{kind}")
        if isinstance(email, str):
            changes[kind] = service.Choice(in_app=form.get(f"in_app.{kind}") is not None, email=email)
    try:
        await service.set_preferences(db, principal, changes)
    except ValidationFailed as error:
        return await _preferences_page(request, db, principal, errors=error.by_field(), status=error.status)
    return RedirectResponse("/notifications/preferences?saved=1", status_code=303)
