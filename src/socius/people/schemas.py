"""API shapes for people. Input is validated by the service (one place for pages and API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    label: str
    url: str


class PersonRef(BaseModel):
    """A person as others' pages show them: enough to link and to mark 'former' or 'external'."""

    id: int
    display_name: str
    title: str | None = None
    former: bool = False
    external: bool = False
    has_photo: bool = False


class PersonOut(BaseModel):
    id: int
    display_name: str
    name_native: str | None = None
    name_latin: str | None = None
    email: str | None = None
    employee_number: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    time_zone: str | None = None
    phone: str | None = None
    languages: list[str] = []
    manager: PersonRef | None = None
    about_md: str | None = None
    about_html: str | None = None
    links: list[Link] = []
    role: str
    former: bool
    external: bool
    photo_url: str | None = None
    # Fields hidden from guests; shown only to the person themselves and administrators.
    guest_hidden: list[str] | None = None
    version: int
    updated_at: dt.datetime


class PersonList(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None = None


class ProfileUpdate(BaseModel):
    """PATCH body: only the fields present change. Unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = None
    name_native: str | None = None
    name_latin: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    time_zone: str | None = None
    phone: str | None = None
    languages: list[str] | None = None
    about_md: str | None = None
    links: list[Link] | None = None
    guest_hidden: list[str] | None = None
    locale: str | None = None
    # Administrators only:
    email: str | None = None
    employee_number: str | None = None
    manager_id: int | None = Field(default=None)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PersonCreate(ProfileUpdate):
    """POST body for administrators. With a username, the person also gets a login and a one-time password."""

    role: str = "member"
    username: str | None = None


class PersonCreated(BaseModel):
    person: PersonOut
    username: str | None = None
    temporary_password: str | None = None  # shown once


class TemporaryPassword(BaseModel):
    username: str
    temporary_password: str


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str | None = None  # for people who have no login yet


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
