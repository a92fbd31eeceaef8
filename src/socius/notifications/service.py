"""Telling people what concerns them.

Modules call `notify` (one person) or `notify_many` (an audience, one `INSERT … SELECT`) in their own
transaction: the notifications exist exactly when the change does, and the e-mail jobs for people who want them
immediately are deferred in the same transaction. `notify_later` defers the fan-out itself, for audiences too large
to insert while a request waits. Each kind is registered once (`register_kind`) with its message and defaults;
people override the defaults per kind (`notification_preference`). Pages, API and e-mails render the message in
the reader's language.

Notifications that belong to a place — a community, a campaign of the idea portal — are shown and mailed only
while that place's visibility filter (`set_visibility_filter`, installed by the communities module and by
`ideas.access`) lets their person see it, checked at read and send time: someone removed from a restricted
community or a private campaign is no longer shown even the titles of what happened there. With no filter
installed for a place, its notifications are shown to nobody.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.core.auth import Principal
from socius.core.db import one_of, utcnow
from socius.core.errors import FieldError, NotAuthenticated, ValidationFailed
from socius.core.i18n import N_, gettext
from socius.core.jobs import defer
from socius.notifications.models import EmailMode, Notification, NotificationPreference
from socius.people.models import Person

PAGE_SIZE = 30
# Notifications an immediate e-mail job carries (a fan-out defers one job per this many).
EMAIL_JOB_SIZE = 500


# --- kinds ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    kind: str
    message: str  # msgid; placeholders from the notification's data plus "actor"
    label: str  # msgid: what the preferences page calls this kind
    in_app: bool
    email: EmailMode


KINDS: dict[str, Kind] = {}
# kind → msgid (what `notify` callers and older code read).
MESSAGES: dict[str, str] = {}


def register_kind(kind: str, message: str, *, label: str, default_email: EmailMode = EmailMode.DAILY,
                  default_in_app: bool = True) -> Kind:
    """Declare a kind of notification (call at import time, with N_() strings). Registering a kind again
    replaces it."""
    if not kind or len(kind) > 32:
        raise ValueError(f"a notification kind is 1 to 32 characters: {kind!r}")
    spec = Kind(kind, message, label, default_in_app, EmailMode(default_email))
    KINDS[kind] = spec
    MESSAGES[kind] = message
    return spec


register_kind("mentioned", N_("{actor} mentioned you in “{title}”"), label=N_("Someone mentions me"),
              default_email=EmailMode.IMMEDIATE)
register_kind("replied", N_("{actor} replied to “{title}”"), label=N_("Replies to what I wrote"))
register_kind("commented", N_("{actor} commented on “{title}”"), label=N_("Comments on what I follow"))
register_kind("invited", N_("{actor} invited you to {community}"), label=N_("Invitations to communities"),
              default_email=EmailMode.IMMEDIATE)
register_kind("join_requested", N_("{actor} asked to join {community}"),
              label=N_("Requests to join communities I manage"))
register_kind("join_approved", N_("{actor} approved your request to join {community}"),
              label=N_("My requests to join are approved"))
register_kind("liked", N_("{actor} liked “{title}”"), label=N_("Likes of what I wrote"),
              default_email=EmailMode.NONE)
register_kind("community_post", N_("New in {community}: “{title}”"), label=N_("New content in communities I follow"))
register_kind("tagged", N_("{actor} tagged you with “{tag}”"), label=N_("Someone tags me"))
register_kind("endorsed", N_("{actor} endorsed you for “{tag}”"), label=N_("Someone endorses my tags"))


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        from socius.modules import load_all

        load_all()  # kinds of modules this process has not imported yet (a worker rendering a digest)
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown notification kind {kind!r}") from None


class _Blanks(dict):
    """Format values; a placeholder the data lacks shows empty rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return ""


def render_message(kind: str, actor: str | None, data: dict[str, Any]) -> str:
    """The message of a notification in the current language."""
    spec = KINDS.get(kind)
    if spec is None:
        return gettext(N_("Something happened that concerns you"))
    values = _Blanks({k: v for k, v in data.items() if isinstance(k, str)})
    for key, msgid in data.items():  # "stage_msgid": a msgid, shown as "stage" in the reader's language
        if isinstance(key, str) and key.endswith("_msgid") and isinstance(msgid, str):
            values[key.removesuffix("_msgid")] = gettext(msgid)
    values["actor"] = actor or gettext(N_("Someone"))
    return gettext(spec.message).format_map(values)


