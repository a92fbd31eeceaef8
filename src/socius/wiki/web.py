"""Wiki pages: the tree and home page, a page (with breadcrumbs, children and the social bar), new, edit (with
the conflict page), history, a revision, the diff between two, restore, move."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from socius.communities import service as communities
from socius.content import service as content
from socius.content import web as content_web
from socius.core.errors import Conflict, PermissionDenied, ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.people import service as people
from socius.wiki import service

router = APIRouter(include_in_schema=False)


def _number(raw: Any) -> Any:
    """A form's number as an int; anything else goes to the service as it is, to be refused there."""
    raw = str(raw or "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else raw


async def _context(db, principal, community, page: service.Page | None = None, roots=None) -> dict:
    roots = roots if roots is not None else await service.tree(db, principal, community)
    context = {"community": community, "roots": roots, "current": page,
               "can_contribute": (await communities.standing(db, principal, community)).is_member
               and community.archived_at is None}
    if page is not None:
        context["crumbs"] = await service.ancestors(db, principal, page.page)
        context["can_edit"] = await content.can_edit(db, principal, page.item)
    return context


@router.get("/communities/{community_id}/wiki")
async def wiki_home(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    community = await service.readable_community(db, principal, community_id)
    context = await _context(db, principal, community)
    first = service.home(context["roots"])
    if first is not None:
        page = service.Page(first.item, first.page)
        context.update(await _context(db, principal, community, page, roots=context["roots"]))
        context.update(await _page_extras(db, principal, page))
    return render(request, "wiki/page.html", context)


async def _page_extras(db, principal, page: service.Page) -> dict:
    extras = await content_web.social_context(db, principal, page.item)
    extras["children"] = await service.children(db, principal, page.page)
    extras["editor"] = (await people.people_by_ids(db, {page.item.author_id} if page.item.author_id else set())
                        ).get(page.item.author_id)
    return extras


@router.get("/communities/{community_id}/wiki/new")
async def new_page_form(request: Request, db: Session, principal: Caller, community_id: int,
                        parent: str = "") -> Response:
    community = await service.readable_community(db, principal, community_id)
    await communities.require_contributor(db, principal, community)
    context = await _context(db, principal, community)
    context.update(values={"parent_id": parent}, errors={})
    return render(request, "wiki/new.html", context)


@router.post("/communities/{community_id}/wiki/new")
async def create_page(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    community = await service.readable_community(db, principal, community_id)
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("title", "body", "parent_id", "comment")}
    try:
        page = await service.create_page(db, principal, community.id, values, ip=client_ip(request))
    except ValidationFailed as error:
        context = await _context(db, principal, community)
        context.update(values=values, errors=error.by_field())
        return render(request, "wiki/new.html", context, status=422)
    return RedirectResponse(page.url, status_code=303)


@router.get("/communities/{community_id}/wiki/{slug}")
async def page_view(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    context = await _context(db, principal, community, page)
    context.update(await _page_extras(db, principal, page))
    return render(request, "wiki/page.html", context)


async def _edit_form(request, db, principal, community, page, *, values=None, errors=None, conflict=None,
                     status=200) -> Response:
    context = await _context(db, principal, community, page)
    context.update(values=values or {"title": page.item.title, "body": page.item.body_md, "comment": ""},
                   errors=errors or {}, conflict=conflict, version=page.item.version)
    context["move_targets"] = [p for p in _flatten(context["roots"]) if p.item.id != page.id]
    return render(request, "wiki/edit.html", context, status=status)


def _flatten(nodes: list[service.TreeNode], depth: int = 0) -> list[service.TreeNode]:
    flat: list[service.TreeNode] = []
    for node in nodes:
        node.depth = depth
        flat.append(node)
        flat.extend(_flatten(node.children, depth + 1))
    return flat


@router.get("/communities/{community_id}/wiki/{slug}/edit")
async def edit_form(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    if not await content.can_edit(db, principal, page.item):
        raise PermissionDenied()
    return await _edit_form(request, db, principal, community, page)


@router.post("/communities/{community_id}/wiki/{slug}/edit")
async def save_page(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("title", "body", "comment")}
    try:
        saved, _revision = await service.edit_page(db, principal, page.id, values, ip=client_ip(request),
                                                   expected_version=_number(form.get("version")))
    except ValidationFailed as error:
        return await _edit_form(request, db, principal, community, page, values=values, errors=error.by_field(),
                                status=422)
    except Conflict:
        # Someone saved in between: show their text and the current one; nothing was overwritten.
        await db.refresh(page.item)
        return await _edit_form(request, db, principal, community, page, values=values, conflict=page.item,
                                status=409)
    return RedirectResponse(saved.url, status_code=303)


@router.get("/communities/{community_id}/wiki/{slug}/history")
async def history(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    rows = await service.revisions(db, principal, page.id)
    context = await _context(db, principal, community, page)
    context.update(revisions=rows, authors=await people.people_by_ids(db, {r.author_id for r in rows if r.author_id}))
    return render(request, "wiki/history.html", context)


@router.get("/communities/{community_id}/wiki/{slug}/revisions/{number}")
async def revision_view(request: Request, db: Session, principal: Caller, community_id: int, slug: str,
                        number: int) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    found = await service.revision(db, principal, page.id, number)
    context = await _context(db, principal, community, page)
    context.update(revision=found, html=content.render_text(found.body_md).html,
                   author=(await people.people_by_ids(db, {found.author_id} if found.author_id else set())
                           ).get(found.author_id))
    return render(request, "wiki/revision.html", context)


@router.get("/communities/{community_id}/wiki/{slug}/diff")
async def diff_view(request: Request, db: Session, principal: Caller, community_id: int, slug: str,
                    from_: int = Query(alias="from"), to: int = Query()) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    found = await service.diff(db, principal, page.id, from_, to)
    context = await _context(db, principal, community, page)
    context["diff"] = found
    return render(request, "wiki/diff.html", context)


@router.post("/communities/{community_id}/wiki/{slug}/restore")
async def restore(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    form = await request.form()
    saved, _revision = await service.restore(db, principal, page.id, _number(form.get("revision")),
                                             expected_version=_number(form.get("version")), ip=client_ip(request))
    return RedirectResponse(saved.url, status_code=303)


@router.post("/communities/{community_id}/wiki/{slug}/move")
async def move(request: Request, db: Session, principal: Caller, community_id: int, slug: str) -> Response:
    community = await service.readable_community(db, principal, community_id)
    page = await service.page_by_slug(db, principal, community.id, slug)
    form = await request.form()
    try:
        moved = await service.move(db, principal, page.id, str(form.get("parent_id", "")), ip=client_ip(request))
    except ValidationFailed as error:
        return await _edit_form(request, db, principal, community, page, errors=error.by_field(), status=422)
    return RedirectResponse(moved.url, status_code=303)
