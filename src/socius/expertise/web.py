"""Pages: a person's tags (panel on the profile, and a page of their own), tag pages, the expert finder, the team
builder with saved teams and CSV, skills coverage, and tag administration (synonyms, merges)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from socius.core.authz import Permission, require
from socius.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from socius.core.i18n import N_, gettext
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.expertise import finder, service, teams
from socius.expertise.api import ExpertParameters, rate
from socius.people import service as people
from socius.search import runtime

router = APIRouter(include_in_schema=False)


# --- a person's tags ------------------------------------------------------------------------------------------

async def tags_panel_context(db, principal, person, error: str | None = None) -> dict:
    """What the tags panel needs; the profile page includes the panel with this."""
    return {"p": person, "tags": await service.profile_tags(db, principal, person), "tag_error": error,
            "can_tag": person.is_active and (not principal.is_guest or principal.person_id == person.id),
            "is_owner": people.can_edit(principal, person)}


async def _panel(request: Request, db, principal, person_id: int, error: str | None = None,
                 status: int = 200) -> Response:
    person = await people.get_person(db, principal, person_id)
    context = await tags_panel_context(db, principal, person, error)
    template = "expertise/_tags_panel.html" if request.headers.get("HX-Request") else "expertise/person_tags.html"
    return render(request, template, context, status=status)


@router.get("/people/{person_id}/tags")
async def person_tags(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    return await _panel(request, db, principal, person_id)


async def _tag_action(request: Request, db, principal, person_id: int, action) -> Response:
    """Run a tag change; answer with the panel (htmx) or back to the profile. A refused change shows why."""
    try:
        await action()
    except (ValidationFailed, Conflict, RateLimited, PermissionDenied) as error:
        message = "; ".join(error.by_field().values()) if isinstance(error, ValidationFailed) \
            else error.render_message()
        # The refusal must not commit anything: the request's transaction rolls back on a 4xx.
        return await _panel(request, db, principal, person_id, message, status=error.status)
    if request.headers.get("HX-Request"):
        return await _panel(request, db, principal, person_id)
    return RedirectResponse(f"/people/{person_id}#tags", status_code=303)


@router.post("/people/{person_id}/tags")
async def give_tag(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    form = await request.form()
    return await _tag_action(request, db, principal, person_id, lambda: service.add_tag(
        db, principal, person_id, str(form.get("tag", "")), per_hour=rate(request), ip=client_ip(request)))


@router.post("/people/{person_id}/tags/{key}/remove")
async def take_back_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    return await _tag_action(request, db, principal, person_id, lambda: service.remove_tag(
        db, principal, person_id, key, ip=client_ip(request)))


@router.post("/people/{person_id}/tags/{key}/hide")
async def hide_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    return await _tag_action(request, db, principal, person_id, lambda: service.set_hidden(
        db, principal, person_id, key, True, ip=client_ip(request)))


@router.post("/people/{person_id}/tags/{key}/show")
async def show_tag(request: Request, db: Session, principal: Caller, person_id: int, key: str) -> Response:
    return await _tag_action(request, db, principal, person_id, lambda: service.set_hidden(
        db, principal, person_id, key, False, ip=client_ip(request)))


@router.get("/tags/suggest")
async def suggest_tags(request: Request, db: Session, principal: Caller,
                       tag: Annotated[str, Query(max_length=200)] = "") -> Response:
    """<option>s for the tag field's datalist, as one types."""
    found = await service.autocomplete(db, tag) if principal.can(Permission.EXPERTISE_READ) else []
    return render(request, "expertise/_tag_options.html", {"found": found})


# --- tag pages ------------------------------------------------------------------------------------------------

@router.get("/tags/{key}")
async def tag_page(request: Request, db: Session, principal: Caller, key: str) -> Response:
    require(principal, Permission.EXPERTISE_READ)
    tag = await service.resolve(db, service.tag_key(key[:200]))
    if tag is None:
        raise NotFound()
    if tag.key != key:
        return RedirectResponse(service.tag_url(tag.key), status_code=301)
    holders = await service.holders(db, principal, tag)
    related = await service.related(db, tag, [p.id for p, _ in holders])
    content = await _content_with_tag(request, db, principal, tag)
    return render(request, "expertise/tag.html", {
        "tag": tag, "holders": holders, "related": related, "content": content,
        "synonyms": await service.synonyms_of(db, tag),
    })


async def _content_with_tag(request: Request, db, principal, tag) -> list:
    """Content carrying this tag that the reader may see, newest first, through search."""
    from socius.search import service as search

    kinds = [k for k in finder.EVIDENCE if k in search.registry.kinds()]
    if not kinds:
        return []
    found = await search.search(db, principal, runtime.from_request(request), search.SearchRequest(
        q=tag.label, kinds=kinds, tag=tag.key, order="newest", per_page=10))
    return found.results


# --- the expert finder and the team builder --------------------------------------------------------------------

async def _facets(db, principal) -> dict:
    return {"departments": await people.facet_values(db, principal, "department"),
            "locations": await people.facet_values(db, principal, "location")}


