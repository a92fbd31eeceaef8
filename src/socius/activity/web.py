"""Pages of the stream: the home feed with its composer (`/feed`, where `/` leads signed-in people), tag feeds,
a person's and a community's activity, what I follow, and the follow button. Includes other pages use:
`activity/_follow_button.html` (context: `follow_button_context`) and `activity/_community_feed.html`
(context: `community_feed_context`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from socius.activity import service
from socius.communities import service as communities
from socius.communities.models import Community, Membership, MemberState
from socius.content import service as content
from socius.content.models import Item, ItemKind
from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.db import one_of
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_
from socius.core.requests import Caller, Session, client_ip, safe_next
from socius.core.templating import environment, render
from socius.expertise import service as tags_service
from socius.people import service as people

router = APIRouter(include_in_schema=False)
environment().filters["tag_key"] = tags_service.tag_key  # hashtag links: /feed/tags/{key}
# What each verb reads as in an entry ("Ann posted …"); translated when shown.
environment().globals["VERB_LABELS"] = {"post": N_("posted"), "comment": N_("commented on"), "like": N_("liked"),
                                        "join": N_("joined"), "create": N_("created"), "update": N_("updated"),
                                        "answer": N_("answered")}
Kind = Annotated[str | None, Query(max_length=20)]
Before = Annotated[str | None, Query(max_length=512)]
# The kind filter tabs: (value, label).
TABS = [("", N_("Everything")), ("status", N_("Status updates")), ("topic", N_("Forum topics")),
        ("entry", N_("Blog entries")), ("page", N_("Wiki pages")), ("file", N_("Files")),
        ("bookmark", N_("Bookmarks")), ("comment", N_("Comments")), ("like", N_("Likes")),
        ("community", N_("Communities"))]


# --- the social bar of every status update on a page, in a few queries --------------------------------------------

async def social_contexts(db, principal: Principal, entries: list[service.Entry]) -> dict[int, dict[str, Any]]:
    """What `content/_social.html` needs for each status update of a feed page — the same as
    `content.web.social_context`, read for the whole page at once (comments, their authors, likes, standing)."""
    items = {e.item.id: e.item for e in entries if e.item is not None and e.item.kind == ItemKind.STATUS.value}
    if not items:
        return {}
    shown: dict[int, list[Item]] = {i: [] for i in items}
    for comment in await db.scalars(select(Item).where(one_of(Item.parent_id, list(items)),
                                                       content.readable_clause(principal))
                                     .order_by(Item.id).limit(50 * len(items))):
        shown[comment.parent_id].append(comment)
    authors = await people.people_by_ids(db, {c.author_id for cs in shown.values() for c in cs if c.author_id})
    liked = await content.liked_by_me(db, principal, list(items))
    may = await content.abilities(db, principal, list(items.values()))
    return {item_id: {
        "item": item, "comments": shown[item_id], "authors": authors, "liked": item_id in liked,
        "can_take_part": may[item_id].take_part, "can_moderate": may[item_id].moderate,
        "can_edit": may[item_id].edit, "social_error": None, "social_id": f"social-{item_id}",
    } for item_id, item in items.items()}


async def feed_context(db, principal: Principal, feed: service.Feed, *, more_url: str, kind: str | None
                       ) -> dict[str, Any]:
    """What `activity/_entries.html` needs: the entries, their social bars, the next page's address."""
    more = None
    if feed.next_cursor:
        more = more_url + ("&" if "?" in more_url else "?") + urlencode(
            {**({"kind": kind} if kind else {}), "before": feed.next_cursor})
    return {"entries": feed.entries, "socials": await social_contexts(db, principal, feed.entries), "more": more}


async def community_feed_context(db, principal: Principal, community: Community, *, kind: Any = None,
                                 before: Any = None) -> dict[str, Any]:
    """Context for `activity/_community_feed.html`, which a community's overview page includes."""
    _community, feed = await service.community_feed(db, principal, community.id, kind=kind, before=before)
    context = await feed_context(db, principal, feed, more_url=f"/communities/{community.id}/activity", kind=kind)
    context.update(community=community, tabs_url=f"/communities/{community.id}/activity", kind=kind or "",
                   tabs=TABS)
    return context


async def _my_communities(db, principal: Principal) -> list[Community]:
    """Where the composer may post: the principal's active, unarchived communities."""
    return list(await db.scalars(
        select(Community).join(Membership, Membership.community_id == Community.id)
        .where(Membership.person_id == principal.person_id, Membership.state == MemberState.ACTIVE.value,
               Community.archived_at.is_(None)).order_by(Community.name).limit(200)))


def _partial(request: Request) -> bool:
    return bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") != "main"


# --- pages -----------------------------------------------------------------------------------------------------

