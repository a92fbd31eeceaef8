"""People and the directory: who may read whom, profile edits, search, reporting lines, photos."""

from __future__ import annotations

import hashlib
import io
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.accounts import service as accounts
from socius.admin import service as audit
from socius.core import markdown, text
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import insert_rows, utcnow
from socius.core.errors import FieldError, NotFound, ValidationFailed
from socius.core.i18n import LOCALES, N_
from socius.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from socius.people.models import Person, PersonFieldSource, PersonNameKey, PersonPhoto, Role

# Fields a person may hide from guests (external people). Names are those of the API.
GUEST_HIDEABLE = ("email", "phone", "location", "time_zone", "manager", "department", "about_md", "links", "photo")
SELF_EDITABLE = {
    "display_name", "name_native", "name_latin", "title", "department", "location", "time_zone", "phone",
    "languages", "about_md", "links", "guest_hidden", "locale",
}
# Directory-owned: identity (e-mail) and reporting lines are kept by administrators (and later, directory sync).
ADMIN_EDITABLE = SELF_EDITABLE | {"email", "manager_id", "employee_number"}
# Fields a directory source may provide (and whose provenance is recorded).
DIRECTORY_FIELDS = ("display_name", "name_native", "name_latin", "email", "employee_number", "title", "department",
                    "location", "time_zone", "phone", "languages", "manager_id")
MAX_LEN = {"display_name": 200, "name_native": 200, "name_latin": 200, "title": 200, "department": 200,
           "location": 200, "phone": 64, "about_md": 20_000, "employee_number": 64}
MAX_LANGUAGES = 20
MAX_LINKS = 20
PHONE_RE = re.compile(r"^[0-9+()#*.\-\s/]*(?:(?:ext|x)\.?\s*\d+)?$", re.IGNORECASE)
CHAIN_LIMIT = 64  # reporting lines deeper than this are data errors; stop rather than loop
ID_MAX = 2**63 - 1  # person.id is a bigint: a larger number names nobody (and must not reach the database)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


# Aliases are built once: building one per request costs more than the query it serves.
_Manager = aliased(Person, name="manager")
_Key = aliased(PersonNameKey, name="k")
_SmallerKey = aliased(PersonNameKey, name="smaller")
_Up = aliased(Person, name="above")


# --- who may read whom -------------------------------------------------------------------------------------

def readable_clause(principal: Principal, person: Any = Person) -> ColumnElement[bool]:
    """The people this principal may see at all. Every people query starts here.

    Members and administrators see everyone. A guest sees themselves, their host (the employee recorded as
    their manager), the members of the communities they belong to and, in the campaigns they take part in, the
    people they meet there: the owner and managers, and the authors and co-authors of the ideas and comments
    they may read (not hidden, not deleted, not under a hidden idea). `person` may be an alias of Person, for
    queries that read two people at once.
    """
    if principal.can(Permission.DIRECTORY_READ):
        return true()
    if principal.person_id is None:
        return false()
    from socius.communities.models import Membership
    from socius.content.models import Item
    from socius.ideas.models import CampaignMember, IdeaCoauthor

    host = select(Person.manager_id).where(Person.id == principal.person_id).scalar_subquery()
    mine = aliased(Membership)
    theirs = aliased(Membership)
    shared = (select(theirs.person_id).join(mine, mine.community_id == theirs.community_id)
              .where(mine.person_id == principal.person_id, mine.state == "active", theirs.state == "active"))
    # Campaigns: a guest reads only those they are a member of (ideas.access).
    campaigns = select(CampaignMember.campaign_id).where(CampaignMember.person_id == principal.person_id)
    managers = select(CampaignMember.person_id).where(CampaignMember.campaign_id.in_(campaigns),
                                                      CampaignMember.role.in_(("owner", "manager")))
    parent = aliased(Item, name="shown_parent")
    authors = (select(Item.author_id).outerjoin(parent, parent.id == Item.parent_id)
               .where(Item.campaign_id.in_(campaigns), Item.hidden_at.is_(None), Item.deleted_at.is_(None),
                      parent.hidden_at.is_(None), parent.deleted_at.is_(None)))
    coauthors = (select(IdeaCoauthor.person_id).join(Item, Item.id == IdeaCoauthor.idea_id)
                 .where(Item.campaign_id.in_(campaigns), Item.hidden_at.is_(None), Item.deleted_at.is_(None)))
    return or_(person.id == principal.person_id, person.id == host, person.id.in_(shared),
               person.id.in_(managers.union(authors, coauthors)))


