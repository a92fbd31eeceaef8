"""Reviews: managers assign reviewers, reviewers score each criterion (1–5) and comment privately.

- A manager assigns employees who can read the campaign; never the idea's author or a co-author (a conflict of
  interest, refused naming the field `person_ids`).
- A reviewer saves a draft (any scores, a comment) and submits once every criterion is scored; a submitted review
  is final. Only assigned reviewers review (others get 404: they cannot even tell whether reviews exist).
- Blind mode (`campaign.blind_review`): a reviewer sees the other reviewers' scores and comments only after
  submitting their own. Managers always see every review; without blind mode assigned reviewers see submitted ones.
- On submit the idea's `review_score` is the mean, over submitted reviewers, of each reviewer's mean weighted by the
  criteria's weights, and `review_spread` the (population) standard deviation of those reviewers' means.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.communities import service as communities
from socius.content import service as content
from socius.content.models import Item
from socius.core.auth import Principal
from socius.core.db import one_of, utcnow
from socius.core.errors import Conflict, NotFound, ValidationFailed
from socius.core.i18n import N_
from socius.ideas import access
from socius.ideas import service as ideas
from socius.ideas.models import Campaign, Criterion, Idea, IdeaCoauthor, ReviewAssignment, ReviewScore
from socius.notifications import service as notifications
from socius.people import service as people
from socius.people.models import Person, Role

MAX_REVIEWERS = 20
MAX_COMMENT = 10_000
MAX_SPREAD = 2.0  # the largest standard deviation of scores between 1 and 5: half the reviewers at 1, half at 5

notifications.register_kind("idea_review_assigned", N_("{actor} asked you to review the idea “{title}”"),
                            label=N_("I am asked to review an idea"),
                            default_email=notifications.EmailMode.IMMEDIATE)


async def replace_criteria(db: AsyncSession, campaign: Campaign, criteria: list[dict[str, Any]]) -> None:
    """A campaign's criteria, replaced as a whole — refused once a review has been submitted, since its scores
    were given against the old ones."""
    submitted = await db.scalar(select(exists().where(
        ReviewAssignment.idea_id == Idea.item_id, Idea.campaign_id == campaign.id,
        ReviewAssignment.submitted_at.is_not(None))))
    if submitted:
        raise ValidationFailed.one("criteria", N_("cannot change once reviews have been submitted"))
    await db.execute(delete(Criterion).where(Criterion.campaign_id == campaign.id))
    db.add_all([Criterion(campaign_id=campaign.id, position=i, **c) for i, c in enumerate(criteria)])
    await db.flush()


async def criteria(db: AsyncSession, campaign_id: int) -> list[Criterion]:
    return list(await db.scalars(select(Criterion).where(Criterion.campaign_id == campaign_id)
                                 .order_by(Criterion.position, Criterion.id)))


def weighted_mean(scores: dict[int, int], weights: dict[int, float]) -> float | None:
    """One reviewer's score: their criterion scores' mean weighted by the criteria's weights."""
    total = sum(weights[c] for c in scores if c in weights)
    if not total:
        return None
    return sum(s * weights[c] for c, s in scores.items() if c in weights) / total


def combine(reviewer_means: list[float]) -> tuple[float | None, float | None]:
    """(review_score, review_spread) of an idea from its submitted reviewers' weighted means."""
    if not reviewer_means:
        return None, None
    return statistics.fmean(reviewer_means), statistics.pstdev(reviewer_means)


async def _idea(db: AsyncSession, principal: Principal, idea_id: Any) -> tuple[Item, Idea, Campaign]:
    item = await content.get_item(db, principal, idea_id, kind=ideas.IDEA)
    idea = await db.get(Idea, item.id)
    if idea is None:
        raise NotFound()
    campaign = await db.get(Campaign, idea.campaign_id)
    assert campaign is not None
    return item, idea, campaign


# --- assigning -----------------------------------------------------------------------------------------------------

