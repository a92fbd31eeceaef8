"""The merge rules, applied a page of entries at a time.

A sync of 100,000 entries cannot afford forty queries an entry. `apply_page` reads what a page needs in a few
set-based queries (its identities, the people its e-mails and employee numbers name, their field provenance),
decides in Python with the rules of `rules.py`, and writes each table with one statement. What this path does not
decide — reviews, (de)activations, an entry twice in a page, values another entry of the page claims — it hands back
for `service.apply_record`, one entry at a time, and the caller runs the whole page that way if a statement fails
(a SCIM request took an e-mail meanwhile, say).

`resolve_managers` points people at their managers for a whole source the same way.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import any_, bindparam, func, select, union, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from socius.admin import service as audit
from socius.admin.models import AuditEntry
from socius.core import text
from socius.core.db import insert_rows, one_of, recordset, write_rows
from socius.core.errors import FieldError
from socius.directory.models import DirectoryIdentity, DirectorySource, DirectorySync
from socius.directory.rules import LINKABLE, Record, lookup_key, refusal
from socius.people import service as people
from socius.people.models import Person, PersonFieldSource, PersonNameKey, Role

PAGE_SIZE = 500
NAME_FIELDS = {"display_name", "name_native", "name_latin", "email"}
PERSON = Person.__table__
IDENTITY = DirectoryIdentity.__table__
NAME_KEY = PersonNameKey.__table__
PROVENANCE = PersonFieldSource.__table__


@dataclass
class PageResult:
    counts: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)
    careful: list[Record] = field(default_factory=list)  # for apply_record, in order


@dataclass
class Change:
    """One person's changes from one entry: profile fields, provenance, and the audit entry."""

    person_id: int
    changes: dict[str, Any]
    old: dict[str, Any]
    provenance: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # field → why it is not written


class Claims:
    """E-mails and employee numbers: who holds each in the database, and which this page has claimed already."""

    def __init__(self, holders: list[Any]) -> None:
        self.held = {a: {getattr(h, a): h for h in holders if getattr(h, a)} for a in LINKABLE}
        self.claimed: dict[str, set[str]] = {a: set() for a in LINKABLE}

    def holder(self, attribute: str, value: Any) -> Any:
        key = lookup_key(attribute, value)
        return self.held[attribute].get(key) if key else None

    def free_for(self, attribute: str, value: Any, person_id: int | None) -> bool:
        key = lookup_key(attribute, value)
        if key is None:
            return True
        holder = self.held[attribute].get(key)
        return key not in self.claimed[attribute] and (holder is None or holder.id == person_id)

    def claim(self, attribute: str, value: Any) -> None:
        key = lookup_key(attribute, value)
        if key is not None:
            self.claimed[attribute].add(key)


async def apply_page(
    db: AsyncSession, source: DirectorySource, records: list[Record], sync: DirectorySync
) -> PageResult:
    result = PageResult()
    page: dict[str, Record] = {}
    for record in records:
        if record.external_id in page or not record.external_id or len(record.external_id) > 400:
            result.careful.append(record)  # apply_record reports it, or applies the second copy after the first
        else:
            page[record.external_id] = record
    if not page:
        return result
    identities = {row.external_id: row for row in (await db.execute(
        select(IDENTITY.c.id, IDENTITY.c.external_id, IDENTITY.c.person_id, IDENTITY.c["values"],
               IDENTITY.c.manager_external_id, IDENTITY.c.active)
        .where(IDENTITY.c.source_id == source.id, one_of(IDENTITY.c.external_id, page)))).all()}

    unchanged: list[int] = []
    changed: list[tuple[Record, Any]] = []
    new: list[Record] = []
    for record in page.values():
        identity = identities.get(record.external_id)
        if identity is None:
            (new if record.active else result.careful).append(record)
        elif identity.active != record.active:
            result.careful.append(record)
        elif identity.values == record.source_values() and \
                identity.manager_external_id == record.manager_external_id:
            unchanged.append(identity.id)
        else:
            changed.append((record, identity))

    claims = Claims(await holders(db, [*new, *(record for record, _ in changed)]))
    merges, creates = await _sort_new(db, source, new, claims, result)

    persons = await _persons(db, [i.person_id for _, i in changed] + [pid for _, pid in merges])
    provenance = await _provenance(db, list(persons))
    precedence = dict((await db.execute(select(DirectorySource.id, DirectorySource.precedence))).all())

    def decide_for(record: Record, person_id: int) -> Change:
        return decide(source, record, persons[person_id], provenance.get(person_id, {}), precedence, claims,
                      result.errors)

    updates = [decide_for(record, identity.person_id) for record, identity in changed]
    links = [decide_for(record, person_id) for record, person_id in merges]
    created = await _create(db, source, creates, result)
    await write(db, source, updates + links)
    await _store_identities(db, source, sync, unchanged, changed, [*merges, *created])

    result.counts["unchanged"] += len(unchanged) + sum(not w.changes for w in updates)
    result.counts["updated"] += sum(bool(w.changes) for w in updates)
    result.counts["merged"] += len(merges)
    result.counts["added"] += len(created)
    await audit.record_many(db, [{"action": "directory.link", "object_type": "person", "object_id": person_id,
                                  "new": {"source": source.name, "external_id": record.external_id}}
                                 for record, person_id in merges])
    forget(db, {w.person_id for w in updates + links if w.changes}, {i.id for _, i in changed})
    return result


