"""Idea portal pages: /campaigns (the list, a new campaign), a campaign (its ideas by ranking, leaderboard,
timeline, members), /ideas/{id} (an idea: votes, comments, stage, follow), reviews, merges, graduation, metrics."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.content import web as content_web
from socius.core.authz import Permission
from socius.core.errors import Conflict, PermissionDenied, SociusError, ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.ideas import access, graduation, guests, merging, service
from socius.ideas.access import get_campaign
from socius.people import service as people
from socius.search import runtime as search_runtime

router = APIRouter(include_in_schema=False)


# --- campaigns and ideas ------------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("title", "brief", "tags", "opens_at", "closes_at")


def _stage_name(stage: str) -> str:
    return service.stage_label_msgid(stage) or stage


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


def _campaign_values(form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "") for k in ("title", "brief", "tags")}
    for name in ("opens_at", "closes_at"):
        if form.get(name):
            values[name] = form[name]
    values["audience"] = form.get("audience") or "employees"
    values["allow_down_votes"] = form.get("allow_down_votes") is not None
    values["allow_skip"] = form.get("allow_skip") is not None
    return values


@router.get("/campaigns")
async def campaigns_page(request: Request, db: Session, principal: Caller) -> Response:
    lists = {state: await service.campaigns(db, principal, service.CampaignQuery(state=state))
             for state in ("open", "upcoming", "closed")}
    return render(request, "ideas/campaigns.html", {
        "lists": lists, "can_create": principal.can(Permission.CAMPAIGNS_CREATE)})


@router.get("/campaigns/new")
async def new_campaign(request: Request, db: Session, principal: Caller) -> Response:
    return render(request, "ideas/campaign_form.html", {"values": {}, "errors": {}, "campaign": None})


@router.post("/campaigns")
async def create_campaign(request: Request, db: Session, principal: Caller) -> Response:
    form = await _form(request)
    try:
        made = await service.create_campaign(db, principal, _campaign_values(form), ip=client_ip(request))
    except ValidationFailed as error:
        return render(request, "ideas/campaign_form.html", {"values": form, "errors": error.by_field(),
                                                            "campaign": None}, status=error.status)
    return RedirectResponse(f"/campaigns/{made.id}", status_code=303)


async def _campaign_context(db, principal, campaign, order: str) -> dict[str, Any]:
    standing = await access.standing(db, principal, campaign)
    query = service.IdeaQuery(order=order)
    views = await service.list_ideas(db, principal, campaign, query)
    pending = (await service.list_ideas(db, principal, campaign, service.IdeaQuery(order="new", pending=True))
               if standing.can_manage else [])
    authors = await people.people_by_ids(db, {v.item.author_id for v in [*views, *pending] if v.item.author_id})
    counts = await service.stage_counts(db, campaign)
    orders = [o for o in service.ORDERS if o != "review" or standing.can_manage]
    return {"campaign": campaign, "standing": standing, "views": views, "pending": pending, "authors": authors,
            "order": order, "orders": orders, "counts": counts, "open": access.is_open(campaign),
            "leaders": await service.leaderboard(db, principal, campaign),
            "timeline": await service.campaign_timeline(db, principal, campaign, limit=20),
            "stage_name": _stage_name}


@router.get("/campaigns/{campaign_id}")
async def campaign_page(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    order = request.query_params.get("order", "top")
    if order not in service.ORDERS:
        order = "top"
    context = await _campaign_context(db, principal, campaign, order)
    return render(request, "ideas/campaign.html", {**context, "values": {}, "errors": {}})


@router.get("/campaigns/{campaign_id}/similar-fragment")
async def similar_fragment(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    title = request.query_params.get("title", "")[:300]
    found = await service.similar_ideas(db, principal, search_runtime.from_request(request), campaign_id, title)
    return render(request, "ideas/_similar.html", {"similar": found})


@router.post("/campaigns/{campaign_id}/ideas")
async def submit_idea(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    form = await _form(request)
    values = {k: form.get(k, "") for k in ("title", "body", "tags")}
    try:
        view = await service.submit_idea(db, principal, campaign_id, values, ip=client_ip(request))
    except ValidationFailed as error:
        campaign = await get_campaign(db, principal, campaign_id)
        context = await _campaign_context(db, principal, campaign, "top")
        return render(request, "ideas/campaign.html", {**context, "values": values, "errors": error.by_field()},
                      status=error.status)
    return RedirectResponse(f"/ideas/{view.item.id}", status_code=303)


@router.get("/campaigns/{campaign_id}/settings")
async def campaign_settings(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    values = {"title": campaign.title, "brief": campaign.brief_md, "tags": ", ".join(campaign.tags),
              "audience": campaign.audience,
              "closes_at": campaign.closes_at.isoformat() if campaign.closes_at else ""}
    return render(request, "ideas/campaign_form.html", {
        "values": values, "errors": {}, "campaign": campaign,
        "members": await service.members(db, principal, campaign)})


@router.post("/campaigns/{campaign_id}/settings")
async def save_settings(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    form = await _form(request)
    values = _campaign_values(form)
    values.pop("opens_at", None)
    try:
        await service.change_campaign(db, principal, campaign.id, values, ip=client_ip(request))
    except ValidationFailed as error:
        return render(request, "ideas/campaign_form.html", {
            "values": form, "errors": error.by_field(), "campaign": campaign,
            "members": await service.members(db, principal, campaign)}, status=error.status)
    return RedirectResponse(f"/campaigns/{campaign.id}/settings", status_code=303)


@router.post("/campaigns/{campaign_id}/archive")
async def archive(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    await service.set_archived(db, principal, campaign_id, True, ip=client_ip(request))
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.get("/ideas/{idea_id}")
async def idea_page(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    view = await service.get_idea(db, principal, idea_id)
    campaign = await get_campaign(db, principal, view.idea.campaign_id)
    context = await content_web.social_context(db, principal, view.item)
    target = await service.get_idea(db, principal, view.idea.merged_into_id) if view.idea.merged_into_id else None
    return render(request, "ideas/idea.html", {
        **context, "view": view, "idea": view.idea, "campaign": campaign, "target": target,
        "allowed": service.allowed_stages(campaign, view.idea.stage) if view.can_manage else [],
        "timeline": await service.timeline(db, view.item.id), "stage_name": _stage_name})


_ACTIONS = {
    "vote": lambda db, p, i, f: service.vote(db, p, i, -1 if f.get("value") == "-1" else 1),
    "unvote": lambda db, p, i, f: service.unvote(db, p, i),
    "follow": lambda db, p, i, f: service.set_following(db, p, i, True),
    "unfollow": lambda db, p, i, f: service.set_following(db, p, i, False),
    "shortlist": lambda db, p, i, f: service.set_shortlisted(db, p, i, True),
    "unshortlist": lambda db, p, i, f: service.set_shortlisted(db, p, i, False),
    "approve": lambda db, p, i, f: service.approve_idea(db, p, i),
    "stage": lambda db, p, i, f: service.change_stage(db, p, i, f.get("stage", ""), f.get("reason", "")),
}


def _action_route(action: str) -> None:
    async def act(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
        await _ACTIONS[action](db, principal, idea_id, await _form(request))
        return RedirectResponse(f"/ideas/{idea_id}", status_code=303)

    act.__name__ = f"idea_{action}"
    router.post(f"/ideas/{{idea_id}}/{action}")(act)


for _action in _ACTIONS:  # the idea page's buttons: vote (value 1 or -1), follow, shortlist, approve, stage, …
    _action_route(_action)


# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------


_REFUSED = (ValidationFailed, Conflict, PermissionDenied)


def _back(idea_id: int, error: SociusError | None = None) -> Response:
    """Back to the idea's page, with the refusal's message when there was one."""
    if error is None:
        return RedirectResponse(f"/ideas/{idea_id}", status_code=303)
    message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
        else error.render_message()
    return RedirectResponse(f"/ideas/{idea_id}?error={quote(message)}", status_code=303)


@router.post("/ideas/{idea_id}/merge")
async def merge_form(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    into = str((await request.form()).get("into", "")).strip()
    try:
        await merging.merge(db, principal, idea_id, int(into) if into.isdigit() else into, ip=client_ip(request))
    except _REFUSED as error:
        return _back(idea_id, error)
    return _back(idea_id)


@router.post("/idea-merges/{merge_id}/undo")
async def undo_merge_form(request: Request, db: Session, principal: Caller, merge_id: int) -> Response:
    try:
        row = await merging.unmerge(db, principal, merge_id, ip=client_ip(request))
    except _REFUSED as error:
        back = str((await request.form()).get("idea_id", ""))
        return _back(int(back) if back.isdigit() else 0, error) if back.isdigit() else \
            RedirectResponse("/campaigns", status_code=303)
    return _back(row.source_id)


@router.post("/ideas/{idea_id}/graduate")
async def graduate_form(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    form = await request.form()
    values = {k: str(form[k]).strip() for k in ("name", "access") if str(form.get(k, "")).strip()}
    try:
        made = await graduation.graduate(db, principal, idea_id, values, ip=client_ip(request))
    except _REFUSED as error:
        return _back(idea_id, error)
    return RedirectResponse(f"/communities/{made.id}", status_code=303)


# --- members and guests ---------------------------------------------------------------------------------------------

def _refusal(error: SociusError) -> str:
    return "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) else error.render_message()


async def _members_page(request: Request, db, principal, campaign_id: int, *, status: int = 200,
                        error: SociusError | None = None, values: dict | None = None) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    done = request.query_params.get("done")
    return render(request, "ideas/members.html", {
        "campaign": campaign, "members": await service.members(db, principal, campaign),
        "by_email": await guests.outstanding(db, campaign.id), "values": values or {},
        "errors": error.by_field() if isinstance(error, ValidationFailed) else {},
        "error": _refusal(error) if error is not None else None,
        "notice": done if done in ("added", "emailed") else None}, status=status)


async def _members_action(request: Request, db, principal, campaign_id: int, action, notice: str,
                          values: dict | None = None) -> Response:
    """Run a change of the members; back to the page, or the page again with why it was refused (a 4xx rolls
    the request's transaction back: nothing changed)."""
    try:
        await action()
    except _REFUSED as error:
        return await _members_page(request, db, principal, campaign_id, status=error.status, error=error,
                                   values=values)
    return RedirectResponse(f"/campaigns/{campaign_id}/members" + (f"?done={notice}" if notice else ""),
                            status_code=303)


@router.get("/campaigns/{campaign_id}/members")
async def members_page(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    return await _members_page(request, db, principal, campaign_id)


@router.post("/campaigns/{campaign_id}/members")
async def add_member(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    form = await _form(request)
    raw = form.get("person_id", "").strip()
    person_id: Any = int(raw) if raw.isdigit() and len(raw) < 19 else raw
    return await _members_action(request, db, principal, campaign_id, lambda: service.add_members(
        db, principal, campaign_id, [person_id], form.get("role") or "participant", ip=client_ip(request)), "added")


@router.post("/campaigns/{campaign_id}/members/invite-email")
async def invite_email(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    form = await _form(request)
    values = {"emails": form.get("emails", ""), "name": form.get("name", "")}
    return await _members_action(request, db, principal, campaign_id, lambda: guests.invite_by_email(
        db, principal, campaign_id, values["emails"], name=values["name"], ip=client_ip(request)), "emailed", values)


@router.post("/campaigns/{campaign_id}/members/{person_id}/remove")
async def remove_member(request: Request, db: Session, principal: Caller, campaign_id: int,
                        person_id: int) -> Response:
    return await _members_action(request, db, principal, campaign_id, lambda: service.remove_member(
        db, principal, campaign_id, person_id, ip=client_ip(request)), "")
