"""JSON shapes of the idea portal API: campaigns, their members, ideas with the reader's vote, stage changes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from socius.content.schemas import ItemOut, Strict, TextEdit, TextIn
from socius.ideas import metrics as idea_metrics
from socius.ideas import review as idea_review
from socius.ideas.models import Campaign, StageChange
from socius.ideas.service import IdeaView
from socius.people.schemas import PersonRef


class CriterionIn(Strict):
    name: StrictStr
    weight: float = 1
    description: StrictStr = ""


class CampaignEdit(Strict):
    """Only the fields sent change; the service checks them (422 naming the field)."""

    title: StrictStr | None = None
    brief: StrictStr | None = None
    tags: list[StrictStr] | None = None
    audience: StrictStr | None = None
    community_id: StrictInt | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    stages: list[StrictStr] | None = None
    criteria: list[CriterionIn] | None = None
    allow_skip: StrictBool | None = None
    allow_down_votes: StrictBool | None = None
    moderate_guests: StrictBool | None = None
    blind_review: StrictBool | None = None


class CampaignIn(CampaignEdit):
    """A new campaign: a title at least; the fields left out take the service's defaults."""

    title: StrictStr


def campaign_values(body: CampaignIn | CampaignEdit) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True)
    if values.get("criteria") is not None:
        values["criteria"] = [dict(c) for c in values["criteria"]]
    return {k: v for k, v in values.items() if v is not None or k in ("closes_at", "community_id")}


class CampaignOut(BaseModel):
    id: int
    title: str
    brief_md: str
    brief_html: str
    audience: str
    community_id: int | None
    tags: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime | None
    archived_at: dt.datetime | None
    stages: list[str]
    allow_skip: bool
    allow_down_votes: bool
    moderate_guests: bool
    blind_review: bool
    idea_count: int
    created_by: int | None
    url: str

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        return cls(id=c.id, title=c.title, brief_md=c.brief_md, brief_html=c.brief_html, audience=c.audience,
                   community_id=c.community_id, tags=list(c.tags), opens_at=c.opens_at, closes_at=c.closes_at,
                   archived_at=c.archived_at, stages=list(c.stages), allow_skip=c.allow_skip,
                   allow_down_votes=c.allow_down_votes, moderate_guests=c.moderate_guests,
                   blind_review=c.blind_review, idea_count=c.idea_count, created_by=c.created_by,
                   url=f"/campaigns/{c.id}")


class CampaignsOut(BaseModel):
    items: list[CampaignOut]


class MemberOut(BaseModel):
    person: PersonRef
    role: str


class MembersOut(BaseModel):
    items: list[MemberOut]


class MembersIn(Strict):
    person_ids: list[StrictInt]
    role: Literal["participant", "manager"] = "participant"


class InvitationsIn(Strict):
    """Addresses to invite as participants (an address nobody has becomes a guest invited by e-mail)."""

    emails: list[StrictStr]
    name: StrictStr = ""  # a new guest's name, when one address is given


class IdeaOut(ItemOut):
    campaign_id: int
    stage: str
    up_count: int
    down_count: int
    score: float
    follower_count: int
    shortlisted: bool
    pending: bool
    merged_into_id: int | None
    my_vote: int
    following: bool
    can_vote: bool
    can_manage: bool
    can_edit: bool
    coauthor_ids: list[int] = []
    review_score: float | None = None

    @classmethod
    def of_view(cls, view: IdeaView) -> IdeaOut:
        idea = view.idea
        return cls(**cls.fields_of(view.item), campaign_id=idea.campaign_id, stage=idea.stage,
                   up_count=idea.up_count, down_count=idea.down_count, score=idea.top,
                   follower_count=idea.follower_count, shortlisted=idea.shortlisted, pending=idea.pending,
                   merged_into_id=idea.merged_into_id, my_vote=view.my_vote, following=view.following,
                   can_vote=view.can_vote, can_manage=view.can_manage, can_edit=view.can_edit,
                   coauthor_ids=view.coauthor_ids,
                   review_score=idea.review_score if view.can_manage else None)


class IdeasOut(BaseModel):
    items: list[IdeaOut]
    page: int


class IdeaIn(TextIn):
    coauthors: list[StrictInt] = []


class IdeaEdit(TextEdit):
    pass


class VoteIn(Strict):
    value: StrictInt = 1


class StageIn(Strict):
    stage: StrictStr
    reason: StrictStr


class StageChangeOut(BaseModel):
    id: int
    from_stage: str | None
    to_stage: str
    reason: str
    changed_by: int | None
    changed_at: dt.datetime

    @classmethod
    def of(cls, c: StageChange) -> StageChangeOut:
        return cls(id=c.id, from_stage=c.from_stage, to_stage=c.to_stage, reason=c.reason, changed_by=c.changed_by,
                   changed_at=c.changed_at)


class TimelineOut(BaseModel):
    items: list[StageChangeOut]


class SimilarOut(BaseModel):
    id: int
    title: str
    url: str


class SimilarListOut(BaseModel):
    items: list[SimilarOut]


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
