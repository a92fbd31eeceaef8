"""Accounts: passwords, sign-in with rate limiting, browser sessions, API tokens, CSRF tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from socius.accounts.models import Account, ApiToken, LoginFailure, WebSession
from socius.admin import service as audit
from socius.core.auth import Principal
from socius.core.db import utcnow
from socius.core.errors import NotFound, RateLimited, ValidationFailed
from socius.core.i18n import N_
from socius.people.models import Person, Role

_hasher = PasswordHash.recommended()  # argon2id


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong username costs as long as a wrong password."""
    return _hasher.hash("not-a-password-" + secrets.token_hex(8))

TOKEN_PREFIX = "sct_"
PASSWORD_MIN = 10
PASSWORD_MAX = 256
USERNAME_RE = r"^[a-z0-9][a-z0-9._-]{1,63}$"


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- passwords and accounts -------------------------------------------------------------------------------

def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed.one(field, N_("must be at least {n} characters"), n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed.one(field, N_("must be at most {n} characters"), n=PASSWORD_MAX)


def normalise_username(username: str) -> str:
    import re

    name = username.strip().lower()
    if not re.match(USERNAME_RE, name):
        raise ValidationFailed.one(
            "username", N_("use 2–64 letters, digits, dots, dashes or underscores, starting with a letter or digit")
        )
    return name


async def check_username_free(db: AsyncSession, username: str) -> str:
    name = normalise_username(username)
    if await db.scalar(select(Account.id).where(Account.username == name)):
        raise ValidationFailed.one("username", N_("is already taken"))
    return name


async def create_account(db: AsyncSession, person: Person, username: str, password: str | None) -> Account:
    name = await check_username_free(db, username)
    account = Account(person_id=person.id, username=name)
    if password is not None:
        check_password_rules(password)
        account.password_hash = _hasher.hash(password)
        account.password_changed_at = utcnow()
    db.add(account)
    await db.flush()
    return account


async def set_password(db: AsyncSession, account: Account, password: str) -> None:
    check_password_rules(password)
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = utcnow()
    account.password_must_change = False
    # A new password signs out every other browser and API client of this person.
    await db.execute(delete(WebSession).where(WebSession.person_id == account.person_id))


def generate_temporary_password() -> str:
    """Four groups of four letters and digits: easy to read out, 80 random bits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


async def issue_temporary_password(
    db: AsyncSession, principal: Principal, person: Person, username: str | None = None, *, ip: str = ""
) -> tuple[Account, str]:
    """An administrator sets a one-time password (creating the login if the person has none).

    Every session and token of the person ends; the password is returned once and never stored in clear.
    """
    from socius.core.authz import Permission, require

    require(principal, Permission.PEOPLE_ADMINISTER)
    account = await db.scalar(select(Account).where(Account.person_id == person.id))
    if account is None:
        if not username:
            raise ValidationFailed.one("username", N_("is required"))
        account = await create_account(db, person, username, None)
    temporary = generate_temporary_password()
    account.password_hash = _hasher.hash(temporary)
    account.password_changed_at = utcnow()
    account.password_must_change = True
    await revoke_everything(db, person.id)
    await audit.record(db, principal, "account.temporary_password", "person", person.id,
                       new={"username": account.username}, ip=ip)
    return account, temporary


async def must_change_password(db: AsyncSession, person_id: int) -> bool:
    return bool(await db.scalar(select(Account.password_must_change).where(Account.person_id == person_id)))


async def change_password(
    db: AsyncSession, person_id: int, current: str, new: str, repeat: str, limits: LoginLimits
) -> bool:
    """Change one's own password, proving the current one; every session of the person ends.

    A wrong current password counts as a failed sign-in (so a borrowed session cannot guess it): it is recorded
    in the caller's transaction and False is returned, for the caller to commit and show.
    """
    account = await db.scalar(select(Account).where(Account.person_id == person_id))
    if account is None or account.password_hash is None:
        raise ValidationFailed.one("current", N_("this account signs in through the company directory"))
    key = f"user:{account.username}"
    since = utcnow() - limits.window
    failures = await db.scalar(
        select(func.count()).where(LoginFailure.key == key, LoginFailure.at > since)
    )
    if failures >= limits.max_failures:
        raise RateLimited()
    if not _hasher.verify(current[:PASSWORD_MAX], account.password_hash):
        db.add(LoginFailure(key=key))
        return False
    if new != repeat:
        raise ValidationFailed.one("repeat", N_("does not match the new password"))
    await set_password(db, account, new)
    await audit.record(db, None, "account.password", "person", person_id, actor_id=person_id)
    return True


# --- signing in --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimits:
    max_failures: int
    window: dt.timedelta

    @property
    def max_per_address(self) -> int:
        # An office behind one NAT address has many people: allow more per address than per account.
        return self.max_failures * 6


async def authenticate(
    db: AsyncSession, username: str, password: str, ip: str, limits: LoginLimits
) -> Person | None:
    """The person for these credentials, or None. The same answer whether or not the account exists.

    A failure is recorded in the caller's transaction, so the caller must commit it (the login page answers
    a failed attempt with the form again, status 200).
    """
    name = username.strip().lower()[:64]
    keys = [f"user:{name}", f"ip:{ip}"]
    since = utcnow() - limits.window
    counts = dict(
        (
            await db.execute(
                select(LoginFailure.key, func.count())
                .where(LoginFailure.key.in_(keys), LoginFailure.at > since)
                .group_by(LoginFailure.key)
            )
        ).all()
    )
    if counts.get(keys[0], 0) >= limits.max_failures or counts.get(keys[1], 0) >= limits.max_per_address:
        raise RateLimited()

    row = (
        await db.execute(
            select(Account, Person).join(Person, Person.id == Account.person_id).where(Account.username == name)
        )
    ).first()
    hash_ = row[0].password_hash if row and row[0].password_hash else _dummy_hash()
    ok = _hasher.verify(password[:PASSWORD_MAX], hash_) and row is not None and row[0].password_hash is not None
    if ok and row[1].deactivated_at is None:
        return row[1]
    db.add_all([LoginFailure(key=k) for k in keys])
    return None


async def start_session(
    db: AsyncSession, person: Person, *, absolute: dt.timedelta, user_agent: str, ip: str,
    replaces: str | None = None,
) -> str:
    """Create a session and return the cookie value. Any session the browser had before is ended (rotation)."""
    if replaces:
        await db.execute(delete(WebSession).where(WebSession.token_hash == sha256(replaces)))
    raw = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            token_hash=sha256(raw),
            person_id=person.id,
            csrf_secret=secrets.token_hex(32),
            expires_at=utcnow() + absolute,
            user_agent=user_agent[:300],
            ip=ip[:64],
        )
    )
    await audit.record(db, None, "account.login", "person", person.id, ip=ip, actor_id=person.id)
    await db.flush()
    return raw


async def end_session(db: AsyncSession, raw: str) -> None:
    await db.execute(delete(WebSession).where(WebSession.token_hash == sha256(raw)))


# Every request resolves its caller: plain rows of just these columns, from statements built once (building and
# hashing a statement per request costs about as much as running it).
_CALLER_COLUMNS = (Person.id, Person.role, Person.display_name, Person.locale, Person.time_zone,
                   Person.deactivated_at)
_SESSION_CALLER = (
    select(WebSession.expires_at, WebSession.last_seen_at, WebSession.csrf_secret, *_CALLER_COLUMNS)
    .join(Person, Person.id == WebSession.person_id)
    .where(WebSession.token_hash == bindparam("token_hash"))
)
_TOKEN_CALLER = (
    select(ApiToken.id.label("token_id"), ApiToken.last_used_at, *_CALLER_COLUMNS)
    .join(Person, Person.id == ApiToken.person_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


async def resolve_session(db: AsyncSession, raw: str, idle: dt.timedelta) -> Principal | None:
    """The principal of a session cookie, or None if unknown, expired or the person was deactivated."""
    now = utcnow()
    token_hash = sha256(raw)
    row = (await db.execute(_SESSION_CALLER, {"token_hash": token_hash})).first()
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at <= now - idle or row.deactivated_at:
        await db.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
        return None
    if row.last_seen_at < now - dt.timedelta(minutes=1):  # one write a minute, not one a request
        await db.execute(update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=now))
    return Principal(
        person_id=row.id, role=Role(row.role), display_name=row.display_name, via="session",
        csrf_secret=row.csrf_secret, locale=row.locale, time_zone=row.time_zone,
    )


async def revoke_everything(db: AsyncSession, person_id: int) -> None:
    """Sign a person out everywhere: every session and API token (deactivation, password reset)."""
    await db.execute(delete(WebSession).where(WebSession.person_id == person_id))
    await db.execute(
        update(ApiToken)
        .where(ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# --- API tokens --------------------------------------------------------------------------------------------

async def create_token(db: AsyncSession, person_id: int, name: str, actor_id: int | None) -> tuple[ApiToken, str]:
    """A new personal API token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed.one("name", N_("is required"))
    if len(name) > 100:
        raise ValidationFailed.one("name", N_("must be at most {n} characters"), n=100)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(person_id=person_id, name=name, token_hash=sha256(raw), prefix=raw[:10])
    db.add(token)
    await db.flush()
    await audit.record(db, None, "token.create", "api_token", token.id, new={"name": name, "person": person_id},
                       actor_id=actor_id)
    return token, raw


