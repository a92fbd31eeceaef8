"""Idea portal pages: /campaigns (the list, a new campaign), a campaign (its ideas by ranking, leaderboard,
timeline, members, settings), /ideas/{id} (an idea: votes, comments, stage, follow, its reviews for managers),
/ideas/{id}/review (a reviewer's form), /reviews (my reviews), metrics, merges and graduation.

A refused button (409, 403, 422) shows the idea's page again with the reason above it and changes nothing (the
4xx rolls the request's transaction back), as the communities' pages do; forms show each field's reason under it."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from socius.communities import service as communities
from socius.content import web as content_web
from socius.core.authz import Permission
from socius.core.csrf import streams_upload
from socius.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, SociusError, ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.files import service as files
from socius.files.upload import taking
from socius.ideas import access, graduation, guests, merging, service
from socius.ideas import metrics as idea_metrics
from socius.ideas import review as idea_review
from socius.ideas.access import get_campaign
from socius.ideas.models import Audience
from socius.people import service as people
from socius.search import runtime as search_runtime

router = APIRouter(include_in_schema=False)

REFUSALS = (ValidationFailed, Conflict, PermissionDenied, RateLimited)
FLAGS = ("allow_down_votes", "allow_skip", "moderate_guests", "blind_review")
CRITERIA_ROWS = 3  # empty criterion rows offered under the campaign's own


def _message(error: SociusError) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(error.by_field().values())
    return error.render_message()


def _stage_name(stage: str) -> str:
    return service.stage_label_msgid(stage) or stage


def _form_id(value: str) -> Any:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 19 else value


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


# --- the campaign form --------------------------------------------------------------------------------------------

def _criteria_rows(form) -> list[dict[str, str]]:
    """The criterion rows as typed (name and weight fields side by side), blank rows left out."""
    names, weights = form.getlist("criterion_name"), form.getlist("criterion_weight")
    rows = [{"name": str(n).strip(), "weight": str(w).strip()} for n, w in zip(names, weights, strict=False)]
    return [r for r in rows if r["name"] or r["weight"]]


def _weight(text: str) -> Any:
    try:
        return float(text) if text else 1
    except ValueError:
        return text  # the service names the field and why


def _campaign_values(form, typed: dict[str, Any]) -> dict[str, Any]:
    """The service's values from the campaign form: stages one per line (or a comma list), criterion rows, flags."""
    values: dict[str, Any] = {k: typed.get(k, "") for k in ("title", "brief", "tags", "opens_at", "closes_at")}
    values["audience"] = typed.get("audience") or Audience.EMPLOYEES.value
    if values["audience"] == Audience.COMMUNITY.value:
        values["community_id"] = typed.get("community_id", "")
    stages = typed.get("stages", "").strip()
    if stages:
        values["stages"] = [s for s in stages.splitlines() if s.strip()] if "\n" in stages else stages
    values["criteria"] = [{"name": r["name"], "weight": _weight(r["weight"])} for r in typed["criteria"]]
    for flag in FLAGS:
        values[flag] = form.get(flag) is not None
    return values


def _typed(form) -> dict[str, Any]:
    """What the person typed, to show the form again."""
    typed: dict[str, Any] = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "criterion_name",
                                                                             "criterion_weight")}
    typed["criteria"] = _criteria_rows(form)
    for flag in FLAGS:
        typed[flag] = form.get(flag) is not None
    return typed


async def _campaign_form(request: Request, db, principal, campaign, values: dict[str, Any], *,
                         errors: dict[str, str] | None = None, error: str | None = None, status: int = 200
                         ) -> Response:
    mine = await communities.catalog(db, principal, communities.CatalogQuery(mine=True, limit=100))
    if campaign is not None and campaign.community_id and campaign.community_id not in {c.id for c in mine}:
        with contextlib.suppress(NotFound):  # a co-manager outside the community still sees (and keeps) it
            mine.append(await communities.get_community(db, principal, campaign.community_id))
    rows = list(values.get("criteria") or [])
    context = {"values": {**values, "criteria": rows + [{"name": "", "weight": ""}] * CRITERIA_ROWS},
               "errors": errors or {}, "error": error, "campaign": campaign, "communities": mine}
    if campaign is not None:
        context["members"] = await service.members(db, principal, campaign)
    return render(request, "ideas/campaign_form.html", context, status=status)


