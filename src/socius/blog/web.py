"""Blog pages: /communities/{id}/blog (entries, newest first), an entry with its comments, new and edit forms
(with conflict detection)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socius.blog import service
from socius.content import apps
from socius.content import apps_web as pages
from socius.core.requests import Caller, Session

router = APIRouter(include_in_schema=False)
FORM = pages.FormSpec("blog/form.html")


@router.get("/communities/{community_id}/blog")
async def entries(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    number = pages.page_number(request.query_params.get("page"))
    tag = request.query_params.get("tag", "")
    listing = await service.entries(db, principal, community_id, tag=tag, offset=(number - 1) * apps.PAGE_SIZE)
    return await pages.list_page(request, db, principal, "blog/list.html", listing, number, tag=tag)


@router.get("/communities/{community_id}/blog/new")
async def new_entry(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.new_form(request, db, principal, community_id, FORM)


@router.post("/communities/{community_id}/blog")
async def create_entry(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.create(request, db, principal, community_id, FORM, service.create_entry)


@router.get("/communities/{community_id}/blog/{entry_id}")
async def entry(request: Request, db: Session, principal: Caller, community_id: int, entry_id: int) -> Response:
    return await pages.item_page(request, db, principal, community_id, entry_id, "blog/entry.html",
                                 service.get_entry)


@router.get("/communities/{community_id}/blog/{entry_id}/edit")
async def edit_entry(request: Request, db: Session, principal: Caller, community_id: int, entry_id: int) -> Response:
    return await pages.edit_form(request, db, principal, community_id, entry_id, FORM, service.get_entry)


@router.post("/communities/{community_id}/blog/{entry_id}/edit")
async def save_entry(request: Request, db: Session, principal: Caller, community_id: int, entry_id: int) -> Response:
    return await pages.save_edit(request, db, principal, community_id, entry_id, FORM, service.get_entry,
                                 service.edit_entry)
