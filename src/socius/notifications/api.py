"""JSON API: /api/v1/notifications (newest first, unread count) and marking them read."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from socius.core.requests import Caller, Session, json_response
from socius.notifications import service

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    message: str
    url: str
    created_at: dt.datetime
    unread: bool


class NotificationsOut(BaseModel):
    unread: int
    items: list[NotificationOut]


class MarkRead(BaseModel):
    ids: list[int] | None = None  # none: all of them


class Marked(BaseModel):
    marked: int


@router.get("/notifications", response_model=NotificationsOut)
async def notifications(db: Session, principal: Caller, before: Annotated[int | None, Query(ge=1)] = None,
                        limit: Annotated[int, Query(ge=1, le=100)] = service.PAGE_SIZE) -> Response:
    items = await service.latest(db, principal, before=before, limit=limit)
    return json_response(NotificationsOut(unread=await service.unread_count(db, principal),
                                          items=[NotificationOut(**vars(n)) for n in items]))


@router.post("/notifications/read", response_model=Marked)
async def mark_read(db: Session, principal: Caller, body: MarkRead) -> Response:
    ids = None if body.ids is None else [i for i in body.ids if 0 < i < 2**63]
    return json_response(Marked(marked=await service.mark_read(db, principal, ids)))