def readable_people(principal: Principal) -> Select[tuple[Person]]:
    return select(Person).where(readable_clause(principal))


async def get_person(db: AsyncSession, principal: Principal, person_id: int) -> Person:
    """The person if this principal may see them; NotFound otherwise (missing and hidden look the same)."""
    if not _is_id(person_id):
        raise NotFound()
    person = await db.scalar(readable_people(principal).where(Person.id == person_id))
    if person is None:
        raise NotFound()
    return person


def can_edit(principal: Principal, person: Person) -> bool:
    if principal.can(Permission.PROFILE_EDIT_ANY):
        return True
    return principal.person_id == person.id and principal.can(Permission.PROFILE_EDIT_OWN)


async def get_editable_person(db: AsyncSession, principal: Principal, person_id: int) -> Person:
    """For edit forms: another person's form is NotFound, never a hint that it exists."""
    person = await get_person(db, principal, person_id)
    if not can_edit(principal, person):
        raise NotFound()
    return person


def hidden_fields_for(principal: Principal, person: Person) -> set[str]:
    """Fields of `person` this principal must not see."""
    if principal.is_guest and principal.person_id != person.id:
        return set(person.guest_hidden)
    return set()


@dataclass
class ProfileView:
    """A person as one principal sees them: hidden fields already removed."""

    person: Person
    hidden: set[str]
    manager: Person | None
    can_edit: bool

    def shows(self, field: str) -> bool:
        return field not in self.hidden


async def view_profile(db: AsyncSession, principal: Principal, person_id: int) -> ProfileView:
    """A person and their manager (one query), as this principal may see them."""
    if not _is_id(person_id):
        raise NotFound()
    manager = _Manager
    row = (
        await db.execute(
            select(Person, manager)
            .outerjoin(manager, and_(manager.id == Person.manager_id, readable_clause(principal, manager)))
            .where(Person.id == person_id, readable_clause(principal))
        )
    ).first()
    if row is None:
        raise NotFound()
    person, boss = row
    hidden = hidden_fields_for(principal, person)
    return ProfileView(person=person, hidden=hidden, manager=None if "manager" in hidden else boss,
                       can_edit=can_edit(principal, person))


async def reporting_chain(db: AsyncSession, principal: Principal, person: Person) -> list[Person]:
    """Managers from the person's own up to the top, nearest first; cycle-safe."""
    if "manager" in hidden_fields_for(principal, person) or person.manager_id is None:
        return []
    chain_cte = (
        select(Person.id, Person.manager_id, literal(1).label("depth"))
        .where(Person.id == person.manager_id)
        .cte("chain", recursive=True)
    )
    up = _Up
    chain_cte = chain_cte.union(
        select(up.id, up.manager_id, (chain_cte.c.depth + 1).label("depth"))
        .join(chain_cte, up.id == chain_cte.c.manager_id)
        .where(chain_cte.c.depth < CHAIN_LIMIT)
    )
    rows = await db.execute(
        select(Person, chain_cte.c.depth)
        .join(chain_cte, Person.id == chain_cte.c.id)
        .where(readable_clause(principal))
        .order_by(chain_cte.c.depth)
    )
    seen: set[int] = {person.id}
    chain: list[Person] = []
    for manager, _depth in rows:
        if manager.id in seen:
            break
        seen.add(manager.id)
        chain.append(manager)
    return chain