async def list_tokens(db: AsyncSession, person_id: int) -> list[ApiToken]:
    result = await db.scalars(
        select(ApiToken).where(ApiToken.person_id == person_id).order_by(ApiToken.created_at.desc())
    )
    return list(result)


async def revoke_token(db: AsyncSession, principal: Principal, token_id: int) -> None:
    token = await db.get(ApiToken, token_id)
    if token is None or (token.person_id != principal.person_id and not principal.is_admin):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await audit.record(db, principal, "token.revoke", "api_token", token.id)


async def resolve_token(db: AsyncSession, raw: str) -> Principal | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    row = (await db.execute(_TOKEN_CALLER, {"token_hash": sha256(raw)})).first()
    if row is None or row.deactivated_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or row.last_used_at < now - dt.timedelta(minutes=1):
        await db.execute(update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_at=now))
    return Principal(person_id=row.id, role=Role(row.role), display_name=row.display_name, via="token",
                     locale=row.locale, time_zone=row.time_zone)


# --- CSRF --------------------------------------------------------------------------------------------------

def csrf_token(secret_key: str, binding: str) -> str:
    """The token forms carry: bound to the session (or, before sign-in, to the anonymous cookie)."""
    return hmac.new(secret_key.encode(), b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, binding: str | None, presented: str | None) -> bool:
    if not binding or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret_key, binding), presented)
