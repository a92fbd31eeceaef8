"""Graduation: a selected idea becomes a project community with its team, followed by its voters and followers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from socius.activity import service as activity
from socius.activity.models import Follow
from socius.communities.models import Membership
from socius.core.errors import Conflict, PermissionDenied, ValidationFailed
from socius.ideas import graduation, service
from socius.ideas.models import Idea


async def test_a_selected_idea_becomes_a_project_its_voters_and_followers_follow(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    coauthor = await make_person("Co-author")
    voter = await make_person("Voter")
    follower = await make_person("Follower")
    made = await campaign(owner)
    posted = await idea(author, made, "液冷伺服器", coauthors=[coauthor.id])
    await service.vote(db, voter.principal, posted.item.id, 1)
    await service.set_following(db, follower.principal, posted.item.id, True)
    with pytest.raises(ValidationFailed) as refused:  # still submitted
        await graduation.graduate(db, owner.principal, posted.item.id, {})
    assert refused.value.errors[0].field == "stage"
    await service.change_stage(db, owner.principal, posted.item.id, "under_review", "看看")
    await service.change_stage(db, owner.principal, posted.item.id, "selected", "入選")
    with pytest.raises(PermissionDenied):
        await graduation.graduate(db, voter.principal, posted.item.id, {})

    project = await graduation.graduate(db, owner.principal, posted.item.id, {})
    assert project.name == "液冷伺服器" and project.access == "public"
    assert (await db.get(Idea, posted.item.id)).project_community_id == project.id
    assert (await graduation.idea_of_community(db, project.id)).id == posted.item.id
    roles = dict((await db.execute(select(Membership.person_id, Membership.role)
                                   .where(Membership.community_id == project.id))).all())
    assert roles == {owner.id: "owner", author.id: "owner", coauthor.id: "owner"}
    followers = set(await db.scalars(select(Follow.person_id).where(Follow.target_kind == "community",
                                                                    Follow.target == str(project.id))))
    assert {voter.id, follower.id, author.id} <= followers
    with pytest.raises(Conflict):
        await graduation.graduate(db, owner.principal, posted.item.id, {"name": "再一次"})

    said = await activity.post_status(db, author.principal, "原型機已上線", community_id=project.id)
    await db.flush()
    feed = await activity.home_feed(db, voter.principal)
    assert said.id in [e.item.id for e in feed.entries if e.item is not None]


async def test_a_projects_page_links_back_to_its_idea_for_those_who_read_it(db, make_person, campaign, idea, app,
                                                                            login):
    owner = await make_person("Owner")
    outsider = await make_person("Outsider")
    made = await campaign(owner, "私有挑戰", audience="invited")
    posted = await idea(owner, made, "液冷伺服器")
    for stage in ("under_review", "selected"):
        await service.change_stage(db, owner.principal, posted.item.id, stage, "好")
    project = await graduation.graduate(db, owner.principal, posted.item.id, {"name": "液冷專案"})
    pages = {}
    for someone in (owner, outsider):  # the outsider reads the public project, not the private campaign's idea
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Accept-Language": "en"}) as client:
            await login(client, someone)
            pages[someone.id] = (await client.get(f"/communities/{project.id}")).text
    assert f'href="/ideas/{posted.item.id}"' in pages[owner.id] and "This project grew from the idea" in pages[owner.id]
    assert "液冷專案" in pages[outsider.id] and f"/ideas/{posted.item.id}" not in pages[outsider.id]
