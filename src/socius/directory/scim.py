"""SCIM 2.0 service provider (RFC 7643/7644) at /scim/v2, for Entra ID, Okta and similar.

Parsing, filtering and serialisation live here, on `scim2-models`; what an entry does to a person is the merge
engine's (`service.apply_record`). A SCIM user is one identity of the calling source: its `id` is the identity's
id, and the resource as the client last sent it is kept in `identity.raw["scim"]` to answer reads. DELETE
deactivates; RFC 7644 §3.6 lets a service keep a deleted resource as long as it answers 404 for it, which
`raw["deleted"]` marks. Groups are the departments of the source's users (a group's members are the users whose
department is its displayName).

`detail` texts are protocol messages for machines: English, never translated.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    Error,
    ETag,
    Filter,
    Group,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    Meta,
    NotFoundException,
    Patch,
    PatchOp,
    PreconditionFailedException,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimPolicy,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    TooManyException,
    UnauthorizedException,
    UniquenessException,
    User,
)
from sqlalchemy import ColumnElement, Select, Text, and_, bindparam, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.db import commit_despite_error, get_session, one_of
from socius.core.errors import NotFound, ValidationFailed
from socius.directory import bulk, scim_query, service
from socius.directory.models import SCIM_LIVE, SCIM_USER_NAME, DirectoryIdentity, DirectorySource, SourceKind

MEDIA_TYPE = "application/scim+json"
ACCEPTED_TYPES = {"application/scim+json", "application/json"}
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# A filter not wholly translated to SQL is checked in Python over at most this many candidates.
MAX_CANDIDATES = 1000
SCIM_USER = User[EnterpriseUser]

# Entra ID's known departures from the RFC: `remove` with a value naming what to remove, and a path filter
# (`emails[type eq "work"].value`) that names an entry the user does not have yet, which Entra expects created.
POLICY = ScimPolicy(
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
CONFIG = ServiceProviderConfig(
    documentation_uri="https://datatracker.ietf.org/doc/html/rfc7644",
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_PAGE_SIZE),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=True),
    etag=ETag(supported=True),
    authentication_schemes=[AuthenticationScheme(
        type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token",
        description="The token `socius directory scim-token SOURCE` prints.", primary=True,
    )],
)
PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[ResourceType.from_resource(SCIM_USER), ResourceType.from_resource(Group)],
    config=CONFIG,
    policy=POLICY,
)


class UnsupportedMediaType(SCIMException):
    status = 415
    scim_type = "invalidSyntax"
    _default_detail = "The body must be application/scim+json or application/json."


def error_response(error: SCIMException) -> JSONResponse:
    body = error.to_error().model_dump(scim_ctx=Context.DEFAULT)
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers, media_type=MEDIA_TYPE)


class ScimRoute(APIRoute):
    """Every failure of a SCIM route — authentication included — answers in the SCIM error format."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SCIMException as error:
                return error_response(error)
            except NotFound:
                return error_response(NotFoundException(detail="No such resource."))

        return run


router = APIRouter(prefix="/scim/v2", route_class=ScimRoute, include_in_schema=False)


def scim_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


async def calling_source(request: Request, db: AsyncSession = Depends(get_session)) -> DirectorySource:
    """The SCIM source whose bearer token the request carries."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedException(detail="A bearer token is required.")
    source = await service.source_for_token(db, token)
    if source is None or source.kind != SourceKind.SCIM:
        raise UnauthorizedException(detail="The bearer token is not valid.")
    return source


async def read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType()
    try:
        payload = json.loads(await request.body())
        has_nul = _holds_nul(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidSyntaxException(detail="The body is not valid JSON (or is nested too deeply).") from None
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    if has_nul:
        raise InvalidValueException(detail="Values must not contain NUL characters.")
    return payload


def _holds_nul(value: Any) -> bool:
    """PostgreSQL stores no NUL in text or JSONB: refuse it up front rather than fail on write."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def query_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if _holds_nul(params):
        raise InvalidValueException(detail="Values must not contain NUL characters.")
    return params


