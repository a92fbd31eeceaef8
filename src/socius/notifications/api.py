"""JSON API: /api/v1/notifications (newest first, unread count), marking them read, and per-kind preferences."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from socius.core.requests import Caller, Session, json_response
from socius.notifications import service
from socius.notifications.models import EmailMode

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


class PreferenceOut(BaseModel):
    kind: str
    label: str
    in_app: bool
    email: EmailMode
    default_in_app: bool
    default_email: EmailMode


class PreferencesOut(BaseModel):
    items: list[PreferenceOut]


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    in_app: StrictBool
    email: StrictStr = Field(description="none, immediate, daily or weekly")


class PreferencesIn(BaseModel):
    """Only the kinds named change."""

    model_config = ConfigDict(extra="forbid")
    preferences: dict[Annotated[str, Field(max_length=64)], ChoiceIn] = Field(max_length=100)


@router.get("/notifications", response_model=NotificationsOut)
async def notifications(db: Session, principal: Caller, before: Annotated[int | None, Query(ge=1, lt=2**63)] = None,
                        limit: Annotated[int, Query(ge=1, le=100)] = service.PAGE_SIZE) -> Response:
    items = await service.latest(db, principal, before=before, limit=limit)
    return json_response(NotificationsOut(unread=await service.unread_count(db, principal),
                                          items=[NotificationOut(**vars(n)) for n in items]))


@router.post("/notifications/read", response_model=Marked)
async def mark_read(db: Session, principal: Caller, body: MarkRead) -> Response:
    ids = None if body.ids is None else [i for i in body.ids if 0 < i < 2**63]
    return json_response(Marked(marked=await service.mark_read(db, principal, ids)))


def _preferences_out(items: list[service.Preference]) -> PreferencesOut:
    return PreferencesOut(items=[PreferenceOut(**vars(p)) for p in items])


@router.get("/notifications/preferences", response_model=PreferencesOut)
async def preferences(db: Session, principal: Caller) -> Response:
    return json_response(_preferences_out(await service.preferences(db, principal)))


@router.put("/notifications/preferences", response_model=PreferencesOut)
async def set_preferences(db: Session, principal: Caller, body: PreferencesIn) -> Response:
    changes = {kind: service.Choice(c.in_app, c.email) for kind, c in body.preferences.items()}
    return json_response(_preferences_out(await service.set_preferences(db, principal, changes)))
