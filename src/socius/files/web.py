"""File pages: a community's files with the upload form, a file with its versions (and the social bar), a new
version, and the download every link points to (`/files/{id}/download`), which checks access on every request."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from socius.communities import service as communities
from socius.content import service as content
from socius.content import web as content_web
from socius.core.csrf import streams_upload
from socius.core.errors import ValidationFailed
from socius.core.requests import Caller, Session, client_ip
from socius.core.templating import render
from socius.files import service
from socius.files.delivery import file_response
from socius.files.upload import taking
from socius.people import service as people

router = APIRouter(include_in_schema=False)


async def _list_page(request, db, principal, community_id, *, errors=None, values=None, status=200) -> Response:
    community, files = await service.list_files(db, principal, community_id)
    settings = request.app.state.settings
    found = await communities.standing(db, principal, community)
    return render(request, "files/list.html", {
        "community": community, "files": files, "errors": errors or {}, "values": values or {},
        "can_upload": found.is_member and community.archived_at is None,
        "used": await service.usage(db, community.id), "quota": settings.community_file_quota_bytes,
        "max_bytes": settings.file_max_bytes, "size_label": service.size_label,
        "authors": await people.people_by_ids(db, {f.author_id for f in files if f.author_id}),
    }, status=status)


@router.get("/communities/{community_id}/files")
async def files_page(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    return await _list_page(request, db, principal, community_id)


@router.post("/communities/{community_id}/files")
@streams_upload
async def upload(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    await service.upload_target(db, principal, community_id)
    fields: dict[str, str] = {}

    async def store(received):
        fields.update(received.fields)
        return await service.add_file(db, principal, community_id, received, request.app.state.settings,
                                      description=received.fields.get("description", ""), ip=client_ip(request))

    try:
        item, _version = await taking(request, store)
    except ValidationFailed as error:
        return await _list_page(request, db, principal, community_id, errors=error.by_field(),
                                values={"description": fields.get("description", "")}, status=422)
    return RedirectResponse(content.item_url(item), status_code=303)


async def _file_page(request, db, principal, community_id, item_id, *, errors=None, status=200) -> Response:
    item = await service.get_file(db, principal, item_id)
    if item.community_id != community_id:
        return RedirectResponse(content.item_url(item), status_code=303)
    rows = await service.versions(db, principal, item.id)
    context = await content_web.social_context(db, principal, item)
    context.update(community=await content.community_of(db, item), versions=rows, errors=errors or {},
                   uploaders=await people.people_by_ids(db, {v.uploaded_by for v in rows if v.uploaded_by}),
                   download_url=service.download_url, size_label=service.size_label,
                   max_bytes=request.app.state.settings.file_max_bytes)
    return render(request, "files/file.html", context, status=status)


@router.get("/communities/{community_id}/files/{item_id}")
async def file_page(request: Request, db: Session, principal: Caller, community_id: int, item_id: int) -> Response:
    return await _file_page(request, db, principal, community_id, item_id)


@router.post("/communities/{community_id}/files/{item_id}/versions")
@streams_upload
async def upload_version(request: Request, db: Session, principal: Caller, community_id: int,
                         item_id: int) -> Response:
    await service.version_target(db, principal, item_id)
    try:
        item, _version = await taking(request, lambda received: service.add_version(
            db, principal, item_id, received, request.app.state.settings, ip=client_ip(request)))
    except ValidationFailed as error:
        return await _file_page(request, db, principal, community_id, item_id, errors=error.by_field(),
                                status=422)
    return RedirectResponse(content.item_url(item), status_code=303)


@router.get("/files/{item_id}/download")
async def download(request: Request, db: Session, principal: Caller, item_id: int,
                   version: int | None = Query(default=None)) -> Response:
    found = await service.download(db, principal, item_id, version, request.app.state.settings)
    return file_response(found)
