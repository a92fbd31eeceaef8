"""Merging duplicate ideas and undoing the merge: votes counted once, followers, comments and tags moved and back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socius.admin.models import AuditEntry
from socius.content import service as content
from socius.content.models import Item
from socius.core.errors import Conflict, PermissionDenied, ValidationFailed
from socius.ideas import merging, service
from socius.ideas.models import Follower, Idea, Merge, Vote
from socius.notifications.models import Notification


async def _state(db, idea_id):
    idea = await db.get(Idea, idea_id, populate_existing=True)
    item = await db.get(Item, idea_id, populate_existing=True)
    votes = set((await db.execute(select(Vote.person_id, Vote.value, Vote.merge_id)
                                  .where(Vote.idea_id == idea_id))).all())
    followers = set(await db.scalars(select(Follower.person_id).where(Follower.idea_id == idea_id)))
    comments = set(await db.scalars(select(Item.id).where(Item.parent_id == idea_id)))
    return {"stage": idea.stage, "merged_into": idea.merged_into_id, "up": idea.up_count, "down": idea.down_count,
            "top": round(idea.top, 9), "followers": idea.follower_count, "follower_rows": followers,
            "votes": votes, "comments": comments, "comment_count": item.comment_count, "tags": list(item.tags)}


async def test_merge_moves_votes_once_followers_comments_and_tags_and_undo_restores_everything(
        db, make_person, campaign, idea):
    owner = await make_person("Owner")
    manager = await make_person("Manager")
    a_author = await make_person("A author")
    b_author = await make_person("B author")
    both, only_b, only_a = (await make_person("Votes both"), await make_person("Votes B"),
                            await make_person("Votes A"))
    made = await campaign(owner, managers=[manager])
    a = await idea(a_author, made, "液冷伺服器", tags=["節能"])
    b = await idea(b_author, made, "液體冷卻", tags=["冷卻", "節能"])
    for person, ideas in ((both, (a, b)), (only_b, (b,)), (only_a, (a,))):
        for target in ideas:
            await service.vote(db, person.principal, target.item.id, 1)
    await service.set_following(db, both.principal, a.item.id, True)
    await service.set_following(db, both.principal, b.item.id, True)
    await service.set_following(db, only_b.principal, b.item.id, True)
    said = await content.comment(db, only_b.principal, b.item.id, "我也這樣想")
    await content.comment(db, only_a.principal, a.item.id, "好")
    await db.flush()
    before_a, before_b = await _state(db, a.item.id), await _state(db, b.item.id)

    done = await merging.merge(db, manager.principal, b.item.id, a.item.id)
    after_a, after_b = await _state(db, a.item.id), await _state(db, b.item.id)
    assert after_a["up"] == 3  # both, only_a, only_b: the person who voted on both counts once
    assert {(p, m) for p, _, m in after_a["votes"]} == {(both.id, None), (only_a.id, None), (only_b.id, done.id)}
    assert after_b["votes"] == {(both.id, 1, None)}  # stays on B, inert
    assert after_b["stage"] == "merged" and after_b["merged_into"] == a.item.id
    assert after_a["follower_rows"] == {a_author.id, both.id, b_author.id, only_b.id}
    assert after_a["followers"] == 4
    assert after_b["follower_rows"] == {both.id}  # the duplicate stays on B
    assert said.id in after_a["comments"] and after_a["comment_count"] == 2 and after_b["comment_count"] == 0
    assert after_a["tags"] == ["節能", "冷卻"]
    assert done.snapshot["target_tags"] == ["節能"] and done.snapshot["comment_ids"] == [said.id]
    assert await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "idea.merge"))
    told = await db.scalar(select(func.count()).select_from(Notification).where(
        Notification.person_id == b_author.id, Notification.kind == "idea_merged"))
    assert told == 1
    listed = await service.list_ideas(db, manager.principal, made, service.IdeaQuery(order="new"))
    assert [v.item.id for v in listed] == [a.item.id]

    await merging.unmerge(db, manager.principal, done.id)
    restored_a, restored_b = await _state(db, a.item.id), await _state(db, b.item.id)
    assert restored_a == before_a
    assert restored_b == before_b
    with pytest.raises(Conflict):
        await merging.unmerge(db, manager.principal, done.id)


async def test_merge_refuses_bad_targets_naming_the_field(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    participant = await make_person("Participant")
    made = await campaign(owner)
    elsewhere = await campaign(owner, "另一個挑戰")
    a, b, c = (await idea(author, made, "甲"), await idea(author, made, "乙"), await idea(author, made, "丙"))
    other = await idea(author, elsewhere, "丁")
    for into in (b.item.id, other.item.id, "x", 999999999):
        with pytest.raises(ValidationFailed) as refused:
            await merging.merge(db, owner.principal, b.item.id, into)
        assert refused.value.errors[0].field == "into"
    with pytest.raises(PermissionDenied):
        await merging.merge(db, participant.principal, b.item.id, a.item.id)
    await merging.merge(db, owner.principal, b.item.id, a.item.id)
    with pytest.raises(Conflict):  # already merged
        await merging.merge(db, owner.principal, b.item.id, c.item.id)
    with pytest.raises(ValidationFailed) as refused:  # into a merged idea (and so never a cycle)
        await merging.merge(db, owner.principal, a.item.id, b.item.id)
    assert refused.value.errors[0].field == "into"
    second = await merging.merge(db, owner.principal, a.item.id, c.item.id)
    first = await db.scalar(select(Merge).where(Merge.source_id == b.item.id))
    with pytest.raises(Conflict):  # A was merged elsewhere since: undo that first
        await merging.unmerge(db, owner.principal, first.id)
    await merging.unmerge(db, owner.principal, second.id)
    await merging.unmerge(db, owner.principal, first.id)
    assert (await db.get(Idea, b.item.id, populate_existing=True)).merged_into_id is None


async def test_merge_is_set_based_with_many_votes(db, make_person, campaign, idea):
    owner = await make_person("Owner")
    author = await make_person("Author")
    made = await campaign(owner)
    a, b = await idea(author, made, "甲"), await idea(author, made, "乙")
    voters = [await make_person(f"Voter {n}") for n in range(30)]
    for n, voter in enumerate(voters):
        for target in ((a, b) if n % 3 == 0 else (b,) if n % 3 == 1 else (a,)):
            await service.vote(db, voter.principal, target.item.id, 1)
    await merging.merge(db, owner.principal, b.item.id, a.item.id)
    merged = await db.get(Idea, a.item.id, populate_existing=True)
    assert merged.up_count == 30
    assert await db.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == b.item.id)) == 10


async def test_the_api_merges_undoes_and_names_the_field(db, make_person, campaign, idea, api):
    owner = await make_person("Owner")
    author = await make_person("Author")
    made = await campaign(owner)
    a, b = await idea(author, made, "甲"), await idea(author, made, "乙")
    client = await api(owner)
    refused = await client.post(f"/api/v1/ideas/{b.item.id}/merge", json={"into": b.item.id})
    assert refused.status_code == 422 and "into" in refused.text
    done = await client.post(f"/api/v1/ideas/{b.item.id}/merge", json={"into": a.item.id})
    assert done.status_code == 201, done.text
    undone = await client.post(f"/api/v1/idea-merges/{done.json()['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    again = await client.post(f"/api/v1/idea-merges/{done.json()['id']}/undo")
    assert again.status_code == 409
