"""Pages every item shares: `/items/{id}` (an item's own page, or a redirect to its app's page) and the social
bar — comments, likes, reporting and moderation — that every app includes under its items
(`templates/content/_social.html`, context from `social_context`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.content import service
from socius.content.models import Item, ItemKind
from socius.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.people import service as people

router = APIRouter(include_in_schema=False)


async def social_context(db, principal, item: Item, error: str | None = None) -> dict:
    """What `content/_social.html` needs for one item: its comments with their authors, likes, what the
    principal may do."""
    shown = await service.comments(db, principal, item)
    authors = await people.people_by_ids(db, {c.author_id for c in shown if c.author_id} | (
        {item.author_id} if item.author_id else set()))
    may = (await service.abilities(db, principal, [item]))[item.id]
    return {
        "item": item, "comments": shown, "authors": authors,
        "liked": item.id in await service.liked_by_me(db, principal, [item.id]),
        "can_take_part": may.take_part, "can_moderate": may.moderate, "can_edit": may.edit,
        "social_error": error,
    }


@router.get("/items/{item_id}")
async def item_page(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    item = await service.get_item(db, principal, item_id)
    if item.kind in (ItemKind.COMMENT.value, ItemKind.REPLY.value):
        return RedirectResponse(service.item_url(item), status_code=303)
    url = service.item_url(item)
    if url != f"/items/{item.id}":
        return RedirectResponse(url, status_code=303)
    context = await social_context(db, principal, item)
    context["community"] = await service.community_of(db, item)
    return render(request, "content/item.html", context)


async def _social_action(request: Request, db, principal, item_id: int, action) -> Response:
    """Run a change; answer with the social bar (htmx) or back to the item. A refusal shows why and changes
    nothing (a 4xx rolls the request's transaction back)."""
    try:
        await action()
    except (ValidationFailed, Conflict, RateLimited, PermissionDenied) as error:
        message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
            else error.render_message()
        item = await service.get_item(db, principal, item_id)
        return render(request, "content/_social.html", await social_context(db, principal, item, message),
                      status=error.status)
    try:
        item = await service.get_item(db, principal, item_id)
    except NotFound:  # hidden or deleted by this very action
        return RedirectResponse("/", status_code=303)
    if request.headers.get("HX-Request"):
        return render(request, "content/_social.html", await social_context(db, principal, item))
    return RedirectResponse(service.item_url(item) + "#social", status_code=303)


@router.post("/items/{item_id}/comments")
async def add_comment(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    form = await request.form()
    return await _social_action(request, db, principal, item_id, lambda: service.comment(
        db, principal, item_id, str(form.get("body", "")), ip=client_ip(request)))


@router.post("/items/{item_id}/like")
async def like(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    form = await request.form()
    liked = form.get("liked", "1") != "0"
    return await _social_action(request, db, principal, item_id,
                                lambda: service.set_like(db, principal, item_id, liked))


@router.post("/items/{item_id}/report")
async def report(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    form = await request.form()
    return await _social_action(request, db, principal, item_id, lambda: service.report(
        db, principal, item_id, str(form.get("reason", "")), ip=client_ip(request)))


@router.post("/items/{item_id}/hide")
async def hide(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    form = await request.form()
    hidden = form.get("hidden", "1") != "0"
    return await _social_action(request, db, principal, item_id, lambda: service.set_hidden(
        db, principal, item_id, hidden, ip=client_ip(request)))


@router.post("/items/{item_id}/delete")
async def delete(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    item = await service.get_item(db, principal, item_id)
    back = f"/communities/{item.community_id}" if item.community_id else "/"
    if item.parent_id:
        back = service.item_url(item).split("#")[0]
    await service.delete_item(db, principal, item, ip=client_ip(request))
    return RedirectResponse(back, status_code=303)
