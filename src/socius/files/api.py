"""JSON API of files: /api/v1/communities/{id}/files (list, multipart upload with the field `file` and an
optional `description`), /api/v1/files/{id} (metadata with versions, delete), /api/v1/files/{id}/versions (a new
version), /api/v1/files/{id}/download."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from socius.content import service as content
from socius.core.csrf import streams_upload
from socius.core.requests import Caller, Session, client_ip, json_response
from socius.files import schemas, service
from socius.files.delivery import file_response
from socius.files.models import FileVersion
from socius.files.upload import taking

router = APIRouter(tags=["files"])


def _version(item, v: FileVersion) -> schemas.VersionOut:
    return schemas.VersionOut(number=v.number, filename=v.filename, content_type=v.content_type, size=v.size,
                              sha256=v.sha256, uploaded_by=v.uploaded_by, created_at=v.created_at,
                              download_url=f"/api/v1/files/{item.id}/download?version={v.number}")


def file_out(item, versions: list[FileVersion] | None = None) -> schemas.FileOut:
    """A file as the API shows it (an idea's attachments too)."""
    data = item.data or {}
    return schemas.FileOut(
        id=item.id, community_id=item.community_id, campaign_id=item.campaign_id, title=item.title,
        description=item.body_md,
        filename=data.get("filename", item.title), content_type=data.get("content_type", ""),
        size=data.get("size", 0), version=data.get("version", 1), author_id=item.author_id,
        created_at=item.created_at, updated_at=item.updated_at, url=content.item_url(item),
        download_url=f"/api/v1/files/{item.id}/download",
        versions=[_version(item, v) for v in versions] if versions is not None else None)


@router.get("/communities/{community_id}/files")
async def list_files(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    community, items = await service.list_files(db, principal, community_id)
    return json_response(schemas.FilesOut(items=[file_out(i) for i in items],
                                          used_bytes=await service.usage(db, community.id),
                                          quota_bytes=request.app.state.settings.community_file_quota_bytes))


@router.post("/communities/{community_id}/files", status_code=201)
@streams_upload
async def upload(request: Request, db: Session, principal: Caller, community_id: int) -> Response:
    await service.upload_target(db, principal, community_id)
    item, version = await taking(request, lambda received: service.add_file(
        db, principal, community_id, received, request.app.state.settings,
        description=received.fields.get("description", ""), ip=client_ip(request)))
    return json_response(file_out(item, [version]), status=201, headers={"Location": f"/api/v1/files/{item.id}"})


@router.get("/files/{item_id}")
async def get_file(db: Session, principal: Caller, item_id: int) -> Response:
    item = await service.get_file(db, principal, item_id)
    return json_response(file_out(item, await service.versions(db, principal, item.id)))


@router.post("/files/{item_id}/versions", status_code=201)
@streams_upload
async def upload_version(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    await service.version_target(db, principal, item_id)
    item, _version = await taking(request, lambda received: service.add_version(
        db, principal, item_id, received, request.app.state.settings, ip=client_ip(request)))
    return json_response(file_out(item, await service.versions(db, principal, item.id)), status=201)


@router.delete("/files/{item_id}", status_code=204)
async def delete_file(request: Request, db: Session, principal: Caller, item_id: int) -> Response:
    await service.delete_file(db, principal, item_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/files/{item_id}/download")
async def download(request: Request, db: Session, principal: Caller, item_id: int,
                   version: int | None = Query(default=None)) -> Response:
    return file_response(await service.download(db, principal, item_id, version, request.app.state.settings))
