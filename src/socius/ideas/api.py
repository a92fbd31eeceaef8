"""JSON API of the idea portal: /api/v1/campaigns, /api/v1/ideas (votes, stages, follow, shortlist), reviews,
merges, graduation, metrics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from socius.core.requests import Caller, Session, client_ip, json_response
from socius.ideas import graduation, merging
from socius.ideas import metrics as idea_metrics
from socius.ideas import review as idea_review

router = APIRouter(tags=["ideas"])


# --- campaigns and ideas ------------------------------------------------------------------------------------------


# --- reviews and metrics ------------------------------------------------------------------------------------------


class ReviewersIn(BaseModel):
    person_ids: list[Any]


class ReviewersOut(BaseModel):
    added: list[int]


class ReviewIn(BaseModel):
    scores: dict[str, Any] | None = None
    comment: str | None = None
    submit: bool = False


class ReviewOut(BaseModel):
    reviewer_id: int
    reviewer_name: str
    scores: dict[str, int]
    comment: str
    submitted_at: dt.datetime | None
    score: float | None

    @classmethod
    def of(cls, r: idea_review.Review) -> ReviewOut:
        return cls(reviewer_id=r.reviewer_id, reviewer_name=r.reviewer_name,
                   scores={str(k): v for k, v in r.scores.items()}, comment=r.comment,
                   submitted_at=r.submitted_at, score=r.score)


class CriterionOut(BaseModel):
    id: int
    name: str
    description: str
    weight: float


class ReviewFormOut(BaseModel):
    idea_id: int
    criteria: list[CriterionOut]
    mine: ReviewOut
    others_visible: bool
    others: list[ReviewOut]

    @classmethod
    def of(cls, form: idea_review.ReviewForm) -> ReviewFormOut:
        return cls(idea_id=form.item.id, criteria=[CriterionOut(id=c.id, name=c.name, description=c.description,
                                                                weight=c.weight) for c in form.criteria],
                   mine=ReviewOut.of(form.mine), others_visible=form.others_visible,
                   others=[ReviewOut.of(r) for r in form.others])


class ReviewsOut(BaseModel):
    items: list[ReviewOut]


class MyReviewOut(BaseModel):
    idea_id: int
    title: str
    campaign_id: int
    campaign_title: str
    assigned_at: dt.datetime
    submitted_at: dt.datetime | None
    score: float | None


class MyReviewsOut(BaseModel):
    items: list[MyReviewOut]


class CountOut(BaseModel):
    key: str
    count: int


class DurationOut(BaseModel):
    stage: str
    seconds: float


class MetricsOut(BaseModel):
    campaign_id: int | None
    start: dt.datetime | None
    end: dt.datetime
    funnel: list[CountOut]
    contributors: int
    new_voices: int
    time_to_first_idea_seconds: float | None
    departments: list[CountOut] = Field(description="people taking part, by department ('' for none)")
    employees: int
    guests: int
    time_in_stage: list[DurationOut]
    review_agreement: float | None

    @classmethod
    def of(cls, m: idea_metrics.Metrics) -> MetricsOut:
        return cls(campaign_id=m.campaign_id, start=m.start, end=m.end,
                   funnel=[CountOut(key=s, count=n) for s, n in m.funnel], contributors=m.contributors,
                   new_voices=m.new_voices, time_to_first_idea_seconds=m.time_to_first_idea,
                   departments=[CountOut(key=d, count=n) for d, n in m.departments], employees=m.employees,
                   guests=m.guests, time_in_stage=[DurationOut(stage=s, seconds=x) for s, x in m.time_in_stage],
                   review_agreement=m.agreement)


Period = Annotated[str, Query(max_length=40)]


@router.post("/ideas/{idea_id}/reviewers", response_model=ReviewersOut)
async def assign_reviewers(request: Request, db: Session, principal: Caller, idea_id: int,
                           body: ReviewersIn) -> Response:
    added = await idea_review.assign_reviewers(db, principal, idea_id, body.person_ids, ip=client_ip(request))
    return json_response(ReviewersOut(added=added))


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


@router.get("/reviews/mine", response_model=MyReviewsOut)
async def my_reviews(db: Session, principal: Caller) -> Response:
    found = await idea_review.my_reviews(db, principal)
    return json_response(MyReviewsOut(items=[MyReviewOut(
        idea_id=r.item_id, title=r.title, campaign_id=r.campaign_id, campaign_title=r.campaign_title,
        assigned_at=r.assigned_at, submitted_at=r.submitted_at, score=r.score) for r in found]))


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


@router.get("/ideas/metrics", response_model=MetricsOut)
async def overall_metrics(db: Session, principal: Caller, start: Period = "", end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    return json_response(MetricsOut.of(await idea_metrics.overall_metrics(db, principal, *period)))


@router.get("/ideas/metrics.csv")
async def overall_metrics_csv(db: Session, principal: Caller, start: Period = "", end: Period = "") -> Response:
    period = idea_metrics.parse_period(start, end)
    return metrics_csv_response(await idea_metrics.overall_metrics(db, principal, *period), "ideas-metrics.csv")


def metrics_csv_response(found: idea_metrics.Metrics, filename: str) -> Response:
    return Response(idea_metrics.to_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# Fixed paths first: /ideas/metrics and /reviews/mine must not be taken by an earlier /ideas/{idea_id}.
_FIXED = ("/ideas/metrics", "/ideas/metrics.csv", "/reviews/mine")
router.routes.sort(key=lambda route: getattr(route, "path", "") not in _FIXED)


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
