"""Items as search kinds: one kind per item kind (tabs on the search page), all loaded from the item table.

An item's visibility keys are its community's (`communities.service.visibility_keys`) or its campaign's
(`ideas.access.visibility_keys`); a status update on a profile carries "members". Hidden and deleted items, ideas
merged into another, and the comments, replies and attachments of a hidden or deleted item are not in the index
at all (hiding an item queues its children: migration 0017), and a hit is shown only while its parent is
readable too.
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.communities import service as communities
from socius.communities.models import Community
from socius.content import service
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.db import one_of
from socius.core.i18n import N_
from socius.ideas import access as campaign_access
from socius.ideas.models import Campaign, Idea
from socius.search.backend import Document
from socius.search.registry import NO_KEYS, ContentKind, HeldKeys, SearchItem, id_batches, register

# Codes are part of every document key: fixed forever.
KINDS = {
    ItemKind.STATUS: (10, N_("Status updates")),
    ItemKind.TOPIC: (11, N_("Forum topics")),
    ItemKind.REPLY: (12, N_("Forum replies")),
    ItemKind.ENTRY: (13, N_("Blog entries")),
    ItemKind.COMMENT: (14, N_("Comments")),
    ItemKind.PAGE: (15, N_("Wiki pages")),
    ItemKind.FILE: (16, N_("Files")),
    ItemKind.BOOKMARK: (17, N_("Bookmarks")),
    ItemKind.IDEA: (18, N_("Ideas")),
}


async def load(db: AsyncSession, ids: list[int]) -> list[Document]:
    rows = (await db.execute(
        select(Item, Community).outerjoin(Community, Community.id == Item.community_id)
        .where(one_of(Item.id, ids), Item.deleted_at.is_(None), Item.hidden_at.is_(None), _not_merged, _parent_shown)
        .execution_options(populate_existing=True))).all()
    places = await _campaign_keys(db, {item.campaign_id for item, _ in rows if item.campaign_id is not None})
    documents = []
    for item, community in rows:
        if item.campaign_id is not None:
            keys = places[item.campaign_id]
        else:
            keys = communities.visibility_keys(community) if community else ["members", "admins"]
        body = "\n".join(filter(None, [item.body_md, item.data.get("url", ""), item.data.get("filename", "")]))
        documents.append(Document(
            kind=item.kind, id=item.id, title=item.title, body=body, tags=list(item.tags), visibility=keys,
            community_id=item.community_id, author_id=item.author_id, created_at=item.created_at,
            updated_at=item.updated_at, archived=community is not None and community.archived_at is not None))
    return documents


# An idea merged into another is found through the one it was merged into.
_not_merged = ~exists().where(Idea.item_id == Item.id, Idea.merged_into_id.is_not(None))
_Parent = aliased(Item, name="parent")
# A comment, reply or attachment is out of the index while the item it belongs to is hidden or deleted.
_parent_shown = or_(Item.parent_id.is_(None), exists().where(_Parent.id == Item.parent_id, _Parent.hidden_at.is_(None),
                                                             _Parent.deleted_at.is_(None)))


async def _campaign_keys(db: AsyncSession, campaign_ids: set[int]) -> dict[int, list[str]]:
    if not campaign_ids:
        return {}
    rows = await db.execute(select(Campaign, Community).outerjoin(Community, Community.id == Campaign.community_id)
                            .where(one_of(Campaign.id, list(campaign_ids))))
    return {campaign.id: campaign_access.visibility_keys(campaign, community) for campaign, community in rows.all()}


def _count(kind: str):
    async def count(db: AsyncSession) -> int:
        return await db.scalar(select(func.count()).where(Item.kind == kind, Item.deleted_at.is_(None),
                                                          Item.hidden_at.is_(None), _not_merged,
                                                          _parent_shown)) or 0

    return count


async def hydrate(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, SearchItem]:
    rows = await db.execute(
        select(Item, Community.name).outerjoin(Community, Community.id == Item.community_id)
        .where(one_of(Item.id, ids), service.readable_clause(principal), Item.hidden_at.is_(None),
               _parent_readable(principal)))
    items = {}
    for item, community_name in rows.all():
        items[item.id] = SearchItem(
            kind=item.kind, id=item.id, title=item.title or service.excerpt(item), url=service.item_url(item),
            text=service.plain_text(item.body_md), subtitle=community_name or "", updated_at=item.updated_at,
            extra={"community_id": item.community_id, "author_id": item.author_id})
    return items


def _parent_readable(principal: Principal):
    """The item has no parent, or its parent is shown and readable now (the index may not have caught up)."""
    return or_(Item.parent_id.is_(None), exists().where(_Parent.id == Item.parent_id, _Parent.hidden_at.is_(None),
                                                        service.readable_clause(principal, _Parent)))


def keys(principal: Principal) -> HeldKeys:
    return NO_KEYS  # communities.search gives the community keys every item kind uses


for _kind, (_code, _label) in KINDS.items():
    _indexed = (Item.kind == _kind.value, Item.deleted_at.is_(None), Item.hidden_at.is_(None), _not_merged,
                _parent_shown)
    register(ContentKind(name=_kind.value, code=_code, label=_label, load=load, all_ids=id_batches(Item.id, *_indexed),
                         hydrate=hydrate, keys=keys, count=_count(_kind.value)))
