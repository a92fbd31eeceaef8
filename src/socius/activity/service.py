"""The activity stream: status updates, following people, communities and tags, and the feeds built from both.

A feed is a list of activities the reader may read, newest first, keyset-paginated by activity id. Every feed
— home, community, profile, tag — is the same statement: for each *source* (a person, a community, a tag) read
the newest few readable activities through that source's own index (`ix_activity_actor`,
`ix_activity_community`, the `activity_tag` primary key) in a LATERAL subquery, and merge. Nothing sorts all the
activity a person follows; the cost grows with the number of sources and the page size, not with how much
they have written.

Readability is decided inside the statement, per activity, by the same clauses every module uses: an activity
about an item is readable exactly when its item is (`content.service.readable_clause`: deleted and hidden items
disappear, a restricted community's items reach only its members — whoever the reader follows), and a comment's
also needs its parent readable; an activity about a community itself (join, create) when that community's
content is (`communities.service.readable_id_clause`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, Select

from socius.activity.models import Activity, ActivityTag, Follow
from socius.admin import service as audit
from socius.communities import service as communities
from socius.communities.models import Access, Community, Membership, MemberState
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.errors import NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.core.pagination import decode_cursor, encode_cursor
from socius.expertise import service as tags_service
from socius.notifications import service as notifications
from socius.people import service as people
from socius.people.models import Person

TARGET_KINDS = ("person", "community", "tag")
# What the kind filter offers: item kinds (not likes of them), comments and replies, likes, community events.
FEED_KINDS = ("status", "topic", "entry", "page", "file", "bookmark", "comment", "like", "community")
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_FOLLOWS = 5000  # per person: a home feed reads the newest few of each source
ID_MAX = communities.ID_MAX


# --- following ---------------------------------------------------------------------------------------------------

def _check_kind(kind: Any) -> str:
    if kind not in TARGET_KINDS:
        raise ValidationFailed.one("target_kind", N_("must be one of: {choices}"), choices=", ".join(TARGET_KINDS))
    return kind


def _id_of(target: Any) -> int:
    """A person's or community's id as given (a number, or its digits as text); 422 for anything else, 404
    (raised by the caller's lookup) for a number that names nobody."""
    if isinstance(target, str) and target.isascii() and target.isdigit() and len(target) <= 30:
        target = int(target)
    if not isinstance(target, int) or isinstance(target, bool) or target <= 0:
        raise ValidationFailed.one("target", N_("must be an id"))
    return target


async def resolve_target(db: AsyncSession, principal: Principal, kind: Any, target: Any) -> tuple[str, str, Any]:
    """(kind, stored target, the person/community/tag key) for something the principal may follow; NotFound for
    people and communities they cannot see — and for a restricted community they are not a member of."""
    kind = _check_kind(kind)
    if kind == "tag":
        _label, key = tags_service.clean_label(target, "target")
        return kind, key, key
    number = _id_of(target)
    if kind == "person":
        person = await people.get_person(db, principal, number)
        return kind, str(person.id), person
    community = await communities.get_community(db, principal, number)
    if community.access == Access.RESTRICTED.value and not principal.can(Permission.COMMUNITIES_ADMINISTER) \
            and not (await communities.standing(db, principal, community)).is_member:
        raise NotFound()
    return kind, str(community.id), community


async def follow(db: AsyncSession, principal: Principal, kind: Any, target: Any, *, ip: str = "") -> str:
    """Follow a person, a community or a tag (again: no change). Returns the stored target."""
    if principal.person_id is None:
        raise PermissionDenied()
    kind, stored, found = await resolve_target(db, principal, kind, target)
    if kind == "person" and found.id == principal.person_id:
        raise ValidationFailed.one("target", N_("you cannot follow yourself"))
    count = await db.scalar(select(func.count()).where(Follow.person_id == principal.person_id))
    if count >= MAX_FOLLOWS:
        raise ValidationFailed.one("target", N_("you follow {max} things already: unfollow some first"),
                                   max=MAX_FOLLOWS)
    result = await db.execute(pg_insert(Follow).values(person_id=principal.person_id, target_kind=kind,
                                                       target=stored).on_conflict_do_nothing())
    if result.rowcount:
        await audit.record(db, principal, "follow.add", kind, stored, ip=ip)
    return stored


async def unfollow(db: AsyncSession, principal: Principal, kind: Any, target: Any, *, ip: str = "") -> None:
    """Stop following. Works for anything followed before, even a community since left or now hidden."""
    kind = _check_kind(kind)
    stored = tags_service.clean_label(target, "target")[1] if kind == "tag" else str(_id_of(target))
    result = await db.execute(delete(Follow).where(Follow.person_id == principal.person_id,
                                                   Follow.target_kind == kind, Follow.target == stored))
    if result.rowcount:
        await audit.record(db, principal, "follow.remove", kind, stored, ip=ip)


async def is_following(db: AsyncSession, principal: Principal, kind: str, target: str) -> bool:
    if principal.person_id is None:
        return False
    return bool(await db.scalar(select(exists().where(Follow.person_id == principal.person_id,
                                                      Follow.target_kind == kind, Follow.target == target))))


async def follower_count(db: AsyncSession, kind: str, target: str) -> int:
    return await db.scalar(select(func.count()).where(Follow.target_kind == kind, Follow.target == target)) or 0


async def follow_button_context(db: AsyncSession, principal: Principal, kind: str, target: Any) -> dict[str, Any]:
    """What `activity/_follow_button.html` needs: `target_kind`, `target` (as stored), whether the principal
    follows it, how many do, and whether they may follow it at all (not themselves; a restricted community only
    as a member)."""
    stored = str(target.id) if hasattr(target, "id") else str(target)
    can_follow = principal.person_id is not None and not (kind == "person" and stored == str(principal.person_id))
    if can_follow and kind == "community":
        can_follow = isinstance(target, Community) and (
            target.access != Access.RESTRICTED.value or principal.can(Permission.COMMUNITIES_ADMINISTER)
            or (await communities.standing(db, principal, target)).is_member)
    return {"target_kind": kind, "target": stored, "can_follow": can_follow,
            "following": await is_following(db, principal, kind, stored),
            "followers": await follower_count(db, kind, stored)}


@dataclass
class Followed:
    people: list[Person]
    communities: list[Community]
    tags: list[str]


async def followed(db: AsyncSession, principal: Principal) -> Followed:
    """What the principal follows, that they may still see (a community they left stays followed but unlisted
    while it is restricted; its entries do not reach them)."""
    rows = (await db.execute(select(Follow.target_kind, Follow.target).where(Follow.person_id == principal.person_id)
                             .order_by(Follow.created_at.desc()))).all()
    person_ids = [int(t) for k, t in rows if k == "person"]
    community_ids = [int(t) for k, t in rows if k == "community"]
    found_people = {}
    if person_ids:
        found_people = {p.id: p for p in await db.scalars(people.readable_people(principal)
                                                          .where(Person.id.in_(person_ids)))}
    found_communities = await communities.communities_by_ids(db, principal, community_ids)
    return Followed(people=[found_people[i] for i in person_ids if i in found_people],
                    communities=[found_communities[i] for i in community_ids if i in found_communities],
                    tags=[t for k, t in rows if k == "tag"])


# --- status updates ----------------------------------------------------------------------------------------------

async def post_status(db: AsyncSession, principal: Principal, body: Any, *, community_id: Any = None,
                      ip: str = "") -> Item:
    """A status update on the principal's profile (every employee reads it) or in a community they belong to."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed.one("body", N_("must not be empty"))
    community = None
    if community_id not in (None, ""):
        community = await communities.get_community(db, principal, _community_id(community_id))
    return await content.create_item(db, principal, kind=ItemKind.STATUS.value, community=community,
                                     values={"body": body}, title_required=False, ip=ip)


def _community_id(value: Any) -> int:
    try:
        return _id_of(value)
    except ValidationFailed:
        raise ValidationFailed.one("community_id", N_("must be an id")) from None


# --- community posts reach the community's followers (a job) ---------------------------------------------------

def _community_followers(community_id: int, told: list[int] | None = None) -> Select[Any]:
    query = select(Follow.person_id).where(Follow.target_kind == "community", Follow.target == str(community_id),
                                           communities.person_reads_clause(community_id, Follow.person_id))
    if told:
        query = query.where(Follow.person_id.not_in([int(i) for i in told]))
    return query


notifications.register_audience("community_followers", _community_followers)


async def community_post(db: AsyncSession, principal: Principal, item: Item, community: Community, *,
                         told: list[int] | None = None) -> None:
    """Called by `content.service.create_item` for every new top-level item in a community: its followers (who
    may read it, not the author, nor those `told` already about it — mentioned in it) get `community_post`,
    fanned out by a job so a large community does not slow the post down."""
    params: dict[str, Any] = {"community_id": community.id}
    if told:
        params["told"] = sorted(told)
    await notifications.notify_later(db, "community_followers", "community_post",
                                     params=params, actor_id=principal.person_id,
                                     url=content.item_url(item), community_id=community.id,
                                     community=community.name, title=item.title or content.excerpt(item))


# --- feeds ---------------------------------------------------------------------------------------------------------

@dataclass
class Entry:
    activity: Activity
    actor: Person | None
    item: Item | None
    parent: Item | None  # what a comment is on
    community: Community | None

    @property
    def target(self) -> Item | None:
        """What the entry is about: a comment's parent, else the item."""
        if self.item is not None and self.parent is not None and self.item.kind in (
                ItemKind.COMMENT.value, ItemKind.REPLY.value):
            return self.parent
        return self.item

    @property
    def headline(self) -> str:
        target = self.target
        if target is not None:
            return target.title or content.excerpt(target)
        return self.community.name if self.community is not None else ""

    @property
    def url(self) -> str:
        if self.item is not None:
            return content.item_url(self.item, self.parent)
        return f"/communities/{self.activity.community_id}"


@dataclass
class Feed:
    entries: list[Entry]
    next_cursor: str | None


@dataclass
class Sources:
    actors: list[int]
    communities: list[int]
    tags: list[str]


def check_kind(kind: Any) -> str | None:
    if kind in (None, ""):
        return None
    if kind not in FEED_KINDS:
        raise ValidationFailed.one("kind", N_("must be one of: {choices}"), choices=", ".join(FEED_KINDS))
    return kind


def check_before(before: Any) -> int:
    """The cursor of the next page (an opaque string) → the activity id to read below."""
    if before in (None, ""):
        return ID_MAX
    if not isinstance(before, str):
        raise ValidationFailed.one("before", N_("is not a valid cursor"))
    (value,) = decode_cursor(before, "before", (int,))
    if not 0 < value <= ID_MAX:
        raise ValidationFailed.one("before", N_("is not a valid cursor"))
    return value


def check_feed_limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.one("limit", N_("must be between 1 and {n}"), n=MAX_LIMIT)
    return limit


def _kind_clause(kind: str | None, activity: Any, item: Any) -> ColumnElement[bool]:
    if kind is None:
        return true()
    if kind == "like":
        return activity.verb == "like"
    if kind == "community":
        return activity.item_id.is_(None)
    if kind == "comment":
        return item.kind.in_((ItemKind.COMMENT.value, ItemKind.REPLY.value))
    return (item.kind == kind) & (activity.verb != "like")


def _readable(reader: Principal, activity: Any, item: Any) -> ColumnElement[bool]:
    """An activity the reader may see: its item readable (and a comment's parent), or — for an activity about a
    community itself — that community's content readable."""
    parent = aliased(Item, name="feed_parent")
    parent_ok = or_(item.parent_id.is_(None),
                    exists().where(parent.id == item.parent_id, content.readable_clause(reader, parent)))
    about_item = and_(item.id.is_not(None), content.readable_clause(reader, item), parent_ok)
    about_community = and_(activity.item_id.is_(None), activity.community_id.is_not(None),
                           communities.readable_id_clause(reader, activity.community_id))
    return or_(about_item, about_community)


# Every parameter has a placeholder value only so that the statement can be compiled to text (bench's baseline).
_ME = bindparam("me", 0, type_=BigInteger)
_BEFORE = bindparam("before", ID_MAX, type_=BigInteger)
_PER_SOURCE = bindparam("per_source", DEFAULT_LIMIT + 1, type_=BigInteger)
_LIMIT = bindparam("limit", DEFAULT_LIMIT + 1, type_=BigInteger)


def _sources() -> tuple[Any, Any, Any]:
    """The three source lists as tables: `unnest` of the array parameters `actors`, `communities`, `tags`."""
    actors = func.unnest(bindparam("actors", [], type_=ARRAY(BigInteger))).table_valued("v") \
        .render_derived("s_actor")
    places = func.unnest(bindparam("communities", [], type_=ARRAY(BigInteger))).table_valued("v") \
        .render_derived("s_community")
    tags = func.unnest(bindparam("tags", [], type_=ARRAY(String))).table_valued("v").render_derived("s_tag")
    return actors, places, tags


@functools.lru_cache(maxsize=64)
def _filtered_statement(role: Any, kind: str | None) -> Select[Any]:
    """The feed in one statement, readability and the kind filter checked inside each source's LATERAL read:
    every source yields its newest `per_source` matching activities, the merge keeps the newest `limit`. It
    finishes a page the fast path (below) could not fill in a few rounds: its cost does not depend on how far
    down the matching activities are. Built once per role and kind: the reader and the sources are
    parameters."""
    reader = Principal(person_id=_ME, role=role)  # type: ignore[arg-type] - a parameter in place of the id

    def newest(source_filter, source: Any = None) -> Any:
        activity = aliased(Activity, name="a")
        item = aliased(Item, name="i")
        statement = select(activity.id.label("id"))
        if source is not None:  # tags: through activity_tag's primary key
            statement = statement.select_from(source).join(activity, activity.id == source.activity_id)
        return (statement.outerjoin(item, item.id == activity.item_id)
                .where(source_filter(activity), activity.id < _BEFORE, _readable(reader, activity, item),
                       _kind_clause(kind, activity, item))
                .order_by(activity.id.desc()).limit(_PER_SOURCE))

    actors, places, tags = _sources()
    tagged = aliased(ActivityTag, name="t")
    by_actor = newest(lambda a: a.actor_id == actors.c.v).lateral("by_actor")
    by_community = newest(lambda a: a.community_id == places.c.v).lateral("by_community")
    by_tag = newest(lambda a: (tagged.tag_key == tags.c.v) & (tagged.activity_id < _BEFORE), tagged) \
        .order_by(None).order_by(tagged.activity_id.desc()).lateral("by_tag")
    candidates = union_all(
        select(by_actor.c.id).select_from(actors).join(by_actor, true()),
        select(by_community.c.id).select_from(places).join(by_community, true()),
        select(by_tag.c.id).select_from(tags).join(by_tag, true()),
    ).subquery("candidates")
    top = select(candidates.c.id).distinct().order_by(candidates.c.id.desc()).limit(_LIMIT).subquery("top")
    return select(Activity).join(top, Activity.id == top.c.id).order_by(Activity.id.desc())


@functools.lru_cache(maxsize=1)
def _candidates_statement() -> Select[Any]:
    """The fast path, step one: the newest `per_source` activity ids of each source, read from the indexes alone
    (index-only scans), and the *floor* — the highest of the lowest ids of the sources that had that many. At
    and above the floor the merged ids are complete (no source can have an unread id there); returns
    (floor, the ids at or above it — with repeats, when several sources share an activity). A floor of 0:
    every source was read to its end."""
    actors, places, tags = _sources()

    def newest(source: Any, column: Any, id_column: Any) -> Any:
        """Per source one row: its lowest id read, how many, and the ids."""
        ids = (select(id_column.label("id")).where(column == source.c.v, id_column < _BEFORE)
               .order_by(id_column.desc()).limit(_PER_SOURCE).correlate(source).lateral())
        summary = select(func.min(ids.c.id).label("low"), func.count().label("n"),
                         func.array_agg(ids.c.id).label("ids")).select_from(ids).lateral()
        return select(summary.c.low, summary.c.n, summary.c.ids).select_from(source).join(summary, true())

    a, c, t = aliased(Activity), aliased(Activity), aliased(ActivityTag)
    per_source = union_all(newest(actors, a.actor_id, a.id), newest(places, c.community_id, c.id),
                           newest(tags, t.tag_key, t.activity_id)).cte("per_source")
    floor = select(func.coalesce(func.max(per_source.c.low).filter(per_source.c.n >= _PER_SOURCE), 0)
                   .label("floor")).cte("bounds")
    one = func.unnest(per_source.c.ids).table_valued("id").render_derived("one")
    above = (select(func.array_agg(one.c.id)).select_from(per_source).join(one, true())
             .where(one.c.id >= floor.c.floor).scalar_subquery())
    return select(floor.c.floor, above.label("ids"))


@functools.lru_cache(maxsize=64)
def _check_statement(role: Any, kind: str | None = None) -> Select[Any]:
    """The fast path, step two: of the candidate ids (`ids`), the newest `limit` the reader may read (of the
    kind asked for)."""
    reader = Principal(person_id=_ME, role=role)  # type: ignore[arg-type] - a parameter in place of the id
    ids = func.unnest(bindparam("ids", [], type_=ARRAY(BigInteger))).table_valued("v").render_derived("c")
    item = aliased(Item, name="i")
    return (select(Activity).select_from(ids).join(Activity, Activity.id == ids.c.v)
            .outerjoin(item, item.id == Activity.item_id)
            .where(_readable(reader, Activity, item), _kind_clause(kind, Activity, item))
            .order_by(Activity.id.desc()).limit(_LIMIT))


FAST_ROUNDS = 4
CHECK_SLICE = 100


async def _newest(db: AsyncSession, principal: Principal, sources: Sources, kind: str | None, below: int,
                  wanted: int) -> list[Activity]:
    """Up to `wanted` readable activities of the sources below the id `below`, newest first.

    The fast path: candidate ids from the indexes alone, then the readability (and kind) check on the few at the
    top — repeated below the floor while the page is not full (a rare kind; a reader who follows someone who
    mostly writes in a restricted community); after a few rounds the filtered statement finishes the page."""
    params = {"me": principal.person_id, "actors": sources.actors, "communities": sources.communities,
              "tags": sources.tags}
    found: list[Activity] = []
    for round_ in range(FAST_ROUNDS):
        # Each round reads deeper (4× as many per source): a rare kind is found in a few rounds.
        per_source = wanted * 4 ** round_
        floor, ids = (await db.execute(_candidates_statement(),
                                       {**params, "before": below, "per_source": per_source})).one()
        # Checked newest first, a slice at a time: the check costs a few index reads per id.
        ordered = sorted(set(ids or ()), reverse=True)
        for start in range(0, len(ordered), CHECK_SLICE):
            found += await db.scalars(_check_statement(principal.role, kind), {
                "me": principal.person_id, "ids": ordered[start:start + CHECK_SLICE],
                "limit": wanted - len(found)})
            if len(found) >= wanted:
                return found
        if not floor:
            return found
        below = floor
    found += await db.scalars(_filtered_statement(principal.role, kind), {
        **params, "before": below, "per_source": wanted - len(found), "limit": wanted - len(found)})
    return found


async def read_feed(db: AsyncSession, principal: Principal, sources: Sources, *, kind: Any = None,
                    before: Any = None, limit: Any = DEFAULT_LIMIT) -> Feed:
    """The newest activities of these sources the principal may read, de-duplicated, below the cursor."""
    if principal.person_id is None:
        raise PermissionDenied()
    kind = check_kind(kind)
    below = check_before(before)
    limit = check_feed_limit(limit)
    rows = await _newest(db, principal, sources, kind, below, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    entries = await hydrate(db, principal, rows)
    return Feed(entries, encode_cursor(rows[-1].id) if more and rows else None)


_PARENT = aliased(Item, name="parent")
_IDS = bindparam("ids", [], type_=ARRAY(BigInteger))
# Hydration, built once: items with the item they comment on, people, communities — one query each.
_ITEMS = select(Item, _PARENT).outerjoin(_PARENT, _PARENT.id == Item.parent_id).where(Item.id == any_(_IDS))
_PEOPLE = select(Person).where(Person.id == any_(_IDS))
_COMMUNITIES = select(Community).where(Community.id == any_(_IDS))


async def hydrate(db: AsyncSession, principal: Principal, rows: list[Activity]) -> list[Entry]:
    """Items (with their parents), people and communities for a page of activities: one query each. The
    activities were checked against what the principal may read when they were selected."""
    items: dict[int, Item] = {}
    parents: dict[int, Item] = {}
    item_ids = list({a.item_id for a in rows if a.item_id is not None})
    if item_ids:
        for item, above in (await db.execute(_ITEMS, {"ids": item_ids})).all():
            items[item.id] = item
            if above is not None:
                parents[above.id] = above
    actor_ids = list({a.actor_id for a in rows if a.actor_id is not None})
    actors = {p.id: p for p in await db.scalars(_PEOPLE, {"ids": actor_ids})} if actor_ids else {}
    community_ids = list({a.community_id for a in rows if a.community_id is not None})
    found = {c.id: c for c in await db.scalars(_COMMUNITIES, {"ids": community_ids})} if community_ids else {}
    entries = []
    for activity in rows:
        item = items.get(activity.item_id) if activity.item_id is not None else None
        entries.append(Entry(activity, actors.get(activity.actor_id), item,
                             parents.get(item.parent_id) if item is not None and item.parent_id else None,
                             found.get(activity.community_id)))
    return entries


_SOURCES = (select(Follow.target_kind, Follow.target).where(Follow.person_id == _ME)
            .union_all(select(literal("member", String), cast(Membership.community_id, String))
                       .where(Membership.person_id == _ME, Membership.state == MemberState.ACTIVE.value)))


async def home_sources(db: AsyncSession, principal: Principal) -> Sources:
    """Who and what the principal follows, their communities, and themselves: one query."""
    actors, places, tags = [principal.person_id], set(), []
    for kind, target in (await db.execute(_SOURCES, {"me": principal.person_id})).all():
        if kind == "person":
            actors.append(int(target))
        elif kind == "tag":
            tags.append(target)
        else:
            places.add(int(target))
    return Sources(actors=list(dict.fromkeys(actors)), communities=sorted(places), tags=tags)


async def home_feed(db: AsyncSession, principal: Principal, *, kind: Any = None, before: Any = None,
                    limit: Any = DEFAULT_LIMIT) -> Feed:
    """What the principal follows, their communities and their own activity, newest first."""
    if principal.person_id is None:
        raise PermissionDenied()
    return await read_feed(db, principal, await home_sources(db, principal), kind=kind, before=before, limit=limit)


async def community_feed(db: AsyncSession, principal: Principal, community_id: Any, *, kind: Any = None,
                         before: Any = None, limit: Any = DEFAULT_LIMIT) -> tuple[Community, Feed]:
    community = await communities.get_community(db, principal, community_id)
    return community, await read_feed(db, principal, Sources([], [community.id], []), kind=kind, before=before,
                                      limit=limit)


async def profile_feed(db: AsyncSession, principal: Principal, person_id: Any, *, kind: Any = None,
                       before: Any = None, limit: Any = DEFAULT_LIMIT) -> tuple[Person, Feed]:
    person = await people.get_person(db, principal, person_id)
    return person, await read_feed(db, principal, Sources([person.id], [], []), kind=kind, before=before,
                                   limit=limit)


async def tag_feed(db: AsyncSession, principal: Principal, key: Any, *, kind: Any = None, before: Any = None,
                   limit: Any = DEFAULT_LIMIT) -> tuple[str, Feed]:
    _label, folded = tags_service.clean_label(key, "key")
    return folded, await read_feed(db, principal, Sources([], [], [folded]), kind=kind, before=before,
                                   limit=limit)
