"""The forum of a community: topics (a topic may be a question), replies, and accepted answers.

A topic is an item of kind `topic` (`data.question` marks a question), a reply an item of kind `reply` made with
`content.service.comment`; access, conflicts, mentions and moderation are `content.service`'s. What is the
forum's own: the topic list (newest activity first, questions, unanswered questions), and accepting an answer —
the question's author or a moderator marks one reply (`item.accepted_id`), and its author is told.
Accepted answers weigh more than other replies as evidence of expertise (`accepted_answers`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.admin import service as audit
from socius.communities import service as communities
from socius.content import apps
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.db import one_of
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_, ngettext
from socius.expertise import finder
from socius.notifications import service as notifications

TOPIC = ItemKind.TOPIC.value
REPLY = ItemKind.REPLY.value
SHOW = ("all", "questions", "unanswered")

notifications.register_kind("answer_accepted", N_("{actor} accepted your answer to “{title}”"),
                            label=N_("My answers are accepted"))
content.ITEM_URLS[TOPIC] = lambda item: f"/communities/{item.community_id}/forum/{item.id}"

IS_QUESTION = Item.data["question"].as_boolean().is_(True)


def is_question(item: Item) -> bool:
    return bool((item.data or {}).get("question"))


def _question_flag(value: Any) -> bool:
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValidationFailed.one("question", N_("must be true or false"))


async def topics(db: AsyncSession, principal: Principal, community_id: Any, *, show: Any = "all", tag: Any = "",
                 limit: Any = apps.PAGE_SIZE, offset: Any = 0) -> apps.Listing:
    """Topics with the newest activity first (`item.last_activity_at`: the topic or its newest reply, read in
    the order of an index); `show` = questions, or unanswered (questions with no accepted
    answer yet)."""
    if show not in SHOW:
        raise ValidationFailed.one("show", N_("must be one of: {choices}"), choices=", ".join(SHOW))
    where = []
    if show in ("questions", "unanswered"):
        where.append(IS_QUESTION)
    if show == "unanswered":
        where.append(Item.accepted_id.is_(None))
    return await apps.list_kind(db, principal, community_id, TOPIC, tag=tag, where=where,
                                order=[Item.last_activity_at.desc()], limit=limit, offset=offset)


async def create_topic(db: AsyncSession, principal: Principal, community_id: Any, values: dict[str, Any], *,
                       ip: str = "") -> Item:
    community = await communities.get_community(db, principal, community_id)
    question = _question_flag(values.get("question"))
    return await content.create_item(db, principal, kind=TOPIC, community=community,
                                     values={k: values[k] for k in ("title", "body", "tags") if k in values},
                                     data={"question": question}, ip=ip)


async def get_topic(db: AsyncSession, principal: Principal, topic_id: Any) -> Item:
    return await content.get_item(db, principal, topic_id, kind=TOPIC)


async def edit_topic(db: AsyncSession, principal: Principal, topic_id: Any, values: dict[str, Any], *,
                     expected_version: Any, ip: str = "") -> Item:
    """Title, text, tags, and whether it is a question; Conflict if someone saved since `expected_version`."""
    topic = await get_topic(db, principal, topic_id)
    question = _question_flag(values["question"]) if "question" in values else None
    topic = await content.edit_item(db, principal, topic,
                                    {k: values[k] for k in ("title", "body", "tags") if k in values},
                                    expected_version=apps.expected_version(expected_version), ip=ip)
    if question is not None and question != is_question(topic):
        topic.data = {**topic.data, "question": question}
        await db.flush()
    return topic


async def delete_topic(db: AsyncSession, principal: Principal, topic_id: Any, *, ip: str = "") -> None:
    await content.delete_item(db, principal, await get_topic(db, principal, topic_id), ip=ip)


async def reply(db: AsyncSession, principal: Principal, topic_id: Any, body: Any, *, ip: str = "") -> Item:
    topic = await get_topic(db, principal, topic_id)
    return await content.comment(db, principal, topic.id, body, ip=ip)


async def replies(db: AsyncSession, principal: Principal, topic: Item) -> list[Item]:
    return await content.comments(db, principal, topic)


async def can_accept(db: AsyncSession, principal: Principal, topic: Item) -> bool:
    """The question's author (still a member) or a moderator, while the community is not archived."""
    if not is_question(topic) or topic.community_id is None:
        return False
    community = await content.community_of(db, topic)
    if community is None or community.archived_at is not None:
        return False
    found = await communities.standing(db, principal, community)
    return found.can_moderate or (found.is_member and topic.author_id == principal.person_id)


