"""Housekeeping for accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_

from socius.accounts.models import LoginFailure, WebSession
from socius.config import get_settings
from socius.core.db import utcnow
from socius.core.jobs import job
from socius.core.runtime import database


@job("prune_sessions", cron="17 * * * *", queueing_lock="prune_sessions")
async def prune_sessions(timestamp: int) -> None:
    """Delete expired sessions and old login failures once an hour."""
    settings = get_settings()
    now = utcnow()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    async with database().transaction() as db:
        await db.execute(
            delete(WebSession).where(or_(WebSession.expires_at < now, WebSession.last_seen_at < now - idle))
        )
        window = dt.timedelta(minutes=settings.login_window_minutes)
        await db.execute(delete(LoginFailure).where(LoginFailure.at < now - 4 * window))
