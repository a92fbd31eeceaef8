"""Communities: creating them, joining, inviting, approving, leaving, roles, subcommunities, the catalog.

Who may read a community is decided here and only here (`readable_clause`): every employee reads public and
moderated communities; a restricted one exists only for its active members (and administrators). Everything
inside a community — items, files, feed entries, notifications, search hits — is read through this clause, so
leaving a community removes access on the next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, false, func, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from socius.admin import service as audit
from socius.communities.models import Access, Community, MemberRole, Membership, MemberState
from socius.core import markdown
from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import one_of, utcnow
from socius.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.core.pagination import check_limit
from socius.expertise import service as tags_service
from socius.notifications import service as notifications
from socius.people.models import Person

MAX_NAME = 200
MAX_DESCRIPTION = 20_000
MAX_TAGS = 20
ID_MAX = 2**63 - 1
MANAGERS = (MemberRole.OWNER.value, MemberRole.MODERATOR.value)
# For access checks inside queries that select communities themselves (no accidental correlation).
_Inner = aliased(Community, name="readable_community")


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


# Where a community came from, for its overview: modules that create communities register an async
# `(db, principal, community) -> (label, title, url) | None` here (the idea portal: the idea a project grew from).
ORIGINS: list[Callable[..., Awaitable[tuple[str, str, str] | None]]] = []


# --- who may read what -----------------------------------------------------------------------------------------

def member_clause(principal: Principal, community_id: Any, *, invited: bool = False) -> ColumnElement[bool]:
    """The principal is an active member of the community whose id is `community_id` (a column or a value);
    with `invited`, an invitation not yet accepted counts too."""
    states = [MemberState.ACTIVE.value, MemberState.INVITED.value] if invited else [MemberState.ACTIVE.value]
    return exists().where(Membership.community_id == community_id, Membership.person_id == principal.person_id,
                          Membership.state.in_(states))


def readable_clause(principal: Principal, community: Any = Community, *, invited: bool = True
                    ) -> ColumnElement[bool]:
    """The communities this principal may read at all. Every community query starts here. Someone invited to a
    restricted community sees its name and description (to accept), but none of its content: content is read
    through `readable_id_clause`, which only active members pass."""
    if principal.person_id is None:
        return false()
    if principal.can(Permission.COMMUNITIES_ADMINISTER):
        return true()
    mine = member_clause(principal, community.id, invited=invited)
    if principal.can(Permission.COMMUNITIES_BROWSE):
        return or_(community.access != Access.RESTRICTED.value, mine)
    return mine  # a guest reads only where they belong


def readable_id_clause(principal: Principal, community_id: Any) -> ColumnElement[bool]:
    """`community_id` (a column of some other table) names a community whose content this principal may read."""
    return exists().where(_Inner.id == community_id, readable_clause(principal, _Inner, invited=False))


async def get_community(db: AsyncSession, principal: Principal, community_id: Any) -> Community:
    if not is_id(community_id):
        raise NotFound()
    community = await db.scalar(select(Community).where(Community.id == community_id, readable_clause(principal)))
    if community is None:
        raise NotFound()
    return community


async def membership(db: AsyncSession, community_id: int, person_id: int | None) -> Membership | None:
    if person_id is None:
        return None
    return await db.get(Membership, (community_id, person_id))


@dataclass
class Standing:
    """What the principal is in one community, and so what they may do there."""

    role: str | None = None   # owner | moderator | member, when active
    state: str | None = None  # active | requested | invited
    admin: bool = False

    @property
    def is_member(self) -> bool:
        return self.state == MemberState.ACTIVE.value

    @property
    def can_moderate(self) -> bool:
        return self.admin or (self.is_member and self.role in MANAGERS)

    @property
    def can_manage(self) -> bool:
        """Settings, roles, archiving: owners and administrators."""
        return self.admin or (self.is_member and self.role == MemberRole.OWNER.value)

    @property
    def can_contribute(self) -> bool:
        return self.is_member


async def standing(db: AsyncSession, principal: Principal, community: Community) -> Standing:
    row = await membership(db, community.id, principal.person_id)
    return Standing(role=row.role if row else None, state=row.state if row else None,
                    admin=principal.can(Permission.COMMUNITIES_ADMINISTER))


async def require_contributor(db: AsyncSession, principal: Principal, community: Community) -> Standing:
    """Only active members add content, and nobody adds to an archived community."""
    found = await standing(db, principal, community)
    if not found.is_member:
        raise PermissionDenied(N_("Join the community to take part."))
    if community.archived_at is not None:
        raise Conflict(N_("This community is archived: it can be read but not changed."))
    return found


async def require_moderator(db: AsyncSession, principal: Principal, community: Community) -> Standing:
    found = await standing(db, principal, community)
    if not found.can_moderate:
        raise PermissionDenied()
    return found


async def require_owner(db: AsyncSession, principal: Principal, community: Community) -> Standing:
    found = await standing(db, principal, community)
    if not found.can_manage:
        raise PermissionDenied()
    return found


def visibility_keys(community: Community) -> list[str]:
    """The search visibility keys of everything inside this community."""
    keys = [f"c:{community.id}", "admins"]
    if community.access != Access.RESTRICTED.value:
        keys.append("members")
    return keys


# --- creating and changing -------------------------------------------------------------------------------------

def clean(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validated fields, or ValidationFailed naming each field at fault and why."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}

    def fail(field: str, reason: str, **params: Any) -> None:
        errors.append(FieldError(field, reason, params))

    if "name" in values or not partial:
        name = values.get("name")
        if not isinstance(name, str) or not name.strip():
            fail("name", N_("must not be empty"))
        elif textkit.has_control_chars(name):
            fail("name", N_("must not contain control characters"))
        elif len(name.strip()) > MAX_NAME:
            fail("name", N_("must be at most {max} characters"), max=MAX_NAME)
        else:
            cleaned["name"] = " ".join(name.split())
    if "description" in values or not partial:
        description = values.get("description") or ""
        if not isinstance(description, str):
            fail("description", N_("must be text"))
        elif len(description) > MAX_DESCRIPTION:
            fail("description", N_("must be at most {max} characters"), max=MAX_DESCRIPTION)
        else:
            cleaned["description"] = description
    if "access" in values or not partial:
        access = values.get("access", Access.PUBLIC.value)
        if access not in {a.value for a in Access}:
            fail("access", N_("must be one of: {choices}"), choices=", ".join(a.value for a in Access))
        else:
            cleaned["access"] = access
    if "tags" in values:
        raw = values.get("tags") or []
        if isinstance(raw, str):
            raw = [t for t in raw.replace("，", ",").split(",") if t.strip()]
        if not isinstance(raw, list) or len(raw) > MAX_TAGS:
            fail("tags", N_("must be a list of at most {max} tags"), max=MAX_TAGS)
        else:
            labels: dict[str, str] = {}
            try:
                for tag in raw:
                    label, key = tags_service.clean_label(tag, "tags")
                    labels.setdefault(key, label)
            except ValidationFailed as error:
                errors.extend(error.errors)
            cleaned["tags"] = list(labels.values())
            cleaned["tag_keys"] = list(labels)
    if "parent_id" in values and values["parent_id"] not in (None, ""):
        parent = values["parent_id"]
        if isinstance(parent, str) and parent.isdigit():
            parent = int(parent)
        if not is_id(parent):
            fail("parent_id", N_("must be the id of a community"))
        else:
            cleaned["parent_id"] = parent
    if errors:
        raise ValidationFailed(errors)
    return cleaned


async def _check_parent(db: AsyncSession, principal: Principal, parent_id: int, access: str) -> Community:
    """A subcommunity's parent: readable, top-level, and the creator one of its owners. Under a restricted parent
    only a restricted subcommunity is possible."""
    try:
        parent = await get_community(db, principal, parent_id)
    except NotFound:
        raise ValidationFailed.one("parent_id", N_("no such community")) from None
    if parent.parent_id is not None:
        raise ValidationFailed.one("parent_id", N_("subcommunities cannot have subcommunities"))
    if not (await standing(db, principal, parent)).can_manage:
        raise ValidationFailed.one("parent_id", N_("only the parent community's owners may add subcommunities"))
    if parent.access == Access.RESTRICTED.value and access != Access.RESTRICTED.value:
        raise ValidationFailed.one("access", N_("a subcommunity of a restricted community must be restricted"))
    return parent


async def create(db: AsyncSession, principal: Principal, values: dict[str, Any], *, ip: str = "") -> Community:
    require(principal, Permission.COMMUNITIES_CREATE)
    cleaned = clean(values)
    if "parent_id" in cleaned:
        await _check_parent(db, principal, cleaned["parent_id"], cleaned["access"])
    community = Community(
        name=cleaned["name"], name_key=textkit.normalise_term(cleaned["name"]),
        description_md=cleaned["description"], description_html=markdown.render(cleaned["description"]),
        access=cleaned["access"], parent_id=cleaned.get("parent_id"), tags=cleaned.get("tags", []),
        tag_keys=cleaned.get("tag_keys", []), created_by=principal.person_id, member_count=1,
    )
    db.add(community)
    await db.flush()
    db.add(Membership(community_id=community.id, person_id=principal.person_id, role=MemberRole.OWNER.value,
                      state=MemberState.ACTIVE.value))
    await audit.record(db, principal, "community.create", "community", community.id,
                       new={"name": community.name, "access": community.access, "parent_id": community.parent_id},
                       ip=ip)
    await _record_activity(db, principal.person_id, "create", community.id)
    return community


async def change(db: AsyncSession, principal: Principal, community_id: int, values: dict[str, Any], *,
                 ip: str = "") -> Community:
    community = await get_community(db, principal, community_id)
    await require_owner(db, principal, community)
    cleaned = clean(values, partial=True)
    cleaned.pop("parent_id", None)  # moving a community between parents is not offered
    access = cleaned.get("access", community.access)
    if community.parent_id is not None and access != Access.RESTRICTED.value:
        parent = await db.get(Community, community.parent_id)
        if parent is not None and parent.access == Access.RESTRICTED.value:
            raise ValidationFailed.one("access", N_("a subcommunity of a restricted community must be restricted"))
    old = {"name": community.name, "access": community.access, "tags": community.tags}
    if "name" in cleaned:
        community.name = cleaned["name"]
        community.name_key = textkit.normalise_term(cleaned["name"])
    if "description" in cleaned:
        community.description_md = cleaned["description"]
        community.description_html = markdown.render(cleaned["description"])
    if "tags" in cleaned:
        community.tags, community.tag_keys = cleaned["tags"], cleaned["tag_keys"]
    access_changed = access != community.access
    if access_changed and access == Access.RESTRICTED.value:
        # Closing a community closes its subcommunities too.
        await db.execute(update(Community).where(Community.parent_id == community.id)
                         .values(access=Access.RESTRICTED.value))
    community.access = access
    community.updated_at = utcnow()
    if access_changed:
        await reindex_contents(db, community.id)
    await audit.record(db, principal, "community.update", "community", community.id, old=old,
                       new={"name": community.name, "access": community.access, "tags": community.tags}, ip=ip)
    return community


async def reindex_contents(db: AsyncSession, community_id: int) -> None:
    """Queue every item of a community (and its subcommunities) for the index: their visibility keys changed."""
    await db.execute(text(
        "INSERT INTO search_outbox (kind, item_id) SELECT kind, id FROM item"
        " WHERE community_id IN (SELECT id FROM community WHERE id = :c OR parent_id = :c)"), {"c": community_id})


async def set_archived(db: AsyncSession, principal: Principal, community_id: int, archived: bool, *,
                       ip: str = "") -> Community:
    community = await get_community(db, principal, community_id)
    await require_owner(db, principal, community)
    if (community.archived_at is not None) != archived:
        community.archived_at = utcnow() if archived else None
        await audit.record(db, principal, "community.archive" if archived else "community.unarchive",
                           "community", community.id, ip=ip)
    return community


# --- membership --------------------------------------------------------------------------------------------------

async def _refresh_count(db: AsyncSession, community_id: int) -> None:
    await db.execute(update(Community).where(Community.id == community_id).values(
        member_count=select(func.count()).where(Membership.community_id == community_id,
                                                Membership.state == MemberState.ACTIVE.value).scalar_subquery()))


async def _owner_count(db: AsyncSession, community_id: int) -> int:
    return await db.scalar(select(func.count()).where(
        Membership.community_id == community_id, Membership.role == MemberRole.OWNER.value,
        Membership.state == MemberState.ACTIVE.value)) or 0


async def _owner_ids(db: AsyncSession, community_id: int) -> list[int]:
    return list(await db.scalars(select(Membership.person_id).where(
        Membership.community_id == community_id, Membership.state == MemberState.ACTIVE.value,
        Membership.role.in_(MANAGERS))))


async def _check_parent_membership(db: AsyncSession, community: Community, person_id: int) -> None:
    """Under a restricted parent, only the parent's members may belong."""
    if community.parent_id is None:
        return
    parent = await db.get(Community, community.parent_id)
    if parent is not None and parent.access == Access.RESTRICTED.value:
        row = await membership(db, parent.id, person_id)
        if row is None or row.state != MemberState.ACTIVE.value:
            raise Conflict(N_("Only members of {community} may join its subcommunities."), community=parent.name)