_HOLDER_COLUMNS = (Person.id, Person.email, Person.employee_number, Person.role)
_HOLDERS = union(*(select(*_HOLDER_COLUMNS).where(
    getattr(Person, a) == any_(bindparam(a, type_=ARRAY(getattr(Person, a).type)))) for a in LINKABLE))


async def holders(db: AsyncSession, records) -> list[Any]:
    """The people holding any e-mail or employee number these entries give (each looked up by its own unique
    index, in one statement built once)."""
    keys: dict[str, set[str]] = {a: set() for a in LINKABLE}
    for record in records:
        for attribute in LINKABLE:
            key = lookup_key(attribute, record.values.get(attribute))
            if key is not None:
                keys[attribute].add(key)
    if not any(keys.values()):
        return []
    return list((await db.execute(_HOLDERS, {a: list(v) for a, v in keys.items()})).all())


async def _sort_new(
    db: AsyncSession, source: DirectorySource, new: list[Record], claims: Claims, result: PageResult
) -> tuple[list[tuple[Record, int]], list[Record]]:
    """New entries: linked to one person by an attribute the source vouches for (merges), new people (creates),
    or — several candidates, an administrator, a person already linked, a value someone holds — careful."""
    candidates = {r.external_id: {h.id for a in source.link_by if (h := claims.holder(a, r.values.get(a)))}
                  for r in new}
    linked = set(await db.scalars(select(IDENTITY.c.person_id).where(
        IDENTITY.c.source_id == source.id,
        one_of(IDENTITY.c.person_id, {pid for ids in candidates.values() for pid in ids})))) if candidates else set()
    roles = {h.id: h.role for held in claims.held.values() for h in held.values()}
    merges: list[tuple[Record, int]] = []
    creates: list[Record] = []
    for record in new:
        found = candidates[record.external_id]
        if len(found) == 1:
            person_id = found.pop()
            if roles[person_id] == Role.ADMINISTRATOR or person_id in linked:
                result.careful.append(record)
            else:
                linked.add(person_id)  # a second entry of this page matching them is reviewed
                merges.append((record, person_id))
        elif not found and all(claims.free_for(a, record.values.get(a), None) for a in LINKABLE):
            for attribute in LINKABLE:
                claims.claim(attribute, record.values.get(attribute))
            creates.append(record)
        else:
            result.careful.append(record)
    return merges, creates


async def _persons(db: AsyncSession, ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in (await db.execute(select(PERSON).where(one_of(PERSON.c.id, set(ids))))).all()}


async def _provenance(db: AsyncSession, person_ids: list[int], fields: list[str] | None = None
                      ) -> dict[int, dict[str, Any]]:
    if not person_ids:
        return {}
    stmt = select(PersonFieldSource.person_id, PersonFieldSource.field, PersonFieldSource.source_id,
                  PersonFieldSource.locked).where(one_of(PersonFieldSource.person_id, person_ids))
    if fields is not None:
        stmt = stmt.where(PersonFieldSource.field.in_(fields))
    out: dict[int, dict[str, Any]] = {}
    for row in (await db.execute(stmt)).all():
        out.setdefault(row.person_id, {})[row.field] = row
    return out


