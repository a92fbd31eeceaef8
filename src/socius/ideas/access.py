"""Who may read a campaign, take part in it and manage it — the one place for those rules.

`content` reads ideas and their comments through `readable_id_clause`, so this module depends only on the
models and on communities (never on content): every item query, the feed and search share the rule.

- Every employee reads a campaign open to employees; a community's campaign is read by whoever may read that
  community's content; a private ("invited") campaign only by its members.
- Members of a campaign (owner, managers, invited participants) always read it. A guest reads only the campaigns
  they were invited to, and nothing else of the company's campaigns.
- Owners, managers and administrators manage it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from socius.communities import service as communities
from socius.communities.models import Community
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.db import one_of, utcnow
from socius.core.errors import Conflict, NotFound, PermissionDenied
from socius.core.i18n import N_
from socius.ideas.models import Audience, Campaign, CampaignMember, CampaignRole, IdeaCoauthor
from socius.notifications import service as notifications
from socius.people.models import Person, Role

MANAGERS = (CampaignRole.OWNER.value, CampaignRole.MANAGER.value)
_Inner = aliased(Campaign, name="readable_campaign")


def member_clause(principal: Principal, campaign_id: Any, roles: tuple[str, ...] | None = None
                  ) -> ColumnElement[bool]:
    found = exists().where(CampaignMember.campaign_id == campaign_id,
                           CampaignMember.person_id == principal.person_id)
    if roles is not None:
        found = found.where(CampaignMember.role.in_(roles))
    return found


def readable_clause(principal: Principal, campaign: Any = Campaign) -> ColumnElement[bool]:
    """The campaigns this principal may read. Every campaign query starts here."""
    if principal.person_id is None:
        return false()
    if principal.can(Permission.CAMPAIGNS_ADMINISTER):
        return true()
    mine = member_clause(principal, campaign.id)
    if not principal.can(Permission.COMMUNITIES_BROWSE):
        return mine  # a guest: only where invited
    in_community = (campaign.audience == Audience.COMMUNITY.value) & \
        communities.readable_id_clause(principal, campaign.community_id)
    return or_(campaign.audience == Audience.EMPLOYEES.value, in_community, mine)


def readable_id_clause(principal: Principal, campaign_id: Any) -> ColumnElement[bool]:
    """`campaign_id` (a column of another table: an item's) names a campaign this principal may read."""
    return exists().where(_Inner.id == campaign_id, readable_clause(principal, _Inner))


def manages_clause(principal: Principal, campaign_id: Any) -> ColumnElement[bool]:
    if principal.can(Permission.CAMPAIGNS_ADMINISTER):
        return true()
    if principal.person_id is None:
        return false()
    return member_clause(principal, campaign_id, MANAGERS)


def visibility_keys(campaign: Campaign, community: Community | None = None) -> list[str]:
    """The search visibility keys of a campaign and everything in it: its members hold `g:<id>`."""
    keys = [f"g:{campaign.id}", "admins"]
    if campaign.audience == Audience.EMPLOYEES.value:
        keys.append("members")
    elif campaign.audience == Audience.COMMUNITY.value and community is not None:
        keys += [k for k in communities.visibility_keys(community) if k not in keys]
    return keys


async def readers(db: AsyncSession, campaign: Campaign, people: list[Any]) -> set[int]:
    """Which of these people (rows or Persons with `id` and `role`) may read the campaign: for naming co-authors
    and reviewers, who must be able to see the idea they share."""
    found = set()
    for person in people:
        reader = Principal(person_id=person.id, role=Role(person.role))
        if await db.scalar(select(Campaign.id).where(Campaign.id == campaign.id, readable_clause(reader))):
            found.add(person.id)
    return found


async def get_campaign(db: AsyncSession, principal: Principal, campaign_id: Any) -> Campaign:
    if not communities.is_id(campaign_id):
        raise NotFound()
    campaign = await db.scalar(select(Campaign).where(Campaign.id == campaign_id, readable_clause(principal)))
    if campaign is None:
        raise NotFound()
    return campaign


@dataclass
class Standing:
    """What the principal is in one campaign, and so what they may do there."""

    role: str | None
    admin: bool
    archived: bool
    employee: bool

    @property
    def can_manage(self) -> bool:
        return self.admin or self.role in MANAGERS

    @property
    def is_guest(self) -> bool:
        return not self.employee


def may_edit(standing: Standing, own: bool) -> bool:
    """An item of a campaign is edited by its authors (co-authors of an idea too) and the campaign's managers,
    while the campaign is not archived."""
    return not standing.archived and (own or standing.can_manage)


async def standings(db: AsyncSession, principal: Principal, campaign_ids: list[int]) -> dict[int, Standing]:
    """The principal's standing in each of these campaigns (readable or not: callers read them first), in one
    statement: a page asks for it several times (its list, its views, its items' abilities)."""
    if not campaign_ids:
        return {}
    mine = and_(CampaignMember.campaign_id == Campaign.id, CampaignMember.person_id == principal.person_id) \
        if principal.person_id is not None else false()
    rows = (await db.execute(select(Campaign.id, Campaign.archived_at.is_not(None), CampaignMember.role)
                             .outerjoin(CampaignMember, mine).where(one_of(Campaign.id, campaign_ids)))).all()
    admin = principal.can(Permission.CAMPAIGNS_ADMINISTER)
    employee = principal.can(Permission.COMMUNITIES_BROWSE)
    found = {cid: Standing(role, admin, archived, employee) for cid, archived, role in rows}
    return {cid: found.get(cid, Standing(None, admin, False, employee)) for cid in campaign_ids}


async def coauthored(db: AsyncSession, principal: Principal, item_ids: list[int]) -> set[int]:
    """Which of these ideas the principal co-authored: co-authors edit an idea like its author."""
    if not item_ids or principal.person_id is None:
        return set()
    return set(await db.scalars(select(IdeaCoauthor.idea_id).where(one_of(IdeaCoauthor.idea_id, item_ids),
                                                                   IdeaCoauthor.person_id == principal.person_id)))


async def standing(db: AsyncSession, principal: Principal, campaign: Campaign) -> Standing:
    return (await standings(db, principal, [campaign.id]))[campaign.id]


async def require_manager(db: AsyncSession, principal: Principal, campaign: Campaign) -> Standing:
    found = await standing(db, principal, campaign)
    if not found.can_manage:
        raise PermissionDenied()
    return found


async def require_taking_part(db: AsyncSession, principal: Principal, campaign_id: int) -> Standing:
    """Whoever reads a campaign takes part in it (comments, votes), until it is archived."""
    campaign = await get_campaign(db, principal, campaign_id)
    found = await standing(db, principal, campaign)
    if found.archived:
        raise Conflict(N_("This campaign is archived: it can be read but not changed."))
    return found


def is_open(campaign: Campaign) -> bool:
    """Accepting ideas and votes now."""
    now = utcnow()
    return campaign.archived_at is None and campaign.opens_at <= now and (
        campaign.closes_at is None or now < campaign.closes_at)


def person_reads_clause(campaign_id: Any, person_id: Any) -> ColumnElement[bool]:
    """SQL twin of `readable_clause` for a person given by a column (no Principal at hand): what the notification
    filter checks when a notification is shown or mailed, so someone removed from a private campaign (or a guest
    removed from any) is never shown or sent what happens in it, not even its titles."""
    reader = aliased(Person, name="campaign_reader")
    role = select(reader.role).where(reader.id == person_id).scalar_subquery()
    member = exists().where(CampaignMember.campaign_id == campaign_id, CampaignMember.person_id == person_id)
    open_to = exists().where(_Inner.id == campaign_id, or_(
        _Inner.audience == Audience.EMPLOYEES.value,
        (_Inner.audience == Audience.COMMUNITY.value)
        & communities.person_reads_clause(_Inner.community_id, person_id)))
    return or_(role == Role.ADMINISTRATOR.value, member, open_to & (role != Role.GUEST.value))


notifications.set_visibility_filter(person_reads_clause, "campaign_id")