def validate(model: Any, payload: Any, context: Context) -> Any:
    """A scim2-models object from a payload, or the SCIM error its first problem maps to."""
    try:
        return model.model_validate(payload, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as error:
        first = Error.from_validation_errors(error)[0]
        raise SCIMException.from_error(first) from None


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def check_version(request: Request, identity_version: int) -> None:
    """Honour If-Match: a client that read an older version must not overwrite a newer one."""
    wanted = request.headers.get("if-match")
    if wanted is None or wanted.strip() == "*":
        return
    tags = {tag.strip() for tag in wanted.split(",")}
    if etag(identity_version) not in tags and f'"{identity_version}"' not in tags:
        raise PreconditionFailedException(detail="The resource has changed since that version.")


def etag(version: int) -> str:
    return f'W/"{version}"'


# --- discovery -------------------------------------------------------------------------------------------

@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request, source: DirectorySource = Depends(calling_source)) -> Response:
    config = CONFIG.model_copy(update={"meta": Meta(resource_type="ServiceProviderConfig",
                                                    location=f"{base_url(request)}/ServiceProviderConfig")})
    return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _discovery_list(items: list[Any]) -> dict[str, Any]:
    listing = ListResponse[type(items[0])](total_results=len(items), start_index=1, items_per_page=len(items),
                                resources=items)
    return listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE)


def _with_location(item: Any, request: Request, endpoint: str) -> Any:
    return item.model_copy(update={"meta": Meta(resource_type=type(item).__name__,
                                                location=f"{base_url(request)}/{endpoint}/{item.id}")})


@router.get("/ResourceTypes")
async def resource_types(request: Request, source: DirectorySource = Depends(calling_source)) -> Response:
    return scim_response(_discovery_list([_with_location(r, request, "ResourceTypes")
                                          for r in PROVIDER.resource_types]))


@router.get("/ResourceTypes/{name}")
async def resource_type(name: str, request: Request, source: DirectorySource = Depends(calling_source)) -> Response:
    for item in PROVIDER.resource_types:
        if item.id == name:
            return scim_response(_with_location(item, request, "ResourceTypes")
                                 .model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail="No such resource type.")


@router.get("/Schemas")
async def schemas(request: Request, source: DirectorySource = Depends(calling_source)) -> Response:
    return scim_response(_discovery_list([_with_location(s, request, "Schemas") for s in PROVIDER.schemas]))


@router.get("/Schemas/{uri}")
async def schema(uri: str, request: Request, source: DirectorySource = Depends(calling_source)) -> Response:
    for item in PROVIDER.schemas:
        if item.id == uri:
            return scim_response(_with_location(item, request, "Schemas")
                                 .model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail="No such schema.")


# --- users: from SCIM to a record and back ---------------------------------------------------------------

def _manager_value(value: Any) -> Any:
    """Entra and Okta name the manager by id alone (often as a bare string); the model wants a $ref too."""
    if isinstance(value, str):
        value = {"value": value} if value.strip() else None
    if isinstance(value, dict) and value.get("value") and not value.get("$ref"):
        value = {**value, "$ref": f"../Users/{value['value']}"}
    if isinstance(value, dict) and not value.get("value"):
        value = None
    return value


def _normalise_user(payload: dict[str, Any]) -> dict[str, Any]:
    extension = payload.get(ENTERPRISE)
    if isinstance(extension, dict) and "manager" in extension:
        payload[ENTERPRISE] = {**extension, "manager": _manager_value(extension["manager"])}
    return payload


