"""Pages: the directory, profiles, profile editing, photos, the org chart, and person administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from socius.core.auth import get_principal
from socius.core.authz import Permission, require
from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render, static_url
from socius.expertise.web import tags_panel_context
from socius.people import service
from socius.people.models import Person

router = APIRouter(include_in_schema=False)
TIME_ZONE_CHOICES = sorted(service._time_zones())
FIELD_LABELS = {
    "display_name": N_("Display name"), "name_native": N_("Name in native script"),
    "name_latin": N_("Name in Latin letters"), "email": N_("E-mail"), "title": N_("Title"),
    "department": N_("Department"), "location": N_("Location"), "time_zone": N_("Time zone"),
    "phone": N_("Phone"), "languages": N_("Languages"), "manager": N_("Manager"), "manager_id": N_("Manager"),
    "about_md": N_("About me"), "employee_number": N_("Employee number"), "links": N_("Links"),
    "photo": N_("Photo"), "guest_hidden": N_("Hidden from guests"),
}


@router.get("/favicon.ico")
async def favicon() -> Response:
    return RedirectResponse(static_url("favicon.svg"), status_code=301)


@router.get("/")
async def home(request: Request) -> Response:
    target = "/feed" if get_principal(request).is_authenticated else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/people")
async def directory(
    request: Request,
    db: Session,
    principal: Caller,
    q: Annotated[str, Query(max_length=200)] = "",
    department: str = "",
    location: str = "",
    language: str = "",
    include_former: bool = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    query = service.DirectoryQuery(q=q, department=department or None, location=location or None,
                                   language=language or None, include_former=include_former, cursor=cursor)
    page = await service.search_directory(db, principal, query)
    rows = [(p, service.hidden_fields_for(principal, p)) for p in page.items]
    context = {"page": page, "rows": rows, "query": query}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "people/_results.html", context)
    if principal.can(Permission.DIRECTORY_READ):
        context["departments"] = await service.facet_values(db, principal, "department")
        context["locations"] = await service.facet_values(db, principal, "location")
    return render(request, "people/directory.html", context)


@router.get("/people/{person_id}")
async def profile(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    view = await service.view_profile(db, principal, person_id)
    chain = await service.reporting_chain(db, principal, view.person)
    reports = await service.direct_reports(db, principal, view.person)
    tags = await tags_panel_context(db, principal, view.person)
    return render(request, "people/profile.html", {"view": view, "p": view.person, "chain": chain,
                                                   "reports": reports, **tags})


@router.get("/people/{person_id}/edit")
async def edit_form(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    person = await service.get_editable_person(db, principal, person_id)
    return await _edit_page(request, db, principal, person)


async def _edit_page(request, db, principal, person: Person, errors=None, values=None, status=200) -> Response:
    manager = await db.get(Person, person.manager_id) if person.manager_id else None
    return render(request, "people/edit.html", {
        "p": person, "errors": errors or {}, "values": values or {}, "manager": manager,
        "is_admin_edit": principal.can(Permission.PROFILE_EDIT_ANY),
        "hideable": service.GUEST_HIDEABLE, "time_zones": TIME_ZONE_CHOICES,
        "photo_mb": request.app.state.settings.photo_max_bytes // (1024 * 1024),
        "links_text": "\n".join(f"{link['label']} | {link['url']}" for link in person.links),
    }, status=status)


@router.post("/people/{person_id}/edit")
async def edit(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    person = await service.get_editable_person(db, principal, person_id)
    form = await request.form()
    try:
        changes = await _changes_from_form(db, form, admin=principal.can(Permission.PROFILE_EDIT_ANY))
        await service.update_profile(db, principal, person_id, changes, ip=client_ip(request))
    except ValidationFailed as error:
        return await _edit_page(request, db, principal, person, error.by_field(), dict(form), status=422)
    return RedirectResponse(f"/people/{person_id}?saved=1", status_code=303)


async def _changes_from_form(db, form: FormData, *, admin: bool) -> dict:
    """Form fields to the service's change dict: the same rules as the API apply after this."""
    fields = ["display_name", "name_native", "name_latin", "title", "department", "location", "time_zone",
              "phone", "about_md"]
    changes: dict = {f: str(form.get(f, "")) for f in fields if f in form}
    if "languages" in form:
        changes["languages"] = [c.strip() for c in str(form["languages"]).replace("，", ",").split(",") if c.strip()]
    if "links" in form:
        changes["links"] = _parse_links(str(form["links"]))
    if "guest_hidden_present" in form:
        changes["guest_hidden"] = [str(v) for v in form.getlist("guest_hidden")]
    if admin:
        for name in ("email", "employee_number"):
            if name in form:
                changes[name] = str(form[name])
        if "manager" in form:
            changes["manager_id"] = await _manager_id(db, str(form["manager"]).strip())
    return changes


def _parse_links(raw: str) -> list[dict]:
    """One link per line: "Label | https://…" or just the address."""
    links = []
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        label, _, url = line.rpartition("|")
        links.append({"label": label.strip(), "url": url.strip()})
    return links


