"""JSON API of the idea portal: /api/v1/campaigns, /api/v1/ideas (votes, stages, follow, shortlist), reviews,
merges, graduation, metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from socius.communities.schemas import Invited
from socius.core.csrf import streams_upload
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.files import service as files
from socius.files.api import file_out
from socius.files.schemas import FileOut
from socius.files.upload import taking
from socius.ideas import graduation, guests, merging, service
from socius.ideas import metrics as idea_metrics
from socius.ideas import review as idea_review
from socius.ideas.access import get_campaign
from socius.ideas.schemas import (
    CampaignEdit,
    CampaignIn,
    CampaignOut,
    CampaignsOut,
    IdeaEdit,
    IdeaIn,
    IdeaOut,
    IdeasOut,
    InvitationsIn,
    MemberOut,
    MembersIn,
    MembersOut,
    MetricsOut,
    MyReviewOut,
    MyReviewsOut,
    ReviewersIn,
    ReviewersOut,
    ReviewFormOut,
    ReviewIn,
    ReviewOut,
    ReviewsOut,
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

router = APIRouter(tags=["ideas"])
Period = Annotated[str, Query(max_length=40)]


# --- fixed paths first ----------------------------------------------------------------------------------------------
# Declared before /ideas/{idea_id}, which would otherwise take /ideas/metrics (and answer 422: not an id).

@router.get("/reviews/mine", response_model=MyReviewsOut)
async def my_reviews(db: Session, principal: Caller) -> Response:
    found = await idea_review.my_reviews(db, principal)
    return json_response(MyReviewsOut(items=[MyReviewOut(
        idea_id=r.item_id, title=r.title, campaign_id=r.campaign_id, campaign_title=r.campaign_title,
        assigned_at=r.assigned_at, submitted_at=r.submitted_at, score=r.score) for r in found]))


@router.get("/ideas/metrics", response_model=MetricsOut)
async def overall_metrics(db: Session, principal: Caller, start: Period = "", end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    return json_response(MetricsOut.of(await idea_metrics.overall_metrics(db, principal, *period)))


@router.get("/ideas/metrics.csv")
async def overall_metrics_csv(db: Session, principal: Caller, start: Period = "", end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    return metrics_csv_response(await idea_metrics.overall_metrics(db, principal, *period), "ideas-metrics.csv")


def metrics_csv_response(found: idea_metrics.Metrics, filename: str) -> Response:
    return Response(idea_metrics.to_csv(found, idea_metrics.csv_labels()), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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
    rows = await service.members(db, principal, found)
    return json_response(MembersOut(items=[MemberOut(person=person_ref(p), role=r) for p, r in rows]))


@router.post("/campaigns/{campaign_id}/members", response_model=MembersOut)
async def add_members(request: Request, db: Session, principal: Caller, campaign_id: int,
                      body: MembersIn) -> Response:
    await service.add_members(db, principal, campaign_id, list(body.person_ids), body.role, ip=client_ip(request))
    return await members(db, principal, campaign_id)


@router.post("/campaigns/{campaign_id}/invitations", response_model=Invited)
async def invite_by_email(request: Request, db: Session, principal: Caller, campaign_id: int,
                          body: InvitationsIn) -> Response:
    """Invite addresses as participants: people who have them are added, others become guests sent a link."""
    done = await guests.invite_by_email(db, principal, campaign_id, list(body.emails), name=body.name,
                                        ip=client_ip(request))
    return json_response(Invited(person_ids=done.person_ids, new_guests=done.new_guests, resent=done.resent))


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


@router.get("/campaigns/{campaign_id}/similar", response_model=SimilarListOut)
async def similar(request: Request, db: Session, principal: Caller, campaign_id: int, title: Title = "") -> Response:
    found = await service.similar_ideas(db, principal, search_runtime.from_request(request), campaign_id, title)
    return json_response(SimilarListOut(items=[SimilarOut(id=i, title=t, url=u) for i, t, u in found]))


@router.get("/ideas/{idea_id}", response_model=IdeaOut)
async def idea(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(IdeaOut.of_view(await service.get_idea(db, principal, idea_id)))


@router.patch("/ideas/{idea_id}", response_model=IdeaOut)
async def edit_idea(request: Request, db: Session, principal: Caller, idea_id: int, body: IdeaEdit) -> Response:
    view = await service.edit_idea(db, principal, idea_id, body.model_dump(exclude_none=True, exclude={"version"}),
                                   expected_version=body.version, ip=client_ip(request))
    return json_response(IdeaOut.of_view(view))


class AttachmentsOut(BaseModel):
    items: list[FileOut]


@router.get("/ideas/{idea_id}/attachments", response_model=AttachmentsOut)
async def attachments(db: Session, principal: Caller, idea_id: int) -> Response:
    view = await service.get_idea(db, principal, idea_id)
    return json_response(AttachmentsOut(items=[file_out(f) for f in await files.attachments(db, principal, view.item)]))


@router.post("/ideas/{idea_id}/attachments", status_code=201, response_model=FileOut)
@streams_upload
async def attach(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    """Attach a file (multipart field `file`), as its author, a co-author or a manager."""
    idea = await service.attachment_target(db, principal, idea_id)
    item, version = await taking(request, lambda received: files.add_attachment(
        db, principal, idea, received, request.app.state.settings, ip=client_ip(request)))
    return json_response(file_out(item, [version]), status=201, headers={"Location": f"/api/v1/files/{item.id}"})


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


@router.post("/ideas/{idea_id}/reviewers", response_model=ReviewersOut)
async def assign_reviewers(request: Request, db: Session, principal: Caller, idea_id: int,
                           body: ReviewersIn) -> Response:
    added = await idea_review.assign_reviewers(db, principal, idea_id, body.person_ids, ip=client_ip(request))
    return json_response(ReviewersOut(added=added))


@router.delete("/ideas/{idea_id}/reviewers/{person_id}", status_code=204)
async def unassign_reviewer(request: Request, db: Session, principal: Caller, idea_id: int,
                            person_id: int) -> Response:
    await idea_review.unassign_reviewer(db, principal, idea_id, person_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/ideas/{idea_id}/review", response_model=ReviewFormOut)
async def my_review(db: Session, principal: Caller, idea_id: int) -> Response:
    return json_response(ReviewFormOut.of(await idea_review.my_review(db, principal, idea_id)))


@router.put("/ideas/{idea_id}/review", response_model=ReviewFormOut)
async def save_review(request: Request, db: Session, principal: Caller, idea_id: int,
                      body: Annotated[ReviewIn, Body()]) -> Response:
    values = body.model_dump(exclude_none=True)
    form = await idea_review.save_review(db, principal, idea_id, values, ip=client_ip(request))
    return json_response(ReviewFormOut.of(form))


@router.get("/ideas/{idea_id}/reviews", response_model=ReviewsOut)
async def reviews(db: Session, principal: Caller, idea_id: int) -> Response:
    found = await idea_review.visible_reviews(db, principal, idea_id)
    return json_response(ReviewsOut(items=[ReviewOut.of(r) for r in found]))


@router.get("/campaigns/{campaign_id}/metrics", response_model=MetricsOut)
async def campaign_metrics(db: Session, principal: Caller, campaign_id: int, start: Period = "",
                           end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    return json_response(MetricsOut.of(await idea_metrics.campaign_metrics(db, principal, campaign_id, *period)))


@router.get("/campaigns/{campaign_id}/metrics.csv")
async def campaign_metrics_csv(db: Session, principal: Caller, campaign_id: int, start: Period = "",
                               end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    found = await idea_metrics.campaign_metrics(db, principal, campaign_id, *period)
    return metrics_csv_response(found, f"campaign-{campaign_id}-metrics.csv")




# --- merging, graduation and guests -------------------------------------------------------------------------------


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: Any = None


class GraduateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None
    access: str | None = None
    tags: list[str] | None = None


def _merge_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "source_id": row.source_id, "target_id": row.target_id,
            "merged_at": row.merged_at.isoformat() if row.merged_at else None,
            "undone_at": row.undone_at.isoformat() if row.undone_at else None}


@router.post("/ideas/{idea_id}/merge", status_code=201)
async def merge_idea(request: Request, db: Session, principal: Caller, idea_id: int, body: MergeIn) -> Response:
    """A manager merges this idea into `into` (an idea of the same campaign)."""
    row = await merging.merge(db, principal, idea_id, body.into, ip=client_ip(request))
    await db.flush()
    await db.refresh(row)
    return JSONResponse(_merge_out(row), status_code=201)


@router.post("/idea-merges/{merge_id}/undo")
async def undo_merge(request: Request, db: Session, principal: Caller, merge_id: int) -> Response:
    row = await merging.unmerge(db, principal, merge_id, ip=client_ip(request))
    await db.flush()
    await db.refresh(row)
    return JSONResponse(_merge_out(row))


@router.post("/ideas/{idea_id}/graduate", status_code=201)
async def graduate_idea(request: Request, db: Session, principal: Caller, idea_id: int,
                        body: GraduateIn) -> Response:
    """A manager turns a selected idea into a project community."""
    values = body.model_dump(exclude_none=True)
    made = await graduation.graduate(db, principal, idea_id, values, ip=client_ip(request))
    return JSONResponse({"idea_id": idea_id, "community_id": made.id, "name": made.name,
                         "url": f"/communities/{made.id}"}, status_code=201)