async def direct_reports(db: AsyncSession, principal: Principal, person: Person) -> list[Person]:
    if principal.is_guest and principal.person_id != person.id:
        return []  # a guest sees their host, not the host's team
    result = await db.scalars(
        readable_people(principal)
        # A guest's "manager" is their host, not a place in the organisation.
        .where(Person.manager_id == person.id, Person.deactivated_at.is_(None), Person.role != Role.GUEST)
        .order_by(Person.sort_key, Person.id)
    )
    return list(result)


async def report_counts(db: AsyncSession, person_ids: list[int]) -> dict[int, int]:
    """How many active direct reports each of these people has (for org chart expanders)."""
    if not person_ids:
        return {}
    rows = await db.execute(
        select(Person.manager_id, func.count())
        .where(Person.manager_id.in_(person_ids), Person.deactivated_at.is_(None), Person.role != Role.GUEST)
        .group_by(Person.manager_id)
    )
    return dict(rows.all())


async def org_chart_roots(db: AsyncSession, principal: Principal) -> list[Person]:
    """People at the top of a reporting line: active employees with no manager."""
    require(principal, Permission.DIRECTORY_READ)
    result = await db.scalars(
        select(Person)
        .where(Person.manager_id.is_(None), Person.deactivated_at.is_(None), Person.role != Role.GUEST)
        .order_by(Person.sort_key, Person.id)
        .limit(200)
    )
    return list(result)


async def org_chart_person(db: AsyncSession, principal: Principal, person_id: int) -> Person:
    """A person to open the org chart at: the chart is for employees, never for guests."""
    require(principal, Permission.DIRECTORY_READ)
    return await get_person(db, principal, person_id)


# --- the directory -----------------------------------------------------------------------------------------

@dataclass
class DirectoryQuery:
    q: str = ""
    department: str | None = None
    location: str | None = None
    language: str | None = None
    include_former: bool = False
    cursor: str | None = None
    limit: int = 20