def _normalise_patch(payload: dict[str, Any]) -> dict[str, Any]:
    operations = payload.get("Operations")
    if not isinstance(operations, list):
        return payload
    fixed = []
    for operation in operations:
        if not isinstance(operation, dict):
            fixed.append(operation)
            continue
        path = operation.get("path")
        value = operation.get("value")
        op = str(operation.get("op", "")).lower()
        if isinstance(path, str) and path.lower().rsplit(":", 1)[-1] == "manager" and "value" in operation:
            value = _manager_value(value)
            operation = {**operation, "value": value}
            if value is None and op in ("add", "replace"):  # Entra clears the manager with an empty value
                operation = {"op": "remove", "path": path}
        elif path is None and isinstance(value, dict):
            value = _normalise_user(dict(value))
            key = f"{ENTERPRISE}:manager"
            if key in value:
                value[key] = _manager_value(value[key])
            operation = {**operation, "value": value}
        fixed.append(operation)
    return {**payload, "Operations": fixed}


def _pick(entries: list[Any] | None) -> str | None:
    """The primary entry's value, else the first work one, else the first."""
    if not entries:
        return None
    for test in (lambda e: e.primary, lambda e: str(e.type or "") == "work", lambda e: True):
        for entry in entries:
            if test(entry) and entry.value:
                return str(entry.value)
    return None


def _values(user: Any, previous: dict[str, Any]) -> dict[str, Any]:
    """Profile fields from a SCIM user. A field this source gave before and no longer gives is cleared."""
    name = user.name
    given, family = (name.given_name, name.family_name) if name else (None, None)
    if all(ord(c) < 0x250 for c in (given or "") + (family or "")):  # Latin script: "Barbara Jensen"
        latin, native = " ".join(p for p in (given, family) if p), None
    else:  # Chinese and the like, family name first and unspaced: "陳美玲"
        latin, native = None, "".join(p for p in (family, given) if p)
    enterprise = user[EnterpriseUser]
    values = {
        "display_name": user.display_name or (name.formatted if name else None) or latin or native
        or user.user_name,
        "name_latin": latin,
        "name_native": native,
        "email": _pick(user.emails),
        "phone": _pick(user.phone_numbers),
        "title": user.title,
        "employee_number": enterprise.employee_number if enterprise else None,
        "department": enterprise.department if enterprise else None,
    }
    values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    values = {k: v for k, v in values.items() if v not in (None, "")}
    for gone in previous.keys() - values.keys():
        values[gone] = None
    return values


def _stored(user: Any) -> dict[str, Any]:
    data = user.model_dump(scim_ctx=Context.DEFAULT)
    # Our own attributes, and the password (Okta sends one; Socius never signs anyone in with it).
    for key in ("id", "meta", "password"):
        data.pop(key, None)
    return data


def _user(identity: Any, request: Request, user: Any = None) -> Any:
    """The SCIM user an identity is, as the client last sent it, with our id and meta. `user`: the resource the
    client just sent, already validated (what the identity keeps is its dump), so it is not validated again."""
    if user is None:
        user = SCIM_USER.model_validate(identity.raw.get("scim") or {"userName": identity.external_id},
                                        scim_policy=POLICY)
    user.id = str(identity.id)
    user.active = identity.active
    user.meta = Meta(resource_type="User", created=identity.created_at, last_modified=identity.updated_at,
                     location=f"{base_url(request)}/Users/{identity.id}", version=etag(identity.version))
    return user


def _user_response(identity: Any, request: Request, context: Context, status: int = 200,
                   parameters: Any = None, user: Any = None) -> JSONResponse:
    user = _user(identity, request, user)
    headers = {"ETag": etag(identity.version), "Location": user.meta.location}
    return scim_response(user.model_dump(scim_ctx=context, response_parameters=parameters), status, headers)


def _deleted(identity: Any) -> bool:
    return bool(identity.raw.get("deleted"))


def _not_deleted() -> ColumnElement[bool]:
    return SCIM_LIVE


async def _identity(db: AsyncSession, source: DirectorySource, scim_id: str) -> DirectoryIdentity:
    identity = await service.get_identity(db, source, scim_id)
    if _deleted(identity):
        raise NotFound()
    return identity


def user_name_holders(source: DirectorySource, user_name: str) -> Select[tuple[int]]:
    """The live users of this source with this userName, case-insensitively (RFC 7643 §4.1.1), by the index on
    (source_id, lower(userName))."""
    return select(DirectoryIdentity.id).where(DirectoryIdentity.source_id == source.id, _user_name_is(user_name))