@router.get("/campaigns")
async def campaigns_page(request: Request, db: Session, principal: Caller) -> Response:
    lists = {state: await service.campaigns(db, principal, service.CampaignQuery(state=state))
             for state in ("open", "upcoming", "closed")}
    return render(request, "ideas/campaigns.html", {
        "lists": lists, "can_create": principal.can(Permission.CAMPAIGNS_CREATE),
        "can_administer": principal.can(Permission.CAMPAIGNS_ADMINISTER)})


@router.get("/campaigns/new")
async def new_campaign(request: Request, db: Session, principal: Caller) -> Response:
    # The model's defaults: guests' ideas wait for approval, reviews are blind.
    return await _campaign_form(request, db, principal, None, {"moderate_guests": True, "blind_review": True})


@router.post("/campaigns")
async def create_campaign(request: Request, db: Session, principal: Caller) -> Response:
    form = await request.form()
    typed = _typed(form)
    try:
        made = await service.create_campaign(db, principal, _campaign_values(form, typed), ip=client_ip(request))
    except ValidationFailed as error:
        return await _campaign_form(request, db, principal, None, typed, errors=error.by_field(),
                                    status=error.status)
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


async def _candidates(request: Request, db, principal, campaign_id: int, field: str, template: str, find
                      ) -> Response:
    """People from the directory search typed in `field`, as `find(db, principal, campaign, q)` narrows them
    (htmx: the list under the search field)."""
    campaign = await get_campaign(db, principal, campaign_id)
    q = request.query_params.get(field, "")[:200]
    return render(request, template, {"campaign": campaign, "q": q,
                                      "people": await find(db, principal, campaign, q)})


