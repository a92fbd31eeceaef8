"""Community jobs: none of their own now. The invitation e-mail is `accounts.tasks.guest_invitation`; this name
stays for the jobs queued before it moved there."""

from __future__ import annotations

from socius.accounts import tasks as account_tasks
from socius.core.jobs import job
from socius.notifications.tasks import RETRY


@job("community_guest_invitation", retry=RETRY)
async def community_guest_invitation(invitation_id: int) -> None:
    """A job deferred before the upgrade: the same work as `guest_invitation`."""
    await account_tasks.guest_invitation(invitation_id)
