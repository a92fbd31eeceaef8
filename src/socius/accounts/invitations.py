"""Inviting people by e-mail into a place — a community or a campaign of the idea portal. An address nobody has
becomes a guest (external) person, with an account but no usable password, who receives a one-time link to choose
a password and land in the place. An address someone already has is an ordinary invitation of that person (the
place's module does that).

The link's token is made by the job that sends the e-mail and stored only as its SHA-256; it works once, for
14 days, and only while the invitation stands: the place's module says what that means (still invited to the
community, still a member of the campaign), and removing the guest voids it. One `guest_invitation` row per
invitation names exactly one place.

The places register themselves (`register_place`): `communities.guests` and `ideas.guests`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from socius.accounts import service as accounts
from socius.accounts.models import Account, GuestInvitation
from socius.admin import service as audit
from socius.config import Settings
from socius.core import jobs
from socius.core.auth import Principal
from socius.core.db import utcnow
from socius.core.errors import NotFound, ValidationFailed
from socius.core.i18n import N_, current_locale, gettext, using_locale
from socius.people import service as people
from socius.people.models import Person, Role

VALID_FOR = dt.timedelta(days=14)
MAX_EMAILS = 50
MAX_NAME = 200
JOB = "guest_invitation"
_USERNAME_BAD = re.compile(r"[^a-z0-9._-]+")


@dataclass
class Invited:
    """What an invitation by e-mail did: people invited (existing and new), the new guests among them, and
    guests who had not answered yet and were sent a fresh link."""

    person_ids: list[int] = field(default_factory=list)
    new_guests: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)


# --- places ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Where:
    """A place as an invitation's e-mail and page show it."""

    name: str
    url: str  # where the guest lands
    description_html: str = ""


@dataclass(frozen=True)
class Place:
    """How one kind of place takes part: `column` is the invitation's column naming it (`community_id`,
    `campaign_id`); `lookup(db, invitation)` gives the place's `Where` while the invitation stands (None
    otherwise); `enter(db, guest, invitation, ip)` is what accepting does there (it may refuse with a domain
    error). `subject` and `intro` are the e-mail's msgids, with `{inviter}` and `{<kind>}`."""

    kind: str
    column: str
    lookup: Callable[[AsyncSession, GuestInvitation], Awaitable[Where | None]]
    enter: Callable[[AsyncSession, Principal, GuestInvitation, str], Awaitable[None]]
    subject: str
    intro: str


PLACES: dict[str, Place] = {}


def register_place(place: Place) -> None:
    PLACES[place.column] = place


def place_of(row: GuestInvitation) -> Place:
    # The places register themselves when imported (the job runs in a worker that may not have imported them).
    return PLACES["community_id" if row.community_id is not None else "campaign_id"]


# --- inviting ----------------------------------------------------------------------------------------------------

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


def clean_name(name: Any) -> str:
    """A new guest's display name (used when one address is invited); may be empty."""
    name = "" if name is None else name
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise ValidationFailed.one("name", N_("must be at most {max} characters"), max=MAX_NAME)
    return " ".join(name.split())


async def existing_people(db: AsyncSession, principal: Principal, addresses: list[str]) -> dict[str, Person]:
    """The people who already have these addresses, each one the inviter may see and still here (a 422 naming
    `emails` otherwise: nothing is invited)."""
    found = {p.email: p for p in await db.scalars(select(Person).where(Person.email.in_(addresses)))}
    for person in found.values():
        try:
            await people.get_person(db, principal, person.id)
        except NotFound:
            raise ValidationFailed.one("emails", N_("cannot be invited: {value}"), value=person.email) from None
        if not person.is_active:
            raise ValidationFailed.one("emails", N_("{name} is no longer here"), name=person.display_name)
    return found


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


async def new_guest(db: AsyncSession, principal: Principal, email: str, name: str) -> Person:
    """A guest person with an account that has no usable password yet; the inviter (an employee) is their host."""
    guest = await people.create_person(
        db, principal, display_name=name or email.split("@")[0], email=email, role=Role.GUEST,
        **({"manager_id": principal.person_id} if not principal.is_guest else {}))
    await accounts.create_account(db, guest, await _free_username(db, email), None)
    return guest


async def invite(db: AsyncSession, principal: Principal, guest: Person, **place: int) -> GuestInvitation:
    """Record the invitation of `guest` into the place (`community_id=` or `campaign_id=`) and defer the job
    that mails the link, in the caller's transaction."""
    row = GuestInvitation(person_id=guest.id, email=guest.email, invited_by=principal.person_id,
                          locale=current_locale(), expires_at=utcnow() + VALID_FOR, **place)
    db.add(row)
    await db.flush()
    await jobs.defer(db, JOB, invitation_id=row.id)
    return row


