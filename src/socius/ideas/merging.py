"""Merging duplicate ideas, and undoing a merge.

`merge(db, principal, source_id, target_id, *, ip="") -> Merge` moves the source's comments, followers, tags and
votes to the target (a person who voted on both counts once: their source vote stays on the source, inert), marks
the source merged (stage "merged", `merged_into_id`), records an audit entry and the snapshot undoing needs;
`unmerge(db, principal, merge_id, *, ip="") -> Merge` restores the source as it was.

Every move is one set-based statement, whatever the number of votes: rows moved carry the merge's id, so undoing
moves exactly those back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, exists, func, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.admin import service as audit
from socius.communities import service as communities
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.db import utcnow
from socius.core.errors import Conflict, NotFound, ValidationFailed
from socius.core.i18n import N_
from socius.ideas import access, service
from socius.ideas.models import Campaign, Follower, Idea, IdeaCoauthor, Merge, Stage, StageChange, Vote
from socius.notifications import service as notifications

notifications.register_kind("idea_merged", N_("{actor} merged your idea “{title}” into “{target}”"),
                            label=N_("My ideas are merged into others"))
notifications.register_kind("idea_unmerged", N_("{actor} undid the merge of your idea “{title}”"),
                            label=N_("Merges of my ideas are undone"))


def _authors(idea_id: int) -> Any:
    return union(select(Item.author_id).where(Item.id == idea_id, Item.author_id.is_not(None)),
                 select(IdeaCoauthor.person_id).where(IdeaCoauthor.idea_id == idea_id))


async def _recount_followers(db: AsyncSession, idea_ids: list[int]) -> None:
    counted = select(func.count()).where(Follower.idea_id == Idea.item_id).scalar_subquery()
    await db.execute(update(Idea).where(Idea.item_id.in_(idea_ids)).values(follower_count=counted)
                     .execution_options(synchronize_session=False))


async def _touch(db: AsyncSession, item_ids: list[int]) -> None:
    """Re-index: the item table's outbox trigger queues the items for search (a merged idea is not found)."""
    await db.execute(update(Item).where(Item.id.in_(item_ids)).values(updated_at=utcnow())
                     .execution_options(synchronize_session=False))