async def assign_reviewers(db: AsyncSession, principal: Principal, idea_id: Any, person_ids: Any, *,
                           ip: str = "") -> list[int]:
    """Managers assign reviewers; returns those newly assigned (already assigned ones are skipped)."""
    item, _, campaign = await _idea(db, principal, idea_id)
    found = await access.require_manager(db, principal, campaign)
    if found.archived:
        raise Conflict(N_("This campaign is archived: it can be read but not changed."))
    if not isinstance(person_ids, list) or not person_ids or len(person_ids) > MAX_REVIEWERS \
            or not all(communities.is_id(p) for p in person_ids):
        raise ValidationFailed.one("person_ids", N_("must be a list of 1 to {max} person ids"), max=MAX_REVIEWERS)
    ids = list(dict.fromkeys(person_ids))
    authors = {item.author_id} | set(await db.scalars(select(IdeaCoauthor.person_id)
                                                      .where(IdeaCoauthor.idea_id == item.id)))
    conflicted = [p for p in ids if p in authors]
    if conflicted:
        raise ValidationFailed.one("person_ids", N_("authors and co-authors cannot review their own idea: {ids}"),
                                   ids=", ".join(map(str, conflicted)))
    rows = (await db.execute(select(Person.id, Person.role).where(
        one_of(Person.id, ids), Person.deactivated_at.is_(None), Person.role != Role.GUEST.value))).all()
    eligible = await access.readers(db, campaign, rows)
    missing = [p for p in ids if p not in eligible]
    if missing:
        raise ValidationFailed.one("person_ids", N_("only employees who can see this campaign may review: {ids}"),
                                   ids=", ".join(map(str, missing)))
    existing = set(await db.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.idea_id == item.id, one_of(ReviewAssignment.reviewer_id, ids))))
    added = [p for p in ids if p not in existing]
    for person_id in added:
        db.add(ReviewAssignment(idea_id=item.id, reviewer_id=person_id, assigned_by=principal.person_id))
    await db.flush()
    for person_id in added:
        await notifications.notify(db, person_id, "idea_review_assigned", actor_id=principal.person_id,
                                   url=f"/ideas/{item.id}/review", campaign_id=item.campaign_id,
                                   title=item.title)
    await audit.record(db, principal, "idea.review.assign", "item", item.id, new={"reviewer_ids": added}, ip=ip)
    return added


async def reviewer_candidates(db: AsyncSession, principal: Principal, idea_id: Any, q: str) -> list[Person]:
    """People a manager may assign, from the directory search: employees who can see the campaign and did not
    write the idea."""
    item, _, campaign = await _idea(db, principal, idea_id)
    await access.require_manager(db, principal, campaign)
    if not q.strip():
        return []
    authors = {item.author_id} | set(await db.scalars(select(IdeaCoauthor.person_id)
                                                      .where(IdeaCoauthor.idea_id == item.id)))
    found = [p for p in (await people.search_directory(db, principal, people.DirectoryQuery(q=q, limit=10))).items
             if p.role != Role.GUEST.value and p.id not in authors]
    eligible = await access.readers(db, campaign, found)
    return [p for p in found if p.id in eligible]


async def unassign_reviewer(db: AsyncSession, principal: Principal, idea_id: Any, person_id: Any, *,
                            ip: str = "") -> None:
    """Managers take back an assignment (and its draft); a submitted review stays, since the score counts it."""
    item, _, campaign = await _idea(db, principal, idea_id)
    found = await access.require_manager(db, principal, campaign)
    if found.archived:
        raise Conflict(N_("This campaign is archived: it can be read but not changed."))
    row = await db.get(ReviewAssignment, (item.id, person_id)) if communities.is_id(person_id) else None
    if row is None:
        raise NotFound()
    if row.submitted_at is not None:
        raise Conflict(N_("This review was already submitted: it counts in the idea's score and stays."))
    await db.execute(delete(ReviewScore).where(ReviewScore.idea_id == item.id, ReviewScore.reviewer_id == person_id))
    await db.delete(row)
    await db.flush()
    await audit.record(db, principal, "idea.review.unassign", "item", item.id, old={"reviewer_id": person_id}, ip=ip)


# --- reviewing -----------------------------------------------------------------------------------------------------

@dataclass
class Review:
    reviewer_id: int
    reviewer_name: str
    scores: dict[int, int]
    comment: str
    submitted_at: dt.datetime | None
    score: float | None


@dataclass
class ReviewForm:
    """The reviewer's own review of an idea, with the criteria to score."""

    item: Item
    idea: Idea
    campaign: Campaign
    criteria: list[Criterion]
    mine: Review
    others_visible: bool = False
    others: list[Review] = field(default_factory=list)


