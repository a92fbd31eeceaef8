"""Reviews through the service: assigning (conflicts of interest), drafts and submitting, blind mode, the scores."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from socius.admin.models import AuditEntry
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.ideas import review
from socius.ideas.models import Idea
from socius.notifications.models import Notification
from socius.people.models import Role

CRITERIA = [{"name": "影響", "weight": 3}, {"name": "可行性", "weight": 1}]


async def _setup(db, make_person, campaign, idea, **values):
    owner = await make_person("Owner")
    author = await make_person("Author")
    coauthor = await make_person("Co-author")
    r1 = await make_person("Reviewer one")
    r2 = await make_person("Reviewer two")
    made = await campaign(owner, criteria=CRITERIA, **values)
    posted = await idea(author, made, coauthors=[coauthor.id])
    crit = await review.criteria(db, made.id)
    return owner, author, coauthor, r1, r2, made, posted, crit


async def test_managers_assign_employees_never_the_authors(db, make_person, campaign, idea):
    owner, author, coauthor, r1, r2, _made, posted, _ = await _setup(db, make_person, campaign, idea)
    guest = await make_person("Guest", role=Role.GUEST, manager_id=owner.id)
    for conflicted in (author, coauthor):
        with pytest.raises(ValidationFailed) as refused:
            await review.assign_reviewers(db, owner.principal, posted.item.id, [r1.id, conflicted.id])
        assert refused.value.errors[0].field == "person_ids"
    with pytest.raises(ValidationFailed):
        await review.assign_reviewers(db, owner.principal, posted.item.id, [guest.id])
    with pytest.raises(PermissionDenied):
        await review.assign_reviewers(db, r1.principal, posted.item.id, [r2.id])
    assert await review.assign_reviewers(db, owner.principal, posted.item.id, [r1.id, r2.id]) == [r1.id, r2.id]
    assert await review.assign_reviewers(db, owner.principal, posted.item.id, [r1.id]) == []
    kinds = list(await db.scalars(select(Notification.kind).where(Notification.person_id == r1.id)))
    assert "idea_review_assigned" in kinds
    actions = list(await db.scalars(select(AuditEntry.action).where(AuditEntry.action == "idea.review.assign")))
    assert len(actions) == 2


async def test_a_private_campaign_takes_only_reviewers_who_can_read_it(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    made = await campaign(owner, audience="invited", participants=[insider], criteria=CRITERIA)
    posted = await idea(owner, made)
    with pytest.raises(ValidationFailed) as refused:
        await review.assign_reviewers(db, owner.principal, posted.item.id, [outsider.id])
    assert refused.value.errors[0].field == "person_ids"
    # The owner wrote it: a manager who is an author still cannot review, but may assign the insider.
    assert await review.assign_reviewers(db, owner.principal, posted.item.id, [insider.id]) == [insider.id]


async def test_draft_then_submit_scores_the_idea_and_blind_mode_hides_others(db, make_person, campaign, idea):
    owner, author, _, r1, r2, made, posted, crit = await _setup(db, make_person, campaign, idea)
    impact, feasible = crit[0].id, crit[1].id
    await review.assign_reviewers(db, owner.principal, posted.item.id, [r1.id, r2.id])
    with pytest.raises(NotFound):
        await review.save_review(db, author.principal, posted.item.id, {"scores": {impact: 5}})
    with pytest.raises(NotFound):
        await review.visible_reviews(db, author.principal, posted.item.id)
    draft = await review.save_review(db, r1.principal, posted.item.id,
                                     {"scores": {str(impact): 5}, "comment": "很有潛力"})
    assert draft.mine.submitted_at is None and draft.mine.scores == {impact: 5}
    with pytest.raises(ValidationFailed) as refused:
        await review.save_review(db, r1.principal, posted.item.id, {"submit": True})
    assert refused.value.errors[0].field == "scores"
    with pytest.raises(ValidationFailed):
        await review.save_review(db, r1.principal, posted.item.id, {"scores": {impact: 6}})
    done = await review.save_review(db, r1.principal, posted.item.id, {"scores": {impact: 5, feasible: 1},
                                                                        "submit": True})
    assert done.mine.score == pytest.approx(4.0)  # (5·3 + 1·1) / 4
    with pytest.raises(Conflict):
        await review.save_review(db, r1.principal, posted.item.id, {"comment": "改"})
    # r2 has not submitted: blind mode shows only their own draft.
    await review.save_review(db, r2.principal, posted.item.id, {"comment": "草稿"})
    seen = await review.visible_reviews(db, r2.principal, posted.item.id)
    assert [r.reviewer_id for r in seen] == [r2.id]
    assert (await review.my_review(db, r2.principal, posted.item.id)).others == []
    # Managers see every review, drafts too.
    assert {r.reviewer_id for r in await review.visible_reviews(db, owner.principal, posted.item.id)} == \
        {r1.id, r2.id}
    await review.save_review(db, r2.principal, posted.item.id,
                             {"scores": {impact: 2, feasible: 2}, "submit": True})
    seen = await review.visible_reviews(db, r2.principal, posted.item.id)
    assert {r.reviewer_id for r in seen} == {r1.id, r2.id}
    assert next(r for r in seen if r.reviewer_id == r1.id).comment == "很有潛力"
    row = await db.get(Idea, posted.item.id)
    assert row.review_score == pytest.approx(3.0)   # mean of 4 and 2
    assert row.review_spread == pytest.approx(1.0)  # population standard deviation of 4 and 2
    assert await review.agreement(db, made.id) == pytest.approx(0.5)  # 1 − 1/2
    submits = list(await db.scalars(select(AuditEntry.action).where(AuditEntry.action == "idea.review.submit")))
    assert len(submits) == 2
    mine = await review.my_reviews(db, r1.principal)
    assert [(m.item_id, m.score) for m in mine] == [(posted.item.id, pytest.approx(4.0))]


async def test_without_blind_mode_a_reviewer_sees_submitted_reviews_before_submitting(
        db, make_person, campaign, idea):
    owner, _, _, r1, r2, _made, posted, crit = await _setup(db, make_person, campaign, idea, blind_review=False)
    await review.assign_reviewers(db, owner.principal, posted.item.id, [r1.id, r2.id])
    await review.save_review(db, r1.principal, posted.item.id,
                             {"scores": {c.id: 3 for c in crit}, "submit": True})
    form = await review.my_review(db, r2.principal, posted.item.id)
    assert form.others_visible and [r.reviewer_id for r in form.others] == [r1.id]


def test_agreement_with_known_numbers():
    assert review.agreement_of([]) is None
    assert review.agreement_of([0.0, 1.0]) == pytest.approx(0.75)
    assert review.agreement_of([2.0]) == pytest.approx(0.0)
    assert review.combine([4.0, 2.0]) == (pytest.approx(3.0), pytest.approx(1.0))
    assert review.weighted_mean({1: 5, 2: 1}, {1: 3.0, 2: 1.0}) == pytest.approx(4.0)