async def search_directory(db: AsyncSession, principal: Principal, query: DirectoryQuery) -> Page[Person]:
    """People matching a name, pinyin, initials or e-mail prefix, with filters; best matches first.

    Ordering: exact matches, then prefix matches by the key matched; within each, the directory order (Latin
    name, else pinyin). Keyset pagination over (matched key, sort_key, id).
    """
    limit = check_limit(query.limit)
    if len(query.q) > 200:
        raise ValidationFailed.one("q", N_("must be at most {n} characters"), n=200)
    for field in ("department", "location", "language"):
        value = getattr(query, field)
        # PostgreSQL text cannot hold NUL: refuse here rather than fail in the database.
        if value and text.has_control_chars(value):
            raise ValidationFailed.one(field, N_("must not contain control characters"))
    key = text.compact(query.q)
    if "@" in query.q:
        # An e-mail address is kept whole as a key (see name_keys); compacting would drop its "@" and dots.
        key = query.q.strip().lower()
    filters: list[ColumnElement[bool]] = [readable_clause(principal)]
    if not query.include_former:
        filters.append(Person.deactivated_at.is_(None))
    if query.department:
        filters.append(Person.department == query.department)
    if query.location:
        filters.append(Person.location == query.location)
    if query.language:
        filters.append(Person.languages.contains([query.language]))  # @>: uses the GIN index

    if key:
        # Each person once, by the smallest of their keys that matches. An exact match is the smallest key with
        # its own prefix, so ordering by (key, sort_key, id) puts exact matches first, then the rest by the key
        # matched and the directory order: the order of the lookup index, so the page is read straight from it.
        k, smaller = _Key, _SmallerKey
        pattern = _like_escape(key) + "%"
        order = (k.key, k.sort_key, k.person_id)
        stmt = (
            select(Person, k.key)
            .join(Person, Person.id == k.person_id)
            .where(
                k.key.like(pattern),
                ~select(smaller.key).where(
                    smaller.person_id == k.person_id, smaller.key.like(pattern), smaller.key < k.key
                ).exists(),
            )
        )
    else:
        order = (literal(""), Person.sort_key, Person.id)
        stmt = select(Person, literal(""))
    if query.cursor:
        after = decode_cursor(query.cursor, "cursor", (str, str, int))
        # A cursor is opaque but not trusted: its values must fit the columns they are compared with.
        if not _is_id(after[2]) or any(text.has_control_chars(v) for v in after[:2]):
            raise ValidationFailed.one("cursor", N_("is not a valid cursor"))
        filters.append(tuple_(*order[1:] if not key else order) >
                       tuple_(*(literal(v) for v in (after[1:] if not key else after))))
    rows = (await db.execute(stmt.where(and_(*filters)).order_by(*order).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last, matched = rows[-1]
        next_cursor = encode_cursor(matched, last.sort_key, last.id)
    return Page(items=[p for p, _ in rows], next_cursor=next_cursor)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def facet_values(db: AsyncSession, principal: Principal, column: str, limit: int = 200) -> list[tuple[str, int]]:
    """Departments or locations with their head counts, for directory filters."""
    require(principal, Permission.DIRECTORY_READ)
    col = {"department": Person.department, "location": Person.location}[column]
    rows = await db.execute(
        select(col, func.count())
        .where(col.is_not(None), Person.deactivated_at.is_(None))
        .group_by(col)
        .order_by(func.count().desc(), col)
        .limit(limit)
    )
    return [(value, count) for value, count in rows.all()]


async def people_by_ids(db: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in await db.scalars(select(Person).where(Person.id.in_(ids)))}


# --- creating and changing people ----------------------------------------------------------------------------

def name_keys(person: Person) -> set[str]:
    """Every key this person is found by when someone types a prefix of it."""
    keys: set[str] = set()
    for name in filter(None, (person.display_name, person.name_native, person.name_latin)):
        keys.add(text.compact(name))
        for word in re.split(r"[\s,.\-·•]+", text.fold(name)):
            if word:
                keys.add(text.compact(word))
        han = "".join(ch for ch in name if text.has_han(ch))
        if han:
            surname, given = text.split_chinese_name(han)
            if given:
                keys.add(text.fold(given))
            for syllables in text.name_pinyin_variants(han):
                keys.add("".join(syllables))                       # zhangwei
                keys.add("".join(syllables[1:]) if len(syllables) > 1 else "")  # wei
                keys.add("".join(s[0] for s in syllables))          # zw
                # Given name first, as in "Wei Zhang" written the Western way.
                keys.add("".join(syllables[len(surname):] + syllables[: len(surname)]))
    if person.email:
        keys.add(person.email)
        keys.add(text.compact(person.email.split("@")[0]))
    return {k[:400] for k in keys if k}


_INSERT_NAME_KEYS = insert_rows(PersonNameKey.__table__, ("person_id", "key", "sort_key"))


async def refresh_name_keys(db: AsyncSession, person: Person, *, new: bool = False) -> None:
    if not new:
        await db.execute(delete(PersonNameKey).where(PersonNameKey.person_id == person.id))
    keys = name_keys(person)
    if keys:  # one JSON parameter: the statement compiles once, whatever the number of keys
        await db.execute(_INSERT_NAME_KEYS, {"rows": [
            {"person_id": person.id, "key": k, "sort_key": person.sort_key} for k in sorted(keys)]})


async def mark_hand_edited(db: AsyncSession, person_id: int, fields: list[str]) -> None:
    """Fields changed by hand are the person's (or an administrator's) now: directory syncs leave them alone
    unless an administrator locked them to the directory."""
    if not fields:
        return
    stmt = insert(PersonFieldSource).values([{"person_id": person_id, "field": f, "source_id": None} for f in fields])
    await db.execute(stmt.on_conflict_do_update(
        index_elements=[PersonFieldSource.person_id, PersonFieldSource.field],
        set_={"source_id": None, "updated_at": func.now()},
        where=PersonFieldSource.locked.is_(False),
    ))


async def create_person(
    db: AsyncSession,
    actor: Principal | None,
    *,
    display_name: str,
    email: str | None = None,
    role: Role = Role.MEMBER,
    **fields: Any,
) -> Person:
    """A new person with validated fields (CLI, demo, and later directory sources)."""
    person = Person(display_name="", role=role, guest_hidden=[], languages=[], links=[])
    values = {"display_name": display_name, **fields}
    if email is not None:
        values["email"] = email
    values.setdefault("guest_hidden", _default_guest_hidden())
    cleaned = await _clean(db, person, values, is_new=True)
    _apply(person, cleaned)
    db.add(person)
    await db.flush()
    await refresh_name_keys(db, person, new=True)
    await audit.record(db, actor, "person.create", "person", person.id, new=_auditable(cleaned))
    return person


@cache
def _default_guest_hidden() -> list[str]:
    from socius.config import get_settings

    return [f for f in get_settings().guest_hidden_fields if f in GUEST_HIDEABLE]


async def update_profile(
    db: AsyncSession, principal: Principal, person_id: int, changes: dict[str, Any], *, ip: str = ""
) -> Person:
    """Apply profile changes after checking every field; nothing changes if any field is wrong."""
    person = await get_editable_person(db, principal, person_id)
    allowed = ADMIN_EDITABLE if principal.can(Permission.PROFILE_EDIT_ANY) else SELF_EDITABLE
    refused = [FieldError(f, N_("cannot be changed by you")) for f in changes if f not in allowed]
    if refused:
        raise ValidationFailed(refused)
    cleaned = await _clean(db, person, changes, is_new=False)
    old = {f: getattr(person, f) for f in cleaned}
    diff = {f: v for f, v in cleaned.items() if old[f] != v}
    if not diff:
        return person
    _apply(person, diff)
    await db.flush()
    if diff.keys() & {"display_name", "name_native", "name_latin", "email"}:
        await refresh_name_keys(db, person)
    await mark_hand_edited(db, person.id, [f for f in diff if f in DIRECTORY_FIELDS])
    await audit.record(
        db, principal, "person.update", "person", person.id,
        old=_auditable({f: old[f] for f in diff}), new=_auditable(diff), ip=ip,
    )
    return person


def _auditable(values: dict[str, Any]) -> dict[str, Any]:
    # About texts can be long; the audit log keeps their length, not the whole text twice.
    out = dict(values)
    out.pop("about_html", None)
    if "about_md" in out and out["about_md"] and len(out["about_md"]) > 500:
        out["about_md"] = out["about_md"][:500] + "…"
    return out


def _apply(person: Person, cleaned: dict[str, Any]) -> None:
    for field, value in cleaned.items():
        setattr(person, field, value)
    if "about_md" in cleaned:
        person.about_html = markdown.render(person.about_md or "")
    if cleaned.keys() & {"display_name", "name_native", "name_latin"}:
        person.sort_key = text.sort_key_for(person.display_name, person.name_latin, person.name_native)


async def _clean(db: AsyncSession, person: Person, values: dict[str, Any], *, is_new: bool) -> dict[str, Any]:
    """Validated, normalised values; raises ValidationFailed naming every bad field."""
    out, errors = clean_fields({k: v for k, v in values.items() if k != "manager_id"})
    unique = [f for f in ("employee_number", "email") if out.get(f)]
    if unique:  # one query for both: who else holds this e-mail or employee number
        clashes = (await db.execute(select(Person.employee_number, Person.email).where(
            or_(*(getattr(Person, f) == out[f] for f in unique)), Person.id != person.id))).all()
        for field in unique:
            if any(getattr(row, field) == out[field] for row in clashes):
                errors.append(FieldError(field, N_("is already used by another person")))
                del out[field]
    if "manager_id" in values:
        reason = await _check_manager(db, person, values["manager_id"], is_new=is_new)
        if reason:
            errors.append(FieldError("manager_id", reason))
        else:
            out["manager_id"] = values["manager_id"]
    if errors:
        raise ValidationFailed(errors)
    return out


def clean_fields(values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Every check that needs no database (uniqueness and the manager are `_clean`'s): the normalised values and
    the errors. Directory syncs call it for a whole page of entries at once."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    def fail(field: str, reason: str, **params: Any) -> None:
        errors.append(FieldError(field, reason, params))

    for field, value in values.items():
        if field in MAX_LEN or field == "email":
            if value is not None and not isinstance(value, str):
                fail(field, N_("must be text"))
                continue
            value = (value or "").strip()
            if field in MAX_LEN and len(value) > MAX_LEN[field]:
                fail(field, N_("must be at most {n} characters"), n=MAX_LEN[field])
                continue
            # The about text may hold any pasted text, but NUL never fits in a PostgreSQL text column.
            bad_chars = "\x00" in value if field == "about_md" else text.has_control_chars(value)
            if bad_chars:
                fail(field, N_("must not contain control characters"))
                continue
            if field == "display_name" and not value:
                fail(field, N_("is required"))
                continue
            if field == "phone" and value and not PHONE_RE.match(value):
                fail(field, N_("must be a telephone number (digits, spaces, + - ( ) and an extension)"))
                continue
            if field == "email":
                if not value:
                    out[field] = None
                    continue
                try:
                    value = validate_email(value, check_deliverability=False).normalized.lower()
                except EmailNotValidError:
                    fail(field, N_("is not a valid e-mail address"))
                    continue
            # Empty optional fields are stored as NULL; the about text is never NULL.
            out[field] = value if (value or field == "about_md") else None
        elif field == "time_zone":
            if value in (None, ""):
                out[field] = None
            elif not isinstance(value, str) or value not in _time_zones():
                fail(field, N_("is not a known time zone (for example Asia/Taipei)"))
            else:
                out[field] = value
        elif field == "languages":
            codes = _clean_languages(value)
            if codes is None:
                fail(field, N_("must be a list of at most {n} language codes such as zh-Hant or en"), n=MAX_LANGUAGES)
            else:
                out[field] = codes
        elif field == "links":
            links, reason = _clean_links(value)
            if reason:
                fail(field, reason, n=MAX_LINKS)
            else:
                out[field] = links
        elif field == "guest_hidden":
            if not isinstance(value, list) or any(f not in GUEST_HIDEABLE for f in value):
                fail(field, N_("may only name these fields: {fields}"), fields=", ".join(GUEST_HIDEABLE))
            else:
                out[field] = sorted(set(value))
        elif field == "locale":
            if value not in (None, "", *LOCALES):
                fail(field, N_("must be one of {values}"), values=", ".join(LOCALES))
            else:
                out[field] = value or None
        else:
            fail(field, N_("is not a profile field"))
    return out, errors


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _clean_languages(value: Any) -> list[str] | None:
    if not isinstance(value, list) or len(value) > MAX_LANGUAGES:
        return None
    codes: list[str] = []
    for code in value:
        if not isinstance(code, str) or not re.match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", code):
            return None
        try:
            Locale.parse(code.replace("_", "-"), sep="-")
        except (ValueError, UnknownLocaleError):
            return None
        normal = code.replace("_", "-")
        if normal not in codes:
            codes.append(normal)
    return codes


def _clean_links(value: Any) -> tuple[list[dict[str, str]], str | None]:
    if not isinstance(value, list) or len(value) > MAX_LINKS:
        return [], N_("must be a list of at most {n} links")
    links = []
    for item in value:
        if hasattr(item, "model_dump"):
            item = item.model_dump()
        if not isinstance(item, dict):
            return [], N_("each link needs a label and a URL")
        label, url = str(item.get("label") or "").strip(), str(item.get("url") or "").strip()
        if not url.lower().startswith(("https://", "http://")) or len(url) > 2000 or text.has_control_chars(url):
            return [], N_("links must be http:// or https:// addresses")
        if len(label) > 100:
            return [], N_("a link label must be at most 100 characters")
        if text.has_control_chars(label):
            return [], N_("must not contain control characters")
        links.append({"label": label or url, "url": url})
    return links, None


async def _check_manager(db: AsyncSession, person: Person, manager_id: Any, *, is_new: bool) -> str | None:
    if manager_id is None:
        return None
    if not isinstance(manager_id, int) or isinstance(manager_id, bool):
        return N_("must be a person id")
    if not is_new and manager_id == person.id:
        return N_("cannot be the person themselves")
    manager = await db.get(Person, manager_id) if _is_id(manager_id) else None
    if manager is None:
        return N_("is not a known person")
    if manager.role == Role.GUEST:
        return N_("cannot be an external guest")
    if is_new:
        return None
    # Walk up from the new manager: meeting the person again would close a loop.
    chain = select(Person.id, Person.manager_id).where(Person.id == manager_id).cte("up", recursive=True)
    up = _Up
    chain = chain.union(select(up.id, up.manager_id).join(chain, up.id == chain.c.manager_id))
    if await db.scalar(select(func.count()).select_from(chain).where(chain.c.id == person.id)):
        return N_("would make a reporting cycle")
    return None


# --- administration ------------------------------------------------------------------------------------------

async def add_person(
    db: AsyncSession, principal: Principal, values: dict[str, Any], *, username: str | None = None, ip: str = ""
) -> tuple[Person, str | None]:
    """An administrator adds a person. With a username they also get a login and a one-time password."""
    require(principal, Permission.PEOPLE_ADMINISTER)
    values = dict(values)
    role = values.pop("role", None) or Role.MEMBER.value
    if role not in {r.value for r in Role}:
        raise ValidationFailed.one("role", N_("must be one of {values}"), values=", ".join(r.value for r in Role))
    if username:
        await accounts.check_username_free(db, username)
    person = await create_person(db, principal, display_name=values.pop("display_name", None) or "",
                                 role=Role(role), **values)
    if not username:
        return person, None
    _account, temporary = await accounts.issue_temporary_password(db, principal, person, username, ip=ip)
    return person, temporary


async def reset_password(
    db: AsyncSession, principal: Principal, person_id: int, *, username: str | None = None, ip: str = ""
) -> tuple[str, str]:
    """A one-time password for someone who forgot theirs (or a first login): (username, password)."""
    require(principal, Permission.PEOPLE_ADMINISTER)
    person = await get_person(db, principal, person_id)
    if not person.is_active:
        raise ValidationFailed.one("person", N_("reactivate this person first"))
    account, temporary = await accounts.issue_temporary_password(db, principal, person, username, ip=ip)
    return account.username, temporary


async def set_role(db: AsyncSession, principal: Principal, person_id: int, role: str, *, ip: str = "") -> Person:
    require(principal, Permission.PEOPLE_ADMINISTER)
    person = await get_person(db, principal, person_id)
    if role not in {r.value for r in Role}:
        raise ValidationFailed.one("role", N_("must be one of {values}"), values=", ".join(r.value for r in Role))
    if person.id == principal.person_id and role != Role.ADMINISTRATOR:
        raise ValidationFailed.one("role", N_("you cannot remove your own administrator role"))
    if person.role != role:
        old = person.role
        person.role = Role(role)
        await accounts.revoke_everything(db, person.id)  # new rights start with a new sign-in
        await audit.record(db, principal, "person.role", "person", person.id, old={"role": old},
                           new={"role": role}, ip=ip)
    return person


async def deactivate(db: AsyncSession, principal: Principal | None, person_id: int, *, ip: str = "") -> Person:
    """The person can no longer sign in; their profile and everything they wrote stay, marked former."""
    if principal is not None:
        require(principal, Permission.PEOPLE_ADMINISTER)
        if principal.person_id == person_id:
            raise ValidationFailed.one("person", N_("you cannot deactivate yourself"))
    person = await db.get(Person, person_id) if _is_id(person_id) else None
    if person is None:
        raise NotFound()
    if person.deactivated_at is None:
        person.deactivated_at = utcnow()
        await accounts.revoke_everything(db, person.id)
        await audit.record(db, principal, "person.deactivate", "person", person.id, ip=ip)
    return person


async def reactivate(db: AsyncSession, principal: Principal | None, person_id: int, *, ip: str = "") -> Person:
    if principal is not None:
        require(principal, Permission.PEOPLE_ADMINISTER)
    person = await db.get(Person, person_id) if _is_id(person_id) else None
    if person is None:
        raise NotFound()
    if person.deactivated_at is not None:
        person.deactivated_at = None
        await audit.record(db, principal, "person.reactivate", "person", person.id, ip=ip)
    return person


# --- photos -----------------------------------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
PHOTO_MAX_PIXELS = 40_000_000  # a 6000×6000 photo is fine; a decompression bomb is not
PHOTO_SIZES = {"large": 512, "small": 96}


def reencode_photo(data: bytes, max_bytes: int) -> dict[str, bytes]:
    """Check an upload is a real image and re-encode it as square JPEGs; the original is discarded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ValidationFailed.one("photo", N_("is empty"))
    if len(data) > max_bytes:
        raise ValidationFailed.one("photo", N_("must be at most {mb} MB"), mb=max_bytes // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise ValidationFailed.one("photo", N_("must be a JPEG, PNG, WebP or GIF image"))
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise ValidationFailed.one("photo", N_("has too many pixels"))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = ImageOps.exif_transpose(image).convert("RGB")
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ValidationFailed.one("photo", N_("must be a JPEG, PNG, WebP or GIF image")) from None
    out: dict[str, bytes] = {}
    for name, size in PHOTO_SIZES.items():
        square = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        square.save(buffer, "JPEG", quality=85, optimize=True)
        out[name] = buffer.getvalue()
    return out


async def set_photo(
    db: AsyncSession, principal: Principal, person_id: int, data: bytes, max_bytes: int, *, ip: str = ""
) -> None:
    person = await get_editable_person(db, principal, person_id)
    images = reencode_photo(data, max_bytes)
    etag = hashlib.sha256(images["large"]).hexdigest()[:32]
    stmt = insert(PersonPhoto).values(
        person_id=person.id, large=images["large"], small=images["small"], etag=etag, updated_at=utcnow()
    )
    await db.execute(stmt.on_conflict_do_update(
        index_elements=[PersonPhoto.person_id],
        set_={"large": stmt.excluded.large, "small": stmt.excluded.small, "etag": etag, "updated_at": utcnow()},
    ))
    person.has_photo = True
    await audit.record(db, principal, "person.photo", "person", person.id, new={"etag": etag}, ip=ip)


async def remove_photo(db: AsyncSession, principal: Principal, person_id: int, *, ip: str = "") -> None:
    person = await get_editable_person(db, principal, person_id)
    await db.execute(delete(PersonPhoto).where(PersonPhoto.person_id == person.id))
    if person.has_photo:
        person.has_photo = False
        await audit.record(db, principal, "person.photo_remove", "person", person.id, ip=ip)


async def get_photo(db: AsyncSession, principal: Principal, person_id: int) -> PersonPhoto:
    person = await get_person(db, principal, person_id)
    if "photo" in hidden_fields_for(principal, person):
        raise NotFound()
    photo = await db.get(PersonPhoto, person.id)
    if photo is None:
        raise NotFound()
    return photo
