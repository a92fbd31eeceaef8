"""Items: what every app (status updates, forum, blog, wiki, files, bookmarks) shares — who may read an item,
creating and editing with conflict detection, comments, likes, #tags and @mentions, reporting and moderation.

Apps call `create_item`/`edit_item` and add what is theirs; they never decide access themselves. An item is
readable exactly when its place is: its community (`communities.service.readable_clause`), its campaign
(`ideas.access.readable_clause`), or, for a status update on a profile, by every employee. A hidden item is
readable only by the place's moderators (a campaign's managers); one awaiting approval (a guest's idea: hidden,
by nobody) by its author too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from socius.activity.models import Activity, ActivityTag
from socius.admin import service as audit
from socius.communities import service as communities
from socius.communities.models import Community, Membership, MemberState
from socius.content.models import Item, ItemKind, ItemLike, Report
from socius.core import markdown
from socius.core import text as textkit
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.db import one_of, utcnow
from socius.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.expertise import service as tags_service
from socius.ideas import access as campaigns
from socius.notifications import service as notifications
from socius.people.models import Person

MAX_TITLE = 300
MAX_BODY = 100_000
MAX_TAGS = 20
MAX_MENTIONS = 50
MAX_REASON = 1000
# Mentions are written @[Name](person-id) by the editor's suggestions; they render as links to the profile.
MENTION = re.compile(r"@\[([^\]\n]{1,200})\]\((\d{1,18})\)")
# A #tag runs to the next space or punctuation; "#1" alone is a number, not a tag.
HASHTAG = re.compile(r"(?<![\w&/#])#([^\s#<>\[\]()，,、;；:：.。!！?？'\"“”]{1,50})")
_Child = aliased(Item, name="child")  # a comment or reply, beside its parent in one statement
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)")
_MARKUP = re.compile(r"(^|\s)#{1,6}\s|[*_`>~]+|^\s*[-+]\s", re.MULTILINE)
COMMENTABLE = {k.value for k in ItemKind} - {ItemKind.COMMENT.value, ItemKind.REPLY.value}


# --- who may read what -----------------------------------------------------------------------------------------

def _moderates(principal: Principal, item: Any) -> ColumnElement[bool]:
    in_community = exists().where(Membership.community_id == item.community_id,
                                  Membership.person_id == principal.person_id,
                                  Membership.state == MemberState.ACTIVE.value,
                                  Membership.role.in_(communities.MANAGERS))
    return or_(in_community, item.campaign_id.is_not(None) & campaigns.manages_clause(principal, item.campaign_id))


def readable_clause(principal: Principal, item: Any = Item) -> ColumnElement[bool]:
    """The items this principal may read now. Every item query starts here."""
    if principal.person_id is None:
        return false()
    admin = principal.can(Permission.COMMUNITIES_ADMINISTER)
    in_community = communities.readable_id_clause(principal, item.community_id)
    in_campaign = item.campaign_id.is_not(None) & campaigns.readable_id_clause(principal, item.campaign_id)
    profile_post = true() if principal.can(Permission.COMMUNITIES_BROWSE) else item.author_id == principal.person_id
    place = or_(in_community, in_campaign,
                item.community_id.is_(None) & item.campaign_id.is_(None) & profile_post)
    awaiting_me = item.hidden_by.is_(None) & (item.author_id == principal.person_id)
    shown = true() if admin else or_(item.hidden_at.is_(None), awaiting_me, _moderates(principal, item))
    return item.deleted_at.is_(None) & place & shown


async def get_item(db: AsyncSession, principal: Principal, item_id: Any, kind: str | None = None) -> Item:
    if not communities.is_id(item_id):
        raise NotFound()
    statement = select(Item).where(Item.id == item_id, readable_clause(principal))
    if kind is not None:
        statement = statement.where(Item.kind == kind)
    item = await db.scalar(statement)
    if item is None:
        raise NotFound()
    return item


async def community_of(db: AsyncSession, item: Item) -> Community | None:
    return await db.get(Community, item.community_id) if item.community_id is not None else None


@dataclass
class Abilities:
    """What the principal may do with one item: take part (comment, like), moderate it, edit or delete it."""

    take_part: bool
    moderate: bool
    edit: bool


async def abilities(db: AsyncSession, principal: Principal, items: list[Item]) -> dict[int, Abilities]:
    """The rules for every item of a page at once (a few queries): members take part in an open community,
    every reader in a campaign, every employee on profiles; a community's moderators and a campaign's managers
    (administrators everywhere) moderate; authors and moderators edit, and any member edits a wiki page;
    nothing changes in an archived community or campaign."""
    in_campaigns = await campaigns.standings(db, principal, list({i.campaign_id for i in items if i.campaign_id}))
    coauthored = await campaigns.coauthored(db, principal, [i.id for i in items if i.kind == ItemKind.IDEA.value])
    places = {i.community_id for i in items if i.community_id is not None}
    roles: dict[int, str] = {}
    archived: set[int] = set()
    if places and principal.person_id is not None:
        roles = dict((await db.execute(select(Membership.community_id, Membership.role).where(
            Membership.person_id == principal.person_id, Membership.state == MemberState.ACTIVE.value,
            one_of(Membership.community_id, list(places))))).all())
    if places:
        archived = set(await db.scalars(select(Community.id).where(one_of(Community.id, list(places)),
                                                                   Community.archived_at.is_not(None))))
    admin = principal.can(Permission.COMMUNITIES_ADMINISTER)
    found = {}
    for item in items:
        mine = item.author_id is not None and item.author_id == principal.person_id
        place = item.community_id
        if item.campaign_id is not None:
            campaign = in_campaigns[item.campaign_id]
            moderate = campaign.can_manage
            take_part = not campaign.archived
            edit = campaigns.may_edit(campaign, mine or item.id in coauthored)
        elif place is None:
            take_part, moderate, edit = principal.can(Permission.COMMUNITIES_BROWSE), admin, mine or admin
        else:
            member, open_ = place in roles, place not in archived
            moderate = admin or roles.get(place) in communities.MANAGERS
            take_part = member and open_
            edit = open_ and (mine or moderate or (item.kind == ItemKind.PAGE.value and member))
        found[item.id] = Abilities(take_part and item.hidden_at is None, moderate, edit)
    return found


async def can_edit(db: AsyncSession, principal: Principal, item: Item) -> bool:
    return (await abilities(db, principal, [item]))[item.id].edit


# --- text ----------------------------------------------------------------------------------------------------------

@dataclass
class Text:
    """An item's text as saved: Markdown, its HTML, the #tags in it, the people mentioned."""

    markdown: str
    html: str
    hashtags: list[str] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)


