"""Housekeeping for accounts, and the e-mail inviting a new guest (with its one-time link)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_

from socius.accounts import invitations
from socius.accounts.models import LoginFailure, WebSession
from socius.config import get_settings
from socius.core.db import utcnow
from socius.core.jobs import job
from socius.core.runtime import database
from socius.notifications.tasks import RETRY


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


@job(invitations.JOB, retry=RETRY)
async def guest_invitation(invitation_id: int) -> None:
    """Make the invitation's token and send the link. An SMTP failure rolls back (no token kept) and retries."""
    from socius.notifications import mailing

    settings = get_settings()
    if not mailing.configured(settings):
        return
    async with database().transaction() as db:
        await invitations.send_invitation(db, settings, invitation_id)
