"""JSON shapes of the files API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class VersionOut(BaseModel):
    number: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: int | None
    created_at: dt.datetime
    download_url: str


class FileOut(BaseModel):
    id: int
    community_id: int | None  # None for a file attached to an idea (see `campaign_id`)
    campaign_id: int | None = None
    title: str
    description: str
    filename: str
    content_type: str
    size: int
    version: int
    author_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str
    download_url: str
    versions: list[VersionOut] | None = None


class FilesOut(BaseModel):
    items: list[FileOut]
    used_bytes: int
    quota_bytes: int