async def _assignment(db: AsyncSession, principal: Principal, idea_id: Any
                      ) -> tuple[Item, Idea, Campaign, ReviewAssignment]:
    item, idea, campaign = await _idea(db, principal, idea_id)
    row = await db.get(ReviewAssignment, (item.id, principal.person_id)) if principal.person_id else None
    if row is None:
        raise NotFound()  # reviewing without an assignment: as if there were nothing here
    return item, idea, campaign, row


async def _reviews(db: AsyncSession, idea_id: int, *, submitted_only: bool = False) -> list[Review]:
    query = select(ReviewAssignment, Person.display_name).join(Person, Person.id == ReviewAssignment.reviewer_id) \
        .where(ReviewAssignment.idea_id == idea_id).order_by(ReviewAssignment.assigned_at, Person.id)
    if submitted_only:
        query = query.where(ReviewAssignment.submitted_at.is_not(None))
    rows = (await db.execute(query)).all()
    scores: dict[int, dict[int, int]] = {r.reviewer_id: {} for r, _ in rows}
    for reviewer_id, criterion_id, score in (await db.execute(select(
            ReviewScore.reviewer_id, ReviewScore.criterion_id, ReviewScore.score)
            .where(ReviewScore.idea_id == idea_id))).all():
        if reviewer_id in scores:
            scores[reviewer_id][criterion_id] = score
    return [Review(r.reviewer_id, name, scores[r.reviewer_id], r.comment, r.submitted_at, r.score)
            for r, name in rows]


async def my_review(db: AsyncSession, principal: Principal, idea_id: Any) -> ReviewForm:
    item, idea, campaign, row = await _assignment(db, principal, idea_id)
    everyone = await _reviews(db, item.id)
    mine = next(r for r in everyone if r.reviewer_id == principal.person_id)
    visible = row.submitted_at is not None or not campaign.blind_review
    others = [r for r in everyone if r.reviewer_id != principal.person_id and r.submitted_at is not None]
    return ReviewForm(item, idea, campaign, await criteria(db, campaign.id), mine, visible,
                      others if visible else [])


def _clean_scores(value: Any, known: set[int]) -> dict[int, int]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed.one("scores", N_("must map criterion ids to scores from 1 to 5"))
    cleaned = {}
    for key, score in value.items():
        try:
            criterion_id = int(key)
        except (TypeError, ValueError):
            criterion_id = None
        if criterion_id not in known:
            raise ValidationFailed.one("scores", N_("no such criterion: {id}"), id=str(key))
        if score in (None, ""):
            continue
        if isinstance(score, str) and score.strip().isdigit():
            score = int(score)
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationFailed.one("scores", N_("each score must be a whole number from 1 to 5"))
        cleaned[criterion_id] = score
    return cleaned


async def save_review(db: AsyncSession, principal: Principal, idea_id: Any, values: dict[str, Any], *,
                      ip: str = "") -> ReviewForm:
    """Save the reviewer's draft (`scores`, `comment`); with `submit` true, submit it — every criterion scored."""
    item, idea, campaign, row = await _assignment(db, principal, idea_id)
    if row.submitted_at is not None:
        raise Conflict(N_("This review was already submitted."))
    if campaign.archived_at is not None:
        raise Conflict(N_("This campaign is archived: it can be read but not changed."))
    listed = await criteria(db, campaign.id)
    weights = {c.id: c.weight for c in listed}
    scores = _clean_scores(values.get("scores"), set(weights))
    comment = values.get("comment", row.comment)
    if not isinstance(comment, str):
        raise ValidationFailed.one("comment", N_("must be text"))
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed.one("comment", N_("must be at most {max} characters"), max=MAX_COMMENT)
    submit = values.get("submit") in (True, "true", "1", "on")
    if "scores" in values:
        await db.execute(delete(ReviewScore).where(ReviewScore.idea_id == item.id,
                                                   ReviewScore.reviewer_id == principal.person_id))
        db.add_all([ReviewScore(idea_id=item.id, reviewer_id=principal.person_id, criterion_id=c, score=s)
                    for c, s in scores.items()])
    else:
        scores = dict((await db.execute(select(ReviewScore.criterion_id, ReviewScore.score).where(
            ReviewScore.idea_id == item.id, ReviewScore.reviewer_id == principal.person_id))).all())
    row.comment = comment
    if submit:
        unscored = [c.name for c in listed if c.id not in scores]
        if unscored:
            raise ValidationFailed.one("scores", N_("every criterion must be scored to submit; missing: {names}"),
                                       names=", ".join(unscored))
        if not listed:
            raise ValidationFailed.one("scores", N_("this campaign has no review criteria"))
        row.submitted_at, row.score = utcnow(), weighted_mean(scores, weights)
        await db.flush()
        await recompute(db, idea)
        await audit.record(db, principal, "idea.review.submit", "item", item.id,
                           new={"score": row.score, "scores": {str(k): v for k, v in scores.items()}}, ip=ip)
    await db.flush()
    return await my_review(db, principal, item.id)


