"""JSON API of the idea portal: /api/v1/campaigns, /api/v1/ideas (votes, stages, follow, shortlist), reviews,
merges, graduation, metrics."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.ideas import service
from socius.ideas.access import get_campaign
from socius.ideas.models import Idea
from socius.ideas.schemas import (
    CampaignEdit,
    CampaignIn,
    CampaignOut,
    CampaignsOut,
    IdeaEdit,
    IdeaIn,
    IdeaOut,
    IdeasOut,
    MemberOut,
    MembersIn,
    MembersOut,
    SimilarListOut,
    SimilarOut,
    StageChangeOut,
    StageIn,
    TimelineOut,
    VoteIn,
    campaign_values,
)
from socius.people.api import person_ref
from socius.search import runtime as search_runtime
from socius.search import service as search_service
from socius.search.service import SearchRequest

router = APIRouter(tags=["ideas"])


# --- campaigns and ideas ------------------------------------------------------------------------------------------

State = Annotated[str | None, Query(pattern="^(open|upcoming|closed)$")]
Title = Annotated[str, Query(max_length=300)]


@router.get("/campaigns", response_model=CampaignsOut)
async def campaigns(db: Session, principal: Caller, state: State = None, mine: bool = False) -> Response:
    found = await service.campaigns(db, principal, service.CampaignQuery(state=state, mine=mine))
    return json_response(CampaignsOut(items=[CampaignOut.of(c) for c in found]))


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
async def create_campaign(request: Request, db: Session, principal: Caller, body: CampaignIn) -> Response:
    made = await service.create_campaign(db, principal, campaign_values(body), ip=client_ip(request))
    return json_response(CampaignOut.of(made), status=201)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def campaign(db: Session, principal: Caller, campaign_id: int) -> Response:
    return json_response(CampaignOut.of(await get_campaign(db, principal, campaign_id)))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
async def change_campaign(request: Request, db: Session, principal: Caller, campaign_id: int,
                          body: CampaignEdit) -> Response:
    changed = await service.change_campaign(db, principal, campaign_id, campaign_values(body), ip=client_ip(request))
    return json_response(CampaignOut.of(changed))


@router.post("/campaigns/{campaign_id}/archive", response_model=CampaignOut)
async def archive_campaign(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    return json_response(CampaignOut.of(await service.set_archived(db, principal, campaign_id, True,
                                                                   ip=client_ip(request))))


@router.get("/campaigns/{campaign_id}/members", response_model=MembersOut)
async def members(db: Session, principal: Caller, campaign_id: int) -> Response:
    found = await get_campaign(db, principal, campaign_id)
    rows = await service.members(db, found)
    return json_response(MembersOut(items=[MemberOut(person=person_ref(p), role=r) for p, r in rows]))


@router.post("/campaigns/{campaign_id}/members", response_model=MembersOut)
async def add_members(request: Request, db: Session, principal: Caller, campaign_id: int,
                      body: MembersIn) -> Response:
    await service.add_members(db, principal, campaign_id, list(body.person_ids), body.role, ip=client_ip(request))
    return await members(db, principal, campaign_id)


@router.delete("/campaigns/{campaign_id}/members/{person_id}", status_code=204)
async def remove_member(request: Request, db: Session, principal: Caller, campaign_id: int,
                        person_id: int) -> Response:
    await service.remove_member(db, principal, campaign_id, person_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/campaigns/{campaign_id}/ideas", response_model=IdeasOut)
async def ideas(db: Session, principal: Caller, campaign_id: int, order: str = "top", stage: str | None = None,
                shortlisted: bool = False, pending: bool = False,
                page: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 1,
                per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    found = await get_campaign(db, principal, campaign_id)
    views = await service.list_ideas(db, principal, found, service.IdeaQuery(
        order=order, stage=stage or None, shortlisted=shortlisted, pending=pending, page=page, per_page=per_page))
    return json_response(IdeasOut(items=[IdeaOut.of_view(v) for v in views], page=page))


@router.post("/campaigns/{campaign_id}/ideas", response_model=IdeaOut, status_code=201)
async def submit_idea(request: Request, db: Session, principal: Caller, campaign_id: int, body: IdeaIn) -> Response:
    view = await service.submit_idea(db, principal, campaign_id, body.model_dump(), ip=client_ip(request))
    return json_response(IdeaOut.of_view(view), status=201)


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


@router.get("/campaigns/{campaign_id}/similar", response_model=SimilarListOut)
async def similar(request: Request, db: Session, principal: Caller, campaign_id: int, title: Title = "") -> Response:
    found = await similar_ideas(db, principal, search_runtime.from_request(request), campaign_id, title)
    return json_response(SimilarListOut(items=[SimilarOut(id=i, title=t, url=u) for i, t, u in found]))


@router.get("/ideas/{idea_id}", response_model=IdeaOut)
async def idea(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.get_idea(db, principal, idea_id)))


@router.patch("/ideas/{idea_id}", response_model=IdeaOut)
async def edit_idea(request: Request, db: Session, principal: Caller, idea_id: int, body: IdeaEdit) -> Response:
    view = await service.edit_idea(db, principal, idea_id, body.model_dump(exclude_none=True, exclude={"version"}),
                                   expected_version=body.version, ip=client_ip(request))
    return json_response(IdeaOut.of_view(view))


@router.post("/ideas/{idea_id}/vote", response_model=IdeaOut)
async def vote(db: Session, principal: Caller, idea_id: int, body: VoteIn) -> Response:
    return json_response(IdeaOut.of_view(await service.vote(db, principal, idea_id, body.value)))


@router.delete("/ideas/{idea_id}/vote", response_model=IdeaOut)
async def unvote(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.unvote(db, principal, idea_id)))


@router.post("/ideas/{idea_id}/stage", response_model=IdeaOut)
async def change_stage(request: Request, db: Session, principal: Caller, idea_id: int, body: StageIn) -> Response:
    view = await service.change_stage(db, principal, idea_id, body.stage, body.reason, ip=client_ip(request))
    return json_response(IdeaOut.of_view(view))


@router.put("/ideas/{idea_id}/follow", response_model=IdeaOut)
async def follow(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.set_following(db, principal, idea_id, True)))


@router.delete("/ideas/{idea_id}/follow", response_model=IdeaOut)
async def unfollow(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.set_following(db, principal, idea_id, False)))


@router.put("/ideas/{idea_id}/shortlist", response_model=IdeaOut)
async def shortlist(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.set_shortlisted(db, principal, idea_id, True,
                                                                       ip=client_ip(request))))


@router.delete("/ideas/{idea_id}/shortlist", response_model=IdeaOut)
async def unshortlist(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.set_shortlisted(db, principal, idea_id, False,
                                                                       ip=client_ip(request))))


@router.post("/ideas/{idea_id}/approve", response_model=IdeaOut)
async def approve(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.approve_idea(db, principal, idea_id, ip=client_ip(request))))


@router.get("/ideas/{idea_id}/timeline", response_model=TimelineOut)
async def idea_timeline(db: Session, principal: Caller, idea_id: int) -> Response:
    view = await service.get_idea(db, principal, idea_id)
    changes = await service.timeline(db, view.item.id)
    return json_response(TimelineOut(items=[StageChangeOut.of(c) for c in changes]))



# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------