async def join(db: AsyncSession, principal: Principal, community_id: int, *, ip: str = "") -> Membership:
    """Join a public community, ask to join a moderated one, or accept an invitation (any kind)."""
    if principal.person_id is None:
        raise PermissionDenied()
    community = await get_community(db, principal, community_id)
    row = await membership(db, community.id, principal.person_id)
    if row is not None and row.state in (MemberState.ACTIVE.value, MemberState.REQUESTED.value):
        return row  # joining twice changes nothing
    if community.archived_at is not None:
        raise Conflict(N_("This community is archived: it can be read but not changed."))
    await _check_parent_membership(db, community, principal.person_id)
    if row is not None and row.state == MemberState.INVITED.value:
        row.state = MemberState.ACTIVE.value
        action = "community.accept_invitation"
    elif community.access == Access.PUBLIC.value and principal.can(Permission.COMMUNITIES_BROWSE):
        row = Membership(community_id=community.id, person_id=principal.person_id, state=MemberState.ACTIVE.value)
        db.add(row)
        action = "community.join"
    elif community.access == Access.MODERATED.value and principal.can(Permission.COMMUNITIES_BROWSE):
        row = Membership(community_id=community.id, person_id=principal.person_id,
                         state=MemberState.REQUESTED.value)
        db.add(row)
        await db.flush()
        for owner in await _owner_ids(db, community.id):
            await notifications.notify(db, owner, "join_requested", actor_id=principal.person_id,
                                       url=f"/communities/{community.id}/members", community_id=community.id,
                                       community=community.name)
        await audit.record(db, principal, "community.request", "community", community.id, ip=ip)
        return row
    else:
        raise PermissionDenied(N_("This community admits members by invitation."))
    await db.flush()
    await _refresh_count(db, community.id)
    await audit.record(db, principal, action, "community", community.id, ip=ip)
    await _record_activity(db, principal.person_id, "join", community.id)
    return row