async def _manager_id(db, value: str) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    found = await db.scalar(select(Person.id).where(Person.email == value.lower()))
    if found is None:
        raise ValidationFailed.one("manager_id", N_("is not a known person"))
    return found


@router.post("/people/{person_id}/photo")
async def upload_photo(request: Request, db: Session, principal: Caller, person_id: int,
                       photo: UploadFile = File(...)) -> Response:
    person = await service.get_editable_person(db, principal, person_id)
    limit = request.app.state.settings.photo_max_bytes
    data = await photo.read(limit + 1)
    try:
        await service.set_photo(db, principal, person_id, data, limit, ip=client_ip(request))
    except ValidationFailed as error:
        return await _edit_page(request, db, principal, person, error.by_field(), status=422)
    return RedirectResponse(f"/people/{person_id}/edit?photo=1", status_code=303)


@router.post("/people/{person_id}/photo/remove")
async def remove_photo(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    await service.remove_photo(db, principal, person_id, ip=client_ip(request))
    return RedirectResponse(f"/people/{person_id}/edit", status_code=303)


@router.get("/people/{person_id}/photo")
async def photo(request: Request, db: Session, principal: Caller, person_id: int, size: str = "large") -> Response:
    image = await service.get_photo(db, principal, person_id)
    if request.headers.get("if-none-match") == f'"{image.etag}-{size}"':
        return Response(status_code=304)
    body = image.small if size == "small" else image.large
    return Response(body, media_type="image/jpeg", headers={
        "ETag": f'"{image.etag}-{size}"',
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": 'inline; filename="photo.jpg"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@router.get("/orgchart")
async def org_chart(request: Request, db: Session, principal: Caller, root: int | None = None) -> Response:
    if root is not None:
        top = await service.org_chart_person(db, principal, root)
        chain = await service.reporting_chain(db, principal, top)
        roots = [top]
    else:
        roots, chain = await service.org_chart_roots(db, principal), []
    counts = await service.report_counts(db, [p.id for p in roots])
    return render(request, "people/orgchart.html", {"roots": roots, "counts": counts, "chain": chain})


@router.get("/orgchart/{person_id}/reports")
async def org_chart_reports(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    """The next level of the org chart, loaded when a node is opened (htmx)."""
    manager = await service.org_chart_person(db, principal, person_id)
    reports = await service.direct_reports(db, principal, manager)
    counts = await service.report_counts(db, [p.id for p in reports])
    return render(request, "people/_orgchart_nodes.html", {"people": reports, "counts": counts})


@router.post("/people/{person_id}/deactivate")
async def deactivate(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    await service.deactivate(db, principal, person_id, ip=client_ip(request))
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/reactivate")
async def reactivate(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    await service.reactivate(db, principal, person_id, ip=client_ip(request))
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/role")
async def change_role(request: Request, db: Session, principal: Caller, person_id: int,
                      role: str = Form(...)) -> Response:
    await service.set_role(db, principal, person_id, role, ip=client_ip(request))
    return RedirectResponse(f"/people/{person_id}", status_code=303)


# --- administration -------------------------------------------------------------------------------------------

NEW_PERSON_FIELDS = ("display_name", "name_native", "name_latin", "email", "title", "department", "location",
                     "role", "username", "manager")


@router.get("/admin/people/new")
async def new_person_form(request: Request, principal: Caller) -> Response:
    require(principal, Permission.PEOPLE_ADMINISTER)
    return render(request, "people/new.html", {"values": {"role": "member"}, "errors": {}})


@router.post("/admin/people/new")
async def new_person(request: Request, db: Session, principal: Caller) -> Response:
    require(principal, Permission.PEOPLE_ADMINISTER)
    form = await request.form()
    given = {f: str(form.get(f, "")).strip() for f in NEW_PERSON_FIELDS}
    values = {f: v for f, v in given.items() if v and f not in ("username", "manager")}
    try:
        if given["manager"]:
            values["manager_id"] = await _manager_id(db, given["manager"])
        person, temporary = await service.add_person(db, principal, values, username=given["username"] or None,
                                                     ip=client_ip(request))
    except ValidationFailed as error:
        return render(request, "people/new.html", {"values": given, "errors": error.by_field()}, status=422)
    return render(request, "people/temporary_password.html",
                  {"p": person, "username": given["username"].lower() or None, "password": temporary, "new": True})


@router.post("/people/{person_id}/password")
async def reset_password(request: Request, db: Session, principal: Caller, person_id: int,
                         username: str = Form("")) -> Response:
    """Show a one-time password once; the person chooses their own at the next sign-in."""
    login, temporary = await service.reset_password(db, principal, person_id, username=username.strip() or None,
                                                    ip=client_ip(request))
    person = await service.get_person(db, principal, person_id)
    return render(request, "people/temporary_password.html",
                  {"p": person, "username": login, "password": temporary, "new": False})
