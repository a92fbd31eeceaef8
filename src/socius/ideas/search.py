"""Campaigns as a search kind, and the visibility keys campaign membership gives a principal.

Ideas and their comments are items: `content.search` indexes them with their campaign's keys."""

from __future__ import annotations

from sqlalchemy import any_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.communities.models import Community
from socius.content.models import Item
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.db import one_of
from socius.core.i18n import N_
from socius.ideas import access
from socius.ideas.models import Campaign, CampaignMember, IdeaCoauthor
from socius.search.backend import Document
from socius.search.registry import (
    PERSON_ID,
    PERSON_IDS,
    PERSON_KEYS,
    ContentKind,
    HeldKeys,
    SearchItem,
    id_batches,
    register,
)


async def load(db: AsyncSession, ids: list[int]) -> list[Document]:
    rows = await db.execute(select(Campaign, Community).outerjoin(Community, Community.id == Campaign.community_id)
                            .where(one_of(Campaign.id, ids)).execution_options(populate_existing=True))
    return [Document(kind="campaign", id=c.id, title=c.title, body=c.brief_md, tags=list(c.tags),
                     visibility=access.visibility_keys(c, community), community_id=c.community_id,
                     author_id=c.created_by, created_at=c.created_at, updated_at=c.updated_at,
                     archived=c.archived_at is not None)
            for c, community in rows.all()]


async def hydrate(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, SearchItem]:
    rows = await db.scalars(select(Campaign).where(one_of(Campaign.id, ids), access.readable_clause(principal)))
    return {c.id: SearchItem(kind="campaign", id=c.id, title=c.title, url=f"/campaigns/{c.id}", text=c.brief_md,
                             subtitle=", ".join(c.tags), updated_at=c.updated_at,
                             extra={"audience": c.audience, "ideas": c.idea_count})
            for c in rows}


def keys(principal: Principal) -> HeldKeys:
    """Each campaign the principal is a member of (owner, manager, invited participant)."""
    return HeldKeys(fixed=frozenset({"admins"} if principal.can(Permission.CAMPAIGNS_ADMINISTER) else ()),
                    query=_MEMBERSHIPS)


_MEMBERSHIPS = select(func.concat("g:", CampaignMember.campaign_id)).where(CampaignMember.person_id == PERSON_ID)
# A campaign's guests find the people their directory shows them there (people.readable_clause): its owner and
# managers, and the authors and co-authors of what they may read in it (not hidden, not deleted, not under a
# hidden idea). Migration 0019 queues the people whose keys these change.
PERSON_KEYS.append(select(CampaignMember.person_id, func.concat("g:", CampaignMember.campaign_id)).where(
    CampaignMember.person_id == any_(PERSON_IDS), CampaignMember.role.in_(access.MANAGERS)))
_parent = aliased(Item, name="shown_parent")
PERSON_KEYS.append(
    select(Item.author_id, func.concat("g:", Item.campaign_id)).outerjoin(_parent, _parent.id == Item.parent_id)
    .where(Item.author_id == any_(PERSON_IDS), Item.campaign_id.is_not(None), Item.hidden_at.is_(None),
           Item.deleted_at.is_(None), _parent.hidden_at.is_(None), _parent.deleted_at.is_(None)))
PERSON_KEYS.append(
    select(IdeaCoauthor.person_id, func.concat("g:", Item.campaign_id)).join(Item, Item.id == IdeaCoauthor.idea_id)
    .where(IdeaCoauthor.person_id == any_(PERSON_IDS), Item.hidden_at.is_(None), Item.deleted_at.is_(None)))


CAMPAIGN = register(ContentKind(name="campaign", code=3, label=N_("Campaigns"), load=load,
                                all_ids=id_batches(Campaign.id), hydrate=hydrate, keys=keys))
