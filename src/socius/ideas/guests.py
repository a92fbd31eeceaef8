"""Inviting people into a campaign by e-mail: an address nobody has becomes a guest (external) person, a
participant of the campaign at once, who receives a one-time link to choose a password and land on it; an address
someone already has adds that person as a participant (and tells them). The link, its e-mail and its page are
`accounts.invitations`'; here the invitation stands while the guest is still a member of the campaign, and removing
them voids it (`service.remove_member`). The guest then reads only that campaign (`access.readable_clause`) and,
of the directory, the people they meet there (`people.service.readable_clause`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from socius.accounts import invitations
from socius.accounts.invitations import Invited
from socius.accounts.models import GuestInvitation
from socius.admin import service as audit
from socius.core.auth import Principal
from socius.core.i18n import N_
from socius.ideas import access, service
from socius.ideas.models import Campaign, CampaignMember, CampaignRole


async def invite_by_email(db: AsyncSession, principal: Principal, campaign_id: Any, emails: Any, *,
                          name: Any = "", ip: str = "") -> Invited:
    """Managers invite addresses as participants. Someone who already has the address is added as a person;
    otherwise a guest is made (no usable password yet), added, and sent the one-time link by a job."""
    campaign = await access.get_campaign(db, principal, campaign_id)
    await access.require_manager(db, principal, campaign)
    addresses = invitations.clean_emails(emails)
    name = invitations.clean_name(name)
    result = Invited()
    existing = await invitations.existing_people(db, principal, addresses)
    for email in addresses:
        person = existing.get(email)
        if person is None:
            guest = await invitations.invite_new_guest(db, principal, email, name if len(addresses) == 1 else "",
                                                       result, ip=ip, campaign_id=campaign.id)
            db.add(CampaignMember(campaign_id=campaign.id, person_id=guest.id, role=CampaignRole.PARTICIPANT.value,
                                  invited_by=principal.person_id))
            continue
        pending = await invitations.unanswered(db, person.id, campaign_id=campaign.id)
        if pending is not None and await db.get(CampaignMember, (campaign.id, person.id)) is not None:
            # A guest who has not answered yet gets a fresh link (the old one stops working).
            await invitations.renew(db, pending)
            await audit.record(db, principal, "campaign.invite_guest_again", "campaign", campaign.id,
                               new={"person_id": person.id}, ip=ip)
            result.resent.append(person.id)
            continue
        result.person_ids += await service.add_members(db, principal, campaign.id, [person.id], ip=ip)
    return result


async def outstanding(db: AsyncSession, campaign_id: int) -> dict[int, GuestInvitation]:
    """Unanswered e-mail invitations into a campaign, by person (for its members list)."""
    return await invitations.outstanding(db, campaign_id=campaign_id)


# --- the campaign as a place invitations lead into -------------------------------------------------------------

async def _lookup(db: AsyncSession, row: GuestInvitation) -> invitations.Where | None:
    campaign = await db.get(Campaign, row.campaign_id)
    if campaign is None or await db.get(CampaignMember, (campaign.id, row.person_id)) is None:
        return None
    return invitations.Where(campaign.title, f"/campaigns/{campaign.id}", campaign.brief_html or "")


async def _enter(db: AsyncSession, guest: Principal, row: GuestInvitation, ip: str) -> None:
    """Nothing to join: the guest became a participant when invited."""


invitations.register_place(invitations.Place(
    kind="campaign", column="campaign_id", lookup=_lookup, enter=_enter,
    subject=N_("{inviter} invited you to the campaign “{campaign}” on Socius"),
    intro=N_("{inviter} invited you to take part in the campaign “{campaign}” on Socius: share ideas, comment and "
             "vote. Open the link below within 14 days to choose your password; it works once.")))