def _user_name_is(user_name: str) -> ColumnElement[bool]:
    return and_(func.lower(literal(user_name, Text)) == SCIM_USER_NAME, _not_deleted())


async def _check_user_name(db: AsyncSession, source: DirectorySource, user_name: str, identity_id: int | None):
    stmt = user_name_holders(source, user_name)
    if identity_id is not None:
        stmt = stmt.where(DirectoryIdentity.id != identity_id)
    if await db.scalar(stmt.limit(1)) is not None:
        raise UniquenessException(detail=f"userName {user_name!r} is already taken.")


async def _manager_external_id(db: AsyncSession, source: DirectorySource, user: Any) -> str | None:
    """The manager's external id, from the SCIM id the client names them by (unknown ids are ignored)."""
    enterprise = user[EnterpriseUser]
    manager = enterprise.manager.value if enterprise and enterprise.manager else None
    if not manager:
        return None
    try:
        identity = await _identity(db, source, manager)
    except NotFound:
        return None
    return identity.external_id


def _field_errors(error: ValidationFailed) -> str:
    # The msgids are English: a machine-facing protocol message, not translated.
    return "; ".join(f"{e.field} {e.reason.format(**e.params)}" for e in error.errors)


async def _save(db: AsyncSession, source: DirectorySource, user: Any, external_id: str, identity: Any) -> Any:
    """Hand the user to the merge engine, which keeps the resource as sent with the identity; returns the identity
    as stored (service.STORED_COLUMNS)."""
    # What the engine is about to change, as it was: the session's copy of the identity is stale afterwards.
    previous = (identity.raw, identity.version, identity.manager_external_id) if identity is not None else None
    stored = {"scim": _stored(user)}
    record = service.Record(
        external_id=external_id,
        values=_values(user, identity.values if identity is not None else {}),
        manager_external_id=await _manager_external_id(db, source, user),
        active=user.active is not False,
        raw=stored,  # kept with the identity as the engine writes it: no second UPDATE
    )
    try:
        outcome = await service.apply_record(db, source, record, identity=identity)
    except ValidationFailed as error:
        raise InvalidValueException(detail=_field_errors(error)) from None
    saved = outcome.identity
    if saved is None:
        # The engine sent the entry to the review queue (it matches a person it may not take over): refuse the
        # request, but keep the review row so an administrator sees it.
        commit_despite_error(db)
        raise UniquenessException(detail="The user matches an existing person who cannot be linked "
                                         "automatically; an administrator must review it.")
    changes: dict[str, Any] = {}
    if saved.raw != stored:  # the engine adds to what is kept; a resource is replaced whole (and undeleted)
        changes["raw"] = stored
    if previous is not None and previous[0] != stored and saved.version == previous[1]:
        changes["version"] = previous[1] + 1  # the resource changed even if no profile field did
    if changes:
        saved = await _update_identity(db, saved.id, **changes)
    if record.manager_external_id is not None:
        await service.resolve_managers(db, source, [external_id])
    elif previous is not None and previous[2] is not None:
        await service.release_manager(db, source, saved.person_id)
    return saved


async def _update_identity(db: AsyncSession, identity_id: int, **values: Any) -> Any:
    """Change what an identity keeps of its resource (raw, version) after the engine; returns it as stored."""
    table = DirectoryIdentity.__table__
    saved = (await db.execute(update(table).where(table.c.id == identity_id).values(**values)
                              .returning(*(table.c[c] for c in service.STORED_COLUMNS)))).one()
    bulk.forget(db, set(), {identity_id})
    return saved


# --- users: endpoints ------------------------------------------------------------------------------------