async def leave(db: AsyncSession, principal: Principal, community_id: int, *, ip: str = "") -> None:
    """Leave (or withdraw a request, or decline an invitation). The last owner cannot leave."""
    community = await get_community(db, principal, community_id)
    await _remove(db, principal, community, principal.person_id, "community.leave", ip=ip)


async def remove_member(db: AsyncSession, principal: Principal, community_id: int, person_id: int, *,
                        ip: str = "") -> None:
    community = await get_community(db, principal, community_id)
    await require_moderator(db, principal, community)
    await _remove(db, principal, community, person_id, "community.remove_member", ip=ip)


async def _remove(db: AsyncSession, principal: Principal, community: Community, person_id: int | None,
                  action: str, *, ip: str) -> None:
    row = await membership(db, community.id, person_id) if is_id(person_id) else None
    if row is None:
        raise NotFound()
    if row.role == MemberRole.OWNER.value and row.state == MemberState.ACTIVE.value \
            and await _owner_count(db, community.id) <= 1:
        raise Conflict(N_("A community needs an owner: make someone else an owner first."))
    await db.delete(row)
    # Leaving a community leaves its subcommunities (a restricted parent's privacy covers them).
    await db.execute(delete(Membership).where(
        Membership.person_id == person_id,
        Membership.community_id.in_(select(Community.id).where(Community.parent_id == community.id))))
    await db.flush()
    await _refresh_count(db, community.id)
    await audit.record(db, principal, action, "community", community.id, old={"person_id": person_id}, ip=ip)


