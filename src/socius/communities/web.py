"""Pages: the communities catalog, creating a community, its overview, members (requests, invitations by
person or e-mail, roles), settings and archiving, and the moderation queues. The guest's invitation link is
`accounts.web`'s."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from socius.communities import guests, service
from socius.communities.models import Access, MemberRole, MemberState
from socius.content import service as content
from socius.core.authz import Permission
from socius.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, SociusError, ValidationFailed
from socius.core.requests import Caller, Session, client_ip, safe_next
from socius.core.templating import render
from socius.people import service as people

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30
REFUSALS = (ValidationFailed, Conflict, PermissionDenied, RateLimited)


def _message(error: SociusError) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(error.by_field().values())
    return error.render_message()


def _form_id(value: Any) -> Any:
    """A number from a form field, or the text as it came (the service refuses what is no id)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 20 else text


# --- the catalog ---------------------------------------------------------------------------------------------------

@router.get("/communities")
async def catalog(
    request: Request, db: Session, principal: Caller,
    q: Annotated[str, Query(max_length=200)] = "",
    tag: Annotated[str, Query(max_length=50)] = "",
    mine: bool = False,
    archived: bool = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    query = service.CatalogQuery(q=q, tag=tag, mine=mine, include_archived=archived, limit=PAGE_SIZE + 1,
                                 offset=offset)
    found = await service.catalog(db, principal, query)
    return render(request, "communities/catalog.html", {
        "communities": found[:PAGE_SIZE], "more": len(found) > PAGE_SIZE, "query": query,
        "suggested": await service.suggestions(db, principal) if not mine and not q and not tag else [],
        "can_create": principal.can(Permission.COMMUNITIES_CREATE),
        "mine_ids": set(await service.my_community_ids(db, principal.person_id)),
    })


def _values_from_form(form) -> dict[str, Any]:
    values = {k: str(form.get(k, "")) for k in ("name", "description", "access", "tags")}
    if form.get("parent_id"):
        values["parent_id"] = _form_id(form.get("parent_id"))
    return values


@router.get("/communities/new")
async def new_form(request: Request, db: Session, principal: Caller, parent: int | None = None) -> Response:
    if not principal.can(Permission.COMMUNITIES_CREATE):
        raise NotFound()
    return render(request, "communities/new.html", {
        "values": {"access": Access.PUBLIC.value, "parent_id": parent or ""}, "errors": {},
        "parents": await service.owned_top_level(db, principal)})


@router.post("/communities/new")
async def create(request: Request, db: Session, principal: Caller) -> Response:
    values = _values_from_form(await request.form())
    try:
        made = await service.create(db, principal, values, ip=client_ip(request))
    except ValidationFailed as error:
        return render(request, "communities/new.html", {
            "values": values, "errors": error.by_field(),
            "parents": await service.owned_top_level(db, principal)}, status=error.status)
    return RedirectResponse(f"/communities/{made.id}", status_code=303)


# --- one community -------------------------------------------------------------------------------------------------

async def _community_context(db, principal, community_id: Any) -> dict[str, Any]:
    community = await service.get_community(db, principal, community_id)
    standing = await service.standing(db, principal, community)
    parent = await service.get_community(db, principal, community.parent_id) if community.parent_id else None
    return {"community": community, "standing": standing, "parent": parent}


@router.get("/communities/{community_id}")
async def overview(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    context = await _community_context(db, principal, community_id)
    community, standing = context["community"], context["standing"]
    # Someone invited to a restricted community sees its name and description, to accept; nothing more.
    reads_content = standing.is_member or standing.admin or community.access != Access.RESTRICTED.value
    context.update({
        "active": "overview", "reads_content": reads_content,
        "subcommunities": await service.subcommunities(db, principal, community) if reads_content else [],
        "recent": await service.recent_members(db, community) if reads_content else [],
        "owners": [m.person for m in await service.members(db, principal, community.id, limit=50)
                   if m.role == MemberRole.OWNER.value] if reads_content else [],
    })
    if reads_content:
        from socius.activity import service as activity
        from socius.activity import web as activity_web

        context["follow"] = await activity.follow_button_context(db, principal, "community", community)
        context.update(await activity_web.community_feed_context(db, principal, community), feed=True)
        context["community"], context["standing"] = community, standing
        context["origins"] = [link for origin in service.ORIGINS if (link := await origin(db, principal, community))]
    return render(request, "communities/overview.html", context)


async def _membership_action(request: Request, db, principal, community_id: int, action, back: str) -> Response:
    try:
        await action()
    except REFUSALS as error:
        context = await _community_context(db, principal, community_id)
        context.update({"active": "overview", "reads_content": False, "subcommunities": [], "recent": [],
                        "owners": [], "error": _message(error)})
        return render(request, "communities/overview.html", context, status=error.status)
    return RedirectResponse(back, status_code=303)


@router.post("/communities/{community_id}/join")
async def join(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await _membership_action(request, db, principal, community_id, lambda: service.join(
        db, principal, community_id, ip=client_ip(request)), f"/communities/{community_id}")


@router.post("/communities/{community_id}/leave")
async def leave(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    community = await service.get_community(db, principal, community_id)
    # After leaving a restricted community there is nothing left to show there.
    back = "/communities" if community.access == Access.RESTRICTED.value else f"/communities/{community_id}"
    return await _membership_action(request, db, principal, community_id, lambda: service.leave(
        db, principal, community_id, ip=client_ip(request)), back)


# --- members -------------------------------------------------------------------------------------------------------

async def _members_page(request: Request, db, principal, community_id: Any, *, status: int = 200,
                        error: str | None = None, errors: dict | None = None, notice: str | None = None,
                        values: dict | None = None) -> Response:
    context = await _community_context(db, principal, community_id)
    community, standing = context["community"], context["standing"]
    if community.access == Access.RESTRICTED.value and not (standing.is_member or standing.admin):
        raise NotFound()
    active = await service.members(db, principal, community.id, limit=100)
    context.update({
        "active": "members", "error": error, "errors": errors or {}, "notice": notice, "values": values or {},
        "by_role": {role.value: [m for m in active if m.role == role.value] for role in MemberRole},
        "roles": [r.value for r in MemberRole],
    })
    if standing.can_moderate:
        context["requested"] = await service.members(db, principal, community.id, state=MemberState.REQUESTED.value)
        context["invited"] = await service.members(db, principal, community.id, state=MemberState.INVITED.value)
        context["by_email"] = await guests.outstanding(db, community.id)
    return render(request, "communities/members.html", context, status=status)


@router.get("/communities/{community_id}/members")
async def members(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    done = request.query_params.get("done")
    return await _members_page(request, db, principal, community_id,
                               notice=done if done in ("invited", "emailed") else None)


@router.get("/communities/{community_id}/members/candidates")
async def candidates(request: Request, db: Session, principal: Caller, community_id: int,
                     q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """People to invite, from the directory search (htmx: the list under the search field)."""
    community = await service.get_community(db, principal, community_id)
    standing = await service.standing(db, principal, community)
    if not standing.is_member:
        raise NotFound()
    found = []
    if q.strip():
        page = await people.search_directory(db, principal, people.DirectoryQuery(q=q, limit=10))
        found = page.items
    return render(request, "communities/_candidates.html", {"community": community, "people": found, "q": q})


async def _members_action(request: Request, db, principal, community_id: int, action,
                          notice: str | None = None, values: dict | None = None) -> Response:
    try:
        await action()
    except REFUSALS as error:
        return await _members_page(request, db, principal, community_id, status=error.status,
                                   error=_message(error), values=values,
                                   errors=error.by_field() if isinstance(error, ValidationFailed) else None)
    return RedirectResponse(f"/communities/{community_id}/members" + (f"?done={notice}" if notice else ""),
                            status_code=303)


@router.post("/communities/{community_id}/members/invite")
async def invite(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    form = await request.form()
    person_ids = [_form_id(v) for v in form.getlist("person_id")]
    return await _members_action(request, db, principal, community_id, lambda: service.invite(
        db, principal, community_id, person_ids, ip=client_ip(request)), "invited")


@router.post("/communities/{community_id}/members/invite-email")
async def invite_email(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    form = await request.form()
    values = {"emails": str(form.get("emails", "")), "name": str(form.get("name", ""))}
    return await _members_action(request, db, principal, community_id, lambda: guests.invite_by_email(
        db, principal, community_id, values["emails"], name=values["name"], ip=client_ip(request)),
        "emailed", values)


@router.post("/communities/{community_id}/members/{person_id}/remove")
async def remove_member(request: Request, db: Session, principal: Caller, community_id: int,
                        person_id: int) -> Response:
    return await _members_action(request, db, principal, community_id, lambda: service.remove_member(
        db, principal, community_id, person_id, ip=client_ip(request)))


@router.post("/communities/{community_id}/members/{person_id}/role")
async def set_role(request: Request, db: Session, principal: Caller, community_id: int,
                   person_id: int) -> Response:
    role = str((await request.form()).get("role", ""))
    return await _members_action(request, db, principal, community_id, lambda: service.set_role(
        db, principal, community_id, person_id, role, ip=client_ip(request)))


@router.post("/communities/{community_id}/requests/{person_id}/{decision}")
async def settle_request(request: Request, db: Session, principal: Caller, community_id: int, person_id: int,
                         decision: str) -> Response:
    if decision not in ("approve", "refuse"):
        raise NotFound()
    return await _members_action(request, db, principal, community_id, lambda: service.approve(
        db, principal, community_id, person_id, decision == "approve", ip=client_ip(request)))


# --- settings --------------------------------------------------------------------------------------------------------

async def _settings_page(request: Request, db, principal, community_id: Any, *, values: dict | None = None,
                         errors: dict | None = None, error: str | None = None, status: int = 200) -> Response:
    context = await _community_context(db, principal, community_id)
    if not context["standing"].can_manage:
        raise NotFound()
    community = context["community"]
    context.update({"active": "settings", "errors": errors or {}, "error": error, "values": values or {
        "name": community.name, "description": community.description_md, "access": community.access,
        "tags": ", ".join(community.tags)}})
    return render(request, "communities/settings.html", context, status=status)


@router.get("/communities/{community_id}/settings")
async def settings_form(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await _settings_page(request, db, principal, community_id)


@router.post("/communities/{community_id}/settings")
async def settings_save(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    values = _values_from_form(await request.form())
    values.pop("parent_id", None)
    try:
        await service.change(db, principal, community_id, values, ip=client_ip(request))
    except REFUSALS as error:
        return await _settings_page(request, db, principal, community_id, values=values, status=error.status,
                                    errors=error.by_field() if isinstance(error, ValidationFailed) else None,
                                    error=_message(error))
    return RedirectResponse(f"/communities/{community_id}", status_code=303)


@router.post("/communities/{community_id}/archive")
async def archive(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    archived = (await request.form()).get("archived", "1") != "0"
    await service.set_archived(db, principal, community_id, archived, ip=client_ip(request))
    return RedirectResponse(f"/communities/{community_id}", status_code=303)


# --- moderation -----------------------------------------------------------------------------------------------------

async def _queue_context(db, principal, community_id: int | None) -> dict[str, Any]:
    entries = await content.moderation_queue(db, principal, community_id)
    authors = await people.people_by_ids(db, {e.item.author_id for e in entries if e.item.author_id})
    places = await service.communities_by_ids(db, principal, list({e.item.community_id for e in entries
                                                                   if e.item.community_id}))
    return {"entries": entries, "authors": authors, "places": places, "item_url": content.item_url}


@router.get("/communities/{community_id}/moderation")
async def community_moderation(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    context = await _community_context(db, principal, community_id)
    if not context["standing"].can_moderate:
        raise NotFound()
    context.update(await _queue_context(db, principal, context["community"].id))
    context.update({"active": "moderation", "back": f"/communities/{community_id}/moderation"})
    return render(request, "communities/moderation.html", context)


@router.get("/admin/moderation")
async def admin_moderation(request: Request, db: Session, principal: Caller) -> Response:
    if not principal.can(Permission.COMMUNITIES_ADMINISTER):
        raise NotFound()
    context = await _queue_context(db, principal, None)
    context.update({"community": None, "back": "/admin/moderation"})
    return render(request, "communities/moderation.html", context)


@router.post("/moderation/items/{item_id}")
async def moderate(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    """Hide a reported item, or dismiss its reports (restoring it if it was hidden); back to the queue."""
    form = await request.form()
    action = form.get("action")
    if action not in ("hide", "dismiss"):
        raise NotFound()
    await content.set_hidden(db, principal, item_id, action == "hide", ip=client_ip(request))
    return RedirectResponse(safe_next(str(form.get("next", "")), "/admin/moderation"), status_code=303)
