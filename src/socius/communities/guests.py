"""Inviting people by e-mail: an address nobody has becomes a guest (external) person, invited to the community,
who receives a one-time link to choose a password and land in it. An address someone already has is an
ordinary invitation of that person.

The link's token is made by the job that sends the e-mail and stored only as its SHA-256; it works once, for
14 days, and only while the invitation stands (a moderator removing the invited guest voids it). The guest then
reads only that community: `readable_clause` gives guests nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.accounts import service as accounts
from socius.accounts.models import Account
from socius.admin import service as audit
from socius.communities import service
from socius.communities.models import Community, GuestInvitation, Membership, MemberState
from socius.config import Settings
from socius.core import jobs
from socius.core.auth import Principal
from socius.core.db import utcnow
from socius.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from socius.core.i18n import N_, current_locale, gettext, using_locale
from socius.people import service as people
from socius.people.models import Person, Role

log = structlog.get_logger(__name__)

VALID_FOR = dt.timedelta(days=14)
MAX_EMAILS = 50
MAX_NAME = 200
_USERNAME_BAD = re.compile(r"[^a-z0-9._-]+")


@dataclass
class Invited:
    """What an invitation by e-mail did: people invited (existing and new), the new guests among them."""

    person_ids: list[int] = field(default_factory=list)
    new_guests: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)


def clean_emails(raw: Any) -> list[str]:
    """Addresses, normalised (lower case); a text may list them separated by commas, spaces or lines."""
    if isinstance(raw, str):
        raw = [e for e in re.split(r"[\s,;，；]+", raw) if e]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_EMAILS:
        raise ValidationFailed.one("emails", N_("must list between 1 and {max} e-mail addresses"), max=MAX_EMAILS)
    out: list[str] = []
    for value in raw:
        cleaned, errors = people.clean_fields({"email": value})
        if errors or not cleaned.get("email"):
            raise ValidationFailed.one("emails", N_("not an e-mail address: {value}"), value=str(value)[:100])
        out.append(cleaned["email"])
    return list(dict.fromkeys(out))


async def _free_username(db: AsyncSession, email: str) -> str:
    base = _USERNAME_BAD.sub("-", email.split("@")[0].lower()).strip("._-")[:50] or "guest"
    if len(base) < 2:
        base = f"guest-{base}"
    taken = set(await db.scalars(select(Account.username).where(Account.username.like(f"{base}%"))))
    if base not in taken:
        return base
    for n in range(2, 1000):
        if f"{base}-{n}" not in taken:
            return f"{base}-{n}"
    return f"{base}-{secrets.token_hex(4)}"


async def invite_by_email(db: AsyncSession, principal: Principal, community_id: Any, emails: Any, *,
                          name: Any = "", ip: str = "") -> Invited:
    """Owners and moderators invite addresses. Someone who already has the address is invited as a person;
    otherwise a guest is made (no usable password yet), invited, and sent the one-time link by a job."""
    community = await service.get_community(db, principal, community_id)
    standing = await service.require_contributor(db, principal, community)
    if not standing.can_moderate:
        raise PermissionDenied(N_("Only owners and moderators may invite people by e-mail."))
    addresses = clean_emails(emails)
    name = "" if name is None else name
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise ValidationFailed.one("name", N_("must be at most {max} characters"), max=MAX_NAME)
    result = Invited()
    existing = {p.email: p for p in await db.scalars(select(Person).where(Person.email.in_(addresses)))}
    for email in addresses:
        person = existing.get(email)
        if person is not None:
            await _invite_existing(db, principal, community, person, result, ip=ip)
            continue
        # Under a restricted parent only the parent's members may belong: a new guest is none.
        await service._check_parent_membership(db, community, 0)
        display = " ".join((name or "").split()) if len(addresses) == 1 and name else email.split("@")[0]
        guest = await people.create_person(
            db, principal, display_name=display, email=email, role=Role.GUEST,
            **({"manager_id": principal.person_id} if not principal.is_guest else {}))
        await accounts.create_account(db, guest, await _free_username(db, email), None)
        db.add(Membership(community_id=community.id, person_id=guest.id, state=MemberState.INVITED.value,
                          invited_by=principal.person_id))
        invitation = GuestInvitation(community_id=community.id, person_id=guest.id, email=email,
                                     invited_by=principal.person_id, locale=current_locale(),
                                     expires_at=utcnow() + VALID_FOR)
        db.add(invitation)
        await db.flush()
        await jobs.defer(db, "community_guest_invitation", invitation_id=invitation.id)
        await audit.record(db, principal, "community.invite_guest", "community", community.id,
                           new={"person_id": guest.id, "email": email}, ip=ip)
        result.person_ids.append(guest.id)
        result.new_guests.append(guest.id)
    return result


async def _invite_existing(db: AsyncSession, principal: Principal, community: Community, person: Person,
                           result: Invited, *, ip: str) -> None:
    try:
        await people.get_person(db, principal, person.id)
    except NotFound:
        raise ValidationFailed.one("emails", N_("cannot be invited: {value}"), value=person.email) from None
    if not person.is_active:
        raise ValidationFailed.one("emails", N_("{name} is no longer here"), name=person.display_name)
    pending = await db.scalar(select(GuestInvitation).where(
        GuestInvitation.community_id == community.id, GuestInvitation.person_id == person.id,
        GuestInvitation.accepted_at.is_(None)).order_by(GuestInvitation.id.desc()).limit(1))
    row = await service.membership(db, community.id, person.id)
    if pending is not None and row is not None and row.state == MemberState.INVITED.value:
        # Inviting a guest who has not answered yet sends a fresh link (the old one stops working).
        pending.expires_at = utcnow() + VALID_FOR
        pending.sent_at = None
        pending.token_hash = None
        await jobs.defer(db, "community_guest_invitation", invitation_id=pending.id)
        await audit.record(db, principal, "community.invite_guest_again", "community", community.id,
                           new={"person_id": person.id}, ip=ip)
        result.resent.append(person.id)
        return
    invited = await service.invite(db, principal, community.id, [person.id], ip=ip)
    result.person_ids.extend(invited)


# --- the e-mail ------------------------------------------------------------------------------------------------

async def send_invitation(db: AsyncSession, settings: Settings, invitation_id: int) -> bool:
    """Make the one-time token and send the e-mail with the link (the job's work). False when there is nothing
    to send (already sent, accepted, expired, withdrawn) or the server refused the address for good. An SMTP
    failure raises: the transaction rolls back (no token kept) and the job is retried."""
    from socius.notifications import mailing

    row = await db.scalar(select(GuestInvitation).where(GuestInvitation.id == invitation_id)
                          .with_for_update(skip_locked=True))
    if row is None or row.accepted_at is not None or row.sent_at is not None or row.expires_at <= utcnow():
        return False
    community = await db.get(Community, row.community_id)
    guest = await db.get(Person, row.person_id)
    standing = await service.membership(db, row.community_id, row.person_id)
    if community is None or guest is None or not guest.is_active or standing is None \
            or standing.state != MemberState.INVITED.value:
        return False
    inviter = await db.get(Person, row.invited_by) if row.invited_by else None
    raw = secrets.token_urlsafe(32)
    row.token_hash = accounts.sha256(raw)
    with using_locale(row.locale):
        values = {"inviter": inviter.display_name if inviter else "Socius", "community": community.name}
        subject = gettext(N_("{inviter} invited you to {community} on Socius")).format(**values)
        intro = gettext(N_("{inviter} invited you to join {community}, a community on Socius. Open the link "
                           "below within 14 days to choose your password; it works once.")).format(**values)
        line = mailing.Line(gettext(N_("Accept the invitation")), f"/invitations/{raw}")
        mail = mailing.compose(settings, (guest.display_name, row.email), subject, [line], intro=intro,
                               footer=False)
    sender = mailing.Sender(settings, 1)
    try:
        sent, error = await sender.send([(row.id, mail)])
    finally:
        await sender.close()
    if error is not None:
        raise error
    if not sent:
        row.token_hash = None
        return False
    row.sent_at = utcnow()
    return True


# --- accepting ---------------------------------------------------------------------------------------------------

@dataclass
class Pending:
    invitation: GuestInvitation
    community: Community
    guest: Person
    username: str


async def pending(db: AsyncSession, raw: Any) -> Pending:
    """The invitation a link names, while it may still be accepted; NotFound otherwise (used, expired,
    withdrawn, unknown all look the same)."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        raise NotFound()
    row = await db.scalar(select(GuestInvitation).where(GuestInvitation.token_hash == accounts.sha256(raw),
                                                        GuestInvitation.accepted_at.is_(None),
                                                        GuestInvitation.expires_at > func.now()))
    if row is None:
        raise NotFound()
    member = await service.membership(db, row.community_id, row.person_id)
    guest = await db.get(Person, row.person_id)
    community = await db.get(Community, row.community_id)
    if member is None or member.state != MemberState.INVITED.value or guest is None or not guest.is_active \
            or community is None:
        raise NotFound()
    username = await db.scalar(select(Account.username).where(Account.person_id == guest.id))
    return Pending(row, community, guest, username or "")


async def accept(db: AsyncSession, raw: Any, password: Any, repeat: Any, *, ip: str = "") -> Pending:
    """The guest chooses a password through the link: the invitation is accepted and the link stops working."""
    found = await pending(db, raw)
    if not isinstance(password, str) or not isinstance(repeat, str):
        raise ValidationFailed.one("password", N_("must not be empty"))
    accounts.check_password_rules(password)
    if password != repeat:
        raise ValidationFailed.one("repeat", N_("does not match the new password"))
    if found.community.archived_at is not None:
        raise Conflict(N_("This community is archived: it can be read but not changed."))
    account = await db.scalar(select(Account).where(Account.person_id == found.guest.id))
    if account is None:
        raise NotFound()
    await accounts.set_password(db, account, password)
    found.invitation.accepted_at = utcnow()
    found.invitation.token_hash = None
    as_guest = Principal(person_id=found.guest.id, role=Role(found.guest.role),
                         display_name=found.guest.display_name, via="session")
    await service.join(db, as_guest, found.community.id, ip=ip)
    await audit.record(db, None, "community.guest_accept", "community", found.community.id,
                       new={"person_id": found.guest.id}, ip=ip, actor_id=found.guest.id)
    return found


async def outstanding(db: AsyncSession, community_id: int) -> dict[int, GuestInvitation]:
    """Pending e-mail invitations of a community, by person (for its members page)."""
    rows = await db.scalars(select(GuestInvitation).where(GuestInvitation.community_id == community_id,
                                                          GuestInvitation.accepted_at.is_(None)))
    return {r.person_id: r for r in rows}