def render_text(source: str) -> Text:
    mentions = list(dict.fromkeys(int(m.group(2)) for m in MENTION.finditer(source)))[:MAX_MENTIONS]
    linked = MENTION.sub(lambda m: f"[@{m.group(1)}](/people/{m.group(2)})", source)
    hashtags = list(dict.fromkeys(m.group(1) for m in HASHTAG.finditer(MENTION.sub("", source))))[:MAX_TAGS]
    linked = HASHTAG.sub(lambda m: f"[#{m.group(1)}](/feed/tags/{tags_service.tag_key(m.group(1))})", linked)
    return Text(markdown=source, html=markdown.render(linked), hashtags=hashtags, mentions=mentions)


def clean_fields(values: dict[str, Any], *, title_required: bool, partial: bool = False) -> dict[str, Any]:
    """Title, body and tags checked; ValidationFailed names each field at fault and why."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    if "title" in values or (title_required and not partial):
        title = values.get("title")
        if not isinstance(title, str) or (title_required and not title.strip()):
            errors.append(FieldError("title", N_("must not be empty")))
        elif textkit.has_control_chars(title):
            errors.append(FieldError("title", N_("must not contain control characters")))
        elif len(title.strip()) > MAX_TITLE:
            errors.append(FieldError("title", N_("must be at most {max} characters"), {"max": MAX_TITLE}))
        else:
            cleaned["title"] = " ".join(title.split())
    if "body" in values or not partial:
        body = values.get("body", "")
        if not isinstance(body, str):
            errors.append(FieldError("body", N_("must be text")))
        elif len(body) > MAX_BODY:
            errors.append(FieldError("body", N_("must be at most {max} characters"), {"max": MAX_BODY}))
        elif "\x00" in body:
            errors.append(FieldError("body", N_("must not contain control characters")))
        else:
            cleaned["body"] = body
    if "tags" in values:
        raw = values.get("tags") or []
        if isinstance(raw, str):
            raw = [t for t in re.split(r"[,，、]", raw) if t.strip()]
        if not isinstance(raw, list) or len(raw) > MAX_TAGS:
            errors.append(FieldError("tags", N_("must be a list of at most {max} tags"), {"max": MAX_TAGS}))
        else:
            labels: dict[str, str] = {}
            try:
                for tag in raw:
                    label, key = tags_service.clean_label(tag, "tags")
                    labels.setdefault(key, label)
            except ValidationFailed as error:
                errors.extend(error.errors)
            cleaned["tags"] = list(labels.values())
    if errors:
        raise ValidationFailed(errors)
    return cleaned


# --- creating, editing, deleting -------------------------------------------------------------------------------------

async def require_taking_part(db: AsyncSession, principal: Principal, community: Community | None,
                              campaign_id: int | None = None) -> None:
    """Adding to a place (posting, commenting, liking): a community's members, a campaign's readers, every
    employee on profiles."""
    if community is not None:
        await communities.require_contributor(db, principal, community)
    elif campaign_id is not None:
        await campaigns.require_taking_part(db, principal, campaign_id)
    elif not principal.can(Permission.COMMUNITIES_BROWSE):
        raise PermissionDenied()


# The kinds that discuss their parent (counted in its comment_count, listed under it, telling its author); other
# children of an item, such as an idea's attached files, only hang under it.
DISCUSSION = (ItemKind.COMMENT.value, ItemKind.REPLY.value)


async def create_item(db: AsyncSession, principal: Principal, *, kind: str, community: Community | None,
                      values: dict[str, Any], parent: Item | None = None, title_required: bool = True,
                      data: dict[str, Any] | None = None, verb: str = "post", campaign_id: int | None = None,
                      hidden: bool = False, ip: str = "") -> Item:
    """A new item by the principal, in a community they contribute to, a campaign they read (or on their
    profile, for a status). Records the activity, tells the people mentioned (only those who may read it) and
    the parent's author. A `hidden` item (a guest's idea awaiting approval) waits for a moderator: nobody is
    told of it yet."""
    await require_taking_part(db, principal, community, campaign_id)
    cleaned = clean_fields(values, title_required=title_required)
    text = render_text(cleaned["body"])
    tags = list(dict.fromkeys([*cleaned.get("tags", []), *text.hashtags]))[:MAX_TAGS]
    item = Item(kind=kind, community_id=community.id if community else None, campaign_id=campaign_id,
                parent_id=parent.id if parent else None, author_id=principal.person_id,
                title=cleaned.get("title", ""), body_md=text.markdown, body_html=text.html, tags=tags,
                data=data or {}, hidden_at=utcnow() if hidden else None)
    db.add(item)
    await db.flush()
    if parent is not None and kind in DISCUSSION:
        await db.execute(update(Item).where(Item.id == parent.id).values(
            comment_count=Item.comment_count + 1, last_activity_at=func.greatest(Item.last_activity_at, func.now())))
    if hidden:
        await audit.record(db, principal, f"{kind}.create", "item", item.id, new={"title": item.title}, ip=ip)
        return item
    await announce(db, principal, item, verb=verb, parent=parent, community=community, mentions=text.mentions)
    await audit.record(db, principal, f"{kind}.create", "item", item.id, new={"title": item.title}, ip=ip)
    return item


async def announce(db: AsyncSession, principal: Principal, item: Item, *, verb: str = "post",
                   parent: Item | None = None, community: Community | None = None,
                   mentions: list[int] | None = None) -> None:
    """What a new item sets off: its activity in the stream, the people mentioned, the community's followers,
    the parent's author. Run when it is created, or when a moderator approves a hidden one (`principal` is the
    author then too)."""
    if mentions is None:
        mentions = list(render_text(item.body_md).mentions)
    await record_activity(db, principal.person_id, verb, item, list(item.tags))
    mentioned = await _notify_mentions(db, principal, item, mentions)
    if parent is None and community is not None:
        from socius.activity import service as activity  # the stream builds on this module

        # Someone told they were mentioned is not told again that the post is new.
        await activity.community_post(db, principal, item, community, told=mentioned)
    if parent is not None and item.kind in DISCUSSION and parent.author_id not in (None, principal.person_id) \
            and parent.author_id not in mentions:
        await notifications.notify(db, parent.author_id, "replied", actor_id=principal.person_id,
                                   url=item_url(item, parent), community_id=item.community_id,
                                   campaign_id=item.campaign_id, title=parent.title or excerpt(parent))


async def edit_item(db: AsyncSession, principal: Principal, item: Item, values: dict[str, Any], *,
                    expected_version: Any, title_required: bool = True, ip: str = "") -> Item:
    """Change an item's title, text or tags. `expected_version` is the version the editor started from: if
    someone saved in between, the edit is refused (Conflict) and nothing is overwritten."""
    if not await can_edit(db, principal, item):
        raise PermissionDenied()
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise ValidationFailed.one("version", N_("must be the version you started editing from"))
    cleaned = clean_fields(values, title_required=title_required, partial=True)
    old = {"title": item.title, "body": item.body_md, "tags": item.tags, "version": item.version}
    changes: dict[str, Any] = {"version": Item.version + 1, "updated_at": utcnow()}
    if "title" in cleaned:
        changes["title"] = cleaned["title"]
    text = None
    if "body" in cleaned:
        text = render_text(cleaned["body"])
        changes.update(body_md=text.markdown, body_html=text.html)
    if "tags" in cleaned or text is not None:
        changes["tags"] = list(dict.fromkeys([*cleaned.get("tags", item.tags), *(text.hashtags if text else [])]))
    # One statement that only succeeds against the version the editor saw: two editors cannot both win.
    result = await db.execute(update(Item).where(Item.id == item.id, Item.version == expected_version)
                              .values(**changes).returning(Item.version))
    if result.scalar() is None:
        raise Conflict(N_("Someone else changed this since you started editing. Your text was not saved; "
                          "copy it, reload, and apply your change again."))
    await db.refresh(item)
    if text is not None:
        await _notify_mentions(db, principal, item, [m for m in text.mentions if m not in _mentions_in(old["body"])])
    await audit.record(db, principal, f"{item.kind}.edit", "item", item.id, old=old,
                       new={"title": item.title, "body": item.body_md, "tags": item.tags, "version": item.version},
                       ip=ip)
    return item


async def delete_item(db: AsyncSession, principal: Principal, item: Item, *, ip: str = "") -> None:
    """Soft delete: gone from every page, feed and search; kept for the audit trail."""
    if not await can_edit(db, principal, item):
        raise PermissionDenied()
    item.deleted_at = utcnow()
    if item.parent_id is not None and item.kind in DISCUSSION:
        # The parent's latest activity is again its newest other live comment, or itself.
        newest = (select(func.max(_Child.created_at))
                  .where(_Child.parent_id == Item.id, _Child.id != item.id, _Child.deleted_at.is_(None),
                         _Child.kind.in_(DISCUSSION))
                  .correlate(Item).scalar_subquery())
        await db.execute(update(Item).where(Item.id == item.parent_id)
                         .values(comment_count=func.greatest(Item.comment_count - 1, 0),
                                 last_activity_at=func.coalesce(newest, Item.created_at)))
    await audit.record(db, principal, f"{item.kind}.delete", "item", item.id, ip=ip)


def _mentions_in(source: str) -> set[int]:
    return {int(m.group(2)) for m in MENTION.finditer(source)}


def plain_text(source: str) -> str:
    """Markdown as a line of readable text: mentions as @Name, links as their text, no markup characters."""
    text = MENTION.sub(lambda m: f"@{m.group(1)}", source)
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    return " ".join(text.split())


def excerpt(item: Item, size: int = 60) -> str:
    plain = plain_text(item.body_md)
    return plain if len(plain) <= size else plain[: size - 1] + "…"


# Apps whose items have a page of their own register where it is (kind → function of the item).
ITEM_URLS: dict[str, Any] = {}


def item_url(item: Item, parent: Item | None = None) -> str:
    """Where an item is shown: its app's page, a comment at its place on its parent's page. `/items/{id}`
    answers for every item (redirecting to the app's page), so a URL never needs the parent loaded."""
    from socius.modules import load_all

    load_all()
    if item.kind in (ItemKind.COMMENT.value, ItemKind.REPLY.value) and item.parent_id is not None:
        return f"/items/{item.parent_id}#item-{item.id}"
    if item.kind in ITEM_URLS:
        return ITEM_URLS[item.kind](item)
    return f"/items/{item.id}"


async def _notify_mentions(db: AsyncSession, principal: Principal, item: Item, person_ids: list[int]) -> list[int]:
    """Tell the people mentioned — only those who may read the item, so a mention never leaks a restricted
    community (a mention of an outsider stays plain text to them: no notification). Returns who was told."""
    from socius.core.auth import Principal as Reader
    from socius.people.models import Role

    told: list[int] = []
    if not person_ids:
        return told
    rows = await db.execute(select(Person.id, Person.role).where(one_of(Person.id, person_ids),
                                                                 Person.deactivated_at.is_(None)))
    for person_id, role in rows.all():
        reader = Reader(person_id=person_id, role=Role(role))
        if await db.scalar(select(exists().where(Item.id == item.id, readable_clause(reader)))) \
                and await notifications.notify(db, person_id, "mentioned", actor_id=principal.person_id,
                                               url=item_url(item), community_id=item.community_id,
                                               campaign_id=item.campaign_id, title=item.title or excerpt(item)):
            told.append(person_id)
    return told


async def record_activity(db: AsyncSession, actor_id: int | None, verb: str, item: Item,
                          tags: list[str] | None = None) -> None:
    activity = Activity(actor_id=actor_id, verb=verb, item_id=item.id, community_id=item.community_id)
    db.add(activity)
    await db.flush()
    keys = list(dict.fromkeys(tags_service.tag_key(t) for t in tags or []))
    if keys:
        await db.execute(pg_insert(ActivityTag).values([{"tag_key": k, "activity_id": activity.id} for k in keys])
                         .on_conflict_do_nothing())


# --- comments and likes --------------------------------------------------------------------------------------

async def comment(db: AsyncSession, principal: Principal, item_id: Any, body: Any, *, ip: str = "") -> Item:
    parent = await get_item(db, principal, item_id)
    if parent.kind not in COMMENTABLE or parent.hidden_at is not None:
        raise NotFound()
    kind = ItemKind.REPLY.value if parent.kind == ItemKind.TOPIC.value else ItemKind.COMMENT.value
    community = await community_of(db, parent)
    return await create_item(db, principal, kind=kind, community=community, values={"body": body},
                             parent=parent, title_required=False, verb="comment", campaign_id=parent.campaign_id,
                             ip=ip)


async def comments(db: AsyncSession, principal: Principal, item: Item, *, limit: int = 200) -> list[Item]:
    return list(await db.scalars(select(Item).where(Item.parent_id == item.id, Item.kind.in_(DISCUSSION),
                                                    readable_clause(principal))
                                 .order_by(Item.id).limit(limit)))


async def set_like(db: AsyncSession, principal: Principal, item_id: Any, liked: bool) -> Item:
    item = await get_item(db, principal, item_id)
    await require_taking_part(db, principal, await community_of(db, item), item.campaign_id)
    if liked:
        result = await db.execute(pg_insert(ItemLike).values(item_id=item.id, person_id=principal.person_id)
                                  .on_conflict_do_nothing())
        if result.rowcount:
            await db.execute(update(Item).where(Item.id == item.id).values(like_count=Item.like_count + 1))
            await record_activity(db, principal.person_id, "like", item)
            if item.author_id is not None:
                await notifications.notify(db, item.author_id, "liked", actor_id=principal.person_id,
                                           url=item_url(item), community_id=item.community_id,
                                           campaign_id=item.campaign_id, title=item.title or excerpt(item))
    else:
        result = await db.execute(delete(ItemLike).where(ItemLike.item_id == item.id,
                                                         ItemLike.person_id == principal.person_id))
        if result.rowcount:
            await db.execute(update(Item).where(Item.id == item.id)
                             .values(like_count=func.greatest(Item.like_count - 1, 0)))
    await db.refresh(item)
    return item


async def liked_by_me(db: AsyncSession, principal: Principal, item_ids: list[int]) -> set[int]:
    if not item_ids or principal.person_id is None:
        return set()
    return set(await db.scalars(select(ItemLike.item_id).where(one_of(ItemLike.item_id, item_ids),
                                                               ItemLike.person_id == principal.person_id)))


# --- moderation -----------------------------------------------------------------------------------------------------

async def report(db: AsyncSession, principal: Principal, item_id: Any, reason: Any, *, ip: str = "") -> Report:
    item = await get_item(db, principal, item_id)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed.one("reason", N_("must not be empty"))
    if len(reason) > MAX_REASON:
        raise ValidationFailed.one("reason", N_("must be at most {max} characters"), max=MAX_REASON)
    row = Report(item_id=item.id, reporter_id=principal.person_id, reason=reason.strip())
    db.add(row)
    await db.flush()
    await audit.record(db, principal, "item.report", "item", item.id, new={"reason": row.reason}, ip=ip)
    return row


async def set_hidden(db: AsyncSession, principal: Principal, item_id: Any, hidden: bool, *,
                     ip: str = "") -> Item:
    """A moderator hides an item (nobody else sees or finds it) or restores it; open reports on it close."""
    item = await get_item(db, principal, item_id)
    if not (await abilities(db, principal, [item]))[item.id].moderate:
        raise PermissionDenied()
    if (item.hidden_at is not None) != hidden:
        item.hidden_at = utcnow() if hidden else None
        item.hidden_by = principal.person_id if hidden else None
        item.updated_at = utcnow()
    await db.execute(update(Report).where(Report.item_id == item.id, Report.resolved_at.is_(None))
                     .values(resolved_at=utcnow(), resolved_by=principal.person_id,
                             outcome="hidden" if hidden else "dismissed"))
    await audit.record(db, principal, "item.hide" if hidden else "item.restore", "item", item.id, ip=ip)
    return item


@dataclass
class QueueEntry:
    item: Item
    reports: int
    reasons: list[str]


async def moderation_queue(db: AsyncSession, principal: Principal, community_id: int | None = None
                           ) -> list[QueueEntry]:
    """Open reports, per item, for the communities the principal moderates (all, for administrators)."""
    statement = (select(Item, func.count(Report.id), func.array_agg(Report.reason))
                 .join(Report, Report.item_id == Item.id).where(Report.resolved_at.is_(None),
                                                                Item.deleted_at.is_(None))
                 .group_by(Item.id).order_by(func.min(Report.id)).limit(200))
    if community_id is not None:
        statement = statement.where(Item.community_id == community_id)
    if not principal.can(Permission.COMMUNITIES_ADMINISTER):
        statement = statement.where(_moderates(principal, Item))
    rows = await db.execute(statement)
    return [QueueEntry(item, count, list(reasons)[:5]) for item, count, reasons in rows.all()]


async def items_by_ids(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, Item]:
    if not ids:
        return {}
    rows = await db.scalars(select(Item).where(one_of(Item.id, ids), readable_clause(principal)))
    return {i.id: i for i in rows}