async def merge(db: AsyncSession, principal: Principal, source_id: Any, target_id: Any, *, ip: str = "") -> Merge:
    """A campaign manager merges idea `source_id` (B) into `target_id` (A), in the same campaign."""
    source_item, source = await service._idea_rows(db, principal, source_id)
    if not communities.is_id(target_id):
        raise ValidationFailed.one("into", N_("must be the id of an idea"))
    try:
        target_item, target = await service._idea_rows(db, principal, target_id)
    except NotFound:
        raise ValidationFailed.one("into", N_("no such idea")) from None
    campaign = await db.get(Campaign, source.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    if target.item_id == source.item_id:
        raise ValidationFailed.one("into", N_("an idea cannot be merged into itself"))
    if target.campaign_id != source.campaign_id:
        raise ValidationFailed.one("into", N_("must be an idea in the same campaign"))
    if source.merged_into_id is not None:
        raise Conflict(N_("This idea was already merged into another one."))
    if target.merged_into_id is not None:
        raise ValidationFailed.one("into", N_("this idea was itself merged into another one"))
    if source.pending or target.pending:
        raise ValidationFailed.one("into", N_("ideas waiting for approval cannot be merged"))
    # Lock both ideas (in id order) so that concurrent merges and votes see one consistent state.
    await db.execute(select(Idea.item_id).where(Idea.item_id.in_([source.item_id, target.item_id]))
                     .order_by(Idea.item_id).with_for_update())
    await db.refresh(source)
    await db.refresh(target)
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict(N_("This idea was already merged into another one."))
    a, b = target.item_id, source.item_id
    row = Merge(source_id=b, target_id=a, merged_by=principal.person_id, snapshot={})
    db.add(row)
    await db.flush()

    comment_ids = list(await db.scalars(
        update(Item).where(Item.parent_id == b, Item.kind == ItemKind.COMMENT.value).values(parent_id=a)
        .returning(Item.id).execution_options(synchronize_session=False)))
    live = await db.scalar(select(func.count()).where(Item.id.in_(comment_ids), Item.deleted_at.is_(None))) \
        if comment_ids else 0
    if live:
        await db.execute(update(Item).where(Item.id == a).values(comment_count=Item.comment_count + live)
                         .execution_options(synchronize_session=False))
        await db.execute(update(Item).where(Item.id == b)
                         .values(comment_count=func.greatest(Item.comment_count - live, 0))
                         .execution_options(synchronize_session=False))
    other_vote, other_follower = aliased(Vote), aliased(Follower)
    moved_votes = (await db.execute(
        update(Vote).where(Vote.idea_id == b, ~exists().where(other_vote.idea_id == a,
                                                              other_vote.person_id == Vote.person_id))
        .values(idea_id=a, merge_id=row.id).execution_options(synchronize_session=False))).rowcount
    moved_followers = (await db.execute(
        update(Follower).where(Follower.idea_id == b,
                               ~exists().where(other_follower.idea_id == a,
                                               other_follower.person_id == Follower.person_id))
        .values(idea_id=a, merge_id=row.id).execution_options(synchronize_session=False))).rowcount
    await service.recount_votes(db, [a, b])
    await _recount_followers(db, [a, b])

    await db.refresh(target_item)
    await db.refresh(source_item)
    tags_before = list(target_item.tags or [])
    target_item.tags = list(dict.fromkeys([*tags_before, *(source_item.tags or [])]))[:20]
    row.snapshot = {"stage": source.stage, "stage_changed_at": source.stage_changed_at.isoformat(),
                    "target_tags": tags_before, "comment_ids": comment_ids, "comments_live": live,
                    "votes": moved_votes, "followers": moved_followers}
    await service._set_stage(db, principal, campaign, source_item, source, Stage.MERGED.value, "", notify=False)
    source.merged_into_id = a
    await db.flush()
    await _touch(db, [a, b])
    await notifications.notify_many(db, _authors(b), "idea_merged", actor_id=principal.person_id,
                                    url=content.item_url(target_item), campaign_id=campaign.id,
                                    title=source_item.title, target=target_item.title)
    await audit.record(db, principal, "idea.merge", "item", b,
                       new={"into": a, "merge_id": row.id, "votes": moved_votes, "followers": moved_followers,
                            "comments": len(comment_ids)}, ip=ip)
    await db.refresh(target)
    await db.refresh(source)
    return row


async def unmerge(db: AsyncSession, principal: Principal, merge_id: Any, *, ip: str = "") -> Merge:
    """Undo a merge: the source gets back its votes, followers, comments and stage; the target its tags."""
    if not communities.is_id(merge_id):
        raise NotFound()
    row = await db.get(Merge, merge_id, with_for_update=True)
    if row is None:
        raise NotFound()
    source_item, source = await service._idea_rows(db, principal, row.source_id)
    target_item, target = await service._idea_rows(db, principal, row.target_id)
    campaign = await db.get(Campaign, source.campaign_id)
    assert campaign is not None
    await access.require_manager(db, principal, campaign)
    if row.undone_at is not None:
        raise Conflict(N_("This merge was already undone."))
    if source.merged_into_id != target.item_id:
        raise Conflict(N_("The idea was merged elsewhere since: undo that merge first."))
    if target.merged_into_id is not None:
        raise Conflict(N_("The idea it was merged into was merged elsewhere since: undo that merge first."))
    a, b, snapshot = target.item_id, source.item_id, row.snapshot
    other_vote, other_follower = aliased(Vote), aliased(Follower)
    await db.execute(update(Vote).where(Vote.merge_id == row.id, Vote.idea_id == a,
                                        ~exists().where(other_vote.idea_id == b,
                                                        other_vote.person_id == Vote.person_id))
                     .values(idea_id=b, merge_id=None).execution_options(synchronize_session=False))
    await db.execute(update(Follower).where(Follower.merge_id == row.id, Follower.idea_id == a,
                                            ~exists().where(other_follower.idea_id == b,
                                                            other_follower.person_id == Follower.person_id))
                     .values(idea_id=b, merge_id=None).execution_options(synchronize_session=False))
    # Someone who followed the merged idea meanwhile already follows it again: the moved copy goes.
    await db.execute(delete(Follower).where(Follower.merge_id == row.id, Follower.idea_id == a))
    comment_ids = [int(i) for i in snapshot.get("comment_ids", [])]
    back = list(await db.scalars(
        update(Item).where(Item.id.in_(comment_ids), Item.parent_id == a).values(parent_id=b)
        .returning(Item.id).execution_options(synchronize_session=False))) if comment_ids else []
    live = await db.scalar(select(func.count()).where(Item.id.in_(back), Item.deleted_at.is_(None))) \
        if back else 0
    if live:
        await db.execute(update(Item).where(Item.id == a)
                         .values(comment_count=func.greatest(Item.comment_count - live, 0))
                         .execution_options(synchronize_session=False))
        await db.execute(update(Item).where(Item.id == b).values(comment_count=Item.comment_count + live)
                         .execution_options(synchronize_session=False))
    await service.recount_votes(db, [a, b])
    await _recount_followers(db, [a, b])
    await db.refresh(target_item)
    target_item.tags = list(snapshot.get("target_tags", target_item.tags))
    stage = snapshot.get("stage") or campaign.stages[0]
    db.add(StageChange(idea_id=b, campaign_id=campaign.id, from_stage=source.stage, to_stage=stage,
                       changed_by=principal.person_id))
    changed = snapshot.get("stage_changed_at")
    source.stage, source.merged_into_id = stage, None
    source.stage_changed_at = dt.datetime.fromisoformat(changed) if changed else utcnow()
    row.undone_at, row.undone_by = utcnow(), principal.person_id
    await db.flush()
    await _touch(db, [a, b])
    await notifications.notify_many(db, _authors(b), "idea_unmerged", actor_id=principal.person_id,
                                    url=content.item_url(source_item), campaign_id=source_item.campaign_id,
                                    title=source_item.title)
    await audit.record(db, principal, "idea.unmerge", "item", b, old={"into": a, "merge_id": row.id}, ip=ip)
    await db.refresh(target)
    await db.refresh(source)
    return row


async def merges_of(db: AsyncSession, idea_id: int) -> list[Merge]:
    """The merges into this idea that can still be undone, newest first (for its managers' page)."""
    return list(await db.scalars(select(Merge).where(Merge.target_id == idea_id, Merge.undone_at.is_(None))
                                 .order_by(Merge.id.desc())))
