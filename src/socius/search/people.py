"""People as a search kind: names (characters, Latin, pinyin, initials), title, department, about text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal
from socius.core.authz import Permission
from socius.core.i18n import N_
from socius.expertise.models import PersonTag, Tag
from socius.people import service as people
from socius.people.models import Person
from socius.search import registry
from socius.search.backend import Document
from socius.search.registry import PERSON_ID, ContentKind, HeldKeys, SearchItem, register

# Profile fields that are searchable text, in the order a snippet shows them.
TEXT_FIELDS = ("department", "location", "about_md")


def document_for(person: Person, tags: list[str] | None = None, keys: list[str] | None = None) -> Document:
    """The person as the index holds them. Fields the person hides from guests go into `private`, which guests'
    queries never match, so a guest cannot probe a hidden field by searching for it. `tags`: their profile tags
    (hidden ones left out), which anyone who may see the person sees too. `keys`: visibility keys beyond
    "members" (registry.PERSON_KEYS: the guests of their communities and campaigns)."""
    hidden = set(person.guest_hidden or ())
    public = [person.title or ""]
    private: list[str] = []
    for field in TEXT_FIELDS:
        value = getattr(person, field) or ""
        (private if field in hidden else public).append(value)
    names_only = SimpleNamespace(display_name=person.display_name, name_native=person.name_native,
                                 name_latin=person.name_latin, email=None)
    names = people.name_keys(names_only)
    if person.email:
        email_keys = people.name_keys(SimpleNamespace(display_name="", name_native=None, name_latin=None,
                                                      email=person.email))
        if "email" in hidden:
            private.append(" ".join(email_keys))
        else:
            names |= email_keys
    title = " ".join(dict.fromkeys(n for n in (person.display_name, person.name_native, person.name_latin) if n))
    return Document(
        kind="person", id=person.id, title=title, body="\n".join(filter(None, public)),
        private="\n".join(filter(None, private)), names=sorted(n for n in names if " " not in n), tags=tags or [],
        visibility=["members", f"p:{person.id}", *dict.fromkeys(keys or ())], created_at=person.created_at,
        updated_at=person.updated_at,
        archived=person.deactivated_at is not None,
    )


async def load(db: AsyncSession, ids: list[int]) -> list[Document]:
    # populate_existing: the state now, even if this session loaded these people before the change.
    rows = await db.scalars(select(Person).where(Person.id.in_(ids)).execution_options(populate_existing=True))
    tags: dict[int, list[str]] = {}
    for person_id, label in await db.execute(
            select(PersonTag.person_id, Tag.label).join(Tag, Tag.id == PersonTag.tag_id)
            .where(PersonTag.person_id.in_(ids), PersonTag.hidden.is_(False))
            .order_by(PersonTag.person_id, PersonTag.strength.desc())):
        tags.setdefault(person_id, []).append(label)
    keys = await registry.person_keys(db, ids)
    return [document_for(p, tags.get(p.id), keys.get(p.id)) for p in rows]


async def all_ids(db: AsyncSession, batch: int) -> AsyncIterator[list[int]]:
    after = 0
    while True:
        ids = list(await db.scalars(select(Person.id).where(Person.id > after).order_by(Person.id).limit(batch)))
        if not ids:
            return
        yield ids
        after = ids[-1]


async def hydrate(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, SearchItem]:
    """The people among `ids` this principal may see now, with only the fields they may see."""
    rows = await db.scalars(select(Person).where(Person.id.in_(ids), people.readable_clause(principal)))
    items = {}
    for person in rows:
        hidden = people.hidden_fields_for(principal, person)
        visible = {f: getattr(person, f) for f in TEXT_FIELDS if f not in hidden and getattr(person, f)}
        subtitle = " · ".join(filter(None, [person.title, visible.get("department")]))
        items[person.id] = SearchItem(
            kind="person", id=person.id, title=person.display_name, url=f"/people/{person.id}",
            text="\n".join(filter(None, [person.name_latin, person.title, *visible.values()])), subtitle=subtitle,
            updated_at=person.updated_at,
            extra={"former": person.deactivated_at is not None, "external": person.is_guest,
                   "has_photo": person.has_photo and "photo" not in hidden},
        )
    return items


def keys(principal: Principal) -> HeldKeys:
    """Members see everyone; a guest sees themselves (held by every principal) and their host."""
    if principal.can(Permission.DIRECTORY_READ):
        return HeldKeys(fixed=frozenset({"members"}))
    return HeldKeys(query=_HOST)


_HOST = select(func.concat("p:", Person.manager_id)).where(Person.id == PERSON_ID, Person.manager_id.is_not(None))


PERSON = register(ContentKind(name="person", code=1, label=N_("People"), load=load, all_ids=all_ids,
                              hydrate=hydrate, keys=keys))
