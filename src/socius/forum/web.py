"""Forum pages: /communities/{id}/forum (topics), the new-topic form, a topic with its replies (the social bar),
editing with conflict detection, and accepting an answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.content import apps
from socius.content import apps_web as pages
from socius.content import service as content
from socius.core.requests import Caller, Session, client_ip
from socius.forum import service

router = APIRouter(include_in_schema=False)
FORM = pages.FormSpec("forum/form.html", checkboxes=("question",))


@router.get("/communities/{community_id}/forum")
async def topics(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    params = request.query_params
    show = params.get("show", "all") if params.get("show") in service.SHOW else "all"
    number = pages.page_number(params.get("page"))
    listing = await service.topics(db, principal, community_id, show=show, tag=params.get("tag", ""),
                                   offset=(number - 1) * apps.PAGE_SIZE)
    return await pages.list_page(request, db, principal, "forum/list.html", listing, number, show=show,
                                 tag=params.get("tag", ""))


@router.get("/communities/{community_id}/forum/new")
async def new_topic(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.new_form(request, db, principal, community_id, FORM)


@router.post("/communities/{community_id}/forum")
async def create_topic(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await pages.create(request, db, principal, community_id, FORM, service.create_topic)


@router.get("/communities/{community_id}/forum/{topic_id}")
async def topic(request: Request, db: Session, principal: Caller, community_id: int, topic_id: int) -> Response:
    async def question(item):
        return service.is_question(item)

    async def can_accept(item):
        return await service.can_accept(db, principal, item)

    return await pages.item_page(request, db, principal, community_id, topic_id, "forum/topic.html",
                                 service.get_topic, question=question, can_accept=can_accept,
                                 extra_comment_actions="forum/_accept.html")


@router.get("/communities/{community_id}/forum/{topic_id}/edit")
async def edit_topic(request: Request, db: Session, principal: Caller, community_id: int, topic_id: int) -> Response:
    return await pages.edit_form(request, db, principal, community_id, topic_id, FORM, service.get_topic)


@router.post("/communities/{community_id}/forum/{topic_id}/edit")
async def save_topic(request: Request, db: Session, principal: Caller, community_id: int, topic_id: int) -> Response:
    return await pages.save_edit(request, db, principal, community_id, topic_id, FORM, service.get_topic,
                                 service.edit_topic)


@router.post("/communities/{community_id}/forum/{topic_id}/accept")
async def accept(request: Request, db: Session, principal: Caller, community_id: int, topic_id: int) -> Response:
    """Form field `reply_id`: the reply to accept; empty takes the acceptance back."""
    await pages.item_in(db, principal, community_id, topic_id, service.get_topic)
    raw = str((await request.form()).get("reply_id", "")).strip()
    reply_id = int(raw) if raw.isdigit() and len(raw) < 20 else (None if raw == "" else raw)
    topic = await service.accept(db, principal, topic_id, reply_id, ip=client_ip(request))
    anchor = f"#item-{topic.accepted_id}" if topic.accepted_id else "#social"
    return RedirectResponse(content.item_url(topic) + anchor, status_code=303)