@router.get("/feed")
async def home(request: Request, db: Session, principal: Caller, kind: Kind = None, before: Before = None
               ) -> Response:
    return await _home(request, db, principal, kind=kind, before=before)


async def _home(request: Request, db, principal: Principal, *, kind: Any = None, before: Any = None,
                error: str | None = None, body: str = "", status: int = 200) -> Response:
    feed = await service.home_feed(db, principal, kind=kind, before=before)
    context = await feed_context(db, principal, feed, more_url="/feed", kind=kind)
    if _partial(request) and before:
        return render(request, "activity/_entries.html", context)
    context.update(kind=kind or "", tabs=TABS, tabs_url="/feed", places=await _my_communities(db, principal),
                   can_post_on_profile=principal.can(Permission.COMMUNITIES_BROWSE), error=error, body=body)
    return render(request, "activity/home.html", context, status=status)


@router.post("/feed/status")
async def post_status(request: Request, db: Session, principal: Caller) -> Response:
    form = await request.form()
    body = str(form.get("body", ""))
    try:
        item = await service.post_status(db, principal, body, community_id=str(form.get("community_id", "")),
                                         ip=client_ip(request))
    except (ValidationFailed, Conflict, PermissionDenied) as error:
        message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
            else error.render_message()
        return await _home(request, db, principal, error=message, body=body, status=error.status)
    back = safe_next(str(form.get("next", "")), "/feed")
    return RedirectResponse(f"{back}#item-{item.id}" if back == "/feed" else back, status_code=303)


@router.get("/feed/tags/{key}")
async def tag(request: Request, db: Session, principal: Caller, key: str, kind: Kind = None,
              before: Before = None) -> Response:
    folded, feed = await service.tag_feed(db, principal, key, kind=kind, before=before)
    context = await feed_context(db, principal, feed, more_url=f"/feed/tags/{folded}", kind=kind)
    if _partial(request) and before:
        return render(request, "activity/_entries.html", context)
    context.update(tag=folded, kind=kind or "", tabs=TABS, tabs_url=f"/feed/tags/{folded}",
                   **await service.follow_button_context(db, principal, "tag", folded))
    return render(request, "activity/tag.html", context)


@router.get("/people/{person_id}/activity")
async def person_activity(request: Request, db: Session, principal: Caller, person_id: int, kind: Kind = None,
                          before: Before = None, panel: bool = False) -> Response:
    """A person's activity; `?panel=1` is the small panel the profile page loads (htmx) under the profile."""
    person, feed = await service.profile_feed(db, principal, person_id, kind=kind, before=before,
                                              limit=5 if panel else service.DEFAULT_LIMIT)
    context = await feed_context(db, principal, feed, more_url=f"/people/{person.id}/activity", kind=kind)
    if _partial(request) and before:
        return render(request, "activity/_entries.html", context)
    context.update(p=person, kind=kind or "", tabs=TABS, tabs_url=f"/people/{person.id}/activity",
                   **await service.follow_button_context(db, principal, "person", person))
    return render(request, "activity/_profile_panel.html" if panel else "activity/person.html", context)


@router.get("/communities/{community_id}/activity")
async def community_activity(request: Request, db: Session, principal: Caller, community_id: int,
                             kind: Kind = None, before: Before = None) -> Response:
    community = await communities.get_community(db, principal, community_id)
    context = await community_feed_context(db, principal, community, kind=kind, before=before)
    if _partial(request) and before:
        return render(request, "activity/_entries.html", context)
    context.update(await service.follow_button_context(db, principal, "community", community))
    return render(request, "activity/community.html", context)


@router.get("/following")
async def following(request: Request, db: Session, principal: Caller) -> Response:
    return render(request, "activity/following.html", {"followed": await service.followed(db, principal)})


@router.post("/follows")
async def set_follow(request: Request, db: Session, principal: Caller) -> Response:
    """Follow or unfollow (form: target_kind, target, following=1|0); htmx gets the button back."""
    form = await request.form()
    kind, target = str(form.get("target_kind", "")), str(form.get("target", ""))
    if form.get("following", "1") != "0":
        await service.follow(db, principal, kind, target, ip=client_ip(request))
    else:
        await service.unfollow(db, principal, kind, target, ip=client_ip(request))
    if request.headers.get("HX-Request"):
        _kind, _stored, found = await _resolved_or_stored(db, principal, kind, target)
        return render(request, "activity/_follow_button.html",
                      await service.follow_button_context(db, principal, kind, found))
    return RedirectResponse(safe_next(str(form.get("next", "")), "/following"), status_code=303)


async def _resolved_or_stored(db, principal: Principal, kind: str, target: str) -> tuple[str, str, Any]:
    try:
        return await service.resolve_target(db, principal, kind, target)
    except NotFound:  # unfollowed something no longer visible: the button shows the plain target
        return kind, target, target