# One query, two indexes: the entry with this externalId (perhaps deleted, to provision again) and any live user
# already holding the userName.
_EXTERNAL_ID_OR_USER_NAME = select(*(DirectoryIdentity.__table__.c[c] for c in service.STORED_COLUMNS)).where(
    DirectoryIdentity.source_id == bindparam("source"),
    or_(DirectoryIdentity.external_id == bindparam("external_id"),
        and_(func.lower(bindparam("user_name", type_=Text)) == SCIM_USER_NAME, _not_deleted()))).limit(2)


@router.post("/Users")
async def create_user(request: Request, source: DirectorySource = Depends(calling_source),
                      db: AsyncSession = Depends(get_session)) -> Response:
    payload = _normalise_user(await read_body(request))
    user = validate(SCIM_USER, payload, Context.RESOURCE_CREATION_REQUEST)
    external_id = (user.external_id or user.user_name or "").strip()
    if not external_id:
        raise InvalidValueException(detail="userName is required.")
    found = (await db.execute(_EXTERNAL_ID_OR_USER_NAME, {"source": source.id, "external_id": external_id,
                                                          "user_name": user.user_name})).all()
    existing = next((i for i in found if i.external_id == external_id), None)
    if existing is not None and not _deleted(existing):
        raise UniquenessException(detail=f"A user with externalId {external_id!r} already exists.")
    if any(i is not existing for i in found):
        raise UniquenessException(detail=f"userName {user.user_name!r} is already taken.")
    saved = await _save(db, source, user, external_id, existing)
    return _user_response(saved, request, Context.RESOURCE_CREATION_RESPONSE, status=201, user=user)


@router.get("/Users/{scim_id}")
async def get_user(scim_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                   db: AsyncSession = Depends(get_session)) -> Response:
    identity = await _identity(db, source, scim_id)
    parameters = validate(ResponseParameters[SCIM_USER], query_params(request), Context.RESOURCE_QUERY_REQUEST)
    return _user_response(identity, request, Context.RESOURCE_QUERY_RESPONSE, parameters=parameters)


