"""JSON API of the stream: the feeds (plain JSON, or ActivityStreams 2.0 when asked), posting a status update,
following. Thin: every rule is in `activity.service`."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from socius.activity import schemas, service
from socius.content import service as content
from socius.core.requests import Caller, Session, client_ip, json_response

router = APIRouter(tags=["activity"])
Kind = Annotated[str | None, Query(max_length=20)]
Before = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT)]
Format = Annotated[str | None, Query(max_length=10, pattern="^(json|as2)$")]


def wants_as2(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "as2"
    accept = request.headers.get("accept", "")
    return "application/activity+json" in accept or 'profile="https://www.w3.org/ns/activitystreams"' in accept


def entry_out(entry: service.Entry) -> schemas.EntryOut:
    activity, item = entry.activity, entry.item
    item_out = None
    if item is not None:
        parent = {"id": entry.parent.id, "title": entry.parent.title or content.excerpt(entry.parent)} \
            if entry.parent is not None else None
        item_out = schemas.ItemRef(id=item.id, kind=item.kind, title=item.title, excerpt=content.excerpt(item, 200),
                                   html=item.body_html, url=entry.url, tags=item.tags, like_count=item.like_count,
                                   comment_count=item.comment_count, parent=parent)
    return schemas.EntryOut(
        id=activity.id, verb=activity.verb, published=activity.created_at, url=entry.url,
        actor=schemas.PersonRef(id=entry.actor.id, name=entry.actor.display_name) if entry.actor else None,
        item=item_out,
        community=schemas.CommunityRef(id=entry.community.id, name=entry.community.name)
        if entry.community else None)


def as2_activity(entry: service.Entry, base: str) -> dict[str, Any]:
    """One entry as an ActivityStreams 2.0 activity: actor a Person, object a Note/Article/Page/Document/Link (or
    the Group joined or created), context the community."""
    activity, item = entry.activity, entry.item
    group = {"type": "Group", "id": f"{base}/communities/{entry.community.id}",
             "name": entry.community.name} if entry.community else None
    if item is not None:
        obj: dict[str, Any] = {"type": schemas.AS2_OBJECTS.get(item.kind, "Note"), "id": f"{base}/items/{item.id}",
                               "url": base + entry.url, "published": item.created_at.isoformat(),
                               "content": item.body_html, "tag": [{"type": "Hashtag", "name": f"#{t}"}
                                                                   for t in item.tags]}
        if item.title:
            obj["name"] = item.title
        if item.kind == "bookmark" and isinstance(item.data.get("url"), str):
            obj["href"] = item.data["url"]
        if entry.parent is not None:
            obj["inReplyTo"] = f"{base}/items/{entry.parent.id}"
        if item.author_id is not None:
            obj["attributedTo"] = f"{base}/people/{item.author_id}"
        if group:
            obj["context"] = group["id"]
    else:
        obj = group or {}
    found: dict[str, Any] = {
        "id": f"{base}/activities/{activity.id}", "type": schemas.AS2_VERBS.get(activity.verb, "Activity"),
        "published": activity.created_at.isoformat(), "object": obj,
    }
    if entry.actor is not None:
        found["actor"] = {"type": "Person", "id": f"{base}/people/{entry.actor.id}", "name": entry.actor.display_name,
                          "url": f"{base}/people/{entry.actor.id}"}
    if group:
        found["context"] = group
    return found


def feed_response(request: Request, feed: service.Feed, as2: bool, summary: str) -> Response:
    if not as2:
        return json_response(schemas.FeedOut(items=[entry_out(e) for e in feed.entries],
                                             next_cursor=feed.next_cursor))
    base = request.app.state.settings.base_url.rstrip("/")
    here = base + request.url.path
    query = {k: v for k, v in request.query_params.items() if k != "before"}
    page: dict[str, Any] = {
        "@context": schemas.AS2_CONTEXT, "type": "OrderedCollectionPage", "summary": summary,
        "id": here + ("?" + urlencode(dict(request.query_params)) if request.query_params else ""),
        "partOf": here, "orderedItems": [as2_activity(e, base) for e in feed.entries],
    }
    if feed.next_cursor:
        page["next"] = here + "?" + urlencode({**query, "before": feed.next_cursor})
    return Response(json.dumps(page, ensure_ascii=False), media_type=schemas.AS2_MEDIA_TYPE)


@router.get("/feed")
async def home(request: Request, db: Session, principal: Caller, kind: Kind = None, before: Before = None,
               limit: Limit = service.DEFAULT_LIMIT, format: Format = None) -> Response:
    feed = await service.home_feed(db, principal, kind=kind, before=before, limit=limit)
    return feed_response(request, feed, wants_as2(request, format), "home")


@router.get("/feed/tags/{key}")
async def by_tag(request: Request, db: Session, principal: Caller, key: str, kind: Kind = None,
                 before: Before = None, limit: Limit = service.DEFAULT_LIMIT, format: Format = None) -> Response:
    folded, feed = await service.tag_feed(db, principal, key, kind=kind, before=before, limit=limit)
    return feed_response(request, feed, wants_as2(request, format), f"#{folded}")


@router.get("/communities/{community_id}/feed")
async def by_community(request: Request, db: Session, principal: Caller, community_id: int, kind: Kind = None,
                       before: Before = None, limit: Limit = service.DEFAULT_LIMIT, format: Format = None
                       ) -> Response:
    community, feed = await service.community_feed(db, principal, community_id, kind=kind, before=before,
                                                   limit=limit)
    return feed_response(request, feed, wants_as2(request, format), community.name)


@router.get("/people/{person_id}/feed")
async def by_person(request: Request, db: Session, principal: Caller, person_id: int, kind: Kind = None,
                    before: Before = None, limit: Limit = service.DEFAULT_LIMIT, format: Format = None) -> Response:
    person, feed = await service.profile_feed(db, principal, person_id, kind=kind, before=before, limit=limit)
    return feed_response(request, feed, wants_as2(request, format), person.display_name)


@router.post("/status", status_code=201)
async def post_status(request: Request, db: Session, principal: Caller, body: schemas.StatusIn) -> Response:
    item = await service.post_status(db, principal, body.body, community_id=body.community_id,
                                     ip=client_ip(request))
    return json_response(schemas.StatusOut(id=item.id, url=content.item_url(item), html=item.body_html,
                                           community_id=item.community_id), status=201)


@router.get("/follows")
async def follows(db: Session, principal: Caller) -> Response:
    found = await service.followed(db, principal)
    return json_response(schemas.FollowsOut(
        people=[schemas.PersonRef(id=p.id, name=p.display_name) for p in found.people],
        communities=[schemas.CommunityRef(id=c.id, name=c.name) for c in found.communities], tags=found.tags))


@router.put("/follows/{target_kind}/{target}")
async def follow(request: Request, db: Session, principal: Caller, target_kind: str, target: str) -> Response:
    stored = await service.follow(db, principal, target_kind, target, ip=client_ip(request))
    return json_response(schemas.FollowOut(target_kind=target_kind, target=stored, following=True))


@router.delete("/follows/{target_kind}/{target}")
async def unfollow(request: Request, db: Session, principal: Caller, target_kind: str, target: str) -> Response:
    await service.unfollow(db, principal, target_kind, target, ip=client_ip(request))
    return Response(status_code=204)