def default_email_clause(kind: ColumnElement[str]) -> ColumnElement[str]:
    """The registered default e-mail mode of the kind in `kind` (SQL)."""
    return case({k: spec.email.value for k, spec in KINDS.items()}, value=kind, else_=EmailMode.NONE.value)


def email_mode_clause(kind: ColumnElement[str]) -> ColumnElement[str]:
    """A notification's e-mail mode now: the person's preference, else the default (needs the outer join
    `preference_join`)."""
    return func.coalesce(NotificationPreference.email, default_email_clause(kind))


def preference_join(person_id: ColumnElement[int], kind: ColumnElement[str] | str):
    return and_(NotificationPreference.person_id == person_id, NotificationPreference.kind == kind)


# --- visibility ------------------------------------------------------------------------------------------------

VisibilityFilter = Callable[[ColumnElement[int], ColumnElement[int]], ColumnElement[bool]]
# The places a notification may belong to: its column, and the module that installs the place's filter.
PLACES = {"community_id": "socius.communities.service", "campaign_id": "socius.ideas.access"}
_filters: dict[str, VisibilityFilter | None] = {}


def set_visibility_filter(fn: VisibilityFilter | None, place: str = "community_id") -> VisibilityFilter | None:
    """Install `fn(place_id_column, person_id_column) -> boolean clause` for a place (`community_id`,
    `campaign_id`): a notification in such a place is shown and mailed only while the clause holds. Returns the
    filter it replaces (tests put it back)."""
    if place not in PLACES:
        raise ValueError(f"unknown place {place!r}")
    previous, _filters[place] = _filters.get(place), fn
    return previous


def place_visible(place: str, place_id: ColumnElement[int], person_id: ColumnElement[int]) -> ColumnElement[bool]:
    """May `person_id` see the place (never, while no filter is installed for it)."""
    if place not in _filters:
        importlib.import_module(PLACES[place])  # installs the place's filter
    fn = _filters.get(place)
    return fn(place_id, person_id) if fn is not None else false()


def community_visible(community_id: ColumnElement[int], person_id: ColumnElement[int]) -> ColumnElement[bool]:
    """May `person_id` see the community `community_id`."""
    return place_visible("community_id", community_id, person_id)


def visible_clause(person_id: ColumnElement[int] | None = None) -> ColumnElement[bool]:
    """A notification row passes the visibility filter of every place it belongs to (checked at read and send
    time)."""
    reader = Notification.person_id if person_id is None else person_id
    return and_(*(or_(getattr(Notification, place).is_(None), place_visible(place, getattr(Notification, place),
                                                                            reader))
                  for place in PLACES))


# --- telling people --------------------------------------------------------------------------------------------

_COLUMNS = ("person_id", "kind", "actor_id", "data", "url", "community_id", "campaign_id", "in_app")


async def _fan_out(db: AsyncSession, who: ColumnElement[bool], kind: str, *, actor_id: int | None, url: str,
                   community_id: int | None, campaign_id: int | None, data: dict[str, Any]) -> int:
    spec = _kind(kind)
    in_app = func.coalesce(NotificationPreference.in_app, literal(spec.in_app))
    email = func.coalesce(NotificationPreference.email, literal(spec.email.value, String))
    conditions = [who, Person.deactivated_at.is_(None), or_(in_app, email != EmailMode.NONE.value)]
    if actor_id is not None:
        conditions.append(Person.id != actor_id)  # nobody is told about what they did themselves
    for place, place_id in (("community_id", community_id), ("campaign_id", campaign_id)):
        if place_id is not None:
            conditions.append(place_visible(place, literal(place_id, BigInteger), Person.id))
    source = (select(Person.id, literal(kind, String), literal(actor_id, BigInteger), literal(data, JSONB),
                     literal(url, String), literal(community_id, BigInteger), literal(campaign_id, BigInteger),
                     in_app)
              .select_from(Person)
              .outerjoin(NotificationPreference, preference_join(Person.id, kind))
              .where(*conditions))
    inserted = (insert(Notification).from_select(list(_COLUMNS), source)
                .returning(Notification.id, Notification.person_id).cte("inserted"))
    immediate = func.coalesce(NotificationPreference.email, literal(spec.email.value, String)) \
        == EmailMode.IMMEDIATE.value
    count, ids = (await db.execute(
        select(func.count(), func.array_agg(inserted.c.id).filter(immediate))
        .select_from(inserted.outerjoin(NotificationPreference, preference_join(inserted.c.person_id, kind)))
    )).one()
    ids = sorted(ids or [])
    for start in range(0, len(ids), EMAIL_JOB_SIZE):
        await defer(db, "notify_email", ids=ids[start:start + EMAIL_JOB_SIZE])
    return count


