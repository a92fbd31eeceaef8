"""Inviting people into a community by e-mail: an address nobody has becomes a guest (external) person, invited to
the community, who receives a one-time link to choose a password and land in it; an address someone already has is
an ordinary invitation of that person. The link, its e-mail and its page are `accounts.invitations`'; this module
says what the invitation means here: it stands while the guest is still invited (a moderator removing them voids
it), and accepting joins the community. The guest then reads only that community: `readable_clause` gives guests
nothing else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from socius.accounts import invitations
from socius.accounts.invitations import Invited
from socius.accounts.models import GuestInvitation
from socius.admin import service as audit
from socius.communities import service
from socius.communities.models import Community, Membership, MemberState
from socius.core.auth import Principal
from socius.core.errors import Conflict, PermissionDenied
from socius.core.i18n import N_
from socius.people.models import Person


async def invite_by_email(db: AsyncSession, principal: Principal, community_id: Any, emails: Any, *,
                          name: Any = "", ip: str = "") -> Invited:
    """Owners and moderators invite addresses. Someone who already has the address is invited as a person;
    otherwise a guest is made (no usable password yet), invited, and sent the one-time link by a job."""
    community = await service.get_community(db, principal, community_id)
    standing = await service.require_contributor(db, principal, community)
    if not standing.can_moderate:
        raise PermissionDenied(N_("Only owners and moderators may invite people by e-mail."))
    addresses = invitations.clean_emails(emails)
    name = invitations.clean_name(name)
    result = Invited()
    existing = await invitations.existing_people(db, principal, addresses)
    for email in addresses:
        person = existing.get(email)
        if person is not None:
            await _invite_existing(db, principal, community, person, result, ip=ip)
            continue
        # Under a restricted parent only the parent's members may belong: a new guest is none.
        await service._check_parent_membership(db, community, 0)
        guest = await invitations.invite_new_guest(db, principal, email, name if len(addresses) == 1 else "",
                                                   result, ip=ip, community_id=community.id)
        db.add(Membership(community_id=community.id, person_id=guest.id, state=MemberState.INVITED.value,
                          invited_by=principal.person_id))
    return result


async def _invite_existing(db: AsyncSession, principal: Principal, community: Community, person: Person,
                           result: Invited, *, ip: str) -> None:
    pending = await invitations.unanswered(db, person.id, community_id=community.id)
    row = await service.membership(db, community.id, person.id)
    if pending is not None and row is not None and row.state == MemberState.INVITED.value:
        # Inviting a guest who has not answered yet sends a fresh link (the old one stops working).
        await invitations.renew(db, pending)
        await audit.record(db, principal, "community.invite_guest_again", "community", community.id,
                           new={"person_id": person.id}, ip=ip)
        result.resent.append(person.id)
        return
    invited = await service.invite(db, principal, community.id, [person.id], ip=ip)
    result.person_ids.extend(invited)


async def outstanding(db: AsyncSession, community_id: int) -> dict[int, GuestInvitation]:
    """Pending e-mail invitations of a community, by person (for its members page)."""
    return await invitations.outstanding(db, community_id=community_id)


# --- the community as a place invitations lead into ----------------------------------------------------------------

async def _lookup(db: AsyncSession, row: GuestInvitation) -> invitations.Where | None:
    member = await service.membership(db, row.community_id, row.person_id)
    community = await db.get(Community, row.community_id)
    if member is None or member.state != MemberState.INVITED.value or community is None:
        return None
    return invitations.Where(community.name, f"/communities/{community.id}", community.description_html or "")


async def _enter(db: AsyncSession, guest: Principal, row: GuestInvitation, ip: str) -> None:
    community = await db.get(Community, row.community_id)
    if community is None or community.archived_at is not None:
        raise Conflict(N_("This community is archived: it can be read but not changed."))
    await service.join(db, guest, community.id, ip=ip)


invitations.register_place(invitations.Place(
    kind="community", column="community_id", lookup=_lookup, enter=_enter,
    subject=N_("{inviter} invited you to {community} on Socius"),
    intro=N_("{inviter} invited you to join {community}, a community on Socius. Open the link below within 14 days "
             "to choose your password; it works once.")))
