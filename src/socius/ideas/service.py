"""The idea portal: campaigns, their members, ideas, votes, stages, following and the campaign lists.

Who may read or manage a campaign is decided in `access`; an idea is an item (`content`), so its text, tags,
comments, mentions, reports and search come from there. Reviews, merging, graduation and metrics have their own
modules beside this one.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    SmallInteger,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from socius.accounts import invitations
from socius.admin import service as audit
from socius.communities import service as communities
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core import markdown
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import one_of, utcnow
from socius.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.expertise import finder
from socius.files import service as files
from socius.ideas import access, ranking
from socius.ideas.access import get_campaign, is_open
from socius.ideas.models import (
    DEFAULT_STAGES,
    Audience,
    Campaign,
    CampaignMember,
    CampaignRole,
    Criterion,
    Follower,
    Idea,
    IdeaCoauthor,
    Stage,
    StageChange,
    Vote,
)
from socius.notifications import service as notifications
from socius.people import service as people
from socius.people.models import Person, Role
from socius.search import service as search_service
from socius.search.service import SearchRequest

IDEA = ItemKind.IDEA.value
MAX_STAGES = 10
MAX_STAGE = 40
MAX_CRITERIA = 10
MAX_COAUTHORS = 10
MAX_REASON = 2000
MAX_PAGE = 50
# The default stages' names, translated when shown; a campaign's own stage names are shown as written.
STAGE_LABELS = {
    Stage.SUBMITTED.value: N_("Submitted"),
    Stage.UNDER_REVIEW.value: N_("Under review"),
    Stage.SELECTED.value: N_("Selected"),
    Stage.IN_DEVELOPMENT.value: N_("In development"),
    Stage.LAUNCHED.value: N_("Launched"),
    Stage.DECLINED.value: N_("Declined"),
    Stage.MERGED.value: N_("Merged"),
}
OUTSIDE = (Stage.DECLINED.value, Stage.MERGED.value)  # stages outside every pipeline
ORDERS = ("top", "hot", "new", "discussed", "review")

content.ITEM_URLS[IDEA] = lambda item: f"/ideas/{item.id}"
notifications.register_kind("idea_stage", N_("{actor} moved “{title}” to {stage}"),
                            label=N_("Ideas I wrote, voted on or follow change stage"))
notifications.register_kind("campaign_invited", N_("{actor} invited you to the campaign “{campaign}”"),
                            label=N_("Invitations to campaigns"), default_email=notifications.EmailMode.IMMEDIATE)
notifications.register_kind("idea_approved", N_("{actor} approved your idea “{title}”"),
                            label=N_("My ideas are approved"))
finder.register_evidence(finder.EvidenceKind(IDEA, N_("submitted %(num)d idea on it"),
                                             N_("submitted %(num)d ideas on it"), weight=1.2))


def stage_label_msgid(stage: str) -> str | None:
    """The msgid naming a default stage (None for a campaign's own stage names, shown as written)."""
    return STAGE_LABELS.get(stage)


# --- campaigns -----------------------------------------------------------------------------------------------------

def _datetime(value: Any, field: str, errors: list[FieldError]) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.append(FieldError(field, N_("must be a date and time such as 2026-12-01T09:00")))
            return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    if not isinstance(value, dt.datetime):
        errors.append(FieldError(field, N_("must be a date and time such as 2026-12-01T09:00")))
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _stages(value: Any, errors: list[FieldError]) -> list[str] | None:
    if isinstance(value, str):
        value = [s for s in (part.strip() for part in value.replace("，", ",").split(",")) if s]
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_STAGES:
        errors.append(FieldError("stages", N_("must be a list of {min} to {max} stage names"),
                                 {"min": 2, "max": MAX_STAGES}))
        return None
    names = [" ".join(str(s).split()) for s in value]
    if any(not n or len(n) > MAX_STAGE or n in OUTSIDE for n in names) or len(set(names)) != len(names):
        errors.append(FieldError("stages", N_("must be distinct names of at most {max} characters, other than "
                                              "declined and merged"), {"max": MAX_STAGE}))
        return None
    return names


def _criteria(value: Any, errors: list[FieldError]) -> list[dict[str, Any]] | None:
    if not isinstance(value, list) or len(value) > MAX_CRITERIA:
        errors.append(FieldError("criteria", N_("must be a list of at most {max} criteria"), {"max": MAX_CRITERIA}))
        return None
    found = []
    for entry in value:
        entry = {"name": entry} if isinstance(entry, str) else entry
        name = entry.get("name") if isinstance(entry, dict) else None
        weight = entry.get("weight", 1) if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            errors.append(FieldError("criteria", N_("each criterion needs a name of at most {max} characters"),
                                     {"max": 200}))
            return None
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 100:
            errors.append(FieldError("criteria", N_("each weight must be a number above 0 and at most 100")))
            return None
        found.append({"name": " ".join(name.split()), "weight": float(weight),
                      "description": str(entry.get("description") or "")[:1000]})
    return found


def clean_campaign(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validated campaign fields, or ValidationFailed naming each field at fault and why."""
    errors: list[FieldError] = []
    text_values = {k: values[k] for k in ("title", "tags") if k in values}
    if "brief" in values:
        text_values["body"] = values["brief"] or ""
    cleaned: dict[str, Any] = {}
    try:
        cleaned = content.clean_fields(text_values, title_required=True, partial=partial)
    except ValidationFailed as error:
        errors.extend(FieldError("brief" if e.field == "body" else e.field, e.reason, e.params)
                      for e in error.errors)
    if "body" in cleaned:
        cleaned["brief"] = cleaned.pop("body")
    if "audience" in values or not partial:
        audience = values.get("audience") or Audience.EMPLOYEES.value
        if audience not in {a.value for a in Audience}:
            errors.append(FieldError("audience", N_("must be one of: {choices}"),
                                     {"choices": ", ".join(a.value for a in Audience)}))
        else:
            cleaned["audience"] = audience
    if values.get("community_id") not in (None, ""):
        community_id = values["community_id"]
        if isinstance(community_id, str) and community_id.isdigit():
            community_id = int(community_id)
        if not communities.is_id(community_id):
            errors.append(FieldError("community_id", N_("must be the id of a community")))
        else:
            cleaned["community_id"] = community_id
    for name in ("opens_at", "closes_at"):
        if name in values:
            cleaned[name] = _datetime(values[name], name, errors)
    if cleaned.get("opens_at") and cleaned.get("closes_at") and cleaned["closes_at"] <= cleaned["opens_at"]:
        errors.append(FieldError("closes_at", N_("must be after the opening")))
    if "stages" in values and values["stages"] not in (None, "", []):
        cleaned["stages"] = _stages(values["stages"], errors)
    if "criteria" in values:
        cleaned["criteria"] = _criteria(values["criteria"] or [], errors)
    for flag in ("allow_skip", "allow_down_votes", "moderate_guests", "blind_review"):
        if flag in values:
            if not isinstance(values[flag], bool):
                errors.append(FieldError(flag, N_("must be true or false")))
            else:
                cleaned[flag] = values[flag]
    if errors:
        raise ValidationFailed(errors)
    return cleaned


async def _check_audience(db: AsyncSession, principal: Principal, cleaned: dict[str, Any]) -> None:
    """A community's campaign needs a community its creator takes part in."""
    if cleaned.get("audience") == Audience.COMMUNITY.value:
        if "community_id" not in cleaned:
            raise ValidationFailed.one("community_id", N_("must be given for a community's campaign"))
        try:
            community = await communities.get_community(db, principal, cleaned["community_id"])
        except NotFound:
            raise ValidationFailed.one("community_id", N_("no such community")) from None
        if not (await communities.standing(db, principal, community)).is_member:
            raise ValidationFailed.one("community_id", N_("only the community's members may start a campaign "
                                                          "in it"))
    elif "audience" in cleaned:
        cleaned["community_id"] = None


async def create_campaign(db: AsyncSession, principal: Principal, values: dict[str, Any], *,
                          ip: str = "") -> Campaign:
    require(principal, Permission.CAMPAIGNS_CREATE)
    cleaned = clean_campaign(values)
    await _check_audience(db, principal, cleaned)
    campaign = Campaign(
        title=cleaned["title"], brief_md=cleaned["brief"], brief_html=markdown.render(cleaned["brief"]),
        audience=cleaned["audience"], community_id=cleaned.get("community_id"), tags=cleaned.get("tags", []),
        opens_at=cleaned.get("opens_at") or utcnow(), closes_at=cleaned.get("closes_at"),
        stages=cleaned.get("stages") or list(DEFAULT_STAGES), created_by=principal.person_id,
        **{k: cleaned[k] for k in ("allow_skip", "allow_down_votes", "moderate_guests", "blind_review")
           if k in cleaned})
    db.add(campaign)
    await db.flush()
    db.add(CampaignMember(campaign_id=campaign.id, person_id=principal.person_id, role=CampaignRole.OWNER.value))
    for position, criterion in enumerate(cleaned.get("criteria") or []):
        db.add(Criterion(campaign_id=campaign.id, position=position, **criterion))
    await audit.record(db, principal, "campaign.create", "campaign", campaign.id,
                       new={"title": campaign.title, "audience": campaign.audience}, ip=ip)
    return campaign


async def change_campaign(db: AsyncSession, principal: Principal, campaign_id: Any, values: dict[str, Any], *,
                          ip: str = "") -> Campaign:
    """Managers change a campaign. Stages in use cannot be removed; criteria can be replaced only before any
    review is submitted (see `review`)."""
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    cleaned = clean_campaign(values, partial=True)
    await _check_audience(db, principal, cleaned)
    opens, closes = cleaned.get("opens_at", campaign.opens_at), cleaned.get("closes_at", campaign.closes_at)
    if "opens_at" in cleaned and opens is None:
        raise ValidationFailed.one("opens_at", N_("must not be empty"))
    if closes is not None and closes <= opens:
        raise ValidationFailed.one("closes_at", N_("must be after the opening"))
    if "stages" in cleaned:
        used = set(await db.scalars(select(Idea.stage).where(Idea.campaign_id == campaign.id).distinct()))
        missing = sorted(used - set(cleaned["stages"]) - set(OUTSIDE))
        if missing:
            raise ValidationFailed.one("stages", N_("ideas are still in these stages: {stages}"),
                                       stages=", ".join(missing))
    old = {"title": campaign.title, "audience": campaign.audience, "stages": campaign.stages}
    for name in ("title", "audience", "community_id", "tags", "opens_at", "closes_at", "stages", "allow_skip",
                 "allow_down_votes", "moderate_guests", "blind_review"):
        if name in cleaned:
            setattr(campaign, name, cleaned[name])
    if "brief" in cleaned:
        campaign.brief_md, campaign.brief_html = cleaned["brief"], markdown.render(cleaned["brief"])
    if cleaned.get("criteria") is not None:
        from socius.ideas import review  # criteria belong to the review rules

        await review.replace_criteria(db, campaign, cleaned["criteria"])
    campaign.updated_at = utcnow()
    await db.flush()
    await audit.record(db, principal, "campaign.change", "campaign", campaign.id, old=old,
                       new={"title": campaign.title, "audience": campaign.audience, "stages": campaign.stages}, ip=ip)
    return campaign


async def set_archived(db: AsyncSession, principal: Principal, campaign_id: Any, archived: bool, *,
                       ip: str = "") -> Campaign:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    campaign.archived_at = utcnow() if archived else None
    await audit.record(db, principal, "campaign.archive" if archived else "campaign.unarchive", "campaign",
                       campaign.id, ip=ip)
    return campaign


@dataclass
class CampaignQuery:
    state: str | None = None  # open | upcoming | closed
    mine: bool = False
    limit: int = 50


async def campaigns(db: AsyncSession, principal: Principal, query: CampaignQuery | None = None) -> list[Campaign]:
    """The campaigns this principal may read, newest opening first."""
    query = query or CampaignQuery()
    now = utcnow()
    statement = select(Campaign).where(access.readable_clause(principal)).order_by(Campaign.opens_at.desc(),
                                                                                    Campaign.id.desc())
    if query.state == "open":
        statement = statement.where(Campaign.archived_at.is_(None), Campaign.opens_at <= now,
                                    or_(Campaign.closes_at.is_(None), Campaign.closes_at > now))
    elif query.state == "upcoming":
        statement = statement.where(Campaign.opens_at > now)
    elif query.state == "closed":
        statement = statement.where(or_(Campaign.closes_at <= now, Campaign.archived_at.is_not(None)))
    elif query.state is not None:
        raise ValidationFailed.one("state", N_("must be one of: {choices}"), choices="open, upcoming, closed")
    if query.mine:
        statement = statement.where(access.member_clause(principal, Campaign.id))
    return list(await db.scalars(statement.limit(query.limit)))


# --- members ---------------------------------------------------------------------------------------------------------

async def add_members(db: AsyncSession, principal: Principal, campaign_id: Any, person_ids: list[Any],
                      role: Any = CampaignRole.PARTICIPANT.value, *, ip: str = "") -> list[int]:
    """Managers invite participants (guests, or anyone into a private campaign); owners name managers. Returns
    the people added (those already there at that role are skipped)."""
    campaign = await get_campaign(db, principal, campaign_id)
    found = await access.require_manager(db, principal, campaign)
    if role not in (CampaignRole.PARTICIPANT.value, CampaignRole.MANAGER.value):
        raise ValidationFailed.one("role", N_("must be one of: {choices}"), choices="participant, manager")
    if role == CampaignRole.MANAGER.value and not (found.admin or found.role == CampaignRole.OWNER.value):
        raise PermissionDenied()
    if not isinstance(person_ids, list) or not person_ids or len(person_ids) > 200 \
            or not all(communities.is_id(p) for p in person_ids):
        raise ValidationFailed.one("person_ids", N_("must be a list of 1 to {max} person ids"), max=200)
    from socius.people import service as people

    people_found = dict((await db.execute(select(Person.id, Person.role).where(
        one_of(Person.id, person_ids), Person.deactivated_at.is_(None), people.readable_clause(principal)))).all())
    missing = [p for p in person_ids if p not in people_found]
    if missing:
        raise ValidationFailed.one("person_ids", N_("no such person: {ids}"), ids=", ".join(map(str, missing)))
    if role == CampaignRole.MANAGER.value and any(r == Role.GUEST.value for r in people_found.values()):
        raise ValidationFailed.one("person_ids", N_("guests cannot manage a campaign"))
    existing = dict((await db.execute(select(CampaignMember.person_id, CampaignMember.role).where(
        CampaignMember.campaign_id == campaign.id, one_of(CampaignMember.person_id, list(people_found))))).all())
    added = []
    for person_id in people_found:
        if existing.get(person_id) in (role, CampaignRole.OWNER.value):
            continue
        await db.execute(pg_insert(CampaignMember).values(
            campaign_id=campaign.id, person_id=person_id, role=role, invited_by=principal.person_id)
            .on_conflict_do_update(index_elements=["campaign_id", "person_id"], set_={"role": role}))
        added.append(person_id)
        if person_id not in existing:
            await notifications.notify(db, person_id, "campaign_invited", actor_id=principal.person_id,
                                       url=f"/campaigns/{campaign.id}", campaign_id=campaign.id,
                                       campaign=campaign.title)
    await audit.record(db, principal, "campaign.members.add", "campaign", campaign.id,
                       new={"person_ids": added, "role": role}, ip=ip)
    return added


async def remove_member(db: AsyncSession, principal: Principal, campaign_id: Any, person_id: Any, *,
                        ip: str = "") -> None:
    campaign = await get_campaign(db, principal, campaign_id)
    found = await access.require_manager(db, principal, campaign)
    row = await db.get(CampaignMember, (campaign.id, person_id)) if communities.is_id(person_id) else None
    if row is None:
        raise NotFound()
    if row.role == CampaignRole.OWNER.value:
        raise Conflict(N_("The owner cannot be removed from the campaign."))
    if row.role == CampaignRole.MANAGER.value and not (found.admin or found.role == CampaignRole.OWNER.value):
        raise PermissionDenied()
    await db.delete(row)
    await invitations.void(db, row.person_id, campaign_id=campaign.id)  # their unused link stops working
    await audit.record(db, principal, "campaign.members.remove", "campaign", campaign.id,
                       old={"person_id": person_id, "role": row.role}, ip=ip)


async def members(db: AsyncSession, principal: Principal, campaign: Campaign) -> list[tuple[Person, str]]:
    """The campaign's members the principal may see (a guest: those the directory shows them)."""
    rows = await db.execute(select(Person, CampaignMember.role).join(CampaignMember,
                                                                     CampaignMember.person_id == Person.id)
                            .where(CampaignMember.campaign_id == campaign.id, people.readable_clause(principal))
                            .order_by(CampaignMember.role, Person.sort_key))
    return [(p, r) for p, r in rows.all()]


async def member_candidates(db: AsyncSession, principal: Principal, campaign: Campaign, q: str) -> list[Person]:
    """People a manager may add, from the directory search: those not in the campaign yet."""
    await access.require_manager(db, principal, campaign)
    if not q.strip():
        return []
    found = (await people.search_directory(db, principal, people.DirectoryQuery(q=q, limit=10))).items
    present = set(await db.scalars(select(CampaignMember.person_id).where(
        CampaignMember.campaign_id == campaign.id, one_of(CampaignMember.person_id, [p.id for p in found]))))
    return [p for p in found if p.id not in present]


# --- ideas -----------------------------------------------------------------------------------------------------------

@dataclass
class IdeaView:
    """An idea as pages and the API show it: the item, its idea row, and what the reader did and may do."""

    item: Item
    idea: Idea
    my_vote: int = 0
    following: bool = False
    can_vote: bool = False
    can_manage: bool = False
    can_edit: bool = False
    coauthor_ids: list[int] = field(default_factory=list)


async def _idea_rows(db: AsyncSession, principal: Principal, idea_id: Any) -> tuple[Item, Idea]:
    item = await content.get_item(db, principal, idea_id, kind=IDEA)
    idea = await db.get(Idea, item.id)
    if idea is None:
        raise NotFound()
    return item, idea


async def get_idea(db: AsyncSession, principal: Principal, idea_id: Any) -> IdeaView:
    """The idea, if the principal may read it (a merged idea too: its page says where it went)."""
    item, idea = await _idea_rows(db, principal, idea_id)
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    return (await _views(db, principal, campaign, [(item, idea)]))[0]


async def _views(db: AsyncSession, principal: Principal, campaign: Campaign, rows: list[tuple[Item, Idea]],
                 standing: access.Standing | None = None) -> list[IdeaView]:
    """The reader's votes and follows and every idea's co-authors in one statement, then the rules."""
    ids = [item.id for item, _ in rows]
    votes: dict[int, int] = {}
    following: set[int] = set()
    coauthors: dict[int, set[int]] = {i: set() for i in ids}
    if ids:
        me = principal.person_id if principal.person_id is not None else 0
        mine = union_all(
            select(Vote.idea_id, literal("vote"), Vote.value).where(one_of(Vote.idea_id, ids), Vote.person_id == me),
            select(Follower.idea_id, literal("follow"), literal(0)).where(one_of(Follower.idea_id, ids),
                                                                          Follower.person_id == me),
            select(IdeaCoauthor.idea_id, literal("coauthor"), IdeaCoauthor.person_id)
            .where(one_of(IdeaCoauthor.idea_id, ids)))
        for idea_id, what, value in (await db.execute(mine)).all():
            if what == "vote":
                votes[idea_id] = value
            elif what == "follow":
                following.add(idea_id)
            else:
                coauthors[idea_id].add(value)
    standing = standing or await access.standing(db, principal, campaign)
    open_ = is_open(campaign)
    views = []
    for item, idea in rows:
        own = principal.person_id in ({item.author_id} | coauthors[item.id])
        live = idea.merged_into_id is None and item.hidden_at is None
        views.append(IdeaView(item=item, idea=idea, my_vote=votes.get(item.id, 0), following=item.id in following,
                              can_vote=open_ and live and not own and principal.person_id is not None,
                              can_manage=standing.can_manage,
                              can_edit=access.may_edit(standing, own) and idea.merged_into_id is None,
                              coauthor_ids=sorted(coauthors[item.id])))
    return views


async def attachment_target(db: AsyncSession, principal: Principal, idea_id: Any) -> Item:
    """The idea a file may be attached to: by whoever may edit it (its author, co-authors and the campaign's
    managers), while the campaign is live and the idea shown (a waiting idea's files would be read by everyone
    reading the campaign). Checked before the upload is received."""
    view = await get_idea(db, principal, idea_id)
    if not view.can_edit:
        raise PermissionDenied()
    if view.item.hidden_at is not None or view.idea.merged_into_id is not None:
        raise Conflict(N_("Files can be attached once the idea is approved and shown."))
    return view.item


async def delete_attachment(db: AsyncSession, principal: Principal, idea_id: Any, file_id: Any, *,
                            ip: str = "") -> None:
    """Delete one of this idea's files (a file elsewhere is not found here)."""
    attached = await files.get_file(db, principal, file_id)
    if attached.parent_id != idea_id:
        raise NotFound()
    await files.delete_file(db, principal, attached.id, ip=ip)


async def coauthors(db: AsyncSession, idea_id: int) -> list[Person]:
    """The idea's co-authors (whoever reads the idea sees them, as its author: guests too, see people.service)."""
    return list(await db.scalars(select(Person).join(IdeaCoauthor, IdeaCoauthor.person_id == Person.id)
                                 .where(IdeaCoauthor.idea_id == idea_id).order_by(Person.display_name, Person.id)))


async def coauthor_candidates(db: AsyncSession, principal: Principal, campaign: Campaign, q: str) -> list[Person]:
    """People the principal may name as co-authors, from the directory search: those who can read the campaign."""
    if not q.strip():
        return []
    found = [p for p in (await people.search_directory(db, principal, people.DirectoryQuery(q=q, limit=10))).items
             if p.id != principal.person_id]
    readers = await access.readers(db, campaign, found)
    return [p for p in found if p.id in readers]


async def _check_coauthors(db: AsyncSession, principal: Principal, campaign: Campaign, value: Any) -> list[int]:
    """Co-authors: people who may read the campaign (a co-author must be able to see the idea they share)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [int(v) for v in value.replace("，", ",").split(",") if v.strip().isdigit()]
    if not isinstance(value, list) or len(value) > MAX_COAUTHORS or not all(communities.is_id(v) for v in value):
        raise ValidationFailed.one("coauthors", N_("must be a list of at most {max} person ids"), max=MAX_COAUTHORS)
    ids = [v for v in dict.fromkeys(value) if v != principal.person_id]
    rows = (await db.execute(select(Person.id, Person.role).where(one_of(Person.id, ids),
                                                                  Person.deactivated_at.is_(None)))).all()
    readers = await access.readers(db, campaign, rows)
    missing = [i for i in ids if i not in readers]
    if missing:
        raise ValidationFailed.one("coauthors", N_("these people cannot see this campaign: {ids}"),
                                   ids=", ".join(map(str, missing)))
    return ids


async def submit_idea(db: AsyncSession, principal: Principal, campaign_id: Any, values: dict[str, Any], *,
                      ip: str = "") -> IdeaView:
    """A new idea in an open campaign. A guest's idea waits for a manager's approval where the campaign says so."""
    campaign = await get_campaign(db, principal, campaign_id)
    standing = await access.standing(db, principal, campaign)
    if not is_open(campaign):
        raise Conflict(N_("This campaign is not accepting ideas now."))
    coauthors = await _check_coauthors(db, principal, campaign, values.get("coauthors"))
    pending = standing.is_guest and campaign.moderate_guests and not standing.can_manage
    item = await content.create_item(db, principal, kind=IDEA, community=None, campaign_id=campaign.id,
                                     values={k: values[k] for k in ("title", "body", "tags") if k in values},
                                     hidden=pending, ip=ip)
    first = campaign.stages[0]
    idea = Idea(item_id=item.id, campaign_id=campaign.id, stage=first, pending=pending,
                hot=ranking.age_term(item.created_at or utcnow()))
    db.add(idea)
    await db.flush()
    db.add_all([IdeaCoauthor(idea_id=item.id, person_id=p) for p in coauthors])
    db.add(StageChange(idea_id=item.id, campaign_id=campaign.id, from_stage=None, to_stage=first,
                       changed_by=principal.person_id))
    db.add(Follower(idea_id=item.id, person_id=principal.person_id))
    idea.follower_count = 1
    await db.execute(update(Campaign).where(Campaign.id == campaign.id)
                     .values(idea_count=Campaign.idea_count + 1))
    await db.flush()
    return (await _views(db, principal, campaign, [(item, idea)]))[0]


async def edit_idea(db: AsyncSession, principal: Principal, idea_id: Any, values: dict[str, Any], *,
                    expected_version: Any, ip: str = "") -> IdeaView:
    """Authors, co-authors and managers edit an idea's title, text and tags (conflict-safe, as every item)."""
    view = await get_idea(db, principal, idea_id)
    if not view.can_edit:
        raise PermissionDenied()
    if view.idea.merged_into_id is not None:
        raise Conflict(N_("This idea was merged into another one."))
    await content.edit_item(db, principal, view.item, values, expected_version=expected_version, ip=ip)
    return await get_idea(db, principal, idea_id)


async def approve_idea(db: AsyncSession, principal: Principal, idea_id: Any, *, ip: str = "") -> IdeaView:
    """A manager approves a guest's idea that waited: from now on everyone who reads the campaign sees it."""
    item, idea = await _idea_rows(db, principal, idea_id)
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    if not idea.pending:
        raise Conflict(N_("This idea is not waiting for approval."))
    idea.pending = False
    item.hidden_at = None
    item.updated_at = utcnow()
    await db.flush()
    author = await db.get(Person, item.author_id) if item.author_id else None
    if author is not None:
        await content.announce(db, Principal(person_id=author.id, role=Role(author.role)), item)
        await notifications.notify(db, author.id, "idea_approved", actor_id=principal.person_id,
                                   url=content.item_url(item), campaign_id=campaign.id, title=item.title)
    await audit.record(db, principal, "idea.approve", "item", item.id, ip=ip)
    return await get_idea(db, principal, item.id)


# --- votes -----------------------------------------------------------------------------------------------------------

def _recount(up: Any, down: Any) -> dict[str, Any]:
    """The columns a change of counts sets, in one UPDATE: `up`/`down` are the new counts (expressions over the
    old ones), `hot` swaps its vote term."""
    return {"up_count": up, "down_count": down, "top": ranking.wilson_sql(up, down),
            "hot": Idea.hot - ranking.vote_term_sql(Idea.up_count - Idea.down_count) + ranking.vote_term_sql(up - down)}


async def vote(db: AsyncSession, principal: Principal, idea_id: Any, value: Any) -> IdeaView:
    """One vote per person and idea: up (1), or down (-1) where the campaign allows it. Voting the same way twice
    is a conflict; voting the other way changes the vote. Counts and rankings change in the same transaction.

    Voting is the portal's hottest write, so it is two statements: one read of everything the rules need, and one
    write that changes the vote row and the idea's counts together (see `_cast`)."""
    if isinstance(value, bool) or value not in (1, -1):
        raise ValidationFailed.one("value", N_("must be 1 (up) or -1 (down)"))
    ballot = await _ballot(db, principal, idea_id)
    if value == -1 and not ballot.campaign.allow_down_votes:
        raise ValidationFailed.one("value", N_("this campaign allows only up votes"))
    _check_can_vote(ballot)
    if ballot.view.my_vote == value:
        raise Conflict(N_("You have already voted on this idea."))
    was = ballot.view.my_vote
    if not await _cast(db, ballot.view, principal, "switch" if was else "insert", value=value, was=was):
        raise Conflict(N_("You have already voted on this idea."))  # the same person, at the same moment
    ballot.view.my_vote = value
    return ballot.view


async def unvote(db: AsyncSession, principal: Principal, idea_id: Any) -> IdeaView:
    ballot = await _ballot(db, principal, idea_id)
    _check_can_vote(ballot)
    was = ballot.view.my_vote
    if was == 0:
        raise Conflict(N_("You have not voted on this idea."))
    if not await _cast(db, ballot.view, principal, "delete", value=0, was=was):
        raise Conflict(N_("You have not voted on this idea."))
    ballot.view.my_vote = 0
    return ballot.view


@dataclass
class _Ballot:
    view: IdeaView
    campaign: Campaign
    coauthor: bool


@functools.cache
def _ballot_statement(role: Role | None) -> Select[Any]:
    """The idea, its campaign and the voter's vote, the co-authors, following and role, in one statement. Built once
    per role, with the voter and the idea bound when it runs: building the expression (the readable clause) cost
    more than running it."""
    me = bindparam("voter", type_=BigInteger)
    voter = Principal(person_id=me, role=role)  # type: ignore[arg-type]  # the clauses only compare person_id
    return (select(Item, Idea, Campaign,
                   select(Vote.value).where(Vote.idea_id == Idea.item_id, Vote.person_id == me).scalar_subquery(),
                   select(func.coalesce(func.array_agg(IdeaCoauthor.person_id), literal([], ARRAY(BigInteger))))
                   .where(IdeaCoauthor.idea_id == Idea.item_id).scalar_subquery(),
                   exists().where(Follower.idea_id == Idea.item_id, Follower.person_id == me),
                   select(CampaignMember.role).where(CampaignMember.campaign_id == Campaign.id,
                                                     CampaignMember.person_id == me).scalar_subquery())
            .join(Idea, Idea.item_id == Item.id).join(Campaign, Campaign.id == Idea.campaign_id)
            .where(Item.id == bindparam("the_idea", type_=BigInteger), Item.deleted_at.is_(None),
                   access.readable_clause(voter, Campaign)))


async def _ballot(db: AsyncSession, principal: Principal, idea_id: Any) -> _Ballot:
    """What the voting rules need about this idea and this voter (NotFound where they may not read it)."""
    if not communities.is_id(idea_id) or principal.person_id is None:
        raise NotFound()
    me = principal.person_id
    row = (await db.execute(_ballot_statement(principal.role), {"voter": me, "the_idea": idea_id})).one_or_none()
    if row is None:
        raise NotFound()
    item, idea, campaign, my_vote, coauthors, following, role = row
    coauthor = me in coauthors
    standing = access.Standing(role, principal.can(Permission.CAMPAIGNS_ADMINISTER), campaign.archived_at is not None,
                               principal.can(Permission.COMMUNITIES_BROWSE))
    if item.hidden_at is not None and not (standing.can_manage or item.author_id == me):
        raise NotFound()  # hidden by a moderator, or a guest's idea waiting: only they see it
    own = item.author_id == me or coauthor
    view = IdeaView(item=item, idea=idea, my_vote=my_vote or 0, following=following,
                    can_vote=is_open(campaign) and idea.merged_into_id is None and item.hidden_at is None and not own,
                    can_manage=standing.can_manage,
                    can_edit=access.may_edit(standing, own) and idea.merged_into_id is None,
                    coauthor_ids=sorted(coauthors))
    return _Ballot(view, campaign, coauthor)


@functools.cache
def _cast_statement(change: str) -> Any:
    """Changes the vote row (insert, switch or delete) and, only if it changed, the idea's counts and rankings: one
    statement, the vote's change as a CTE the idea's UPDATE reads. Built once per kind of change; the parameters'
    names are no column's (an UPDATE would take an execution parameter named like a column as a value to SET)."""
    idea_id, me = bindparam("the_idea", type_=BigInteger), bindparam("voter", type_=BigInteger)
    value, was = bindparam("new_value", type_=SmallInteger), bindparam("old_value", type_=SmallInteger)
    mine = (Vote.idea_id == idea_id, Vote.person_id == me)
    changed = {
        "insert": pg_insert(Vote).values(idea_id=idea_id, person_id=me, value=value).on_conflict_do_nothing(),
        "switch": update(Vote).where(*mine, Vote.value == was).values(value=value, created_at=func.now()),
        "delete": delete(Vote).where(*mine, Vote.value == was),
    }[change].returning(Vote.idea_id).cte("changed")
    up, down = bindparam("up_delta", type_=Integer), bindparam("down_delta", type_=Integer)
    return (update(Idea).where(Idea.item_id == idea_id, exists(select(changed.c.idea_id)))
            .values(**_recount(Idea.up_count + up, Idea.down_count + down))
            .returning(Idea.up_count, Idea.down_count, Idea.top, Idea.hot))


async def _cast(db: AsyncSession, view: IdeaView, principal: Principal, change: str, *, value: int, was: int) -> bool:
    """Applies a vote's change. A concurrent request by the same person (a double click) finds the row already
    changed, changes nothing and gets False; voters of one idea serialise on its row, and each UPDATE reads the
    counts the previous one left, so nothing is lost or counted twice."""
    connection = await db.connection()  # plain Core: the ORM's bulk-update machinery is not needed here
    row = (await connection.execute(_cast_statement(change), {
        "the_idea": view.item.id, "voter": principal.person_id, "new_value": value, "old_value": was,
        "up_delta": (value == 1) - (was == 1), "down_delta": (value == -1) - (was == -1)})).one_or_none()
    if row is None:
        return False
    for name, new in zip(("up_count", "down_count", "top", "hot"), row, strict=True):
        set_committed_value(view.idea, name, new)
    return True


def _check_can_vote(ballot: _Ballot) -> None:
    view = ballot.view
    if view.idea.merged_into_id is not None or view.idea.pending or view.item.hidden_at is not None:
        raise Conflict(N_("This idea cannot be voted on."))
    if not is_open(ballot.campaign):
        raise Conflict(N_("Voting in this campaign is closed."))
    if not view.can_vote:
        raise PermissionDenied(N_("You cannot vote on your own idea."))


async def recount_votes(db: AsyncSession, idea_ids: list[int]) -> None:
    """Counts and rankings from the vote rows (after a merge moved votes): one aggregate, then one UPDATE per idea
    with the counts as values (as expressions, `_recount` would aggregate again for every use of them)."""
    rows = await db.execute(select(Vote.idea_id, func.count().filter(Vote.value == 1),
                                   func.count().filter(Vote.value == -1))
                            .where(one_of(Vote.idea_id, idea_ids)).group_by(Vote.idea_id))
    counts = {idea_id: (up, down) for idea_id, up, down in rows.all()}
    for idea_id in idea_ids:
        up, down = counts.get(idea_id, (0, 0))
        await db.execute(update(Idea).where(Idea.item_id == idea_id)
                         .values(**_recount(literal(up), literal(down)))
                         .execution_options(synchronize_session=False))


# --- stages ----------------------------------------------------------------------------------------------------------

def allowed_stages(campaign: Campaign, current: str) -> list[str]:
    """Where a manager may move an idea from `current`: one step along the pipeline either way (any later stage
    where the campaign allows skipping), to declined from anywhere in it, and from declined back to the start."""
    pipeline = list(campaign.stages)
    if current == Stage.MERGED.value:
        return []
    if current == Stage.DECLINED.value or current not in pipeline:
        return [pipeline[0]]
    at = pipeline.index(current)
    ahead = pipeline[at + 1:] if campaign.allow_skip else pipeline[at + 1:at + 2]
    back = pipeline[at - 1:at] if at > 0 else []
    return [*ahead, *back, Stage.DECLINED.value]


def _idea_audience(idea_id: int) -> Select[Any]:
    """Everyone a stage change concerns: authors, co-authors, voters and followers."""
    return union(select(Item.author_id).where(Item.id == idea_id, Item.author_id.is_not(None)),
                 select(IdeaCoauthor.person_id).where(IdeaCoauthor.idea_id == idea_id),
                 select(Vote.person_id).where(Vote.idea_id == idea_id),
                 select(Follower.person_id).where(Follower.idea_id == idea_id))  # type: ignore[return-value]


async def change_stage(db: AsyncSession, principal: Principal, idea_id: Any, stage: Any, reason: Any, *,
                       ip: str = "") -> IdeaView:
    item, idea = await _idea_rows(db, principal, idea_id)
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed.one("reason", N_("must not be empty"))
    if len(reason) > MAX_REASON:
        raise ValidationFailed.one("reason", N_("must be at most {max} characters"), max=MAX_REASON)
    if idea.pending or idea.merged_into_id is not None:
        raise Conflict(N_("This idea cannot change stage now."))
    allowed = allowed_stages(campaign, idea.stage)
    if stage not in allowed:
        raise ValidationFailed.one("stage", N_("cannot move from {current} to this stage; allowed: {allowed}"),
                                   current=idea.stage, allowed=", ".join(allowed))
    await _set_stage(db, principal, campaign, item, idea, stage, reason.strip())
    await audit.record(db, principal, "idea.stage", "item", item.id, old={"stage": idea.stage},
                       new={"stage": stage, "reason": reason.strip()}, ip=ip)
    return await get_idea(db, principal, item.id)


async def _set_stage(db: AsyncSession, principal: Principal, campaign: Campaign, item: Item, idea: Idea,
                     stage: str, reason: str, *, notify: bool = True) -> None:
    db.add(StageChange(idea_id=item.id, campaign_id=campaign.id, from_stage=idea.stage, to_stage=stage,
                       reason=reason, changed_by=principal.person_id))
    idea.stage, idea.stage_changed_at = stage, utcnow()
    await db.flush()
    if notify:
        label = {"stage_msgid": STAGE_LABELS[stage]} if stage in STAGE_LABELS else {"stage": stage}
        await notifications.notify_many(db, _idea_audience(item.id), "idea_stage", actor_id=principal.person_id,
                                        url=content.item_url(item), campaign_id=campaign.id, title=item.title,
                                        **label)


async def timeline(db: AsyncSession, idea_id: int) -> list[StageChange]:
    return list(await db.scalars(select(StageChange).where(StageChange.idea_id == idea_id)
                                 .order_by(StageChange.id)))


# --- following and the shortlist -----------------------------------------------------------------------------------

async def set_following(db: AsyncSession, principal: Principal, idea_id: Any, following: bool) -> IdeaView:
    item, _ = await _idea_rows(db, principal, idea_id)
    if principal.person_id is None:
        raise PermissionDenied()
    if following:
        done = await db.execute(pg_insert(Follower).values(idea_id=item.id, person_id=principal.person_id)
                                .on_conflict_do_nothing())
        change = 1 if done.rowcount else 0
    else:
        done = await db.execute(delete(Follower).where(Follower.idea_id == item.id,
                                                       Follower.person_id == principal.person_id))
        change = -done.rowcount
    if change:
        await db.execute(update(Idea).where(Idea.item_id == item.id)
                         .values(follower_count=Idea.follower_count + change)
                         .execution_options(synchronize_session=False))
    return await get_idea(db, principal, item.id)


async def set_shortlisted(db: AsyncSession, principal: Principal, idea_id: Any, shortlisted: bool, *,
                          ip: str = "") -> IdeaView:
    item, idea = await _idea_rows(db, principal, idea_id)
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    idea.shortlisted = shortlisted
    await audit.record(db, principal, "idea.shortlist" if shortlisted else "idea.unshortlist", "item", item.id,
                       ip=ip)
    return await get_idea(db, principal, item.id)


# --- the campaign's lists --------------------------------------------------------------------------------------------

@dataclass
class IdeaQuery:
    order: str = "top"
    stage: str | None = None
    shortlisted: bool = False
    pending: bool = False  # managers: the ideas waiting for approval
    page: int = 1
    per_page: int = 20


# Led by the campaign (fixed by the query) so the planner reads the ranking's index in order: ordered by the id
# alone, it walked the whole primary key backwards looking for an old campaign's ideas (bench/ideas.py).
_ORDER_COLUMNS = {
    "top": (Idea.campaign_id, Idea.top.desc(), Idea.item_id.desc()),
    "hot": (Idea.campaign_id, Idea.hot.desc(), Idea.item_id.desc()),
    "new": (Idea.campaign_id, -Idea.item_id),
    "discussed": (Item.comment_count.desc(), Item.id.desc()),
    "review": (Idea.campaign_id, Idea.review_score.desc().nulls_last(), Idea.item_id.desc()),
}


async def list_ideas(db: AsyncSession, principal: Principal, campaign: Campaign, query: IdeaQuery) -> list[IdeaView]:
    """One page of a campaign's ideas (the campaign already read by the principal), by a ranking. Merged ideas are
    not listed; waiting and hidden ones only for managers (and a waiting idea for its author)."""
    errors = []
    if query.order not in ORDERS:
        errors.append(FieldError("order", N_("must be one of: {choices}"), {"choices": ", ".join(ORDERS)}))
    if not 1 <= query.page <= MAX_PAGE:
        errors.append(FieldError("page", N_("must be between 1 and {n}"), {"n": MAX_PAGE}))
    if not 1 <= query.per_page <= 100:
        errors.append(FieldError("per_page", N_("must be between 1 and {n}"), {"n": 100}))
    if query.stage is not None and query.stage not in [*campaign.stages, *OUTSIDE]:
        errors.append(FieldError("stage", N_("must be one of: {choices}"),
                                 {"choices": ", ".join([*campaign.stages, *OUTSIDE])}))
    if errors:
        raise ValidationFailed(errors)
    standing = await access.standing(db, principal, campaign)
    if query.order == "review" and not standing.can_manage:
        raise PermissionDenied(N_("Only the campaign's managers see review scores."))
    statement = (select(Item, Idea).join(Idea, Idea.item_id == Item.id)
                 .where(Idea.campaign_id == campaign.id, Idea.merged_into_id.is_(None), Item.deleted_at.is_(None))
                 .order_by(*_ORDER_COLUMNS[query.order])
                 .offset((query.page - 1) * query.per_page).limit(query.per_page))
    if query.order == "discussed":
        statement = statement.where(Item.campaign_id == campaign.id, Item.kind == IDEA)
    if query.pending:
        if not standing.can_manage:
            raise PermissionDenied()
        statement = statement.where(Idea.pending)
    elif not standing.can_manage:
        statement = statement.where(or_(Item.hidden_at.is_(None),
                                        and_(Item.hidden_by.is_(None), Item.author_id == principal.person_id)))
    if query.stage is not None:
        statement = statement.where(Idea.stage == query.stage)
    if query.shortlisted:
        statement = statement.where(Idea.shortlisted)
    rows = [(item, idea) for item, idea in (await db.execute(statement)).all()]
    return await _views(db, principal, campaign, rows, standing)


async def stage_counts(db: AsyncSession, campaign: Campaign) -> dict[str, int]:
    """How many listed ideas (not merged, not hidden) are in each stage: the campaign page's funnel line."""
    rows = await db.execute(select(Idea.stage, func.count()).join(Item, Item.id == Idea.item_id)
                            .where(Idea.campaign_id == campaign.id, Idea.merged_into_id.is_(None),
                                   Item.deleted_at.is_(None), Item.hidden_at.is_(None)).group_by(Idea.stage))
    return dict(rows.all())


async def similar_ideas(db: AsyncSession, principal: Principal, backend, campaign_id: int, title: str,
                        limit: int = 5) -> list[tuple[int, str, str]]:
    """Ideas of this campaign like a title being written: (id, title, url), all words first, then the longest
    words alone. The campaign must be readable (404 otherwise)."""
    await get_campaign(db, principal, campaign_id)
    words = [w for w in re.split(r"[\s\W]+", title) if w][:12]
    if not words:
        return []
    tries = [" ".join(words)]
    tries += [w for w in sorted(set(words), key=len, reverse=True)[:3] if len(words) > 1]
    for q in tries:
        page = await search_service.search(db, principal, backend, SearchRequest(q=q, kinds=["idea"], per_page=20))
        ids = [r.item.id for r in page.results]
        if not ids:
            continue
        mine = set(await db.scalars(select(Idea.item_id).where(Idea.item_id.in_(ids), Idea.campaign_id == campaign_id,
                                                               Idea.merged_into_id.is_(None))))
        found = [(r.item.id, r.item.title, r.item.url) for r in page.results if r.item.id in mine][:limit]
        if found:
            return found
    return []



@dataclass
class Contributor:
    person: Person
    ideas: int
    votes_received: int


async def leaderboard(db: AsyncSession, principal: Principal, campaign: Campaign, limit: int = 10
                      ) -> list[Contributor]:
    """The people whose ideas gathered the most up votes in this campaign (visible ideas only)."""
    from socius.people import service as people

    rows = await db.execute(
        select(Person, func.count(Item.id), func.coalesce(func.sum(Idea.up_count), 0))
        .join(Item, Item.author_id == Person.id).join(Idea, Idea.item_id == Item.id)
        .where(Idea.campaign_id == campaign.id, Idea.merged_into_id.is_(None), Item.hidden_at.is_(None),
               Item.deleted_at.is_(None), people.readable_clause(principal))
        .group_by(Person.id).order_by(func.sum(Idea.up_count).desc(), func.count(Item.id).desc(), Person.id)
        .limit(limit))
    return [Contributor(p, n, int(v)) for p, n, v in rows.all()]


async def campaign_timeline(db: AsyncSession, principal: Principal, campaign: Campaign, limit: int = 50
                            ) -> list[tuple[StageChange, Item]]:
    """The campaign's latest stage changes (submissions included), on ideas the principal may read."""
    rows = await db.execute(select(StageChange, Item).join(Item, Item.id == StageChange.idea_id)
                            .where(StageChange.campaign_id == campaign.id, content.readable_clause(principal))
                            .order_by(StageChange.id.desc()).limit(limit))
    return [(c, i) for c, i in rows.all()]