async def notify(db: AsyncSession, person_id: int, kind: str, *, actor_id: int | None, url: str,
                 community_id: int | None = None, campaign_id: int | None = None, **data: Any) -> bool:
    """Tell one person (in the caller's transaction). Nothing happens when the person is the actor, is
    deactivated, or wants this kind neither in the app nor by e-mail. Returns whether a notification was made."""
    return await _fan_out(db, Person.id == person_id, kind, actor_id=actor_id, url=url,
                          community_id=community_id, campaign_id=campaign_id, data=data) > 0


async def notify_many(db: AsyncSession, recipients: Select[Any], kind: str, *, actor_id: int | None = None,
                      url: str = "", community_id: int | None = None, campaign_id: int | None = None,
                      **data: Any) -> int:
    """Tell everyone `recipients` (a select of person ids; duplicates are fine) selects, in one `INSERT … SELECT`
    in the caller's transaction, skipping the actor, deactivated people and people who want this kind neither in
    the app nor by e-mail; with `community_id` or `campaign_id`, also people that place's visibility filter keeps
    out. Defers the e-mail jobs of those who want it immediately. Returns how many were told."""
    return await _fan_out(db, Person.id.in_(recipients), kind, actor_id=actor_id, url=url,
                          community_id=community_id, campaign_id=campaign_id, data=data)


# Audiences `notify_later` can name: a job's arguments are JSON, so the select is rebuilt from a name and params.
AUDIENCES: dict[str, Callable[..., Select[Any]]] = {}


def register_audience(name: str, build: Callable[..., Select[Any]]) -> None:
    """`build(**params)` returns a select of person ids (a community's members, …)."""
    AUDIENCES[name] = build


register_audience("people", lambda ids: select(Person.id).where(one_of(Person.id, [int(i) for i in ids])))


async def notify_later(db: AsyncSession, audience: str, kind: str, *, params: dict[str, Any] | None = None,
                       actor_id: int | None = None, url: str = "", community_id: int | None = None,
                       campaign_id: int | None = None, **data: Any) -> None:
    """`notify_many` for the registered `audience` (with `params`), run by a job deferred in the caller's
    transaction: the request does not wait for a large audience."""
    _kind(kind)
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    await defer(db, "notify_fanout", audience=audience, params=params or {}, kind=kind, actor_id=actor_id,
                url=url, community_id=community_id, campaign_id=campaign_id, data=data)