def decide(
    source: DirectorySource, record: Record, person: Any, owners: dict[str, Any], precedence: dict[int, int],
    claims: Claims, errors: list[dict],
) -> Change:
    """What this entry may change on this person: the fields the rules let this source write, validated; an
    invalid value is reported in `errors` and left out."""
    wanted: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for name, value in record.source_values().items():
        if why := refusal(source.id, source.precedence, owners.get(name), precedence):
            skipped[name] = why
        elif name in LINKABLE and value and not claims.free_for(name, value, person.id):
            skipped[name] = f"{name}_taken"
        else:
            wanted[name] = value
    cleaned, invalid = people.clean_fields(wanted)
    for error in invalid:
        wanted.pop(error.field, None)
        skipped[error.field] = "invalid"
        errors.append({"entry": record.external_id, "field": error.field, "reason": "invalid value"})
    changes = {k: v for k, v in cleaned.items() if getattr(person, k) != v}
    for attribute in LINKABLE:
        if changes.get(attribute):
            claims.claim(attribute, changes[attribute])
    if changes.keys() & {"display_name", "name_native", "name_latin"}:
        merged = {f: changes.get(f, getattr(person, f)) for f in ("display_name", "name_latin", "name_native")}
        changes["sort_key"] = text.sort_key_for(merged["display_name"], merged["name_latin"], merged["name_native"])
    return Change(person.id, changes, {k: getattr(person, k) for k in changes}, list(wanted), skipped)


async def _create(
    db: AsyncSession, source: DirectorySource, records: list[Record], result: PageResult
) -> list[tuple[Record, int]]:
    """New people, one statement a table. An entry with an invalid field is reported and not created."""
    kept: list[tuple[Record, dict[str, Any], dict[str, Any]]] = []
    for record in records:
        values = record.source_values()
        row, cleaned, errors = new_person_row(record, values)
        if errors:
            result.counts["errors"] += 1
            result.errors.extend({"entry": record.external_id, **e.render()} for e in errors)
            continue
        kept.append((record, row, cleaned))
    if not kept:
        return []
    # A manager this source listed before this page is set now, not in resolve_managers' second pass: a new
    # person has no reports, so no cycle can close, and only a guest is refused (resolve_managers reports it).
    bosses = await _existing_managers(db, source, {r.manager_external_id for r, _, _ in kept} - {None})
    for record, row, cleaned in kept:
        if record.manager_external_id in bosses:
            row["manager_id"] = cleaned["manager_id"] = bosses[record.manager_external_id]
            result.counts["managers"] += 1
    ids = await new_person_ids(db, len(kept))
    for table, rows in new_people_rows(source, [(pid, *new) for pid, new in zip(ids, kept, strict=True)]):
        await write_rows(db, table, rows)
    return [(record, pid) for pid, (record, _, _) in zip(ids, kept, strict=True)]


def new_person_row(record: Record, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[FieldError]]:
    """A new person's row from an entry's values (all of them, or those the rules let it set), the validated
    values, and what is wrong with them."""
    values.setdefault("display_name", values.get("name_latin") or values.get("name_native") or record.external_id)
    cleaned, errors = people.clean_fields({**values, "guest_hidden": people._default_guest_hidden()})
    row = {**_NEW_PERSON, **cleaned}
    if not errors:
        row["sort_key"] = text.sort_key_for(row["display_name"], row["name_latin"], row["name_native"])
    return row, cleaned, errors


_NEW_PERSON_IDS = select(func.nextval(func.pg_get_serial_sequence("person", "id"))).select_from(
    func.generate_series(1, bindparam("n")))


async def new_person_ids(db: AsyncSession, n: int) -> list[int]:
    """Ids drawn first, so each entry knows its person without relying on the order RETURNING gives rows back."""
    return list(await db.scalars(_NEW_PERSON_IDS, {"n": n}))


