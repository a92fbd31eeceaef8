"""JSON shapes of items: as the apps list them (`ItemOut`), in full with author and like (`ItemDetailOut`), a page
of items, editing input, comments, reports and the moderation queue."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from socius.content import service
from socius.content.models import Item
from socius.people.schemas import PersonRef


class ItemOut(BaseModel):
    id: int
    kind: str
    community_id: int | None
    author_id: int | None
    title: str
    body_md: str
    body_html: str
    tags: list[str]
    like_count: int
    comment_count: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str

    @classmethod
    def fields_of(cls, item: Item) -> dict:
        return {"id": item.id, "kind": item.kind, "community_id": item.community_id, "author_id": item.author_id,
                "title": item.title, "body_md": item.body_md, "body_html": item.body_html, "tags": list(item.tags),
                "like_count": item.like_count, "comment_count": item.comment_count, "version": item.version,
                "created_at": item.created_at, "updated_at": item.updated_at, "url": service.item_url(item)}

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(**cls.fields_of(item))


class Window(BaseModel):
    limit: int
    offset: int
    next_offset: int | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextIn(Strict):
    """Title, Markdown text and tags: lengths and characters are checked by the service (422 naming the field)."""

    title: StrictStr
    body: StrictStr = ""
    tags: list[StrictStr] = []


class TextEdit(Strict):
    """Only the fields sent change; `version` is the version the edit started from (409 if someone saved since)."""

    version: StrictInt
    title: StrictStr | None = None
    body: StrictStr | None = None
    tags: list[StrictStr] | None = None


class BodyIn(Strict):
    body: StrictStr


def window(listing) -> Window:
    return Window(limit=listing.limit, offset=listing.offset,
                  next_offset=listing.offset + listing.limit if listing.more else None)


class ItemDetailOut(BaseModel):
    """An item with its author and the reader's like: what the item API answers."""

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
    items: list[ItemDetailOut]


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
    item: ItemDetailOut
    reports: int
    reasons: list[str]


class Queue(BaseModel):
    items: list[QueueEntryOut]
