"""The idea portal's rules, through the service: who reads and takes part, votes, stages, waiting guest ideas."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from socius.content import service as content
from socius.core.db import utcnow
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.ideas import access, ranking, service
from socius.ideas.models import Idea, Vote
from socius.notifications.models import Notification
from socius.people.models import Role
from socius.search import service as search
from socius.search.service import SearchRequest


async def test_everyone_reads_an_employee_campaign_and_only_invited_guests_read_it(
        db, make_person, campaign, idea):
    owner = await make_person("Owner")
    employee = await make_person("Employee")
    invited = await make_person("Invited guest", role=Role.GUEST, manager_id=owner.id)
    stranger = await make_person("Other guest", role=Role.GUEST, manager_id=owner.id)
    made = await campaign(owner, participants=[invited])
    other = await campaign(owner, "另一個挑戰")
    posted = await idea(employee, made)
    assert (await access.get_campaign(db, employee.principal, made.id)).id == made.id
    assert (await access.get_campaign(db, invited.principal, made.id)).id == made.id
    for someone, campaign_id in ((stranger, made.id), (invited, other.id)):
        with pytest.raises(NotFound):
            await access.get_campaign(db, someone.principal, campaign_id)
    with pytest.raises(NotFound):
        await service.get_idea(db, stranger.principal, posted.item.id)
    assert [c.id for c in await service.campaigns(db, invited.principal)] == [made.id]


async def test_a_private_campaign_is_read_only_by_its_members(db, make_person, campaign, idea, backend, index_now):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    made = await campaign(owner, "機密創新", audience="invited", participants=[insider])
    posted = await idea(insider, made, "預拌混凝土 回收")
    await index_now()
    with pytest.raises(NotFound):
        await service.get_idea(db, outsider.principal, posted.item.id)

    async def found(someone):
        page = await search.search(db, someone.principal, backend, SearchRequest(q="预拌混凝土", kinds=["idea"]))
        return [r.item.id for r in page.results]

    assert await found(insider) == [posted.item.id]
    assert await found(outsider) == []
    await service.remove_member(db, owner.principal, made.id, insider.id)
    assert await found(insider) == []  # hydrating re-checks the database


async def test_one_vote_per_person_never_on_ones_own_idea(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    coauthor = await make_person("Co-author")
    voter = await make_person("Voter")
    made = await campaign(owner)
    posted = await idea(author, made, coauthors=[coauthor.id])
    voted = await service.vote(db, voter.principal, posted.item.id, 1)
    assert (voted.idea.up_count, voted.my_vote) == (1, 1)
    shown = await service.get_idea(db, voter.principal, posted.item.id)
    assert voted.coauthor_ids == shown.coauthor_ids == [coauthor.id]
    with pytest.raises(Conflict):
        await service.vote(db, voter.principal, posted.item.id, 1)
    with pytest.raises(ValidationFailed) as refused:
        await service.vote(db, voter.principal, posted.item.id, -1)
    assert refused.value.errors[0].field == "value"  # this campaign takes up votes only
    for own in (author, coauthor):
        with pytest.raises(PermissionDenied):
            await service.vote(db, own.principal, posted.item.id, 1)
    rows = await db.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == posted.item.id))
    assert rows == 1
    undone = await service.unvote(db, voter.principal, posted.item.id)
    assert (undone.idea.up_count, undone.idea.top) == (0, 0)


async def test_a_vote_switches_sides_and_is_taken_back(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    voter = await make_person("Voter")
    made = await campaign(owner, allow_down_votes=True)
    posted = await idea(owner, made)
    down = await service.vote(db, voter.principal, posted.item.id, -1)
    assert (down.idea.up_count, down.idea.down_count, down.my_vote) == (0, 1, -1)
    up = await service.vote(db, voter.principal, posted.item.id, 1)
    assert (up.idea.up_count, up.idea.down_count, up.my_vote) == (1, 0, 1)
    assert up.idea.top == pytest.approx(ranking.wilson(1, 0))
    back = await service.unvote(db, voter.principal, posted.item.id)
    assert (back.idea.up_count, back.idea.down_count, back.my_vote) == (0, 0, 0)
    with pytest.raises(Conflict):
        await service.unvote(db, voter.principal, posted.item.id)
    shown = await service.get_idea(db, voter.principal, posted.item.id)
    assert (shown.idea.up_count, shown.my_vote) == (0, 0)


async def test_voting_after_close_is_refused(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    voter = await make_person("Voter")
    made = await campaign(owner)
    posted = await idea(owner, made)
    await service.change_campaign(db, owner.principal, made.id, {
        "opens_at": utcnow() - dt.timedelta(days=2), "closes_at": utcnow() - dt.timedelta(seconds=1)})
    with pytest.raises(Conflict):
        await service.vote(db, voter.principal, posted.item.id, 1)
    with pytest.raises(Conflict):
        await idea(voter, made, "太晚了")


async def test_rankings_kept_by_votes_agree_with_their_formulas(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    voters = [await make_person(f"Voter {n}") for n in range(6)]
    made = await campaign(owner, allow_down_votes=True)
    ideas = [await idea(owner, made, f"點子 {n}") for n in range(3)]
    chance = random.Random(7)
    for voter in voters:
        for posted in ideas:
            value = chance.choice([1, 1, -1, 0])
            if value:
                await service.vote(db, voter.principal, posted.item.id, value)
    for posted in ideas:
        row = await db.get(Idea, posted.item.id, populate_existing=True)
        assert row.top == pytest.approx(ranking.wilson(row.up_count, row.down_count))
        assert row.hot == pytest.approx(ranking.hot(row.up_count, row.down_count, posted.item.created_at))
    top = await service.list_ideas(db, owner.principal, made, service.IdeaQuery(order="top"))
    assert [v.idea.top for v in top] == sorted((v.idea.top for v in top), reverse=True)
    assert ranking.wilson(40, 10) > ranking.wilson(3, 0)


async def test_stages_move_only_as_the_campaign_allows_and_tell_voters(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    voter = await make_person("Voter")
    made = await campaign(owner)
    posted = await idea(author, made)
    await service.vote(db, voter.principal, posted.item.id, 1)
    with pytest.raises(ValidationFailed) as jump:
        await service.change_stage(db, owner.principal, posted.item.id, "launched", "直接上線")
    assert jump.value.errors[0].field == "stage"
    with pytest.raises(ValidationFailed):
        await service.change_stage(db, owner.principal, posted.item.id, "under_review", "")
    with pytest.raises(PermissionDenied):
        await service.change_stage(db, author.principal, posted.item.id, "under_review", "自己來")
    moved = await service.change_stage(db, owner.principal, posted.item.id, "under_review", "開始評審")
    assert moved.idea.stage == "under_review"
    told = set(await db.scalars(select(Notification.person_id).where(Notification.kind == "idea_stage")))
    assert told == {author.id, voter.id}
    assert [c.to_stage for c in await service.timeline(db, posted.item.id)] == ["submitted", "under_review"]


async def test_a_guests_idea_waits_for_a_manager(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    employee = await make_person("Employee")
    guest = await make_person("Guest", role=Role.GUEST, manager_id=owner.id)
    made = await campaign(owner, participants=[guest])
    waiting = await idea(guest, made, "客戶的點子")
    assert waiting.idea.pending
    assert (await service.get_idea(db, guest.principal, waiting.item.id)).item.id == waiting.item.id
    with pytest.raises(NotFound):
        await service.get_idea(db, employee.principal, waiting.item.id)
    listed = await service.list_ideas(db, employee.principal, made, service.IdeaQuery(order="new"))
    assert listed == []
    queue = await service.list_ideas(db, owner.principal, made, service.IdeaQuery(order="new", pending=True))
    assert [v.item.id for v in queue] == [waiting.item.id]
    await service.approve_idea(db, owner.principal, waiting.item.id)
    assert (await service.get_idea(db, employee.principal, waiting.item.id)).idea.pending is False


async def test_comments_on_an_idea_follow_the_campaigns_rules(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    insider = await make_person("Insider")
    outsider = await make_person("Outsider")
    made = await campaign(owner, audience="invited", participants=[insider])
    posted = await idea(owner, made)
    said = await content.comment(db, insider.principal, posted.item.id, "好主意")
    assert said.campaign_id == made.id
    with pytest.raises(NotFound):
        await content.comment(db, outsider.principal, posted.item.id, "我也要")
    with pytest.raises(NotFound):
        await content.get_item(db, outsider.principal, said.id)


async def test_campaign_input_errors_name_the_field(db, make_person):
    owner = await make_person("Owner")
    with pytest.raises(ValidationFailed) as bad:
        await service.create_campaign(db, owner.principal, {
            "title": "", "audience": "everyone", "stages": ["only"], "criteria": [{"name": "x", "weight": 0}],
            "opens_at": "tomorrow"})
    assert {e.field for e in bad.value.errors} == {"title", "audience", "stages", "criteria", "opens_at"}
    guest = await make_person("Guest", role=Role.GUEST, manager_id=owner.id)
    with pytest.raises(PermissionDenied):
        await service.create_campaign(db, guest.principal, {"title": "外部挑戰"})
