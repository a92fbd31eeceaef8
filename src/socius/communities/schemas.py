"""API shapes for communities. Input is validated by the service (one place for pages and API); these only
refuse what is not even the right type, naming the field."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from socius.people.schemas import PersonRef


class CommunityOut(BaseModel):
    id: int
    name: str
    description_md: str
    description_html: str
    access: str
    parent_id: int | None
    tags: list[str]
    member_count: int
    archived: bool
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str
    # The caller's standing: role when an active member, state when active, requested or invited.
    my_role: str | None = None
    my_state: str | None = None


class CommunityList(BaseModel):
    items: list[CommunityOut]
    limit: int
    offset: int


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    description: StrictStr = ""
    access: StrictStr = "public"
    tags: list[StrictStr] = []
    parent_id: StrictInt | None = None


class CommunityUpdate(BaseModel):
    """PATCH body: only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr | None = None
    description: StrictStr | None = None
    access: StrictStr | None = None
    tags: list[StrictStr] | None = None


class MemberOut(BaseModel):
    person: PersonRef
    role: str
    state: str


class MemberList(BaseModel):
    items: list[MemberOut]


class Invite(BaseModel):
    """People by id, and addresses by e-mail (an address nobody has becomes a guest invited by e-mail)."""

    model_config = ConfigDict(extra="forbid")

    person_ids: list[StrictInt] = []
    emails: list[StrictStr] = []
    name: StrictStr = ""  # a new guest's name, when one address is given


class Invited(BaseModel):
    person_ids: list[int]
    new_guests: list[int]
    resent: list[int]


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: StrictStr


class Standing(BaseModel):
    community_id: int
    role: str | None
    state: str | None
