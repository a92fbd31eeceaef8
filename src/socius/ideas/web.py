"""Idea portal pages: /campaigns (the list, a new campaign), a campaign (its ideas by ranking, leaderboard,
timeline, members), /ideas/{id} (an idea: votes, comments, stage, follow), reviews, merges, graduation, metrics."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.core.errors import Conflict, PermissionDenied, SociusError, ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.ideas import graduation, merging

router = APIRouter(include_in_schema=False)


# --- campaigns and ideas ------------------------------------------------------------------------------------------


# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------


_REFUSED = (ValidationFailed, Conflict, PermissionDenied)


def _back(idea_id: int, error: SociusError | None = None) -> Response:
    """Back to the idea's page, with the refusal's message when there was one."""
    if error is None:
        return RedirectResponse(f"/ideas/{idea_id}", status_code=303)
    message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
        else error.render_message()
    return RedirectResponse(f"/ideas/{idea_id}?error={quote(message)}", status_code=303)


@router.post("/ideas/{idea_id}/merge")
async def merge_form(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    into = str((await request.form()).get("into", "")).strip()
    try:
        await merging.merge(db, principal, idea_id, int(into) if into.isdigit() else into, ip=client_ip(request))
    except _REFUSED as error:
        return _back(idea_id, error)
    return _back(idea_id)


@router.post("/idea-merges/{merge_id}/undo")
async def undo_merge_form(request: Request, db: Session, principal: Caller, merge_id: int) -> Response:
    try:
        row = await merging.unmerge(db, principal, merge_id, ip=client_ip(request))
    except _REFUSED as error:
        back = str((await request.form()).get("idea_id", ""))
        return _back(int(back) if back.isdigit() else 0, error) if back.isdigit() else \
            RedirectResponse("/campaigns", status_code=303)
    return _back(row.source_id)


@router.post("/ideas/{idea_id}/graduate")
async def graduate_form(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    form = await request.form()
    values = {k: str(form[k]).strip() for k in ("name", "access") if str(form.get(k, "")).strip()}
    try:
        made = await graduation.graduate(db, principal, idea_id, values, ip=client_ip(request))
    except _REFUSED as error:
        return _back(idea_id, error)
    return RedirectResponse(f"/communities/{made.id}", status_code=303)
