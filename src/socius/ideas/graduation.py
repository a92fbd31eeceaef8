"""Graduation: a selected idea becomes a project community.

`graduate(db, principal, idea_id, values, *, ip="") -> Community` creates a community with the idea's team (its
author and co-authors, owners), links idea and community both ways (`idea.project_community_id`;
`idea_of_community` reads it back), and makes the idea's voters and followers follow the community, so that the
project's status updates appear in their home feeds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from socius.activity.models import Follow
from socius.admin import service as audit
from socius.communities import service as communities
from socius.communities.models import Community, MemberRole, Membership, MemberState
from socius.content import service as content
from socius.content.models import Item
from socius.core.auth import Principal
from socius.core.errors import Conflict, NotFound, ValidationFailed
from socius.core.i18n import N_, gettext
from socius.ideas import access, service
from socius.ideas.models import Campaign, Follower, Idea, IdeaCoauthor, Stage, Vote
from socius.people.models import Person, Role


def graduable_stages(campaign: Campaign) -> list[str]:
    """"selected" and the pipeline's stages after it (or, for a campaign's own names, the last two)."""
    pipeline = list(campaign.stages)
    if Stage.SELECTED.value in pipeline:
        return pipeline[pipeline.index(Stage.SELECTED.value):]
    return pipeline[-2:]


async def graduate(db: AsyncSession, principal: Principal, idea_id: Any, values: dict[str, Any], *,
                   ip: str = "") -> Community:
    item, idea = await service._idea_rows(db, principal, idea_id)
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    await db.refresh(idea, with_for_update=True)
    if idea.project_community_id is not None:
        raise Conflict(N_("This idea has already become a project."))
    if idea.merged_into_id is not None or idea.stage not in graduable_stages(campaign):
        raise ValidationFailed.one("stage", N_("only a selected idea can become a project; allowed stages: "
                                               "{allowed}"), allowed=", ".join(graduable_stages(campaign)))
    values = dict(values or {})
    if not values.get("name"):
        values["name"] = item.title[:100]
    values.setdefault("description", item.body_md[:4000])
    values.setdefault("access", "public")
    values.setdefault("tags", list(item.tags or []))
    community = await communities.create(db, principal, values, ip=ip)
    idea.project_community_id = community.id

    team = set(await db.scalars(select(IdeaCoauthor.person_id).where(IdeaCoauthor.idea_id == item.id)))
    if item.author_id is not None:
        team.add(item.author_id)
    team.discard(principal.person_id)
    employees = set(await db.scalars(select(Person.id).where(Person.id.in_(team), Person.role != Role.GUEST.value,
                                                             Person.deactivated_at.is_(None)))) if team else set()
    for person_id in team:
        # Guests on the team join as members (a guest cannot own a community).
        role = MemberRole.OWNER.value if person_id in employees else MemberRole.MEMBER.value
        added = await db.execute(pg_insert(Membership).values(
            community_id=community.id, person_id=person_id, role=role, state=MemberState.ACTIVE.value)
            .on_conflict_do_nothing())
        community.member_count += added.rowcount
    audience = union(select(Vote.person_id).where(Vote.idea_id == item.id),
                     select(Follower.person_id).where(Follower.idea_id == item.id)).subquery()
    await db.execute(pg_insert(Follow).from_select(
        ["person_id", "target_kind", "target"],
        select(audience.c.person_id, literal("community"), literal(str(community.id))))
        .on_conflict_do_nothing())
    await db.flush()
    await audit.record(db, principal, "idea.graduate", "item", item.id, new={"community_id": community.id}, ip=ip)
    return community


async def idea_of_community(db: AsyncSession, community_id: int) -> Item | None:
    """The idea a project community grew from (None for any other community)."""
    return await db.scalar(select(Item).join(Idea, Idea.item_id == Item.id)
                           .where(Idea.project_community_id == community_id))


async def _origin(db: AsyncSession, principal: Principal, community: Community) -> tuple[str, str, str] | None:
    """A project community's overview links back to its idea, for those who may read the idea."""
    idea = await idea_of_community(db, community.id)
    if idea is None:
        return None
    try:
        readable = await content.get_item(db, principal, idea.id, kind=idea.kind)
    except NotFound:
        return None
    return gettext("This project grew from the idea"), readable.title, f"/ideas/{readable.id}"


communities.ORIGINS.append(_origin)
