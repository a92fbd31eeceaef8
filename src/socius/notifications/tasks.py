"""Notification jobs: fan-out to large audiences, immediate e-mails, daily and weekly digests."""

from __future__ import annotations

from typing import Any

import procrastinate

from socius.config import get_settings
from socius.core.jobs import job
from socius.core.runtime import database
from socius.notifications import mailing, service
from socius.notifications.models import EmailMode

RETRY = procrastinate.RetryStrategy(max_attempts=8, exponential_wait=10)


@job("notify_fanout", retry=RETRY)
async def notify_fanout(audience: str, params: dict[str, Any], kind: str, actor_id: int | None, url: str,
                        community_id: int | None, data: dict[str, Any], campaign_id: int | None = None) -> None:
    """`service.notify_later`'s job: one INSERT … SELECT for the whole audience, e-mail jobs deferred with it."""
    async with database().transaction() as db:
        await service.fan_out_audience(db, audience, params, kind, actor_id=actor_id, url=url,
                                       community_id=community_id, campaign_id=campaign_id, data=data)


@job("notify_email", retry=RETRY)
async def notify_email(ids: list[int]) -> None:
    """Immediate e-mails for these notifications (those still due). What was sent stays marked even when a later
    message fails; the job then fails and is retried for the rest."""
    settings = get_settings()
    if not mailing.configured(settings):
        return
    async with database().transaction() as db:
        _sent, error = await mailing.send_immediate(db, settings, ids)
    if error is not None:
        raise error


# 23:00 UTC: 07:00 in Taipei, before the working day.
@job("notify_digest_daily", cron="0 23 * * *", queueing_lock="notify_digest_daily", retry=RETRY)
async def notify_digest_daily(timestamp: int) -> None:
    await mailing.run_digest(database().transaction, get_settings(), EmailMode.DAILY)


@job("notify_digest_weekly", cron="0 23 * * 0", queueing_lock="notify_digest_weekly", retry=RETRY)
async def notify_digest_weekly(timestamp: int) -> None:
    await mailing.run_digest(database().transaction, get_settings(), EmailMode.WEEKLY)
