"""Innovation metrics through the service, with known timestamps, and the CSV export."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from socius.content.models import Item
from socius.core.db import utcnow
from socius.core.errors import PermissionDenied, ValidationFailed
from socius.ideas import metrics, service
from socius.ideas.models import StageChange, Vote
from socius.people.models import Role

DAY = 86400


async def _scene(db, make_person, campaign, idea):
    now = utcnow()
    owner = await make_person("Owner", department="管理部")
    author = await make_person("Author", department="研發部")
    voter = await make_person("Voter", department="=業務部")
    veteran = await make_person("Veteran", department="研發部")
    guest = await make_person("Guest", role=Role.GUEST, manager_id=owner.id)
    made = await campaign(owner, opens_at=(now - dt.timedelta(days=10)).isoformat(), participants=[guest])
    other = await campaign(owner, "舊挑戰")
    old = await idea(veteran, other, "舊點子")
    await db.execute(update(Item).where(Item.id == old.item.id).values(created_at=now - dt.timedelta(days=100)))
    posted = await idea(author, made)
    await db.execute(update(Item).where(Item.id == posted.item.id).values(created_at=now - dt.timedelta(days=9)))
    await db.execute(update(StageChange).where(StageChange.idea_id == posted.item.id)
                     .values(changed_at=now - dt.timedelta(days=9)))
    await service.change_stage(db, owner.principal, posted.item.id, "under_review", "值得評審")
    await db.execute(update(StageChange).where(StageChange.idea_id == posted.item.id,
                                               StageChange.to_stage == "under_review")
                     .values(changed_at=now - dt.timedelta(days=5)))
    for someone in (voter, veteran, guest):
        await service.vote(db, someone.principal, posted.item.id, 1)
    await db.execute(update(Vote).where(Vote.person_id == veteran.id).values(created_at=now - dt.timedelta(days=1)))
    return owner, voter, made, now


async def test_campaign_metrics_with_known_numbers(db, make_person, campaign, idea):
    owner, voter, made, now = await _scene(db, make_person, campaign, idea)
    with pytest.raises(PermissionDenied):
        await metrics.campaign_metrics(db, voter.principal, made.id)
    found = await metrics.campaign_metrics(db, owner.principal, made.id, now - dt.timedelta(days=20))
    assert found.funnel == [("submitted", 0), ("under_review", 1), ("selected", 0), ("in_development", 0),
                            ("launched", 0), ("declined", 0), ("merged", 0)]
    assert found.contributors == 4            # author, voter, veteran, guest
    assert found.new_voices == 3              # the veteran's first item was 100 days ago
    assert (found.employees, found.guests) == (3, 1)
    assert dict(found.departments) == {"研發部": 2, "=業務部": 1, "": 1}
    assert found.time_to_first_idea == pytest.approx(DAY, abs=5)
    stages = dict(found.time_in_stage)
    assert stages["submitted"] == pytest.approx(4 * DAY, abs=5)
    assert stages["under_review"] == pytest.approx(5 * DAY, abs=60)  # counted until now
    # A later period: only the recent voices, nobody new but those whose first contribution is in it.
    recent = await metrics.campaign_metrics(db, owner.principal, made.id, now - dt.timedelta(days=2))
    assert recent.contributors == 3 and recent.new_voices == 2  # voter and guest voted just now
    assert "submitted" not in dict(recent.time_in_stage)


async def test_overall_metrics_need_the_administer_permission(db, make_person, campaign, idea):
    owner, _, _, now = await _scene(db, make_person, campaign, idea)
    admin = await make_person("Admin", role=Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        await metrics.overall_metrics(db, owner.principal)
    found = await metrics.overall_metrics(db, admin.principal, now - dt.timedelta(days=20))
    assert found.new_voices == 3 and found.contributors == 4
    assert dict(found.funnel) == {"submitted": 1, "under_review": 1}


async def test_csv_is_excel_friendly_and_safe_against_formulas(db, make_person, campaign, idea):
    owner, _, made, now = await _scene(db, make_person, campaign, idea)
    found = await metrics.campaign_metrics(db, owner.principal, made.id, now - dt.timedelta(days=20))
    data = metrics.to_csv(found)
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "department,'=業務部,1" in text
    assert "new_voices,,3" in text
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert metrics.safe_cell(risky) == "'" + risky
    assert metrics.safe_cell("研發") == "研發" and metrics.safe_cell(None) == ""


def test_periods_are_checked():
    assert metrics.parse_period("", None) == (None, None)
    start, end = metrics.parse_period("2026-01-01", "2026-02-01")
    assert start.tzinfo is not None and end > start
    with pytest.raises(ValidationFailed) as refused:
        metrics.parse_period("2026-02-01", "2026-01-01")
    assert refused.value.errors[0].field == "end"
    with pytest.raises(ValidationFailed):
        metrics.parse_period("明天", None)