@router.get("/experts")
async def experts(request: Request, db: Session, principal: Caller, wanted: ExpertParameters) -> Response:
    require(principal, Permission.EXPERTISE_READ)
    errors, found = {}, []
    try:
        found = await finder.find_experts(db, principal, runtime.from_request(request), wanted)
    except ValidationFailed as error:
        errors = error.by_field()
    context = {"query": wanted, "found": found, "errors": errors, "skills": finder.split_skills(wanted.q),
               **await _facets(db, principal)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "expert-results":
        return render(request, "expertise/_experts.html", context)
    return render(request, "expertise/experts.html", context, status=422 if errors else 200)


def _team_fields(source) -> dict:
    return {name: source.get(name) or None for name in ("skills", "location", "languages", "size")}


@router.get("/experts/team")
async def team_builder(request: Request, db: Session, principal: Caller) -> Response:
    require(principal, Permission.EXPERTISE_READ)
    fields = _team_fields(request.query_params)
    proposal, errors = None, {}
    if fields["skills"]:
        try:
            wanted = teams.clean_request(**fields)
            proposal = await teams.propose(db, principal, runtime.from_request(request), wanted)
        except ValidationFailed as error:
            errors = error.by_field()
    return render(request, "expertise/team.html", {
        "fields": fields, "proposal": proposal, "errors": errors, "query_string": request.url.query,
        **await _facets(db, principal)}, status=422 if errors else 200)


def _csv_response(slots, gaps, filename: str) -> Response:
    headings = [gettext("Name"), gettext("Title"), gettext("Department"), gettext("Location"), gettext("E-mail"),
                gettext("Skills covered"), gettext("Alternates")]
    body = teams.as_csv(slots, gaps, headings, gettext("Nobody covers"))
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/experts/team.csv")
async def team_csv(request: Request, db: Session, principal: Caller) -> Response:
    wanted = teams.clean_request(**_team_fields(request.query_params))
    proposal = await teams.propose(db, principal, runtime.from_request(request), wanted)
    return _csv_response(proposal.slots, proposal.gaps, "team.csv")


@router.post("/experts/team/save")
async def save_team(request: Request, db: Session, principal: Caller) -> Response:
    form: FormData = await request.form()
    wanted = teams.clean_request(**_team_fields(form))
    proposal = await teams.propose(db, principal, runtime.from_request(request), wanted)
    team = await teams.save(db, principal, proposal, str(form.get("title", "")), ip=client_ip(request))
    return RedirectResponse(f"/teams/{team.id}", status_code=303)


# Before /teams/{team_id}, which would take "7.csv" for an id.
@router.get("/teams/{team_id}.csv")
async def saved_team_csv(db: Session, principal: Caller, team_id: int) -> Response:
    saved = await teams.get_saved(db, principal, team_id)
    return _csv_response(saved.slots, saved.team.gaps, f"team-{team_id}.csv")


@router.get("/teams/{team_id}")
async def saved_team(request: Request, db: Session, principal: Caller, team_id: int) -> Response:
    saved = await teams.get_saved(db, principal, team_id)
    return render(request, "expertise/saved_team.html", {"saved": saved})


@router.get("/expertise/coverage")
async def coverage(request: Request, db: Session, principal: Caller, department: str = "", below: int = 3
                   ) -> Response:
    found = await service.coverage(db, principal, department=department or None, below=below)
    return render(request, "expertise/coverage.html", {"found": found, **await _facets(db, principal)})


# --- administration ------------------------------------------------------------------------------------------------

@router.get("/admin/tags")
async def admin_tags(request: Request, db: Session, principal: Caller, q: Annotated[str, Query(max_length=200)] = ""
                     ) -> Response:
    require(principal, Permission.TAGS_ADMINISTER)
    return await _admin_page(request, db, q)


async def _admin_page(request: Request, db, q: str, errors: dict | None = None, done: str | None = None,
                      status: int = 200) -> Response:
    found = await service.autocomplete(db, q, limit=50) if q else []
    return render(request, "expertise/admin_tags.html", {"q": q, "found": found, "errors": errors or {},
                                                         "done": done}, status=status)


@router.post("/admin/tags")
async def admin_tags_change(request: Request, db: Session, principal: Caller) -> Response:
    require(principal, Permission.TAGS_ADMINISTER)
    form = await request.form()
    action, target = str(form.get("action", "")), str(form.get("target", ""))
    try:
        if action == "merge":
            tag = await service.merge(db, principal, str(form.get("source", "")), target, ip=client_ip(request))
        elif action == "synonym":
            tag = await service.add_synonym(db, principal, target, str(form.get("synonym", "")),
                                            ip=client_ip(request))
        else:
            raise ValidationFailed.one("action", N_("must be merge or synonym"))
    except (ValidationFailed, NotFound) as error:
        errors = error.by_field() if isinstance(error, ValidationFailed) else {"target": gettext("is not a tag")}
        return await _admin_page(request, db, target, errors, status=422)
    return RedirectResponse(service.tag_url(tag.key) + "?merged=1", status_code=303)