async def fan_out_audience(db: AsyncSession, audience: str, params: dict[str, Any], kind: str, *,
                           actor_id: int | None, url: str, community_id: int | None, data: dict[str, Any],
                           campaign_id: int | None = None) -> int:
    """What the `notify_fanout` job runs."""
    return await notify_many(db, AUDIENCES[audience](**params), kind, actor_id=actor_id, url=url,
                             community_id=community_id, campaign_id=campaign_id, **data)


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A notification as its reader sees it."""

    id: int
    message: str
    url: str
    created_at: Any
    unread: bool


def _principal_id(principal: Principal) -> int:
    if principal.person_id is None:
        raise NotAuthenticated()
    return principal.person_id


def _readable(person_id: int) -> list[ColumnElement[bool]]:
    return [Notification.person_id == person_id, Notification.in_app.is_(True), visible_clause()]


# The bell asks on every page: its statement is built once per visibility filter.
_unread: tuple[tuple[VisibilityFilter | None, ...], Select[Any]] | None = None


def _unread_query() -> Select[Any]:
    global _unread
    if _unread is None or _unread[0] != tuple(_filters.get(p) for p in PLACES):
        query = select(func.count()).select_from(Notification).where(
            Notification.person_id == bindparam("person_id"), Notification.in_app.is_(True), visible_clause(),
            Notification.read_at.is_(None))
        # The key is taken after building: building installs the filters of places not imported yet.
        _unread = (tuple(_filters.get(p) for p in PLACES), query)
    return _unread[1]


async def unread_count(db: AsyncSession, principal: Principal) -> int:
    return await db.scalar(_unread_query(), {"person_id": _principal_id(principal)}) or 0


async def latest(db: AsyncSession, principal: Principal, *, before: int | None = None,
                 limit: int = PAGE_SIZE) -> list[Shown]:
    """Newest first; `before` pages back (ids only go up)."""
    query = (select(Notification, Person.display_name)
             .outerjoin(Person, Person.id == Notification.actor_id)
             .where(*_readable(_principal_id(principal)))
             .order_by(Notification.id.desc()).limit(limit))
    if before is not None:
        query = query.where(Notification.id < before)
    return [Shown(id=note.id, message=render_message(note.kind, actor, note.data), url=note.url,
                  created_at=note.created_at, unread=note.read_at is None)
            for note, actor in (await db.execute(query)).all()]


async def mark_read(db: AsyncSession, principal: Principal, ids: list[int] | None = None) -> int:
    """Mark these (or all) of the principal's notifications read; others' ids are ignored. Returns how many."""
    query = update(Notification).where(*_readable(_principal_id(principal)),
                                       Notification.read_at.is_(None)).values(read_at=utcnow())
    if ids is not None:
        query = query.where(one_of(Notification.id, ids))
    result = await db.execute(query)
    return result.rowcount


# --- preferences -----------------------------------------------------------------------------------------------


@dataclass
class Preference:
    kind: str
    label: str  # translated
    in_app: bool
    email: EmailMode
    default_in_app: bool
    default_email: EmailMode


@dataclass
class Choice:
    in_app: bool
    email: str


async def preferences(db: AsyncSession, principal: Principal) -> list[Preference]:
    """Every kind with the principal's choice (their own, or the default)."""
    person_id = _principal_id(principal)
    own = {row.kind: row for row in (await db.scalars(
        select(NotificationPreference).where(NotificationPreference.person_id == person_id))).all()}
    shown = []
    for kind, spec in KINDS.items():
        mine = own.get(kind)
        shown.append(Preference(kind, gettext(spec.label), mine.in_app if mine else spec.in_app,
                                EmailMode(mine.email) if mine else spec.email, spec.in_app, spec.email))
    return shown


async def set_preferences(db: AsyncSession, principal: Principal, changes: dict[str, Choice]) -> list[Preference]:
    """Change the principal's choice for the kinds in `changes` (others stay). A choice equal to the kind's
    defaults removes the person's row. Everything is checked first: one bad entry changes nothing."""
    person_id = _principal_id(principal)
    errors = []
    modes = {m.value for m in EmailMode}
    for kind, choice in changes.items():
        if kind not in KINDS:
            errors.append(FieldError(f"preferences.{kind}", N_("is not a kind of notification")))
        elif choice.email not in modes:
            errors.append(FieldError(f"preferences.{kind}.email", N_("must be one of: {choices}"),
                                     {"choices": ", ".join(m.value for m in EmailMode)}))
        elif not isinstance(choice.in_app, bool):
            errors.append(FieldError(f"preferences.{kind}.in_app", N_("must be true or false")))
    if errors:
        raise ValidationFailed(errors)
    before = {p.kind: p for p in await preferences(db, principal)}
    old, new, rows, defaults = {}, {}, [], []
    for kind, choice in changes.items():
        spec, was = KINDS[kind], before[kind]
        if (was.in_app, was.email.value) == (choice.in_app, choice.email):
            continue
        old[kind] = {"in_app": was.in_app, "email": was.email.value}
        new[kind] = {"in_app": choice.in_app, "email": choice.email}
        if (choice.in_app, choice.email) == (spec.in_app, spec.email.value):
            defaults.append(kind)
        else:
            rows.append({"person_id": person_id, "kind": kind, "in_app": choice.in_app, "email": choice.email})
    if defaults:
        await db.execute(NotificationPreference.__table__.delete().where(
            NotificationPreference.person_id == person_id, one_of(NotificationPreference.kind, defaults)))
    if rows:
        stmt = insert(NotificationPreference).values(rows)
        await db.execute(stmt.on_conflict_do_update(
            index_elements=["person_id", "kind"],
            set_={"in_app": stmt.excluded.in_app, "email": stmt.excluded.email}))
    if new:
        await audit.record(db, principal, "notifications.preferences", "person", person_id, old=old, new=new)
    return await preferences(db, principal)

