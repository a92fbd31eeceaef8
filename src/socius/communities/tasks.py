"""Community jobs: the e-mail inviting a new guest (with its one-time link)."""

from __future__ import annotations

from socius.communities import guests
from socius.config import get_settings
from socius.core.jobs import job
from socius.core.runtime import database
from socius.notifications import mailing
from socius.notifications.tasks import RETRY


@job("community_guest_invitation", retry=RETRY)
async def community_guest_invitation(invitation_id: int) -> None:
    """Make the invitation's token and send the link. An SMTP failure rolls back (no token kept) and retries."""
    settings = get_settings()
    if not mailing.configured(settings):
        return
    async with database().transaction() as db:
        await guests.send_invitation(db, settings, invitation_id)
