"""JSON API of the wiki: /api/v1/communities/{id}/wiki/pages (tree, create), /api/v1/wiki/pages/{id} (get,
PUT with the version you started from: 409 when someone saved in between), revisions, diff, restore."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from socius.core.requests import Caller, Session, client_ip, json_response
from socius.wiki import schemas, service

router = APIRouter(tags=["wiki"])


def _page(page: service.Page) -> schemas.PageOut:
    item = page.item
    return schemas.PageOut(
        id=item.id, community_id=page.page.community_id, parent_id=page.page.parent_page_id, slug=page.page.slug,
        title=item.title, body=item.body_md, body_html=item.body_html, tags=list(item.tags), version=item.version,
        url=page.url, author_id=item.author_id, created_at=item.created_at, updated_at=item.updated_at)


def _tree(node: service.TreeNode) -> schemas.TreeOut:
    return schemas.TreeOut(id=node.item.id, parent_id=node.page.parent_page_id, slug=node.page.slug,
                           title=node.item.title, url=node.url, children=[_tree(c) for c in node.children])


def _revision(row, full: bool = False):
    values = {"number": row.number, "title": row.title, "author_id": row.author_id, "created_at": row.created_at,
              "comment": row.comment, "restored_from": row.restored_from}
    return schemas.RevisionFull(**values, body=row.body_md) if full else schemas.RevisionOut(**values)


@router.get("/communities/{community_id}/wiki/pages")
async def list_pages(db: Session, principal: Caller, community_id: int) -> Response:
    community = await service.readable_community(db, principal, community_id)
    roots = await service.tree(db, principal, community)
    return json_response(schemas.PagesOut(items=[_tree(n) for n in roots]))


@router.post("/communities/{community_id}/wiki/pages", status_code=201)
async def create_page(request: Request, db: Session, principal: Caller, community_id: int,
                      body: schemas.PageIn) -> Response:
    page = await service.create_page(db, principal, community_id, body.model_dump(exclude_none=True),
                                     ip=client_ip(request))
    return json_response(_page(page), status=201, headers={"Location": f"/api/v1/wiki/pages/{page.id}"})


@router.get("/wiki/pages/{page_id}")
async def get_page(db: Session, principal: Caller, page_id: int) -> Response:
    return json_response(_page(await service.get_page(db, principal, page_id)))


@router.put("/wiki/pages/{page_id}")
async def put_page(request: Request, db: Session, principal: Caller, page_id: int,
                   body: schemas.PageEdit) -> Response:
    values = body.model_dump(exclude_none=True, exclude={"version", "parent_id"})
    page = await service.get_page(db, principal, page_id)
    if body.parent_id is not None:
        page = await service.move(db, principal, page_id, body.parent_id or None, ip=client_ip(request))
    if values.keys() - {"comment"}:
        page, _revision = await service.edit_page(db, principal, page_id, values, expected_version=body.version,
                                                  ip=client_ip(request))
    return json_response(_page(page))


@router.get("/wiki/pages/{page_id}/revisions")
async def list_revisions(db: Session, principal: Caller, page_id: int) -> Response:
    rows = await service.revisions(db, principal, page_id)
    return json_response(schemas.RevisionsOut(items=[_revision(r) for r in rows]))


@router.get("/wiki/pages/{page_id}/revisions/{number}")
async def get_revision(db: Session, principal: Caller, page_id: int, number: int) -> Response:
    return json_response(_revision(await service.revision(db, principal, page_id, number), full=True))


@router.get("/wiki/pages/{page_id}/diff")
async def get_diff(db: Session, principal: Caller, page_id: int, from_: int = Query(alias="from"),
                   to: int = Query()) -> Response:
    found = await service.diff(db, principal, page_id, from_, to)
    return Response(schemas.DiffOut(from_=found.old.number, to=found.new.number, title_changed=found.title_changed,
                                    lines=[schemas.DiffLineOut(op=x.op, text=x.text) for x in found.lines]
                                    ).model_dump_json(by_alias=True), media_type="application/json")


@router.post("/wiki/pages/{page_id}/restore")
async def restore(request: Request, db: Session, principal: Caller, page_id: int,
                  body: schemas.RestoreIn) -> Response:
    page, _revision = await service.restore(db, principal, page_id, body.revision, expected_version=body.version,
                                            ip=client_ip(request))
    return json_response(_page(page))