async def recompute(db: AsyncSession, idea: Idea) -> None:
    means = [s for s in await db.scalars(select(ReviewAssignment.score).where(
        ReviewAssignment.idea_id == idea.item_id, ReviewAssignment.submitted_at.is_not(None),
        ReviewAssignment.score.is_not(None)))]
    idea.review_score, idea.review_spread = combine(means)
    await db.flush()


async def visible_reviews(db: AsyncSession, principal: Principal, idea_id: Any) -> list[Review]:
    """The reviews of an idea this principal may see: managers every one (drafts too), a reviewer their own and,
    once they submitted (or when the campaign is not blind), the others' submitted ones; anyone else none (404)."""
    item, _, campaign = await _idea(db, principal, idea_id)
    if (await access.standing(db, principal, campaign)).can_manage:
        return await _reviews(db, item.id)
    row = await db.get(ReviewAssignment, (item.id, principal.person_id)) if principal.person_id else None
    if row is None:
        raise NotFound()
    everyone = await _reviews(db, item.id)
    if row.submitted_at is None and campaign.blind_review:
        return [r for r in everyone if r.reviewer_id == principal.person_id]
    return [r for r in everyone if r.reviewer_id == principal.person_id or r.submitted_at is not None]


@dataclass
class MyReview:
    item_id: int
    title: str
    campaign_id: int
    campaign_title: str
    assigned_at: dt.datetime
    submitted_at: dt.datetime | None
    score: float | None


async def my_reviews(db: AsyncSession, principal: Principal) -> list[MyReview]:
    """The reviewer's assignments, those still to do first, on ideas they can still read."""
    if principal.person_id is None:
        return []
    rows = (await db.execute(
        select(ReviewAssignment, Item.title, Campaign.id, Campaign.title)
        .join(Item, Item.id == ReviewAssignment.idea_id).join(Campaign, Campaign.id == Item.campaign_id)
        .where(ReviewAssignment.reviewer_id == principal.person_id, Item.deleted_at.is_(None),
               access.readable_clause(principal))
        .order_by(ReviewAssignment.submitted_at.is_not(None), ReviewAssignment.assigned_at.desc()))).all()
    return [MyReview(r.idea_id, title, cid, ctitle, r.assigned_at, r.submitted_at, r.score)
            for r, title, cid, ctitle in rows]


# --- agreement -----------------------------------------------------------------------------------------------------

def agreement_of(spreads: list[float]) -> float | None:
    """Reviewer agreement in a campaign: 1 − the mean normalised spread, over ideas with at least two submitted
    reviews. An idea's spread (the population standard deviation of its reviewers' weighted means) is divided by
    2, the largest possible on a 1–5 scale, so 1 means every reviewer agreed on every idea and 0 means they were
    as far apart as possible. None when no idea has two submitted reviews.

    E.g. two ideas, one with reviewers at 3 and 3 (spread 0), one at 2 and 4 (spread 1): 1 − (0 + 0.5) / 2 = 0.75.
    """
    if not spreads:
        return None
    return 1 - statistics.fmean(min(s / MAX_SPREAD, 1.0) for s in spreads)


async def agreement(db: AsyncSession, campaign_id: int) -> float | None:
    counted = select(ReviewAssignment.idea_id).where(ReviewAssignment.submitted_at.is_not(None)) \
        .group_by(ReviewAssignment.idea_id).having(func.count() >= 2)
    spreads = list(await db.scalars(select(Idea.review_spread).where(
        Idea.campaign_id == campaign_id, Idea.review_spread.is_not(None), Idea.item_id.in_(counted))))
    return agreement_of(spreads)