async def invite(db: AsyncSession, principal: Principal, community_id: int, person_ids: list[Any], *,
                 ip: str = "") -> list[int]:
    """Invite people (members invite to public communities; managers anywhere). Returns who was invited;
    people already in or invited are skipped. Inviting someone the inviter cannot see is refused."""
    from socius.people import service as people

    community = await get_community(db, principal, community_id)
    found = await require_contributor(db, principal, community)
    if community.access != Access.PUBLIC.value and not found.can_moderate:
        raise PermissionDenied(N_("Only owners and moderators may invite people here."))
    if not isinstance(person_ids, list) or not person_ids or len(person_ids) > 500:
        raise ValidationFailed.one("person_ids", N_("must list between 1 and 500 people"))
    invited: list[int] = []
    for person_id in dict.fromkeys(person_ids):
        try:
            person = await people.get_person(db, principal, person_id)
        except NotFound:
            raise ValidationFailed.one("person_ids", N_("no such person: {id}"), id=person_id) from None
        if not person.is_active:
            raise ValidationFailed.one("person_ids", N_("{name} is no longer here"), name=person.display_name)
        if await membership(db, community.id, person.id) is not None:
            continue
        await _check_parent_membership(db, community, person.id)
        db.add(Membership(community_id=community.id, person_id=person.id, state=MemberState.INVITED.value,
                          invited_by=principal.person_id))
        # No community_id: the invitation is what lets them see the community's name before they are in it.
        await notifications.notify(db, person.id, "invited", actor_id=principal.person_id,
                                   url=f"/communities/{community.id}", community=community.name)
        invited.append(person.id)
    await db.flush()
    if invited:
        await audit.record(db, principal, "community.invite", "community", community.id,
                           new={"person_ids": invited}, ip=ip)
    return invited


