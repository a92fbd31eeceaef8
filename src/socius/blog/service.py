"""A community's blog: entries (items of kind `entry`), newest first, with comments, tags and conflict-checked
editing — all through `content.service`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from socius.communities import service as communities
from socius.content import apps
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.i18n import ngettext
from socius.expertise import finder

ENTRY = ItemKind.ENTRY.value
FIELDS = ("title", "body", "tags")

content.ITEM_URLS[ENTRY] = lambda item: f"/communities/{item.community_id}/blog/{item.id}"


async def entries(db: AsyncSession, principal: Principal, community_id: Any, *, tag: Any = "",
                  limit: Any = apps.PAGE_SIZE, offset: Any = 0) -> apps.Listing:
    return await apps.list_kind(db, principal, community_id, ENTRY, tag=tag, limit=limit, offset=offset)


async def create_entry(db: AsyncSession, principal: Principal, community_id: Any, values: dict[str, Any], *,
                       ip: str = "") -> Item:
    community = await communities.get_community(db, principal, community_id)
    return await content.create_item(db, principal, kind=ENTRY, community=community,
                                     values={k: values[k] for k in FIELDS if k in values}, ip=ip)


async def get_entry(db: AsyncSession, principal: Principal, entry_id: Any) -> Item:
    return await content.get_item(db, principal, entry_id, kind=ENTRY)


async def edit_entry(db: AsyncSession, principal: Principal, entry_id: Any, values: dict[str, Any], *,
                     expected_version: Any, ip: str = "") -> Item:
    entry = await get_entry(db, principal, entry_id)
    return await content.edit_item(db, principal, entry, {k: values[k] for k in FIELDS if k in values},
                                   expected_version=apps.expected_version(expected_version), ip=ip)


async def delete_entry(db: AsyncSession, principal: Principal, entry_id: Any, *, ip: str = "") -> None:
    await content.delete_item(db, principal, await get_entry(db, principal, entry_id), ip=ip)


# Evidence lines are plural messages, translated where the finder shows them; this names the pair for extraction.
_EXTRACT = lambda n: ngettext("wrote %(num)d blog entry on it", "wrote %(num)d blog entries on it", n)  # noqa: E731

finder.register_evidence(finder.EvidenceKind(
    ENTRY, "wrote %(num)d blog entry on it", "wrote %(num)d blog entries on it", weight=1.0))