@router.put("/Users/{scim_id}")
async def replace_user(scim_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                       db: AsyncSession = Depends(get_session)) -> Response:
    identity = await _identity(db, source, scim_id)
    check_version(request, identity.version)
    payload = _normalise_user(await read_body(request))
    user = validate(SCIM_USER, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    await _check_user_name(db, source, user.user_name, identity.id)
    saved = await _save(db, source, user, identity.external_id, identity)
    return _user_response(saved, request, Context.RESOURCE_REPLACEMENT_RESPONSE, user=user)


@router.patch("/Users/{scim_id}")
async def patch_user(scim_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                     db: AsyncSession = Depends(get_session)) -> Response:
    identity = await _identity(db, source, scim_id)
    check_version(request, identity.version)
    patch = validate(PatchOp[SCIM_USER], _normalise_patch(await read_body(request)),
                     Context.RESOURCE_PATCH_REQUEST)
    user = _user(identity, request)
    try:
        patch.patch(user, scim_policy=POLICY)
    except ValidationError as error:
        raise SCIMException.from_error(Error.from_validation_errors(error)[0]) from None
    if not user.user_name:
        raise InvalidValueException(detail="userName is required.")
    await _check_user_name(db, source, user.user_name, identity.id)
    saved = await _save(db, source, user, identity.external_id, identity)
    return _user_response(saved, request, Context.RESOURCE_PATCH_RESPONSE, user=user)


@router.delete("/Users/{scim_id}")
async def delete_user(scim_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                      db: AsyncSession = Depends(get_session)) -> Response:
    """Deactivate: the person, their profile and everything they wrote stay; they can no longer sign in."""
    identity = await _identity(db, source, scim_id)
    check_version(request, identity.version)
    outcome = await service.apply_record(db, source, service.Record(
        external_id=identity.external_id, values=dict(identity.values),
        manager_external_id=identity.manager_external_id, active=False), identity=identity)
    saved = outcome.identity
    await _update_identity(db, saved.id, raw={**saved.raw, "deleted": True}, version=saved.version + 1)
    return Response(status_code=204)


async def _search(db: AsyncSession, source: DirectorySource, request: Request, search: Any) -> Response:
    """A page of the source's users: filtered, counted, sorted and paged in SQL (see scim_query for what is
    indexed). A filter or sortBy the translation does not cover exactly is evaluated in Python, but only over the
    candidates the translated part narrows to, and only when there are at most MAX_CANDIDATES: beyond that the
    client gets 400 tooMany (RFC 7644 §3.12) instead of a scan of 200,000 users."""
    count = DEFAULT_PAGE_SIZE if search.count is None else min(search.count, MAX_PAGE_SIZE)
    start = min(search.start_index or 1, 2**31)  # past the end is an empty page, not a database error
    stmt = service.source_identities(source).where(_not_deleted())
    condition = scim_query.translate(search.filter) if search.filter is not None else scim_query.Condition(None, True)
    if condition.sql is not None:
        stmt = stmt.where(condition.sql)
    binding = search.sort_binding(SCIM_USER) if search.sort_by is not None else None
    order = scim_query.sort_key(binding)
    sorted_in_sql = search.sort_by is None or order is not None
    if order is not None:
        descending = search.sort_order == SearchRequest.SortOrder.descending
        # PostgreSQL puts NULLs last ascending and first descending, as RFC 7644 §3.4.2.3 wants; ties by id.
        stmt = stmt.order_by(order.desc() if descending else order.asc(), DirectoryIdentity.id)
    else:
        stmt = stmt.order_by(DirectoryIdentity.id)

    if condition.exact and sorted_in_sql:
        rows = await _page(db, stmt, start - 1, count) if count else []
        if count and len(rows) < count and (rows or start == 1):
            total = start - 1 + len(rows)  # a short page is the last one: the count is known without counting
        else:
            total = await db.scalar(stmt.with_only_columns(func.count()).order_by(None))
        users = [_user(i, request) for i in rows]
    else:
        candidates = list(await db.scalars(stmt.limit(MAX_CANDIDATES + 1)))
        if len(candidates) > MAX_CANDIDATES:
            raise TooManyException(detail=f"The filter or sortBy narrows to more than {MAX_CANDIDATES} users "
                                          "by indexed attributes; add userName, externalId or emails to it.")
        users = [_user(i, request) for i in candidates]
        if search.filter is not None and not condition.exact:
            users = [u for u in users if search.filter.match(u)]
        if not sorted_in_sql:
            users = search.sort(users)
        total = len(users)
        users = users[start - 1:start - 1 + count]
    listing = ListResponse[SCIM_USER](total_results=total, start_index=start, items_per_page=len(users),
                                      resources=users)
    return scim_response(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))