async def approve(db: AsyncSession, principal: Principal, community_id: int, person_id: int, approved: bool, *,
                  ip: str = "") -> None:
    """Settle a request to join: approve it, or refuse it (the request is removed)."""
    community = await get_community(db, principal, community_id)
    await require_moderator(db, principal, community)
    row = await membership(db, community.id, person_id) if is_id(person_id) else None
    if row is None or row.state != MemberState.REQUESTED.value:
        raise NotFound()
    if approved:
        row.state = MemberState.ACTIVE.value
        await db.flush()
        await _refresh_count(db, community.id)
        await notifications.notify(db, person_id, "join_approved", actor_id=principal.person_id,
                                   url=f"/communities/{community.id}", community_id=community.id,
                                   community=community.name)
        await _record_activity(db, person_id, "join", community.id)
    else:
        await db.delete(row)
    await audit.record(db, principal, "community.approve" if approved else "community.refuse", "community",
                       community.id, new={"person_id": person_id}, ip=ip)


async def set_role(db: AsyncSession, principal: Principal, community_id: int, person_id: int, role: Any, *,
                   ip: str = "") -> Membership:
    community = await get_community(db, principal, community_id)
    await require_owner(db, principal, community)
    if role not in {r.value for r in MemberRole}:
        raise ValidationFailed.one("role", N_("must be one of: {choices}"),
                                   choices=", ".join(r.value for r in MemberRole))
    row = await membership(db, community.id, person_id) if is_id(person_id) else None
    if row is None or row.state != MemberState.ACTIVE.value:
        raise NotFound()
    if row.role == MemberRole.OWNER.value and role != MemberRole.OWNER.value \
            and await _owner_count(db, community.id) <= 1:
        raise Conflict(N_("A community needs an owner: make someone else an owner first."))
    old = row.role
    row.role = role
    await audit.record(db, principal, "community.role", "community", community.id,
                       old={"person_id": person_id, "role": old}, new={"person_id": person_id, "role": role}, ip=ip)
    return row


@dataclass
class Member:
    person: Person
    role: str
    state: str


async def members(db: AsyncSession, principal: Principal, community_id: int, *, state: str = "active",
                  limit: int = 100, offset: int = 0) -> list[Member]:
    """Members in role order then name. Requests and invitations are for the community's managers only."""
    community = await get_community(db, principal, community_id)
    if state != MemberState.ACTIVE.value:
        await require_moderator(db, principal, community)
    limit = check_limit(limit)
    rows = await db.execute(
        select(Person, Membership.role, Membership.state).join(Membership, Membership.person_id == Person.id)
        .where(Membership.community_id == community.id, Membership.state == state)
        .order_by(text("CASE membership.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END"),
                  Person.sort_key, Person.id)
        .limit(limit).offset(max(0, offset)))
    return [Member(person, role, member_state) for person, role, member_state in rows.all()]


# --- the catalog -------------------------------------------------------------------------------------------------

@dataclass
class CatalogQuery:
    q: str = ""
    tag: str = ""
    mine: bool = False
    include_archived: bool = False
    limit: int = 50
    offset: int = 0


async def catalog(db: AsyncSession, principal: Principal, query: CatalogQuery) -> list[Community]:
    """Communities the principal may read, most members first; a query matches the folded name, a tag the folded
    tags (軟體 finds 软件, "Machine  Learning" finds "machine learning")."""
    statement = select(Community).where(readable_clause(principal))
    if query.mine:
        statement = statement.where(member_clause(principal, Community.id))
    if not query.include_archived:
        statement = statement.where(Community.archived_at.is_(None))
    if query.q.strip():
        folded = textkit.normalise_term(query.q.strip())
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Community.name_key.like(f"%{escaped}%"))
    if query.tag.strip():
        key = tags_service.tag_key(query.tag.strip().lstrip("#"))
        statement = statement.where(Community.tag_keys.contains([key]))  # @>: the GIN index
    statement = statement.order_by(Community.member_count.desc(), Community.id).limit(
        check_limit(query.limit)).offset(max(0, query.offset))
    return list(await db.scalars(statement))


