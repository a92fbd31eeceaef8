"""Bookmark pages: /communities/{id}/bookmarks (filterable by tag), a bookmark with its comments, new and edit
forms. Links go out with rel="noopener noreferrer nofollow ugc"; the server never fetches them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socius.bookmarks import service
from socius.content import apps
from socius.content import apps_web as pages
from socius.core.requests import Caller, Session

router = APIRouter(include_in_schema=False)
FORM = pages.FormSpec("bookmarks/form.html", fields=("url", "title", "description", "tags"))
REFUSALS = (service.DuplicateBookmark,)


@router.get("/communities/{community_id}/bookmarks")
async def bookmarks(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    number = pages.page_number(request.query_params.get("page"))
    tag = request.query_params.get("tag", "")
    listing = await service.bookmarks(db, principal, community_id, tag=tag, offset=(number - 1) * apps.PAGE_SIZE)
    return await pages.list_page(request, db, principal, "bookmarks/list.html", listing, number, tag=tag,
                                 rel=service.REL)


@router.get("/communities/{community_id}/bookmarks/new")
async def new_bookmark(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.new_form(request, db, principal, community_id, FORM)


@router.post("/communities/{community_id}/bookmarks")
async def create_bookmark(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.create(request, db, principal, community_id, FORM, service.create_bookmark,
                              refusals=REFUSALS)


@router.get("/communities/{community_id}/bookmarks/{bookmark_id}")
async def bookmark(request: Request, db: Session, principal: Caller, community_id: int,
                   bookmark_id: int) -> Response:
    return await pages.item_page(request, db, principal, community_id, bookmark_id, "bookmarks/bookmark.html",
                                 service.get_bookmark, rel=service.REL)


@router.get("/communities/{community_id}/bookmarks/{bookmark_id}/edit")
async def edit_bookmark(request: Request, db: Session, principal: Caller, community_id: int,
                        bookmark_id: int) -> Response:
    return await pages.edit_form(request, db, principal, community_id, bookmark_id, FORM, service.get_bookmark)


@router.post("/communities/{community_id}/bookmarks/{bookmark_id}/edit")
async def save_bookmark(request: Request, db: Session, principal: Caller, community_id: int,
                        bookmark_id: int) -> Response:
    return await pages.save_edit(request, db, principal, community_id, bookmark_id, FORM, service.get_bookmark,
                                 service.edit_bookmark, refusals=REFUSALS)
