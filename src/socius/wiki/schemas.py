"""JSON shapes of the wiki API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class PageOut(BaseModel):
    id: int
    community_id: int
    parent_id: int | None
    slug: str
    title: str
    body: str
    body_html: str
    tags: list[str]
    version: int
    url: str
    author_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TreeOut(BaseModel):
    id: int
    parent_id: int | None
    slug: str
    title: str
    url: str
    children: list[TreeOut] = []


class PagesOut(BaseModel):
    items: list[TreeOut]


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: StrictStr
    body: StrictStr = ""
    parent_id: StrictInt | None = None
    tags: list[StrictStr] | None = None
    comment: StrictStr | None = None


class PageEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: StrictInt = Field(description="the page's version you started editing from")
    title: StrictStr | None = None
    body: StrictStr | None = None
    tags: list[StrictStr] | None = None
    comment: StrictStr | None = None
    # Moves the page when given: another page of the same wiki, or 0 for the top level.
    parent_id: StrictInt | None = None


class RevisionOut(BaseModel):
    number: int
    title: str
    author_id: int | None
    created_at: dt.datetime
    comment: str
    restored_from: int | None


class RevisionFull(RevisionOut):
    body: str


class RevisionsOut(BaseModel):
    items: list[RevisionOut]


class DiffLineOut(BaseModel):
    op: str
    text: str


class DiffOut(BaseModel):
    from_: int = Field(serialization_alias="from")
    to: int
    title_changed: bool
    lines: list[DiffLineOut]


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: StrictInt
    version: StrictInt
