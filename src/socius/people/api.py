"""JSON API for people: /api/v1/people (list, get, update own or as administrator, photo)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile

from socius.core.errors import Conflict
from socius.core.i18n import N_
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.people import service
from socius.people.models import Person
from socius.people.schemas import (
    PasswordReset,
    PersonCreate,
    PersonCreated,
    PersonList,
    PersonOut,
    PersonRef,
    ProfileUpdate,
    RoleChange,
    TemporaryPassword,
)

router = APIRouter(tags=["people"])


def person_ref(person: Person) -> PersonRef:
    return PersonRef(id=person.id, display_name=person.display_name, title=person.title,
                     former=not person.is_active, external=person.is_guest, has_photo=person.has_photo)


def person_out(view: service.ProfileView, principal) -> PersonOut:
    """A person as this caller may see them: hidden fields are absent (null), never just unrendered."""
    p = view.person

    def shown(field: str, value):
        return value if view.shows(field) else None

    own_or_admin = principal.person_id == p.id or principal.is_admin
    return PersonOut(
        id=p.id, display_name=p.display_name, name_native=p.name_native, name_latin=p.name_latin,
        email=shown("email", p.email), employee_number=p.employee_number if not principal.is_guest else None,
        title=p.title, department=shown("department", p.department),
        location=shown("location", p.location), time_zone=shown("time_zone", p.time_zone),
        phone=shown("phone", p.phone), languages=p.languages,
        manager=person_ref(view.manager) if view.manager else None,
        about_md=shown("about_md", p.about_md), about_html=shown("about_md", p.about_html),
        links=shown("links", p.links) or [], role=p.role, former=not p.is_active, external=p.is_guest,
        photo_url=f"/people/{p.id}/photo" if p.has_photo and view.shows("photo") else None,
        guest_hidden=p.guest_hidden if own_or_admin else None,
        version=p.version, updated_at=p.updated_at,
    )


def etag(person: Person) -> str:
    return f'W/"{person.version}"'


@router.get("/people", response_model=PersonList)
async def list_people(
    db: Session,
    principal: Caller,
    q: Annotated[str, Query(max_length=200)] = "",
    department: str | None = None,
    location: str | None = None,
    language: str | None = None,
    include_former: bool = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    page = await service.search_directory(db, principal, service.DirectoryQuery(
        q=q, department=department, location=location, language=language, include_former=include_former,
        cursor=cursor, limit=limit,
    ))
    managers = await service.people_by_ids(db, {p.manager_id for p in page.items if p.manager_id})
    items = []
    for person in page.items:
        hidden = service.hidden_fields_for(principal, person)
        manager = managers.get(person.manager_id) if "manager" not in hidden else None
        items.append(person_out(service.ProfileView(person, hidden, manager, False), principal))
    return json_response(PersonList(items=items, next_cursor=page.next_cursor))


@router.get("/people/{person_id}", response_model=PersonOut)
async def get_person(db: Session, principal: Caller, person_id: int) -> Response:
    view = await service.view_profile(db, principal, person_id)
    return json_response(person_out(view, principal), headers={"ETag": etag(view.person)})


@router.patch("/people/{person_id}", response_model=PersonOut)
async def update_person(
    request: Request, db: Session, principal: Caller, person_id: int, body: ProfileUpdate, response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """Change the fields present in the body. With If-Match, refuse if someone else changed the profile since."""
    if if_match is not None:
        current = await service.get_editable_person(db, principal, person_id)
        if if_match.strip() not in (etag(current), f'"{current.version}"', "*"):
            raise Conflict(N_("The profile was changed by someone else. Reload it and try again."))
    await service.update_profile(db, principal, person_id, body.changes(), ip=client_ip(request))
    view = await service.view_profile(db, principal, person_id)
    response.headers["ETag"] = etag(view.person)
    return person_out(view, principal)


@router.put("/people/{person_id}/photo", status_code=204)
async def put_photo(request: Request, db: Session, principal: Caller, person_id: int,
                    photo: UploadFile = File(...)) -> Response:
    limit = request.app.state.settings.photo_max_bytes
    data = await photo.read(limit + 1)  # one byte more than allowed is enough to refuse it
    await service.set_photo(db, principal, person_id, data, limit, ip=client_ip(request))
    return Response(status_code=204)


@router.delete("/people/{person_id}/photo", status_code=204)
async def delete_photo(request: Request, db: Session, principal: Caller, person_id: int) -> Response:
    await service.remove_photo(db, principal, person_id, ip=client_ip(request))
    return Response(status_code=204)


# --- administration (administrators only; the service checks) -------------------------------------------------

@router.post("/people", response_model=PersonCreated, status_code=201)
async def add_person(request: Request, db: Session, principal: Caller, body: PersonCreate) -> PersonCreated:
    values = body.model_dump(exclude_unset=True, exclude={"username"})
    person, temporary = await service.add_person(db, principal, values, username=body.username,
                                                 ip=client_ip(request))
    view = await service.view_profile(db, principal, person.id)
    return PersonCreated(person=person_out(view, principal), username=body.username and body.username.lower(),
                         temporary_password=temporary)


@router.post("/people/{person_id}/password", response_model=TemporaryPassword)
async def reset_password(request: Request, db: Session, principal: Caller, person_id: int,
                         body: PasswordReset) -> TemporaryPassword:
    username, temporary = await service.reset_password(db, principal, person_id, username=body.username,
                                                       ip=client_ip(request))
    return TemporaryPassword(username=username, temporary_password=temporary)


@router.put("/people/{person_id}/role", response_model=PersonOut)
async def change_role(request: Request, db: Session, principal: Caller, person_id: int,
                      body: RoleChange) -> PersonOut:
    await service.set_role(db, principal, person_id, body.role, ip=client_ip(request))
    return person_out(await service.view_profile(db, principal, person_id), principal)


@router.post("/people/{person_id}/deactivate", response_model=PersonOut)
async def deactivate(request: Request, db: Session, principal: Caller, person_id: int) -> PersonOut:
    await service.deactivate(db, principal, person_id, ip=client_ip(request))
    return person_out(await service.view_profile(db, principal, person_id), principal)


@router.post("/people/{person_id}/reactivate", response_model=PersonOut)
async def reactivate(request: Request, db: Session, principal: Caller, person_id: int) -> PersonOut:
    await service.reactivate(db, principal, person_id, ip=client_ip(request))
    return person_out(await service.view_profile(db, principal, person_id), principal)