async def _page(db: AsyncSession, stmt: Any, offset: int, limit: int) -> list[DirectoryIdentity]:
    """One page of an ordered statement. Deep pages (Okta imports page through every user) pick the ids first,
    which the indexes alone can answer, and only then read those rows: OFFSET skips index entries, not rows."""
    if offset == 0:
        return list(await db.scalars(stmt.limit(limit)))
    ids = list(await db.scalars(stmt.with_only_columns(DirectoryIdentity.id).offset(offset).limit(limit)))
    rows = {i.id: i for i in await db.scalars(select(DirectoryIdentity).where(DirectoryIdentity.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


@router.get("/Users")
async def list_users(request: Request, source: DirectorySource = Depends(calling_source),
                     db: AsyncSession = Depends(get_session)) -> Response:
    search = validate(SearchRequest[SCIM_USER], query_params(request), Context.SEARCH_REQUEST)
    return await _search(db, source, request, search)


@router.post("/Users/.search")
async def search_users(request: Request, source: DirectorySource = Depends(calling_source),
                       db: AsyncSession = Depends(get_session)) -> Response:
    search = validate(SearchRequest[SCIM_USER], await read_body(request), Context.SEARCH_REQUEST)
    return await _search(db, source, request, search)


# --- groups: the departments of the source's users -------------------------------------------------------
# A group is a department name; its members are the users this source puts in that department. Adding a member
# sets their department, removing one clears it. Nothing is stored apart from the users, so a group without
# members is not listed (a PATCH or DELETE on it still works, as Entra ID patches members in after creating).

def _group_id(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _group_name(group_id: str) -> str:
    try:
        name = base64.urlsafe_b64decode(group_id + "=" * (-len(group_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise NotFoundException(detail="No such group.") from None
    if not name or "\x00" in name or _group_id(name) != group_id:
        raise NotFoundException(detail="No such group.")
    return name


def _department() -> Any:
    return DirectoryIdentity.values["department"].astext


async def _members(db: AsyncSession, source: DirectorySource, name: str) -> list[DirectoryIdentity]:
    return list(await db.scalars(service.source_identities(source).where(
        _department() == name, _not_deleted()).order_by(DirectoryIdentity.id)))


async def _members_of(db: AsyncSession, source: DirectorySource, names: list[str]
                      ) -> dict[str, list[DirectoryIdentity]]:
    """The members of several groups, in one query."""
    if not names:
        return {}
    out: dict[str, list[DirectoryIdentity]] = {}
    for identity in await db.scalars(service.source_identities(source).where(
            one_of(_department(), names), _not_deleted()).order_by(DirectoryIdentity.id)):
        out.setdefault(identity.values["department"], []).append(identity)
    return out


def _group(name: str, members: list[DirectoryIdentity], request: Request) -> Group:
    return Group(
        id=_group_id(name), display_name=name,
        members=[{"value": str(m.id), "$ref": f"{base_url(request)}/Users/{m.id}", "type": "User",
                  "display": (m.values or {}).get("display_name")} for m in members] or None,
        meta=Meta(resource_type="Group", location=f"{base_url(request)}/Groups/{_group_id(name)}"),
    )


async def _set_department(db: AsyncSession, source: DirectorySource, identity: DirectoryIdentity,
                          name: str | None) -> None:
    """Put a user in a department (or none) through the merge engine, and say so in the SCIM user too."""
    outcome = await service.apply_record(db, source, service.Record(
        external_id=identity.external_id, values={**identity.values, "department": name},
        manager_external_id=identity.manager_external_id, active=identity.active), identity=identity)
    saved = outcome.identity
    scim_user = dict(saved.raw.get("scim") or {})
    extension = {k: v for k, v in (scim_user.get(ENTERPRISE) or {}).items() if k != "department"}
    if name:
        extension["department"] = name
    schemas = [s for s in scim_user.get("schemas", [CORE_USER]) if s != ENTERPRISE]
    if extension:
        scim_user[ENTERPRISE], scim_user["schemas"] = extension, [*schemas, ENTERPRISE]
    else:
        scim_user.pop(ENTERPRISE, None)
        scim_user["schemas"] = schemas
    await _update_identity(db, saved.id, raw={**saved.raw, "scim": scim_user}, version=saved.version + 1)


async def _set_members(db: AsyncSession, source: DirectorySource, name: str, wanted: set[str]) -> None:
    current = {str(m.id): m for m in await _members(db, source, name)}
    for scim_id in wanted - current.keys():
        try:
            identity = await _identity(db, source, scim_id)
        except NotFound:
            raise InvalidValueException(detail=f"No user has the id {scim_id!r}.") from None
        await _set_department(db, source, identity, name)
    for scim_id in current.keys() - wanted:
        await _set_department(db, source, current[scim_id], None)


def _group_response(group: Group, context: Context, status: int = 200, parameters: Any = None) -> JSONResponse:
    return scim_response(group.model_dump(scim_ctx=context, response_parameters=parameters), status,
                         {"Location": group.meta.location})


@router.get("/Groups")
async def list_groups(request: Request, source: DirectorySource = Depends(calling_source),
                      db: AsyncSession = Depends(get_session)) -> Response:
    params = query_params(request)
    search = validate(SearchRequest[Group], params, Context.SEARCH_REQUEST)
    department = _department().label("department")
    names = list(await db.scalars(select(department).where(
        DirectoryIdentity.source_id == source.id, _department().is_not(None), _not_deleted())
        .distinct().order_by(department)))
    # Groups are departments: there are few, but their members are everyone. Filter and sort on the names alone
    # (what Entra ID and Okta send: displayName eq, with excludedAttributes=members) and read the members of the
    # page's groups only, in one query; a filter or sort on members needs them all.
    by_members = any("member" in (params.get(k) or "").lower() for k in ("filter", "sortBy"))
    members = await _members_of(db, source, names) if by_members else {}
    groups = [_group(name, members.get(name, []), request) for name in names]
    if search.filter is not None:
        groups = [g for g in groups if search.filter.match(g)]
    if search.sort_by is not None:
        groups = search.sort(groups)
    start = search.start_index or 1
    count = DEFAULT_PAGE_SIZE if search.count is None else min(search.count, MAX_PAGE_SIZE)
    page = groups[start - 1:start - 1 + count]
    if not by_members:
        members = await _members_of(db, source, [g.display_name for g in page])
        page = [_group(g.display_name, members.get(g.display_name, []), request) for g in page]
    listing = ListResponse[Group](total_results=len(groups), start_index=start, items_per_page=len(page),
                                  resources=page)
    return scim_response(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))


@router.get("/Groups/{group_id}")
async def get_group(group_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                    db: AsyncSession = Depends(get_session)) -> Response:
    name = _group_name(group_id)
    members = await _members(db, source, name)
    if not members:
        raise NotFoundException(detail="No such group.")
    parameters = validate(ResponseParameters[Group], query_params(request), Context.RESOURCE_QUERY_REQUEST)
    return _group_response(_group(name, members, request), Context.RESOURCE_QUERY_RESPONSE, parameters=parameters)


@router.post("/Groups")
async def create_group(request: Request, source: DirectorySource = Depends(calling_source),
                       db: AsyncSession = Depends(get_session)) -> Response:
    group = validate(Group, await read_body(request), Context.RESOURCE_CREATION_REQUEST)
    name = (group.display_name or "").strip()
    if not name or len(name) > 200:
        raise InvalidValueException(detail="displayName must be 1-200 characters.")
    if await _members(db, source, name):
        raise UniquenessException(detail=f"A group named {name!r} already exists.")
    await _set_members(db, source, name, {m.value for m in group.members or [] if m.value})
    group = _group(name, await _members(db, source, name), request)
    return _group_response(group, Context.RESOURCE_CREATION_RESPONSE, status=201)


@router.patch("/Groups/{group_id}")
async def patch_group(group_id: str, request: Request, source: DirectorySource = Depends(calling_source),
                      db: AsyncSession = Depends(get_session)) -> Response:
    name = _group_name(group_id)
    patch = validate(PatchOp[Group], await read_body(request), Context.RESOURCE_PATCH_REQUEST)
    group = _group(name, await _members(db, source, name), request)
    try:
        patch.patch(group, scim_policy=POLICY)
    except ValidationError as error:
        raise SCIMException.from_error(Error.from_validation_errors(error)[0]) from None
    new_name = (group.display_name or "").strip()
    if not new_name or len(new_name) > 200:
        raise InvalidValueException(detail="displayName must be 1-200 characters.")
    wanted = {m.value for m in group.members or [] if m.value}
    if new_name != name:  # a rename moves the members to the new department
        await _set_members(db, source, name, set())
    await _set_members(db, source, new_name, wanted)
    group = _group(new_name, await _members(db, source, new_name), request)
    return _group_response(group, Context.RESOURCE_PATCH_RESPONSE)


@router.delete("/Groups/{group_id}")
async def delete_group(group_id: str, source: DirectorySource = Depends(calling_source),
                       db: AsyncSession = Depends(get_session)) -> Response:
    await _set_members(db, source, _group_name(group_id), set())
    return Response(status_code=204)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_endpoint(rest: str, source: DirectorySource = Depends(calling_source)) -> Response:
    raise NotFoundException(detail="No such endpoint.")
