"""The audit log every module writes to, and the admin views of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin.models import AuditEntry
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import write_rows
from socius.core.pagination import Page, decode_cursor, encode_cursor


async def record(
    db: AsyncSession,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    ip: str = "",
    actor_id: int | None = None,
) -> None:
    """Write one entry in the caller's transaction: it exists exactly when the change does."""
    db.add(
        AuditEntry(
            actor_id=actor_id if actor_id is not None else (principal.person_id if principal else None),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            old=_jsonable(old),
            new=_jsonable(new),
            ip=ip[:64],
        )
    )


async def record_many(db: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Entries by the system (no actor), written in one statement: a directory sync changes thousands of people.
    Each dict holds `action`, `object_type`, `object_id` and optionally `old` and `new`."""
    await write_rows(db, AuditEntry.__table__, entry_rows(entries))


def entry_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit_entry rows of `record_many`'s entries, for a caller that writes them with other rows."""
    return [{"action": e["action"], "object_type": e["object_type"], "object_id": str(e["object_id"]),
             "old": _jsonable(e.get("old")), "new": _jsonable(e.get("new"))} for e in entries]


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (v.isoformat() if isinstance(v, dt.datetime | dt.date) else v) for k, v in values.items()}


async def list_entries(
    db: AsyncSession,
    principal: Principal,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AuditEntry]:
    require(principal, Permission.AUDIT_READ)
    stmt: Select = select(AuditEntry)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if cursor:
        (before_id,) = decode_cursor(cursor, "cursor", (int,))
        stmt = stmt.where(AuditEntry.id < before_id)
    rows = list(await db.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more else None)