def new_people_rows(
    source: DirectorySource, new: list[tuple[int, Record, dict[str, Any], dict[str, Any]]]
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The rows that make new people — (id, entry, person row, validated values) each — as (table, rows): the
    person, their name keys, each field's provenance, the audit entry. Rows pointing at a person come after it."""
    persons = [{**row, "id": pid} for pid, _, row, _ in new]
    return [
        (PERSON, persons),
        (NAME_KEY, _name_key_rows([(row["id"], row) for row in persons])),
        (PROVENANCE, [{"person_id": pid, "field": name, "source_id": source.id}
                      for pid, _, _, cleaned in new for name in cleaned if name != "guest_hidden"]),
        (AuditEntry.__table__, audit.entry_rows([
            {"action": "person.create", "object_type": "person", "object_id": pid, "new": people._auditable(cleaned)}
            for pid, _, _, cleaned in new])),
    ]


# A new person's columns before the entry's values: every row of one INSERT has the same keys.
_NEW_PERSON = {**{f: None for f in people.DIRECTORY_FIELDS}, "languages": [], "links": [],
               "role": Role.MEMBER.value, "guest_hidden": [], "sort_key": ""}


async def _existing_managers(db: AsyncSession, source: DirectorySource, external_ids: set[str]) -> dict[str, int]:
    """Person ids of these entries of the source, those who are not guests."""
    if not external_ids:
        return {}
    return dict((await db.execute(
        select(IDENTITY.c.external_id, IDENTITY.c.person_id).join(PERSON, PERSON.c.id == IDENTITY.c.person_id)
        .where(IDENTITY.c.source_id == source.id, one_of(IDENTITY.c.external_id, external_ids),
               PERSON.c.role != Role.GUEST.value))).all())


async def write(db: AsyncSession, source: DirectorySource, writes: list[Change]) -> None:
    """Profile changes (one statement for each set of changed columns), name keys, provenance and audit."""
    groups: dict[frozenset[str], list[Change]] = {}
    for w in writes:
        if w.changes:
            groups.setdefault(frozenset(w.changes), []).append(w)
    for columns, members in groups.items():
        names = ("id", *sorted(columns))
        await db.execute(_update_people(names), {"rows": [{"id": w.person_id, **w.changes} for w in members]})
    renamed = [w for w in writes if w.changes.keys() & NAME_FIELDS]
    if renamed:
        current = await _persons(db, [w.person_id for w in renamed])
        await db.execute(NAME_KEY.delete().where(one_of(NAME_KEY.c.person_id, list(current))))
        await write_rows(db, NAME_KEY, _name_key_rows([(pid, row._mapping) for pid, row in current.items()]))
    await set_provenance(db, source.id, [(w.person_id, w.provenance) for w in writes if w.provenance])
    await audit.record_many(db, [
        {"action": "person.sync", "object_type": "person", "object_id": w.person_id,
         "old": people._auditable({k: v for k, v in w.old.items() if k != "sort_key"}),
         "new": {**people._auditable({k: v for k, v in w.changes.items() if k != "sort_key"}), "source": source.name}}
        for w in writes if w.changes
    ])


@functools.lru_cache(maxsize=256)
def _update_people(columns: tuple[str, ...]):
    """UPDATE person from a recordset of (id, these columns): built once for each set of columns."""
    new = recordset(PERSON, columns)
    return update(PERSON).where(PERSON.c.id == new.c.id).values(
        {c: new.c[c] for c in columns if c != "id"} | {"version": PERSON.c.version + 1})


def _name_key_rows(people_rows: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    return [{"person_id": pid, "key": key, "sort_key": values["sort_key"]}
            for pid, values in people_rows
            for key in sorted(people.name_keys(SimpleNamespace(**{f: values[f] for f in NAME_FIELDS})))]


_PROVENANCE_COLUMNS = ("person_id", "field", "source_id")
_insert_provenance = insert_rows(PROVENANCE, _PROVENANCE_COLUMNS)
_UPSERT_PROVENANCE = _insert_provenance.on_conflict_do_update(
    index_elements=["person_id", "field"],
    set_={"source_id": _insert_provenance.excluded.source_id, "updated_at": func.now()},
)


async def set_provenance(db: AsyncSession, source_id: int, fields: list[tuple[int, list[str]]]) -> None:
    # One row a (person, field): ON CONFLICT may not touch a row twice in one statement.
    rows = list({(pid, f): {"person_id": pid, "field": f, "source_id": source_id}
                 for pid, names in fields for f in names}.values())
    if rows:
        await db.execute(_UPSERT_PROVENANCE, {"rows": rows})


async def _store_identities(
    db: AsyncSession, source: DirectorySource, sync: DirectorySync, unchanged: list[int],
    changed: list[tuple[Record, Any]], new: list[tuple[Record, int]],
) -> None:
    if unchanged:
        await db.execute(update(IDENTITY).where(one_of(IDENTITY.c.id, unchanged))
                         .values(last_sync_id=sync.id, updated_at=IDENTITY.c.updated_at))
    if changed:
        await db.execute(_UPDATE_IDENTITIES, {"sync": sync.id, "rows": [
            {"id": identity.id, "values": record.source_values(), "manager_external_id": record.manager_external_id}
            for record, identity in changed]})
    if new:
        await write_rows(db, IDENTITY, [
            {"source_id": source.id, "external_id": record.external_id, "person_id": person_id,
             "values": record.source_values(), "manager_external_id": record.manager_external_id,
             "raw": record.raw or {}, "last_sync_id": sync.id, "active": True}
            for record, person_id in new])


_said = recordset(IDENTITY, ("id", "values", "manager_external_id"))
# The identity's version is its SCIM ETag and changes with what the source says, written or not.
_UPDATE_IDENTITIES = update(IDENTITY).where(IDENTITY.c.id == _said.c.id).values(
    values=_said.c["values"], manager_external_id=_said.c.manager_external_id,
    last_sync_id=bindparam("sync"), version=IDENTITY.c.version + 1)


def forget(db: AsyncSession, person_ids: set[int], identity_ids: set[int]) -> None:
    """Objects of these rows the session holds are stale after bulk statements: expire them, so that `db.get` or
    `db.refresh` reads the rows as they are now (and a stale version never reaches a flush)."""
    if not person_ids and not identity_ids:
        return
    for (cls, key, _), obj in list(db.identity_map.items()):  # by key: an expired object's id would be a query
        if (cls is Person and key[0] in person_ids) or (cls is DirectoryIdentity and key[0] in identity_ids):
            db.expire(obj)


# --- managers ------------------------------------------------------------------------------------------------

async def resolve_managers(
    db: AsyncSession, source: DirectorySource, external_ids: list[str] | None = None,
    errors: list[dict] | None = None,
) -> int:
    """Point each person at their manager as this source names them (by the manager's external id), for the
    whole source (or these entries), in a few statements. A field the rules keep from the source stays; a manager
    who is a guest, or who would close a reporting cycle, is refused and, with `errors`, reported."""
    entry, boss = aliased(DirectoryIdentity), aliased(DirectoryIdentity)
    stmt = (select(entry.external_id, entry.person_id, boss.person_id.label("manager_id"),
                   Person.manager_id.label("current"))
            .join(boss, (boss.source_id == entry.source_id) & (boss.external_id == entry.manager_external_id))
            .join(Person, Person.id == entry.person_id)
            .where(entry.source_id == source.id, boss.person_id != entry.person_id,
                   Person.manager_id.is_distinct_from(boss.person_id)))
    if external_ids is not None:
        stmt = stmt.where(one_of(entry.external_id, external_ids))
    wanted = (await db.execute(stmt)).all()
    if not wanted:
        return 0
    owners = await _provenance(db, list({w.person_id for w in wanted}), ["manager_id"])
    precedence = dict((await db.execute(select(DirectorySource.id, DirectorySource.precedence))).all())
    wanted = [w for w in wanted
              if not refusal(source.id, source.precedence, owners.get(w.person_id, {}).get("manager_id"), precedence)]
    up = await _reporting_lines(db, {w.manager_id for w in wanted} | {w.person_id for w in wanted})
    writes: list[Change] = []
    for w in wanted:
        if up.get(w.manager_id, (None, None))[1] == Role.GUEST:
            reason = "manager is an external guest"
        elif _reaches(up, w.manager_id, w.person_id):
            reason = "manager would make a reporting cycle"
        else:
            up[w.person_id] = (w.manager_id, up[w.person_id][1])
            writes.append(Change(w.person_id, {"manager_id": w.manager_id}, {"manager_id": w.current},
                                 ["manager_id"]))
            continue
        if errors is not None:
            errors.append({"entry": w.external_id, "field": "manager_id", "reason": reason})
    await write(db, source, writes)
    forget(db, {w.person_id for w in writes}, set())
    return len(writes)


async def _reporting_lines(db: AsyncSession, start: set[int]) -> dict[int, tuple[int | None, str]]:
    """Each of these people's manager and role, and their managers' up to the top, a level a query."""
    lines: dict[int, tuple[int | None, str]] = {}
    frontier = set(start)
    while frontier:
        rows = (await db.execute(select(Person.id, Person.manager_id, Person.role)
                                 .where(one_of(Person.id, frontier)))).all()
        lines.update({r.id: (r.manager_id, r.role) for r in rows})
        frontier = {r.manager_id for r in rows if r.manager_id is not None and r.manager_id not in lines}
    return lines


def _reaches(up: dict[int, tuple[int | None, str]], start: int, target: int) -> bool:
    """Whether walking up from `start` meets `target`."""
    seen: set[int] = set()
    node: int | None = start
    while node is not None and node not in seen:
        if node == target:
            return True
        seen.add(node)
        node = up.get(node, (None, None))[0]
    return False
