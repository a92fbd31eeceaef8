"""JSON API of the blog: /api/v1/communities/{id}/blog/entries and /api/v1/blog/entries/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from socius.blog import service
from socius.blog.schemas import EntriesOut, EntryEdit, EntryIn, EntryOut
from socius.content import apps
from socius.content.schemas import window
from socius.core.requests import Caller, Session, client_ip, json_response

router = APIRouter(tags=["blog"])


@router.get("/communities/{community_id}/blog/entries", response_model=EntriesOut)
async def entries(db: Session, principal: Caller, community_id: int,
                  tag: Annotated[str, Query(max_length=apps.MAX_TAG)] = "",
                  limit: Annotated[int, Query(ge=1, le=100)] = apps.PAGE_SIZE,
                  offset: Annotated[int, Query(ge=0, le=apps.MAX_OFFSET)] = 0) -> Response:
    listing = await service.entries(db, principal, community_id, tag=tag, limit=limit, offset=offset)
    return json_response(EntriesOut(items=[EntryOut.of(e) for e in listing.items], window=window(listing)))


@router.post("/communities/{community_id}/blog/entries", response_model=EntryOut, status_code=201)
async def create_entry(request: Request, db: Session, principal: Caller, community_id: int,
                       body: EntryIn) -> Response:
    entry = await service.create_entry(db, principal, community_id, body.model_dump(), ip=client_ip(request))
    return json_response(EntryOut.of(entry), status=201)


@router.get("/blog/entries/{entry_id}", response_model=EntryOut)
async def entry(db: Session, principal: Caller, entry_id: int) -> Response:
    return json_response(EntryOut.of(await service.get_entry(db, principal, entry_id)))


@router.patch("/blog/entries/{entry_id}", response_model=EntryOut)
async def edit_entry(request: Request, db: Session, principal: Caller, entry_id: int, body: EntryEdit) -> Response:
    entry = await service.edit_entry(db, principal, entry_id, body.model_dump(exclude_none=True, exclude={"version"}),
                                     expected_version=body.version, ip=client_ip(request))
    return json_response(EntryOut.of(entry))


@router.delete("/blog/entries/{entry_id}", status_code=204)
async def delete_entry(request: Request, db: Session, principal: Caller, entry_id: int) -> Response:
    await service.delete_entry(db, principal, entry_id, ip=client_ip(request))
    return Response(status_code=204)
