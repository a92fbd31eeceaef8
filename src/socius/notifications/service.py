"""Telling people what concerns them. Modules call `notify` in their own transaction: the notification exists
exactly when the change does. Each kind has one message; pages and API render it in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal
from socius.core.db import one_of, utcnow
from socius.core.errors import NotAuthenticated
from socius.core.i18n import N_, gettext
from socius.notifications.models import Notification
from socius.people.models import Person

# kind → msgid; placeholders come from the notification's data plus "actor".
MESSAGES = {
    "tagged": N_("{actor} tagged you with “{tag}”"),
    "endorsed": N_("{actor} endorsed you for “{tag}”"),
    "invited": N_("{actor} invited you to {community}"),
    "join_requested": N_("{actor} asked to join {community}"),
    "join_approved": N_("{actor} approved your request to join {community}"),
    "mentioned": N_("{actor} mentioned you in “{title}”"),
    "replied": N_("{actor} replied to “{title}”"),
    "liked": N_("{actor} liked “{title}”"),
}
PAGE_SIZE = 30


async def notify(db: AsyncSession, person_id: int, kind: str, *, actor_id: int | None, url: str,
                 **data: Any) -> None:
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind {kind!r}")
    if person_id == actor_id:
        return  # nobody is told about what they did themselves
    db.add(Notification(person_id=person_id, kind=kind, actor_id=actor_id, url=url, data=data))


@dataclass
class Shown:
    """A notification as its reader sees it."""

    id: int
    message: str
    url: str
    created_at: Any
    unread: bool


def _principal_id(principal: Principal) -> int:
    if principal.person_id is None:
        raise NotAuthenticated()
    return principal.person_id


async def unread_count(db: AsyncSession, principal: Principal) -> int:
    return await db.scalar(select(func.count()).select_from(Notification).where(
        Notification.person_id == _principal_id(principal), Notification.read_at.is_(None))) or 0


async def latest(db: AsyncSession, principal: Principal, *, before: int | None = None,
                 limit: int = PAGE_SIZE) -> list[Shown]:
    """Newest first; `before` pages back (ids only go up)."""
    query = (select(Notification, Person.display_name)
             .outerjoin(Person, Person.id == Notification.actor_id)
             .where(Notification.person_id == _principal_id(principal))
             .order_by(Notification.id.desc()).limit(limit))
    if before is not None:
        query = query.where(Notification.id < before)
    shown = []
    for note, actor in (await db.execute(query)).all():
        message = gettext(MESSAGES[note.kind]).format(actor=actor or gettext("Someone"), **note.data)
        shown.append(Shown(id=note.id, message=message, url=note.url, created_at=note.created_at,
                           unread=note.read_at is None))
    return shown


async def mark_read(db: AsyncSession, principal: Principal, ids: list[int] | None = None) -> int:
    """Mark these (or all) of the principal's notifications read; others' ids are ignored. Returns how many."""
    query = update(Notification).where(Notification.person_id == _principal_id(principal),
                                       Notification.read_at.is_(None)).values(read_at=utcnow())
    if ids is not None:
        query = query.where(one_of(Notification.id, ids))
    result = await db.execute(query)
    return result.rowcount