@router.get("/campaigns/{campaign_id}/coauthor-candidates")
async def coauthor_candidates(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    """People to name as co-authors: those who can see the campaign."""
    return await _candidates(request, db, principal, campaign_id, "coauthor_q", "ideas/_coauthor_candidates.html",
                             service.coauthor_candidates)


@router.get("/campaigns/{campaign_id}/coauthor-chip")
async def coauthor_chip(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    """One chosen co-author in the form: a ticked box (untick to leave them out)."""
    campaign = await get_campaign(db, principal, campaign_id)
    person = await people.get_person(db, principal, _form_id(request.query_params.get("person_id", "")))
    return render(request, "ideas/_coauthor_chips.html", {"campaign": campaign, "chosen": [person]})


@router.post("/campaigns/{campaign_id}/ideas")
async def submit_idea(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in ("title", "body", "tags")}
    # Numbers as numbers; anything else goes as typed, for the service to refuse by name.
    values["coauthors"] = [_form_id(str(v)) for v in form.getlist("coauthors")]
    chosen = [v for v in values["coauthors"] if isinstance(v, int)]
    try:
        view = await service.submit_idea(db, principal, campaign_id, values, ip=client_ip(request))
    except REFUSALS as error:
        campaign = await get_campaign(db, principal, campaign_id)
        context = await _campaign_context(db, principal, campaign, "top")
        errors = error.by_field() if isinstance(error, ValidationFailed) else {}
        return render(request, "ideas/campaign.html", {
            **context, "values": values, "errors": errors, "error": None if errors else _message(error),
            "chosen": list((await people.people_by_ids(db, set(chosen))).values())}, status=error.status)
    return RedirectResponse(f"/ideas/{view.item.id}", status_code=303)


def _saved_values(campaign, criteria) -> dict[str, Any]:
    return {"title": campaign.title, "brief": campaign.brief_md, "tags": ", ".join(campaign.tags),
            "audience": campaign.audience, "community_id": str(campaign.community_id or ""),
            "opens_at": campaign.opens_at.isoformat(),
            "closes_at": campaign.closes_at.isoformat() if campaign.closes_at else "",
            "stages": "\n".join(campaign.stages),
            "criteria": [{"name": c.name, "weight": f"{c.weight:g}"} for c in criteria],
            **{flag: getattr(campaign, flag) for flag in FLAGS}}


@router.get("/campaigns/{campaign_id}/settings")
async def campaign_settings(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    values = _saved_values(campaign, await idea_review.criteria(db, campaign.id))
    return await _campaign_form(request, db, principal, campaign, values)


@router.post("/campaigns/{campaign_id}/settings")
async def save_settings(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    form = await request.form()
    typed = _typed(form)
    values = _campaign_values(form, typed)
    saved = _saved_values(campaign, await idea_review.criteria(db, campaign.id))
    if typed["criteria"] == saved["criteria"]:
        del values["criteria"]  # unchanged: replacing them would drop the reviewers' drafts
    try:
        await service.change_campaign(db, principal, campaign.id, values, ip=client_ip(request))
    except REFUSALS as error:
        errors = error.by_field() if isinstance(error, ValidationFailed) else {}
        return await _campaign_form(request, db, principal, campaign, typed, errors=errors, status=error.status,
                                    error=None if errors else _message(error))
    return RedirectResponse(f"/campaigns/{campaign.id}/settings", status_code=303)


@router.post("/campaigns/{campaign_id}/archive")
async def archive(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    await service.set_archived(db, principal, campaign_id, True, ip=client_ip(request))
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


# --- reviews and metrics (before /ideas/{idea_id}, which would take /ideas/metrics) -------------------------------

@router.get("/reviews")
async def my_reviews_page(request: Request, db: Session, principal: Caller) -> Response:
    return render(request, "ideas/my_reviews.html", {"reviews": await idea_review.my_reviews(db, principal)})


async def _review_page(request: Request, db, principal, idea_id: int, *, error: str | None = None,
                       errors: dict | None = None, typed: dict | None = None, status: int = 200) -> Response:
    form = await idea_review.my_review(db, principal, idea_id)
    scores = {str(c): str(s) for c, s in form.mine.scores.items()}
    return render(request, "ideas/review.html", {
        "form": form, "item": form.item, "campaign": form.campaign, "error": error, "errors": errors or {},
        "scores": typed["scores"] if typed else scores,
        "comment": typed["comment"] if typed else form.mine.comment,
        "saved": request.query_params.get("saved")}, status=status)


@router.get("/ideas/{idea_id}/review")
async def review_page(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    return await _review_page(request, db, principal, idea_id)


@router.post("/ideas/{idea_id}/review")
async def save_review(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    form = await _form(request)
    scores = {k.removeprefix("score-"): v for k, v in form.items() if k.startswith("score-")}
    submit = "submit" in form
    values = {"scores": scores, "comment": form.get("comment", ""), "submit": submit}
    try:
        await idea_review.save_review(db, principal, idea_id, values, ip=client_ip(request))
    except REFUSALS as error:
        errors = error.by_field() if isinstance(error, ValidationFailed) else {}
        return await _review_page(request, db, principal, idea_id, error=_message(error), errors=errors,
                                  typed={"scores": scores, "comment": values["comment"]}, status=error.status)
    return RedirectResponse(f"/ideas/{idea_id}/review?saved={'submitted' if submit else 'draft'}",
                            status_code=303)


def _bars(counts: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(key, count, width in steps of 5 %) for bars drawn by CSS classes (the CSP allows no inline style)."""
    top = max((n for _, n in counts), default=0)
    return [(key, n, round(n * 20 / top) * 5 if top else 0) for key, n in counts]


async def _metrics_page(request: Request, db, principal, campaign_id: int | None) -> Response:
    start, end = request.query_params.get("start", "")[:40], request.query_params.get("end", "")[:40]
    campaign = await get_campaign(db, principal, campaign_id) if campaign_id is not None else None
    errors, status = {}, 200
    try:
        period = idea_metrics.parse_period(start, end)
    except ValidationFailed as error:
        errors, status, period = error.by_field(), error.status, (None, None)
    if campaign is not None:
        found = await idea_metrics.campaign_metrics(db, principal, campaign.id, *period)
        csv_url = f"/api/v1/campaigns/{campaign.id}/metrics.csv"
    else:
        found = await idea_metrics.overall_metrics(db, principal, *period)
        csv_url = "/api/v1/ideas/metrics.csv"
    if not errors and (start or end):
        csv_url += "?" + urlencode({k: v for k, v in (("start", start), ("end", end)) if v})
    return render(request, "ideas/metrics.html", {
        "campaign": campaign, "metrics": found, "errors": errors,
        "values": {"start": start, "end": end}, "csv_url": csv_url, "stage_name": _stage_name,
        "funnel": _bars(found.funnel), "departments": _bars(found.departments)}, status=status)


@router.get("/ideas/metrics")
async def overall_metrics_page(request: Request, db: Session, principal: Caller) -> Response:
    return await _metrics_page(request, db, principal, None)


@router.get("/campaigns/{campaign_id}/metrics")
async def campaign_metrics_page(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    return await _metrics_page(request, db, principal, campaign_id)


# --- an idea and its buttons --------------------------------------------------------------------------------------

async def _reviewing(db, principal, view, campaign) -> dict[str, Any]:
    """The reviews part of an idea's page: all of them for managers; for an assigned reviewer, their own state."""
    if view.can_manage:
        return {"reviews": await idea_review.visible_reviews(db, principal, view.item.id),
                "criteria": await idea_review.criteria(db, campaign.id), "my_review": None}
    try:
        return {"reviews": [], "criteria": [], "my_review": (await idea_review.my_review(
            db, principal, view.item.id)).mine}
    except NotFound:
        return {"reviews": [], "criteria": [], "my_review": None}


async def _idea_page(request: Request, db, principal, idea_id: int, *, error: str | None = None,
                     errors: dict | None = None, status: int = 200) -> Response:
    view = await service.get_idea(db, principal, idea_id)
    campaign = await get_campaign(db, principal, view.idea.campaign_id)
    context = await content_web.social_context(db, principal, view.item)
    target = await service.get_idea(db, principal, view.idea.merged_into_id) if view.idea.merged_into_id else None
    merges = await merging.merges_of(db, view.item.id)
    merged_from = [(m, (await service.get_idea(db, principal, m.source_id)).item) for m in merges]
    return render(request, "ideas/idea.html", {
        **context, "view": view, "idea": view.idea, "campaign": campaign, "target": target,
        "merges": merges, "merged_from": merged_from, "error": error, "errors": errors or {},
        "allowed": service.allowed_stages(campaign, view.idea.stage) if view.can_manage else [],
        "timeline": await service.timeline(db, view.item.id), "stage_name": _stage_name,
        "coauthors": await service.coauthors(db, view.item.id),
        "attachments": await files.attachments(db, principal, view.item), "size_label": files.size_label,
        "max_bytes": request.app.state.settings.file_max_bytes,
        **await _reviewing(db, principal, view, campaign)}, status=status)


@router.post("/ideas/{idea_id}/attachments")
@streams_upload
async def attach(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    idea = await service.attachment_target(db, principal, idea_id)
    return await _idea_action(request, db, principal, idea.id, lambda: taking(request, lambda received: (
        files.add_attachment(db, principal, idea, received, request.app.state.settings, ip=client_ip(request)))))


@router.post("/ideas/{idea_id}/attachments/{file_id}/delete")
async def delete_attachment(request: Request, db: Session, principal: Caller, idea_id: int, file_id: int
                            ) -> Response:
    return await _idea_action(request, db, principal, idea_id, lambda: service.delete_attachment(
        db, principal, idea_id, file_id, ip=client_ip(request)))


@router.get("/ideas/{idea_id}")
async def idea_page(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    view = await service.get_idea(db, principal, idea_id)
    if view.idea.merged_into_id:  # the idea it went into says "merged from" (and managers may undo it there)
        return RedirectResponse(f"/ideas/{view.idea.merged_into_id}", status_code=303)
    return await _idea_page(request, db, principal, view.item.id)


async def _idea_action(request: Request, db, principal, idea_id: int, action, back: str | None = None
                       ) -> Response:
    """Run a button's change, then back to the idea; a refusal shows the idea's page with the reason."""
    try:
        done = await action()
    except REFUSALS as error:
        return await _idea_page(request, db, principal, idea_id, error=_message(error), status=error.status,
                                errors=error.by_field() if isinstance(error, ValidationFailed) else None)
    return RedirectResponse(back(done) if callable(back) else back or f"/ideas/{idea_id}", status_code=303)


_ACTIONS = {
    "vote": lambda db, p, i, f, ip: service.vote(db, p, i, -1 if f.get("value") == "-1" else 1),
    "unvote": lambda db, p, i, f, ip: service.unvote(db, p, i),
    "follow": lambda db, p, i, f, ip: service.set_following(db, p, i, True),
    "unfollow": lambda db, p, i, f, ip: service.set_following(db, p, i, False),
    "shortlist": lambda db, p, i, f, ip: service.set_shortlisted(db, p, i, True, ip=ip),
    "unshortlist": lambda db, p, i, f, ip: service.set_shortlisted(db, p, i, False, ip=ip),
    "approve": lambda db, p, i, f, ip: service.approve_idea(db, p, i, ip=ip),
    "stage": lambda db, p, i, f, ip: service.change_stage(db, p, i, f.get("stage", ""), f.get("reason", ""), ip=ip),
    "merge": lambda db, p, i, f, ip: merging.merge(db, p, i, _form_id(f.get("into", "")), ip=ip),
    "reviewers": lambda db, p, i, f, ip: idea_review.assign_reviewers(db, p, i, [_form_id(f.get("person_id", ""))],
                                                                      ip=ip),
}


def _action_route(action: str) -> None:
    async def act(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
        form = await _form(request)
        return await _idea_action(request, db, principal, idea_id,
                                  lambda: _ACTIONS[action](db, principal, idea_id, form, client_ip(request)))

    act.__name__ = f"idea_{action}"
    router.post(f"/ideas/{{idea_id}}/{action}")(act)


for _action in _ACTIONS:  # the idea page's buttons: vote (value 1 or -1), follow, shortlist, approve, stage, …
    _action_route(_action)


@router.get("/ideas/{idea_id}/reviewer-candidates")
async def reviewer_candidates(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    """Employees a manager may assign, from the directory (htmx: the list under the search field)."""
    q = request.query_params.get("reviewer_q", "")[:200]
    return render(request, "ideas/_reviewer_candidates.html", {
        "idea_id": idea_id, "q": q, "people": await idea_review.reviewer_candidates(db, principal, idea_id, q)})


@router.post("/ideas/{idea_id}/reviewers/{person_id}/remove")
async def unassign_reviewer(request: Request, db: Session, principal: Caller, idea_id: int,
                            person_id: int) -> Response:
    return await _idea_action(request, db, principal, idea_id, lambda: idea_review.unassign_reviewer(
        db, principal, idea_id, person_id, ip=client_ip(request)))


@router.post("/idea-merges/{merge_id}/undo")
async def undo_merge_form(request: Request, db: Session, principal: Caller, merge_id: int) -> Response:
    back = _form_id((await _form(request)).get("idea_id", ""))
    if not isinstance(back, int):
        raise NotFound()
    return await _idea_action(request, db, principal, back, lambda: merging.unmerge(
        db, principal, merge_id, ip=client_ip(request)), back=lambda row: f"/ideas/{row.source_id}")


@router.post("/ideas/{idea_id}/graduate")
async def graduate_form(request: Request, db: Session, principal: Caller, idea_id: int) -> Response:
    form = await _form(request)
    values = {k: form[k].strip() for k in ("name", "access") if form.get(k, "").strip()}
    return await _idea_action(request, db, principal, idea_id, lambda: graduation.graduate(
        db, principal, idea_id, values, ip=client_ip(request)), back=lambda made: f"/communities/{made.id}")


# --- members and guests ---------------------------------------------------------------------------------------------

async def _members_page(request: Request, db, principal, campaign_id: int, *, status: int = 200,
                        error: SociusError | None = None, values: dict | None = None) -> Response:
    campaign = await get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    done = request.query_params.get("done")
    return render(request, "ideas/members.html", {
        "campaign": campaign, "members": await service.members(db, principal, campaign),
        "by_email": await guests.outstanding(db, campaign.id), "values": values or {},
        "errors": error.by_field() if isinstance(error, ValidationFailed) else {},
        "error": _message(error) if error is not None else None,
        "notice": done if done in ("added", "emailed") else None}, status=status)


async def _members_action(request: Request, db, principal, campaign_id: int, action, notice: str,
                          values: dict | None = None) -> Response:
    """Run a change of the members; back to the page, or the page again with why it was refused (a 4xx rolls
    the request's transaction back: nothing changed)."""
    try:
        await action()
    except REFUSALS as error:
        return await _members_page(request, db, principal, campaign_id, status=error.status, error=error,
                                   values=values)
    return RedirectResponse(f"/campaigns/{campaign_id}/members" + (f"?done={notice}" if notice else ""),
                            status_code=303)


@router.get("/campaigns/{campaign_id}/members")
async def members_page(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    return await _members_page(request, db, principal, campaign_id)


@router.get("/campaigns/{campaign_id}/members/candidates")
async def member_candidates(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    """People a manager may add: those not in the campaign yet."""
    return await _candidates(request, db, principal, campaign_id, "q", "ideas/_member_candidates.html",
                             service.member_candidates)


@router.post("/campaigns/{campaign_id}/members")
async def add_member(request: Request, db: Session, principal: Caller, campaign_id: int) -> Response:
    form = await _form(request)
    person_id = _form_id(form.get("person_id", ""))
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
