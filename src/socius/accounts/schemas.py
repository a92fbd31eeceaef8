from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str  # shown once


class Me(BaseModel):
    id: int
    display_name: str
    role: str
    locale: str | None