async def accept(db: AsyncSession, principal: Principal, topic_id: Any, reply_id: Any, *,
                 ip: str = "") -> Item:
    """Mark `reply_id` (one of the question's replies) as its accepted answer, or, with None, un-accept."""
    topic = await get_topic(db, principal, topic_id)
    if not is_question(topic):
        raise Conflict(N_("Only a question has an accepted answer."))
    community = await content.community_of(db, topic)
    if community is not None and community.archived_at is not None:
        raise Conflict(N_("This community is archived: it can be read but not changed."))
    if not await can_accept(db, principal, topic):
        raise PermissionDenied(N_("Only the person who asked, or a moderator, accepts an answer."))
    chosen = None
    if reply_id is not None:
        try:
            chosen = await content.get_item(db, principal, reply_id, kind=REPLY)
        except NotFound:
            chosen = None
        if chosen is None or chosen.parent_id != topic.id or chosen.hidden_at is not None:
            raise ValidationFailed.one("reply_id", N_("must be one of this question's replies"))
    old = topic.accepted_id
    new = chosen.id if chosen else None
    if old == new:
        return topic
    topic.accepted_id = new
    await db.flush()
    if chosen is not None:
        await content.record_activity(db, principal.person_id, "accept", chosen)
        if chosen.author_id is not None:
            await notifications.notify(db, chosen.author_id, "answer_accepted", actor_id=principal.person_id,
                                       url=content.item_url(chosen), community_id=topic.community_id,
                                       title=topic.title)
    await audit.record(db, principal, "topic.accept" if new else "topic.unaccept", "item", topic.id,
                       old={"accepted_id": old}, new={"accepted_id": new}, ip=ip)
    return topic


# --- expertise ---------------------------------------------------------------------------------------------------

ACCEPTED = "accepted_answer"


async def accepted_answers(db: AsyncSession, principal: Principal, hits: finder.ContentHits) -> finder.ByAuthor:
    """Accepted answers among the finder's matches: the accepted reply of each matching question, and each
    matching reply that is accepted. Credited to the reply's author, only where the asker may read both the
    question and the answer now (the index's keys may lag behind a membership change)."""
    topic_hits = hits.get(TOPIC, {})
    reply_hits = hits.get(REPLY, {})
    if not topic_hits and not reply_hits:
        return {}
    answer, question = aliased(Item, name="answer"), aliased(Item, name="question")
    rows = await db.execute(
        select(answer.id, answer.author_id, question.id)
        .join(question, question.accepted_id == answer.id)
        .where(or_(one_of(question.id, list(topic_hits)), one_of(answer.id, list(reply_hits))),
               answer.author_id.is_not(None), answer.hidden_at.is_(None), question.hidden_at.is_(None),
               content.readable_clause(principal, answer), content.readable_clause(principal, question)))
    by_author: finder.ByAuthor = {}
    for answer_id, author_id, question_id in rows.all():
        relative = max(topic_hits.get(question_id, (None, 0.0))[1], reply_hits.get(answer_id, (None, 0.0))[1])
        count, weight = by_author.setdefault(author_id, {}).get(ACCEPTED, (0, 0.0))
        by_author[author_id][ACCEPTED] = (count + 1, weight + relative)
    return by_author


# Evidence lines are plural messages, translated where the finder shows them; this names each pair for extraction.
_EXTRACT = lambda n: (  # noqa: E731
    ngettext("wrote %(num)d forum topic on it", "wrote %(num)d forum topics on it", n),
    ngettext("wrote %(num)d forum reply on it", "wrote %(num)d forum replies on it", n),
    ngettext("gave %(num)d accepted answer on it", "gave %(num)d accepted answers on it", n))

finder.register_evidence(finder.EvidenceKind(
    TOPIC, "wrote %(num)d forum topic on it", "wrote %(num)d forum topics on it", weight=1.0))
# A reply answers someone: it says more than a topic; an accepted answer says most.
finder.register_evidence(finder.EvidenceKind(
    REPLY, "wrote %(num)d forum reply on it", "wrote %(num)d forum replies on it", weight=1.3))
finder.register_derived_evidence(finder.EvidenceKind(
    ACCEPTED, "gave %(num)d accepted answer on it", "gave %(num)d accepted answers on it", weight=3.0,
    searched=False), accepted_answers)
