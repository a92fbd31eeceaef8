"""JSON API of the forum: /api/v1/communities/{id}/forum/topics, /api/v1/forum/topics/{id} (+ /replies, /accept)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from socius.content import apps
from socius.content.schemas import BodyIn, ItemOut, window
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.forum import service
from socius.forum.schemas import AcceptIn, RepliesOut, TopicEdit, TopicIn, TopicOut, TopicsOut

router = APIRouter(tags=["forum"])
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=apps.MAX_OFFSET)]
Tag = Annotated[str, Query(max_length=apps.MAX_TAG)]


@router.get("/communities/{community_id}/forum/topics", response_model=TopicsOut)
async def topics(db: Session, principal: Caller, community_id: int,
                 show: Literal["all", "questions", "unanswered"] = "all", tag: Tag = "",
                 limit: Limit = apps.PAGE_SIZE, offset: Offset = 0) -> Response:
    listing = await service.topics(db, principal, community_id, show=show, tag=tag, limit=limit, offset=offset)
    return json_response(TopicsOut(items=[TopicOut.of(t) for t in listing.items], window=window(listing)))


@router.post("/communities/{community_id}/forum/topics", response_model=TopicOut, status_code=201)
async def create_topic(request: Request, db: Session, principal: Caller, community_id: int,
                       body: TopicIn) -> Response:
    topic = await service.create_topic(db, principal, community_id, body.model_dump(), ip=client_ip(request))
    return json_response(TopicOut.of(topic), status=201)


@router.get("/forum/topics/{topic_id}", response_model=TopicOut)
async def topic(db: Session, principal: Caller, topic_id: int) -> Response:
    return json_response(TopicOut.of(await service.get_topic(db, principal, topic_id)))


@router.patch("/forum/topics/{topic_id}", response_model=TopicOut)
async def edit_topic(request: Request, db: Session, principal: Caller, topic_id: int, body: TopicEdit) -> Response:
    topic = await service.edit_topic(db, principal, topic_id, body.model_dump(exclude_none=True, exclude={"version"}),
                                     expected_version=body.version, ip=client_ip(request))
    return json_response(TopicOut.of(topic))


@router.delete("/forum/topics/{topic_id}", status_code=204)
async def delete_topic(request: Request, db: Session, principal: Caller, topic_id: int) -> Response:
    await service.delete_topic(db, principal, topic_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/forum/topics/{topic_id}/replies", response_model=RepliesOut)
async def replies(db: Session, principal: Caller, topic_id: int) -> Response:
    topic = await service.get_topic(db, principal, topic_id)
    return json_response(RepliesOut(items=[ItemOut.of(r) for r in await service.replies(db, principal, topic)]))


@router.post("/forum/topics/{topic_id}/replies", response_model=ItemOut, status_code=201)
async def reply(request: Request, db: Session, principal: Caller, topic_id: int, body: BodyIn) -> Response:
    made = await service.reply(db, principal, topic_id, body.body, ip=client_ip(request))
    return json_response(ItemOut.of(made), status=201)


@router.post("/forum/topics/{topic_id}/accept", response_model=TopicOut)
async def accept(request: Request, db: Session, principal: Caller, topic_id: int, body: AcceptIn) -> Response:
    topic = await service.accept(db, principal, topic_id, body.reply_id, ip=client_ip(request))
    return json_response(TopicOut.of(topic))


@router.delete("/forum/topics/{topic_id}/accept", response_model=TopicOut)
async def unaccept(request: Request, db: Session, principal: Caller, topic_id: int) -> Response:
    topic = await service.accept(db, principal, topic_id, None, ip=client_ip(request))
    return json_response(TopicOut.of(topic))
