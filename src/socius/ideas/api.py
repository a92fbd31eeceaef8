"""JSON API of the idea portal: /api/v1/campaigns, /api/v1/ideas (votes, stages, follow, shortlist), reviews,
merges, graduation, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from socius.core.requests import Caller, Session, client_ip
from socius.ideas import graduation, merging

router = APIRouter(tags=["ideas"])


# --- campaigns and ideas ------------------------------------------------------------------------------------------


# --- reviews and metrics ------------------------------------------------------------------------------------------


# --- merging, graduation and guests -------------------------------------------------------------------------------


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: Any = None


class GraduateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    description: str | None = None
    access: str | None = None
    tags: list[str] | None = None


def _merge_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "source_id": row.source_id, "target_id": row.target_id,
            "merged_at": row.merged_at.isoformat() if row.merged_at else None,
            "undone_at": row.undone_at.isoformat() if row.undone_at else None}


@router.post("/ideas/{idea_id}/merge", status_code=201)
async def merge_idea(request: Request, db: Session, principal: Caller, idea_id: int, body: MergeIn) -> Response:
    """A manager merges this idea into `into` (an idea of the same campaign)."""
    row = await merging.merge(db, principal, idea_id, body.into, ip=client_ip(request))
    await db.flush()
    await db.refresh(row)
    return JSONResponse(_merge_out(row), status_code=201)


@router.post("/idea-merges/{merge_id}/undo")
async def undo_merge(request: Request, db: Session, principal: Caller, merge_id: int) -> Response:
    row = await merging.unmerge(db, principal, merge_id, ip=client_ip(request))
    await db.flush()
    await db.refresh(row)
    return JSONResponse(_merge_out(row))


@router.post("/ideas/{idea_id}/graduate", status_code=201)
async def graduate_idea(request: Request, db: Session, principal: Caller, idea_id: int,
                        body: GraduateIn) -> Response:
    """A manager turns a selected idea into a project community."""
    values = body.model_dump(exclude_none=True)
    made = await graduation.graduate(db, principal, idea_id, values, ip=client_ip(request))
    return JSONResponse({"idea_id": idea_id, "community_id": made.id, "name": made.name,
                         "url": f"/communities/{made.id}"}, status_code=201)
