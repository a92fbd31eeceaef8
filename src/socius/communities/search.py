"""Communities as a search kind, and the visibility keys community membership gives a principal."""

from __future__ import annotations

from sqlalchemy import any_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.communities import service
from socius.communities.models import Community, Membership, MemberState
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.db import one_of
from socius.core.i18n import N_
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
    rows = await db.scalars(select(Community).where(one_of(Community.id, ids))
                            .execution_options(populate_existing=True))
    return [Document(kind="community", id=c.id, title=c.name, body=c.description_md, tags=list(c.tags),
                     visibility=service.visibility_keys(c), community_id=c.id, author_id=c.created_by,
                     created_at=c.created_at, updated_at=c.updated_at, archived=c.archived_at is not None)
            for c in rows]


async def hydrate(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, SearchItem]:
    found = await service.communities_by_ids(db, principal, ids)
    return {c.id: SearchItem(kind="community", id=c.id, title=c.name, url=f"/communities/{c.id}",
                             text=c.description_md, subtitle=", ".join(c.tags), updated_at=c.updated_at,
                             extra={"access": c.access, "members": c.member_count})
            for c in found.values()}


def keys(principal: Principal) -> HeldKeys:
    """Each community the principal is an active member of; administrators hold "admins"."""
    return HeldKeys(fixed=frozenset({"admins"} if principal.can(Permission.COMMUNITIES_ADMINISTER) else ()),
                    query=_MEMBERSHIPS)


_MEMBERSHIPS = select(func.concat("c:", Membership.community_id)).where(
    Membership.person_id == PERSON_ID, Membership.state == MemberState.ACTIVE.value)
# A community's guests find its members (their directory shows them).
PERSON_KEYS.append(select(Membership.person_id, func.concat("c:", Membership.community_id)).where(
    Membership.person_id == any_(PERSON_IDS), Membership.state == MemberState.ACTIVE.value))


COMMUNITY = register(ContentKind(name="community", code=2, label=N_("Communities"), load=load,
                                 all_ids=id_batches(Community.id), hydrate=hydrate, keys=keys))
