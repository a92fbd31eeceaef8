"""JSON API of bookmarks: /api/v1/communities/{id}/bookmarks and /api/v1/bookmarks/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from socius.bookmarks import service
from socius.bookmarks.schemas import BookmarkEdit, BookmarkIn, BookmarkOut, BookmarksOut
from socius.content import apps
from socius.content.schemas import window
from socius.core.requests import Caller, Session, client_ip, json_response

router = APIRouter(tags=["bookmarks"])


@router.get("/communities/{community_id}/bookmarks", response_model=BookmarksOut)
async def bookmarks(db: Session, principal: Caller, community_id: int,
                    tag: Annotated[str, Query(max_length=apps.MAX_TAG)] = "",
                    limit: Annotated[int, Query(ge=1, le=100)] = apps.PAGE_SIZE,
                    offset: Annotated[int, Query(ge=0, le=apps.MAX_OFFSET)] = 0) -> Response:
    listing = await service.bookmarks(db, principal, community_id, tag=tag, limit=limit, offset=offset)
    return json_response(BookmarksOut(items=[BookmarkOut.of(b) for b in listing.items], window=window(listing)))


@router.post("/communities/{community_id}/bookmarks", response_model=BookmarkOut, status_code=201)
async def create_bookmark(request: Request, db: Session, principal: Caller, community_id: int,
                          body: BookmarkIn) -> Response:
    made = await service.create_bookmark(db, principal, community_id, body.model_dump(), ip=client_ip(request))
    return json_response(BookmarkOut.of(made), status=201)


@router.get("/bookmarks/{bookmark_id}", response_model=BookmarkOut)
async def bookmark(db: Session, principal: Caller, bookmark_id: int) -> Response:
    return json_response(BookmarkOut.of(await service.get_bookmark(db, principal, bookmark_id)))


@router.patch("/bookmarks/{bookmark_id}", response_model=BookmarkOut)
async def edit_bookmark(request: Request, db: Session, principal: Caller, bookmark_id: int,
                        body: BookmarkEdit) -> Response:
    changed = await service.edit_bookmark(db, principal, bookmark_id,
                                          body.model_dump(exclude_none=True, exclude={"version"}),
                                          expected_version=body.version, ip=client_ip(request))
    return json_response(BookmarkOut.of(changed))


@router.delete("/bookmarks/{bookmark_id}", status_code=204)
async def delete_bookmark(request: Request, db: Session, principal: Caller, bookmark_id: int) -> Response:
    await service.delete_bookmark(db, principal, bookmark_id, ip=client_ip(request))
    return Response(status_code=204)
