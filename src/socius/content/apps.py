"""What the community apps (forum, blog, bookmarks) share on top of `content.service`: listing one kind of item
in a community, what the caller may do there, and the version an editor started from.

Access is never decided here: the community through `communities.service.get_community`, the items through
`content.service.readable_clause`, creating and editing through `content.service.create_item`/`edit_item`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from socius.communities import service as communities
from socius.communities.models import Community
from socius.content import service as content
from socius.content.models import Item
from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.core.pagination import check_limit
from socius.people import service as people

PAGE_SIZE = 20
MAX_OFFSET = 10_000
MAX_TAG = 50


@dataclass
class Listing:
    """One page of a community's items of one kind."""

    community: Community
    items: list[Item]
    more: bool
    limit: int
    offset: int


def check_tag(tag: Any) -> str:
    if tag is None or tag == "":
        return ""
    if not isinstance(tag, str) or len(tag) > MAX_TAG:
        raise ValidationFailed.one("tag", N_("must be at most {max} characters"), max=MAX_TAG)
    if textkit.has_control_chars(tag):
        raise ValidationFailed.one("tag", N_("must not contain control characters"))
    return tag.strip()


def check_window(limit: Any, offset: Any) -> tuple[int, int]:
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise ValidationFailed.one("limit", N_("must be between 1 and {n}"), n=100)
    check_limit(limit)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed.one("offset", N_("must be between 0 and {n}"), n=MAX_OFFSET)
    return limit, offset


async def list_kind(db: AsyncSession, principal: Principal, community_id: Any, kind: str, *, tag: Any = "",
                    where: Sequence[ColumnElement[bool]] = (), order: Sequence[Any] = (),
                    limit: Any = PAGE_SIZE, offset: Any = 0) -> Listing:
    """The community's items of `kind` the principal may read (404 for a community they may not), newest
    first unless `order` says otherwise, optionally only those tagged `tag`."""
    community = await communities.get_community(db, principal, community_id)
    limit, offset = check_window(limit, offset)
    tag = check_tag(tag)
    statement = select(Item).where(Item.community_id == community.id, Item.kind == kind,
                                   content.readable_clause(principal), *where)
    if tag:
        statement = statement.where(Item.tags.contains([tag]))
    rows = list(await db.scalars(statement.order_by(*order, Item.id.desc()).limit(limit + 1).offset(offset)))
    return Listing(community, rows[:limit], len(rows) > limit, limit, offset)


@dataclass
class Place:
    """The caller in a community: for pages to offer only what will work."""

    community: Community
    standing: communities.Standing

    @property
    def archived(self) -> bool:
        return self.community.archived_at is not None

    @property
    def can_post(self) -> bool:
        return self.standing.is_member and not self.archived


async def place(db: AsyncSession, principal: Principal, community: Community) -> Place:
    return Place(community, await communities.standing(db, principal, community))


async def community_place(db: AsyncSession, principal: Principal, community_id: Any) -> Place:
    return await place(db, principal, await communities.get_community(db, principal, community_id))


async def authors_of(db: AsyncSession, items: Sequence[Item]) -> dict:
    return await people.people_by_ids(db, {i.author_id for i in items if i.author_id})


def expected_version(value: Any) -> Any:
    """The version a form or a JSON body carries, as the int `edit_item` checks (anything else it refuses)."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        return int(value)
    return value
