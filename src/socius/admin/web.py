"""Administration pages: the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from socius.admin import service
from socius.core.authz import Permission, require
from socius.core.requests import Caller, Session
from socius.core.templating import render
from socius.people.service import people_by_ids

router = APIRouter(include_in_schema=False)


@router.get("/admin")
async def admin_home(request: Request, principal: Caller) -> Response:
    require(principal, Permission.PEOPLE_ADMINISTER)
    return render(request, "admin/index.html")


@router.get("/admin/audit")
async def audit_log(
    request: Request,
    db: Session,
    principal: Caller,
    object_type: Annotated[str, Query(max_length=32)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    page = await service.list_entries(db, principal, object_type=object_type or None,
                                      object_id=object_id or None, action=action or None, cursor=cursor)
    actors = await people_by_ids(db, {e.actor_id for e in page.items if e.actor_id})
    return render(request, "admin/audit.html", {"page": page, "actors": actors, "filters": {
        "object_type": object_type, "object_id": object_id, "action": action}})