async def invite_new_guest(db: AsyncSession, principal: Principal, email: str, name: str, result: Invited, *,
                           ip: str = "", **place: int) -> Person:
    """An address nobody has: a new guest invited into the place (`community_id=` or `campaign_id=`; the caller
    makes them a member of it), audited and counted in `result`."""
    guest = await new_guest(db, principal, email, name)
    await invite(db, principal, guest, **place)
    [(column, place_id)] = place.items()
    kind = column.removesuffix("_id")
    await audit.record(db, principal, f"{kind}.invite_guest", kind, place_id,
                       new={"person_id": guest.id, "email": email}, ip=ip)
    result.person_ids.append(guest.id)
    result.new_guests.append(guest.id)
    return guest


async def unanswered(db: AsyncSession, person_id: int, **place: int) -> GuestInvitation | None:
    """The person's latest invitation into the place that is not accepted yet."""
    return await db.scalar(select(GuestInvitation).filter_by(person_id=person_id, accepted_at=None, **place)
                           .order_by(GuestInvitation.id.desc()).limit(1))


async def renew(db: AsyncSession, row: GuestInvitation) -> None:
    """Send a fresh link (14 days from now); the old one stops working."""
    row.expires_at = utcnow() + VALID_FOR
    row.sent_at = None
    row.token_hash = None
    await jobs.defer(db, JOB, invitation_id=row.id)


async def void(db: AsyncSession, person_id: int, **place: int) -> None:
    """The person left the place (removed): their unused links stop working for good."""
    await db.execute(update(GuestInvitation).filter_by(person_id=person_id, accepted_at=None, **place)
                     .values(token_hash=None, expires_at=func.least(GuestInvitation.expires_at, func.now())))


async def outstanding(db: AsyncSession, **place: int) -> dict[int, GuestInvitation]:
    """Unanswered e-mail invitations into the place, by person (for its members page)."""
    rows = await db.scalars(select(GuestInvitation).filter_by(accepted_at=None, **place))
    return {r.person_id: r for r in rows}


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
    place = place_of(row)
    guest = await db.get(Person, row.person_id)
    standing = await place.lookup(db, row)
    if guest is None or not guest.is_active or standing is None:
        return False
    inviter = await db.get(Person, row.invited_by) if row.invited_by else None
    raw = secrets.token_urlsafe(32)
    row.token_hash = accounts.sha256(raw)
    with using_locale(row.locale):
        values = {"inviter": inviter.display_name if inviter else "Socius", place.kind: standing.name}
        subject = gettext(place.subject).format(**values)
        intro = gettext(place.intro).format(**values)
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
    """An invitation a link names, as its page shows it."""

    invitation: GuestInvitation
    place: Place
    where: Where
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
    place = place_of(row)
    standing = await place.lookup(db, row)
    guest = await db.get(Person, row.person_id)
    if standing is None or guest is None or not guest.is_active:
        raise NotFound()
    username = await db.scalar(select(Account.username).where(Account.person_id == guest.id))
    return Pending(row, place, standing, guest, username or "")


async def accept(db: AsyncSession, raw: Any, password: Any, repeat: Any, *, ip: str = "") -> Pending:
    """The guest chooses a password through the link: the invitation is accepted and the link stops working."""
    found = await pending(db, raw)
    if not isinstance(password, str) or not isinstance(repeat, str):
        raise ValidationFailed.one("password", N_("must not be empty"))
    accounts.check_password_rules(password)
    if password != repeat:
        raise ValidationFailed.one("repeat", N_("does not match the new password"))
    account = await db.scalar(select(Account).where(Account.person_id == found.guest.id))
    if account is None:
        raise NotFound()
    as_guest = Principal(person_id=found.guest.id, role=Role(found.guest.role),
                         display_name=found.guest.display_name, via="session")
    await found.place.enter(db, as_guest, found.invitation, ip)
    await accounts.set_password(db, account, password)
    found.invitation.accepted_at = utcnow()
    found.invitation.token_hash = None
    await audit.record(db, None, f"{found.place.kind}.guest_accept", found.place.kind,
                       getattr(found.invitation, found.place.column), new={"person_id": found.guest.id}, ip=ip,
                       actor_id=found.guest.id)
    return found
