"""Scheduled directory syncs: every minute, start the LDAP sources whose interval has elapsed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socius.config import get_settings
from socius.core.db import utcnow
from socius.core.jobs import defer, job
from socius.core.runtime import database
from socius.directory.models import DirectorySource, DirectorySync, SourceKind


async def due_sources(db: AsyncSession, now: dt.datetime) -> list[DirectorySource]:
    """Enabled LDAP sources with a schedule whose last sync (of any outcome) started an interval ago or more."""
    last = (select(DirectorySync.source_id, func.max(DirectorySync.started_at).label("at"))
            .where(DirectorySync.dry_run.is_(False)).group_by(DirectorySync.source_id).subquery())
    stmt = (select(DirectorySource, last.c.at).outerjoin(last, last.c.source_id == DirectorySource.id)
            .where(DirectorySource.kind == SourceKind.LDAP, DirectorySource.enabled.is_(True),
                   DirectorySource.interval_minutes > 0)
            .order_by(DirectorySource.id))
    return [source for source, at in (await db.execute(stmt)).all()
            if at is None or at <= now - dt.timedelta(minutes=source.interval_minutes)]


@job("directory_schedule", cron="* * * * *", queueing_lock="directory_schedule")
async def directory_schedule(timestamp: int) -> None:
    """Queue a sync for each source that is due; the lock keeps one sync per source at a time."""
    async with database().transaction() as db:
        for source in await due_sources(db, utcnow()):
            full = bool((source.config or {}).get("scheduled_full", True))
            try:
                async with db.begin_nested():
                    await defer(db, "directory_sync", lock=f"directory_sync:{source.id}",
                                queueing_lock=f"directory_sync:{source.id}", source_name=source.name, full=full)
            except IntegrityError:
                pass  # still queued from a previous minute


@job("directory_sync")
async def directory_sync(source_name: str, full: bool = True) -> None:
    """Sync one LDAP source (the report is stored and audited by the sync itself)."""
    from socius.directory import ldap

    await ldap.sync_source(database(), get_settings(), source_name, full=full)
