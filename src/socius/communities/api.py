"""JSON API for communities: /api/v1/communities (the catalog, creating), one community (reading, changing,
archiving), its members (listing, inviting by person or e-mail, removing, roles), joining and leaving, requests to
join, subcommunities. Every rule is the service's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from socius.communities import guests, service
from socius.communities.models import Community
from socius.communities.schemas import (
    CommunityCreate,
    CommunityList,
    CommunityOut,
    CommunityUpdate,
    Invite,
    Invited,
    MemberList,
    MemberOut,
    RoleChange,
    Standing,
)
from socius.core.auth import Principal
from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.people import service as people
from socius.people.api import person_ref

router = APIRouter(tags=["communities"])
MAX_OFFSET = 100_000


def community_out(community: Community, standing: service.Standing | None = None) -> CommunityOut:
    return CommunityOut(
        id=community.id, name=community.name, description_md=community.description_md,
        description_html=community.description_html, access=community.access, parent_id=community.parent_id,
        tags=list(community.tags), member_count=community.member_count, archived=community.archived_at is not None,
        archived_at=community.archived_at, created_at=community.created_at, updated_at=community.updated_at,
        url=f"/communities/{community.id}",
        my_role=standing.role if standing and standing.is_member else None,
        my_state=standing.state if standing else None)


async def _one(db, principal: Principal, community: Community) -> Response:
    await db.flush()  # refreshing (for server-side values) must not drop what the service just changed
    await db.refresh(community)
    return json_response(community_out(community, await service.standing(db, principal, community)))


@router.get("/communities", response_model=CommunityList)
async def catalog(
    db: Session, principal: Caller,
    q: Annotated[str, Query(max_length=200)] = "",
    tag: Annotated[str, Query(max_length=50)] = "",
    mine: bool = False,
    archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    found = await service.catalog(db, principal, service.CatalogQuery(
        q=q, tag=tag, mine=mine, include_archived=archived, limit=limit, offset=offset))
    return json_response(CommunityList(items=[community_out(c) for c in found], limit=limit, offset=offset))


@router.post("/communities", response_model=CommunityOut, status_code=201)
async def create(request: Request, db: Session, principal: Caller, body: CommunityCreate) -> Response:
    made = await service.create(db, principal, body.model_dump(exclude_unset=True), ip=client_ip(request))
    await db.flush()
    await db.refresh(made)
    return json_response(community_out(made, await service.standing(db, principal, made)), status=201)


@router.get("/communities/{community_id}", response_model=CommunityOut)
async def get_community(db: Session, principal: Caller, community_id: int) -> Response:
    return await _one(db, principal, await service.get_community(db, principal, community_id))


@router.patch("/communities/{community_id}", response_model=CommunityOut)
async def change(request: Request, db: Session, principal: Caller, community_id: int,
                 body: CommunityUpdate) -> Response:
    values = body.model_dump(exclude_unset=True)
    for field, value in values.items():
        if value is None:  # PATCH with null: not a way to empty a field
            raise ValidationFailed.one(field, N_("must not be empty"))
    changed = await service.change(db, principal, community_id, values, ip=client_ip(request))
    return await _one(db, principal, changed)


@router.post("/communities/{community_id}/archive", response_model=CommunityOut)
async def archive(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await _one(db, principal, await service.set_archived(db, principal, community_id, True,
                                                                ip=client_ip(request)))


@router.post("/communities/{community_id}/unarchive", response_model=CommunityOut)
async def unarchive(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await _one(db, principal, await service.set_archived(db, principal, community_id, False,
                                                                ip=client_ip(request)))


@router.get("/communities/{community_id}/subcommunities", response_model=CommunityList)
async def subcommunities(db: Session, principal: Caller, community_id: int) -> Response:
    community = await service.get_community(db, principal, community_id)
    found = await service.subcommunities(db, principal, community)
    return json_response(CommunityList(items=[community_out(c) for c in found], limit=len(found), offset=0))


# --- members -----------------------------------------------------------------------------------------------------

@router.get("/communities/{community_id}/members", response_model=MemberList)
async def members(
    db: Session, principal: Caller, community_id: int,
    state: Literal["active", "requested", "invited"] = "active",
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    found = await service.members(db, principal, community_id, state=state, limit=limit, offset=offset)
    return json_response(MemberList(items=[MemberOut(person=person_ref(m.person), role=m.role, state=m.state)
                                           for m in found]))


@router.post("/communities/{community_id}/members", response_model=Invited)
async def invite(request: Request, db: Session, principal: Caller, community_id: int, body: Invite) -> Response:
    """Invite people by id and addresses by e-mail; at least one of either."""
    if not body.person_ids and not body.emails:
        raise ValidationFailed.one("person_ids", N_("name at least one person or e-mail address"))
    result = guests.Invited()
    if body.person_ids:
        result.person_ids += await service.invite(db, principal, community_id, body.person_ids,
                                                  ip=client_ip(request))
    if body.emails:
        by_email = await guests.invite_by_email(db, principal, community_id, body.emails, name=body.name,
                                                ip=client_ip(request))
        result.person_ids += by_email.person_ids
        result.new_guests += by_email.new_guests
        result.resent += by_email.resent
    return json_response(Invited(person_ids=result.person_ids, new_guests=result.new_guests,
                                 resent=result.resent))


@router.delete("/communities/{community_id}/members/{person_id}", status_code=204)
async def remove_member(request: Request, db: Session, principal: Caller, community_id: int,
                        person_id: int) -> Response:
    await service.remove_member(db, principal, community_id, person_id, ip=client_ip(request))
    return Response(status_code=204)


@router.put("/communities/{community_id}/members/{person_id}/role", response_model=MemberOut)
async def set_role(request: Request, db: Session, principal: Caller, community_id: int, person_id: int,
                   body: RoleChange) -> Response:
    row = await service.set_role(db, principal, community_id, person_id, body.role, ip=client_ip(request))
    person = await people.get_person(db, principal, person_id)
    return json_response(MemberOut(person=person_ref(person), role=row.role, state=row.state))


@router.post("/communities/{community_id}/join", response_model=Standing)
async def join(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    row = await service.join(db, principal, community_id, ip=client_ip(request))
    await db.flush()
    await db.refresh(row)
    return json_response(Standing(community_id=row.community_id, role=row.role, state=row.state))


@router.post("/communities/{community_id}/leave", status_code=204)
async def leave(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    await service.leave(db, principal, community_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/communities/{community_id}/requests/{person_id}/approve", status_code=204)
async def approve(request: Request, db: Session, principal: Caller, community_id: int, person_id: int) -> Response:
    await service.approve(db, principal, community_id, person_id, True, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/communities/{community_id}/requests/{person_id}/refuse", status_code=204)
async def refuse(request: Request, db: Session, principal: Caller, community_id: int, person_id: int) -> Response:
    await service.approve(db, principal, community_id, person_id, False, ip=client_ip(request))
    return Response(status_code=204)
