"""JSON API for what every item shares: reading one, its comments, liking, reporting, hiding and restoring, and
the moderation queue. The service decides who may read and do what (missing and forbidden are both 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from socius.content import service
from socius.content.models import Item
from socius.content.schemas import CommentCreate, ItemDetailOut, ItemList, Queue, QueueEntryOut, ReportCreate, Reported
from socius.core.auth import Principal
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.people import service as people
from socius.people.api import person_ref
from socius.people.models import Person

router = APIRouter(tags=["content"])


def item_out(item: Item, authors: dict[int, Person], liked: set[int] | None = None) -> ItemDetailOut:
    author = authors.get(item.author_id) if item.author_id else None
    return ItemDetailOut(
        id=item.id, kind=item.kind, community_id=item.community_id, parent_id=item.parent_id,
        author=person_ref(author) if author else None, title=item.title, body_md=item.body_md,
        body_html=item.body_html, tags=list(item.tags), like_count=item.like_count,
        comment_count=item.comment_count, liked=item.id in (liked or set()), hidden=item.hidden_at is not None,
        version=item.version, url=service.item_url(item), created_at=item.created_at, updated_at=item.updated_at)


async def items_out(db, principal: Principal, items: list[Item]) -> list[ItemDetailOut]:
    authors = await people.people_by_ids(db, {i.author_id for i in items if i.author_id})
    liked = await service.liked_by_me(db, principal, [i.id for i in items])
    return [item_out(i, authors, liked) for i in items]


async def _item(db, principal: Principal, item_id: int, status: int = 200) -> Response:
    await db.flush()
    item = await service.get_item(db, principal, item_id)
    await db.refresh(item)
    return json_response((await items_out(db, principal, [item]))[0], status=status)


@router.get("/items/{item_id}", response_model=ItemDetailOut)
async def get_item(db: Session, principal: Caller, item_id: int) -> Response:
    return await _item(db, principal, item_id)


@router.get("/items/{item_id}/comments", response_model=ItemList)
async def list_comments(db: Session, principal: Caller, item_id: int,
                        limit: Annotated[int, Query(ge=1, le=200)] = 200) -> Response:
    item = await service.get_item(db, principal, item_id)
    shown = await service.comments(db, principal, item, limit=limit)
    return json_response(ItemList(items=await items_out(db, principal, shown)))


@router.post("/items/{item_id}/comments", response_model=ItemDetailOut, status_code=201)
async def add_comment(request: Request, db: Session, principal: Caller, item_id: int,
                      body: CommentCreate) -> Response:
    made = await service.comment(db, principal, item_id, body.body, ip=client_ip(request))
    return await _item(db, principal, made.id, status=201)


@router.put("/items/{item_id}/like", response_model=ItemDetailOut)
async def like(db: Session, principal: Caller, item_id: int) -> Response:
    await service.set_like(db, principal, item_id, True)
    return await _item(db, principal, item_id)


@router.delete("/items/{item_id}/like", response_model=ItemDetailOut)
async def unlike(db: Session, principal: Caller, item_id: int) -> Response:
    await service.set_like(db, principal, item_id, False)
    return await _item(db, principal, item_id)


@router.post("/items/{item_id}/report", response_model=Reported, status_code=201)
async def report(request: Request, db: Session, principal: Caller, item_id: int, body: ReportCreate) -> Response:
    row = await service.report(db, principal, item_id, body.reason, ip=client_ip(request))
    return json_response(Reported(id=row.id, item_id=row.item_id), status=201)


@router.post("/items/{item_id}/hide", response_model=ItemDetailOut)
async def hide(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    await service.set_hidden(db, principal, item_id, True, ip=client_ip(request))
    return await _item(db, principal, item_id)


@router.post("/items/{item_id}/restore", response_model=ItemDetailOut)
async def restore(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    await service.set_hidden(db, principal, item_id, False, ip=client_ip(request))
    return await _item(db, principal, item_id)


@router.get("/moderation/reports", response_model=Queue)
async def moderation_queue(db: Session, principal: Caller, community_id: int | None = None) -> Response:
    """Open reports per item, for the communities the caller moderates (all, for administrators)."""
    if community_id is not None:
        from socius.communities import service as communities

        await communities.get_community(db, principal, community_id)
    entries = await service.moderation_queue(db, principal, community_id)
    shaped = await items_out(db, principal, [e.item for e in entries])
    return json_response(Queue(items=[QueueEntryOut(item=i, reports=e.reports, reasons=e.reasons)
                                      for i, e in zip(shaped, entries, strict=True)]))