async def suggestions(db: AsyncSession, principal: Principal, limit: int = 5) -> list[Community]:
    """Open communities the principal is not in, where most people of their department are."""
    if not principal.can(Permission.COMMUNITIES_BROWSE):
        return []
    department = select(Person.department).where(Person.id == principal.person_id).scalar_subquery()
    colleagues = select(Person.id).where(Person.department == department, Person.id != principal.person_id)
    popular = (select(Membership.community_id, func.count().label("n"))
               .where(Membership.person_id.in_(colleagues), Membership.state == MemberState.ACTIVE.value)
               .group_by(Membership.community_id).subquery())
    rows = await db.scalars(
        select(Community).join(popular, popular.c.community_id == Community.id)
        .where(Community.access != Access.RESTRICTED.value, Community.archived_at.is_(None),
               ~member_clause(principal, Community.id))
        .order_by(popular.c.n.desc(), Community.member_count.desc()).limit(limit))
    return list(rows)


async def owned_top_level(db: AsyncSession, principal: Principal) -> list[Community]:
    """Top-level communities the principal owns: where they may add a subcommunity."""
    if principal.person_id is None:
        return []
    return list(await db.scalars(select(Community).join(Membership, Membership.community_id == Community.id).where(
        Membership.person_id == principal.person_id, Membership.state == MemberState.ACTIVE.value,
        Membership.role == MemberRole.OWNER.value, Community.parent_id.is_(None),
        Community.archived_at.is_(None)).order_by(Community.name)))


async def recent_members(db: AsyncSession, community: Community, limit: int = 12) -> list[Person]:
    """The latest to join (the caller has already read the community)."""
    return list(await db.scalars(select(Person).join(Membership, Membership.person_id == Person.id).where(
        Membership.community_id == community.id, Membership.state == MemberState.ACTIVE.value)
        .order_by(Membership.created_at.desc(), Person.id.desc()).limit(limit)))


async def my_community_ids(db: AsyncSession, person_id: int) -> list[int]:
    return list(await db.scalars(select(Membership.community_id).where(
        Membership.person_id == person_id, Membership.state == MemberState.ACTIVE.value)))


async def subcommunities(db: AsyncSession, principal: Principal, community: Community) -> list[Community]:
    return list(await db.scalars(select(Community).where(
        Community.parent_id == community.id, readable_clause(principal)).order_by(Community.name)))


async def communities_by_ids(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, Community]:
    if not ids:
        return {}
    rows = await db.scalars(select(Community).where(one_of(Community.id, ids), readable_clause(principal)))
    return {c.id: c for c in rows}


async def _record_activity(db: AsyncSession, actor_id: int | None, verb: str, community_id: int) -> None:
    from socius.activity.models import Activity

    db.add(Activity(actor_id=actor_id, verb=verb, community_id=community_id))


# --- notifications about a community reach only people who may read it ------------------------------------------

def person_reads_clause(community_id: Any, person_id: Any) -> ColumnElement[bool]:
    """SQL twin of `readable_id_clause` for a person given by a column (no Principal at hand): what the
    notification filter checks when a notification is shown or mailed, so someone who left a restricted community
    is never shown or sent what happens in it."""
    reader = aliased(Person, name="notified")
    active = exists().where(Membership.community_id == community_id, Membership.person_id == person_id,
                            Membership.state == MemberState.ACTIVE.value)
    open_to = exists().where(_Inner.id == community_id, _Inner.access != Access.RESTRICTED.value)
    role = select(reader.role).where(reader.id == person_id).scalar_subquery()
    return or_(role == "administrator", active, open_to & (role != "guest"))


notifications.set_visibility_filter(person_reads_clause)


async def get_content_community(db: AsyncSession, principal: Principal, community_id: Any) -> Community:
    """The community, when the principal may read what is inside it (an invitation alone shows the name and
    description, not the content): the apps' pages and APIs start here. 404 otherwise."""
    community = await get_community(db, principal, community_id)
    if await db.scalar(select(Community.id).where(Community.id == community.id,
                                                  readable_id_clause(principal, Community.id))) is None:
        raise NotFound()
    return community
