"""API shapes for items, comments, likes, reports and the moderation queue."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, StrictStr

from socius.people.schemas import PersonRef


class ItemOut(BaseModel):
    id: int
    kind: str
    community_id: int | None
    parent_id: int | None
    author: PersonRef | None
    title: str
    body_md: str
    body_html: str
    tags: list[str]
    like_count: int
    comment_count: int
    liked: bool = False
    hidden: bool
    version: int
    url: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ItemList(BaseModel):
    items: list[ItemOut]


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: StrictStr


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr


class Reported(BaseModel):
    id: int
    item_id: int


class QueueEntryOut(BaseModel):
    item: ItemOut
    reports: int
    reasons: list[str]


class Queue(BaseModel):
    items: list[QueueEntryOut]
