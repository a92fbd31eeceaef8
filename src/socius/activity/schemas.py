"""The stream's JSON: feed entries (plain and ActivityStreams 2.0), status updates, follows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS2_MEDIA_TYPE = "application/activity+json"
# What each verb is in ActivityStreams, and what each item kind is as an object.
AS2_VERBS = {"post": "Create", "comment": "Create", "answer": "Create", "create": "Create", "update": "Update",
             "like": "Like", "join": "Join"}
AS2_OBJECTS = {"status": "Note", "comment": "Note", "reply": "Note", "topic": "Note", "entry": "Article",
               "page": "Page", "file": "Document", "bookmark": "Link"}


class PersonRef(BaseModel):
    id: int
    name: str


class CommunityRef(BaseModel):
    id: int
    name: str


class ItemRef(BaseModel):
    id: int
    kind: str
    title: str
    excerpt: str
    html: str
    url: str
    tags: list[str]
    like_count: int
    comment_count: int
    parent: dict[str, Any] | None = None


class EntryOut(BaseModel):
    id: int
    verb: str
    published: dt.datetime
    url: str
    actor: PersonRef | None
    item: ItemRef | None
    community: CommunityRef | None


class FeedOut(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: StrictStr = Field(max_length=100_000)
    community_id: StrictInt | None = None


class StatusOut(BaseModel):
    id: int
    url: str
    html: str
    community_id: int | None


class FollowOut(BaseModel):
    target_kind: str
    target: str
    following: bool


class FollowsOut(BaseModel):
    people: list[PersonRef]
    communities: list[CommunityRef]
    tags: list[str]
