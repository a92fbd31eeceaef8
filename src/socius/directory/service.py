"""Merging directories into one person per human.

Every entry a source provides is an identity (source, external id). An identity is linked to a person: the one it
created, or an existing person found by an attribute the source vouches for (`link_by`). Each profile field records
where its value came from (`PersonFieldSource`); a source writes a field only if

- nobody wrote it yet, or this source did, or a source of lower precedence did; and
- the person (or an administrator) has not edited it by hand — unless an administrator locked it to the directory.

What the rules cannot settle (two people claim one e-mail, an entry matches several people, an entry matches an
administrator) goes to the review queue. Deactivation never deletes, and a person stays active while any source
still lists them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import structlog
from sqlalchemy import BigInteger, Select, bindparam, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from socius.admin import service as audit
from socius.core.auth import Principal
from socius.core.authz import Permission, require
from socius.core.db import insert_together, one_of, utcnow
from socius.core.errors import NotFound, ValidationFailed
from socius.core.i18n import N_
from socius.directory import bulk
from socius.directory.models import (
    DirectoryIdentity,
    DirectoryReview,
    DirectorySource,
    DirectorySync,
    ReviewStatus,
    SourceKind,
    SyncStatus,
)
from socius.directory.rules import LINKABLE, SOURCE_FIELDS, Outcome, Record
from socius.people import service as people
from socius.people.models import Person, PersonFieldSource, Role

log = structlog.get_logger(__name__)
REVIEW_REASONS = {
    "ambiguous_match": N_("The entry matches several people."),
    "administrator_match": N_("The entry matches an administrator: link it by hand if it is really them."),
    "email_taken": N_("Another person already has this e-mail address."),
    "employee_number_taken": N_("Another person already has this employee number."),
    "already_linked": N_("The matching person is already linked to another entry of this source."),
}


# --- sources -------------------------------------------------------------------------------------------------

async def create_source(
    db: AsyncSession, principal: Principal | None, *, name: str, kind: str, precedence: int = 100,
    mapping: dict[str, str] | None = None, link_by: list[str] | None = None, config: dict[str, Any] | None = None,
    interval_minutes: int = 0, min_seen_ratio: float = 0.9,
) -> DirectorySource:
    if principal is not None:
        require(principal, Permission.PEOPLE_ADMINISTER)
    name = name.strip()
    errors = []
    if not name or len(name) > 100:
        errors.append(("name", N_("must be 1–100 characters")))
    elif await db.scalar(select(DirectorySource.id).where(DirectorySource.name == name)):
        errors.append(("name", N_("is already taken")))
    if kind not in {k.value for k in SourceKind}:
        errors.append(("kind", N_("must be one of {values}")))
    if any(a not in LINKABLE for a in link_by or []):
        errors.append(("link_by", N_("may only name these fields: {fields}")))
    if any(f not in SOURCE_FIELDS for f in (mapping or {}).values()):
        errors.append(("mapping", N_("may only name these fields: {fields}")))
    if not 0 <= min_seen_ratio <= 1:
        errors.append(("min_seen_ratio", N_("must be between 0 and 1")))
    if errors:
        from socius.core.errors import FieldError

        raise ValidationFailed([
            FieldError(f, reason, {"values": ", ".join(k.value for k in SourceKind),
                                   "fields": ", ".join(LINKABLE if f == "link_by" else SOURCE_FIELDS)})
            for f, reason in errors
        ])
    source = DirectorySource(name=name, kind=SourceKind(kind), precedence=precedence, mapping=mapping or {},
                             link_by=list(link_by or []), config=config or {}, interval_minutes=interval_minutes,
                             min_seen_ratio=min_seen_ratio)
    db.add(source)
    await db.flush()
    await audit.record(db, principal, "directory.source_create", "directory_source", source.id,
                       new={"name": name, "kind": kind, "precedence": precedence, "link_by": source.link_by})
    return source


async def get_source(db: AsyncSession, source_id: int) -> DirectorySource:
    source = await db.get(DirectorySource, source_id) if people._is_id(source_id) else None
    if source is None:
        raise NotFound()
    return source


async def source_by_name(db: AsyncSession, name: str) -> DirectorySource | None:
    return await db.scalar(select(DirectorySource).where(DirectorySource.name == name))


async def issue_scim_token(db: AsyncSession, source: DirectorySource) -> str:
    """A new bearer token for a SCIM source (the old one stops working); returned once, stored hashed."""
    raw = "scim_" + secrets.token_urlsafe(32)
    source.token_hash = hashlib.sha256(raw.encode()).hexdigest()
    await audit.record(db, None, "directory.scim_token", "directory_source", source.id)
    return raw


_SOURCE_BY_TOKEN = select(DirectorySource).where(DirectorySource.token_hash == bindparam("digest"))


async def source_for_token(db: AsyncSession, raw: str) -> DirectorySource | None:
    """The enabled SCIM source this bearer token belongs to. The lookup is by SHA-256 of a 256-bit secret, so it
    reveals nothing through timing; the final comparison is constant-time all the same."""
    import hmac

    digest = hashlib.sha256(raw.encode()).hexdigest()
    source = await db.scalar(_SOURCE_BY_TOKEN, {"digest": digest})
    if source is None or not source.enabled or not hmac.compare_digest(source.token_hash or "", digest):
        return None
    return source


def _fernet(secret_key: str):
    from cryptography.fernet import Fernet

    key = hashlib.sha256(b"socius-directory-secrets:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret_key: str, value: str) -> str:
    return _fernet(secret_key).encrypt(value.encode()).decode()


def decrypt_secret(secret_key: str, token: str) -> str:
    return _fernet(secret_key).decrypt(token.encode()).decode()


# --- applying one entry ------------------------------------------------------------------------------------
# The careful path reads and writes with Core statements built once, like the page path whose rules and writes it
# shares (bulk.decide, bulk.write, bulk.new_people_rows): a SCIM create is a handful of statements.

IDENTITY = DirectoryIdentity.__table__
# What the engine reads of an identity, and what it returns of one it stored (SCIM answers with it).
_IDENTITY_COLUMNS = ("id", "person_id", "external_id", "values", "manager_external_id", "active", "raw", "version")
STORED_COLUMNS = (*_IDENTITY_COLUMNS, "created_at", "updated_at")
_FIND_IDENTITY = select(*(IDENTITY.c[c] for c in _IDENTITY_COLUMNS)).where(
    IDENTITY.c.source_id == bindparam("source"), IDENTITY.c.external_id == bindparam("external_id"))
_UPDATE_IDENTITY = update(IDENTITY).where(IDENTITY.c.id == bindparam("identity")).values(
    values=bindparam("new_values", type_=IDENTITY.c["values"].type), manager_external_id=bindparam("manager"),
    raw=bindparam("new_raw", type_=IDENTITY.c.raw.type), active=bindparam("new_active"),
    last_sync_id=func.coalesce(bindparam("sync", type_=BigInteger), IDENTITY.c.last_sync_id),
    version=IDENTITY.c.version + bindparam("bump"),
).returning(*(IDENTITY.c[c] for c in STORED_COLUMNS))
_PERSON = select(bulk.PERSON).where(bulk.PERSON.c.id == bindparam("person"))
# Who wrote each of a person's fields, and those sources' precedence.
_OWNERS = select(bulk.PROVENANCE.c.field, bulk.PROVENANCE.c.source_id, bulk.PROVENANCE.c.locked,
                 DirectorySource.precedence).select_from(bulk.PROVENANCE.outerjoin(
                     DirectorySource, DirectorySource.id == bulk.PROVENANCE.c.source_id)).where(
                     bulk.PROVENANCE.c.person_id == bindparam("person"))
LOOK_UP = object()  # apply_record's default: read the entry's identity


async def apply_record(
    db: AsyncSession, source: DirectorySource, record: Record, *, sync: DirectorySync | None = None,
    link_to: int | None = None, identity: Any = LOOK_UP,
) -> Outcome:
    """Create, link or update the person behind one entry. Raises ValidationFailed for a malformed entry.

    `link_to` is an administrator's decision from the review queue: link a new entry to this person. `identity`
    is the entry's identity as the caller has just read it (None: the source has no such entry), which spares
    reading it again. The outcome carries the identity as stored (`STORED_COLUMNS`)."""
    if not record.external_id or len(record.external_id) > 400:
        raise ValidationFailed.one("external_id", N_("must be 1–400 characters"))
    if identity is LOOK_UP:
        identity = (await db.execute(_FIND_IDENTITY, {"source": source.id,
                                                      "external_id": record.external_id})).first()
    was_active = identity is None or identity.active  # a new identity counts as active until it says otherwise
    claims = None
    if identity is not None:
        person, outcome = await _person(db, identity.person_id), Outcome("unchanged")
    elif link_to is not None:
        person, outcome = await _person(db, link_to), Outcome("merged")
        if person is None:
            raise NotFound()
    else:
        claims = bulk.Claims(await bulk.holders(db, [record]))  # who holds its e-mail and employee number
        person, outcome = await _link_or_create(db, source, record, claims, sync)
        if outcome.action in ("review", "added"):
            return await _after(db, source, record, outcome, person, was_active)

    # A person linked or already known: the fields this source may write, by the page path's rules.
    if claims is None:
        claims = bulk.Claims(await bulk.holders(db, [record]))
    owners, precedence = {}, {}
    for row in (await db.execute(_OWNERS, {"person": person.id})).all():
        owners[row.field] = row
        if row.source_id is not None:
            precedence[row.source_id] = row.precedence
    change = bulk.decide(source, record, person, owners, precedence, claims, outcome.errors)
    outcome.skipped = change.skipped
    if outcome.action == "unchanged" and change.changes:
        outcome.action = "updated"
    if identity is None:
        [outcome.identity] = await insert_together(
            db, [(IDENTITY, [_new_identity(source, record, person.id, sync)])], returning=STORED_COLUMNS)
    else:
        raw = {**(identity.raw or {}), **record.raw} if record.raw else identity.raw
        outcome.identity = (await db.execute(_UPDATE_IDENTITY, {
            "identity": identity.id, "new_values": record.source_values(), "manager": record.manager_external_id,
            "new_raw": raw, "new_active": record.active, "sync": sync.id if sync else None,
            "bump": int(outcome.action == "updated")})).one()
    await bulk.write(db, source, [change])
    bulk.forget(db, {person.id} if change.changes else set(), {outcome.identity.id})
    return await _after(db, source, record, outcome, person, was_active)


async def _after(
    db: AsyncSession, source: DirectorySource, record: Record, outcome: Outcome, person: Any, was_active: bool
) -> Outcome:
    """(De)activation by what the entry says, and the ids the outcome names."""
    if outcome.identity is None:  # reviewed
        return outcome
    if not record.active and was_active:
        if await _deactivate_if_unlisted(db, source, outcome.identity.person_id):
            outcome.action = "deactivated"
    elif record.active and person.deactivated_at is not None and not was_active:
        await people.reactivate(db, None, person.id)
        outcome.action = "reactivated"
    outcome.person_id, outcome.identity_id = outcome.identity.person_id, outcome.identity.id
    return outcome


async def _person(db: AsyncSession, person_id: int) -> Any:
    return (await db.execute(_PERSON, {"person": person_id})).first()


def _new_identity(source: DirectorySource, record: Record, person_id: int, sync: DirectorySync | None) -> dict:
    return {"source_id": source.id, "external_id": record.external_id, "person_id": person_id,
            "values": record.source_values(), "manager_external_id": record.manager_external_id,
            "raw": record.raw or {}, "last_sync_id": sync.id if sync else None, "active": record.active}


async def _link_or_create(
    db: AsyncSession, source: DirectorySource, record: Record, claims: bulk.Claims, sync: DirectorySync | None
) -> tuple[Any, Outcome]:
    """The person a new entry belongs to: linked by a vouched-for attribute (merged), created together with the
    entry's identity (added), or none (the entry went to review)."""
    values = record.source_values()
    candidates = {h.id for a in source.link_by if (h := claims.holder(a, values.get(a)))}
    if len(candidates) > 1:
        return None, await _review(db, source, record, "ambiguous_match", candidates=sorted(candidates))
    if candidates:
        person = await _person(db, candidates.pop())
        if person.role == Role.ADMINISTRATOR:
            # Linking gives a source power over a profile: never over an administrator's without a human decision.
            return None, await _review(db, source, record, "administrator_match", person_id=person.id)
        taken = await db.scalar(select(DirectoryIdentity.external_id).where(
            DirectoryIdentity.source_id == source.id, DirectoryIdentity.person_id == person.id))
        if taken is not None:
            return None, await _review(db, source, record, "already_linked", person_id=person.id)
        await audit.record(db, None, "directory.link", "person", person.id,
                           new={"source": source.name, "external_id": record.external_id})
        return person, Outcome("merged")

    # A new person. Identity fields another person already holds are left out, and reviewed.
    for unique in LINKABLE:
        if values.get(unique) and claims.holder(unique, values[unique]):
            await _review(db, source, record, f"{unique}_taken")
            values.pop(unique)
    row, cleaned, errors = bulk.new_person_row(record, values)
    if errors:
        raise ValidationFailed(errors)
    [person_id] = await bulk.new_person_ids(db, 1)
    new = bulk.new_people_rows(source, [(person_id, record, row, cleaned)])
    outcome = Outcome("added")
    [outcome.identity] = await insert_together(
        db, [*new, (IDENTITY, [_new_identity(source, record, person_id, sync)])], returning=STORED_COLUMNS)
    return SimpleNamespace(id=person_id, deactivated_at=None), outcome


async def _review(
    db: AsyncSession, source: DirectorySource, record: Record, reason: str, *, person_id: int | None = None,
    candidates: list[int] | None = None,
) -> Outcome:
    existing = await db.scalar(select(DirectoryReview).where(
        DirectoryReview.source_id == source.id, DirectoryReview.external_id == record.external_id,
        DirectoryReview.reason == reason, DirectoryReview.status == ReviewStatus.OPEN))
    if existing is None:
        existing = DirectoryReview(source_id=source.id, external_id=record.external_id, reason=reason,
                                   person_id=person_id, candidate_ids=candidates or [],
                                   details={"values": record.values})
        db.add(existing)
        await db.flush()
    else:
        existing.details = {"values": record.values}
    return Outcome("review")


async def _deactivate_if_unlisted(db: AsyncSession, source: DirectorySource, person_id: int) -> bool:
    """Deactivate a person no active identity lists any more (merged people stay while one source has them)."""
    still_listed = await db.scalar(select(func.count()).where(
        DirectoryIdentity.person_id == person_id, DirectoryIdentity.active.is_(True)))
    if still_listed:
        return False
    person = await db.get(Person, person_id)
    if person.deactivated_at is not None:
        return False
    await people.deactivate(db, None, person_id)
    return True


async def resolve_managers(
    db: AsyncSession, source: DirectorySource, external_ids: list[str] | None = None,
    errors: list[dict] | None = None,
) -> int:
    """Point each person at their manager, as this source names them (see bulk.resolve_managers)."""
    return await bulk.resolve_managers(db, source, external_ids, errors)


async def release_manager(db: AsyncSession, source: DirectorySource, person_id: int) -> bool:
    """Unset the manager this source set, once its entry names none any more (a manager set by hand, or by
    another source, stays)."""
    owner = await db.scalar(select(PersonFieldSource.source_id).where(
        PersonFieldSource.person_id == person_id, PersonFieldSource.field == "manager_id"))
    current = await db.scalar(select(Person.manager_id).where(Person.id == person_id))
    if owner != source.id or current is None:
        return False
    await bulk.write(db, source, [bulk.Change(person_id, {"manager_id": None}, {"manager_id": current},
                                              ["manager_id"])])
    bulk.forget(db, {person_id}, set())
    return True


# --- identities, as a source sees them (SCIM) -----------------------------------------------------------------

def source_identities(source: DirectorySource) -> Select[tuple[DirectoryIdentity]]:
    """The identities this source provides: a source sees and touches only its own."""
    return select(DirectoryIdentity).where(DirectoryIdentity.source_id == source.id)


_SOURCE_IDENTITY = select(DirectoryIdentity).where(DirectoryIdentity.source_id == bindparam("source"),
                                                  DirectoryIdentity.id == bindparam("id"))


async def get_identity(db: AsyncSession, source: DirectorySource, identity_id: Any) -> DirectoryIdentity:
    """One identity of this source; another source's and a missing one raise the same NotFound."""
    if isinstance(identity_id, str):
        identity_id = int(identity_id) if identity_id.isascii() and identity_id.isdigit() else None
    identity = await db.scalar(_SOURCE_IDENTITY, {"source": source.id, "id": identity_id}) \
        if people._is_id(identity_id) else None
    if identity is None:
        raise NotFound()
    return identity


# --- sync runs (LDAP, CSV) -----------------------------------------------------------------------------------

async def start_sync(db: AsyncSession, source: DirectorySource, *, dry_run: bool = False) -> DirectorySync:
    sync = DirectorySync(source_id=source.id, dry_run=dry_run, counts={}, errors=[])
    db.add(sync)
    await db.flush()
    return sync


async def finish_sync(
    db: AsyncSession, source: DirectorySource, sync: DirectorySync, counts: Counter, errors: list[dict],
    seen: set[str], *, failure: str | None = None, full: bool = True,
) -> DirectorySync:
    """Close a run: deactivate who a *full*, *successful* run no longer saw — unless it saw too few people."""
    sync.seen = len(seen)
    note = failure or ""
    if failure is None and full:
        previous = await db.scalar(select(func.count()).where(
            DirectoryIdentity.source_id == source.id, DirectoryIdentity.active.is_(True)))
        missing = list(await db.scalars(select(DirectoryIdentity).where(
            DirectoryIdentity.source_id == source.id, DirectoryIdentity.active.is_(True),
            ~one_of(DirectoryIdentity.external_id, seen) if seen else DirectoryIdentity.id.is_not(None))))
        floor = previous * source.min_seen_ratio
        if missing and len(seen) < floor:
            note = f"seen {len(seen)} of {previous} people last time (below {source.min_seen_ratio:.0%}): " \
                   f"nobody deactivated"
        else:
            for identity in missing:
                identity.active = False
                if await _deactivate_if_unlisted(db, source, identity.person_id):
                    counts["deactivated"] += 1
    sync.counts = dict(counts)
    sync.errors = errors[:1000]
    sync.note = note
    sync.status = SyncStatus.FAILED if failure else SyncStatus.SUCCEEDED
    sync.finished_at = utcnow()
    await audit.record(db, None, "directory.sync", "directory_source", source.id,
                       new={"sync": sync.id, "status": sync.status, "counts": sync.counts, "errors": len(errors),
                            "note": note, "dry_run": sync.dry_run})
    return sync


async def run_batch(
    db: AsyncSession, source: DirectorySource, records, *, dry_run: bool = False, full: bool = True,
    failure: str | None = None, progress=None, before_managers=None,
) -> DirectorySync:
    """Apply a batch of entries a page at a time (bulk.apply_page); the entries a page leaves to the careful path
    go through apply_record, each in its own savepoint: a bad entry is reported and the rest go on.

    `records` may be an async iterable (an LDAP sync applies pages as they are read); `before_managers`, an async
    callable run after the last page, before managers are resolved. With dry_run the caller rolls the transaction
    back; the report says what would have changed.
    """
    sync = await start_sync(db, source, dry_run=dry_run)
    counts: Counter = Counter()
    errors: list[dict] = []
    seen: set[str] = set()
    done = analyzed_at = 0
    async for page in _pages(records, bulk.PAGE_SIZE):
        entries: list[Record] = []
        for item in page:
            if isinstance(item, dict) and "error" in item:  # the reader could not make a record of this entry
                errors.append(item["error"])
                counts["errors"] += 1
            else:
                seen.add(item.external_id)
                entries.append(item)
        try:
            async with db.begin_nested():
                result = await bulk.apply_page(db, source, entries, sync)
            counts.update(+result.counts)  # no zero entries in the report
            errors.extend(result.errors)
            careful = result.careful
        except DBAPIError as error:  # e.g. a concurrent SCIM request took an e-mail: do this page entry by entry
            log.warning("directory.page_retried", source=source.name, error=type(error.orig).__name__)
            careful = entries
        for record in careful:
            await _apply_carefully(db, source, record, sync, counts, errors)
        done += len(page)
        if progress:
            progress(done)
        # A first load fills tables the planner believes empty: refresh its statistics as they grow (at 2,000 new
        # identities, 4,000, 8,000 …), or per-page lookups turn into scans and one join over 60,000 took minutes.
        grown = counts["added"] + counts["merged"]
        if grown >= max(ANALYZE_AFTER, 2 * analyzed_at):
            await _refresh_statistics(db)
            analyzed_at = grown
    if before_managers is not None:
        await before_managers()
    counts["managers"] += await resolve_managers(db, source, errors=errors)  # and those set at creation
    return await finish_sync(db, source, sync, counts, errors, seen, failure=failure, full=full)


ANALYZE_AFTER = 2000  # new identities in one run before the first ANALYZE


async def _refresh_statistics(db: AsyncSession) -> None:
    """ANALYZE counts this transaction's own rows, and may run inside it."""
    try:
        async with db.begin_nested():
            await db.execute(text("ANALYZE directory_identity, person, person_field_source"))
    except DBAPIError as error:  # e.g. not the tables' owner: slower, not wrong
        log.warning("directory.analyze_failed", error=type(error.orig).__name__)


async def _pages(items, size: int):
    if not hasattr(items, "__aiter__"):
        items = _as_async(items)
    page: list = []
    async for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


async def _as_async(items):
    for item in items:
        yield item


async def _apply_carefully(
    db: AsyncSession, source: DirectorySource, record: Record, sync: DirectorySync, counts: Counter,
    errors: list[dict],
) -> None:
    try:
        async with db.begin_nested():
            outcome = await apply_record(db, source, record, sync=sync)
    except ValidationFailed as error:
        counts["errors"] += 1
        errors.extend({"entry": record.external_id, **e.render()} for e in error.errors)
        return
    counts[outcome.action] += 1
    errors.extend(outcome.errors)


# --- administration ----------------------------------------------------------------------------------------

@dataclass
class SourceSummary:
    source: DirectorySource
    people: int
    last_sync: DirectorySync | None


async def list_sources(db: AsyncSession, principal: Principal) -> list[SourceSummary]:
    require(principal, Permission.PEOPLE_ADMINISTER)
    sources = list(await db.scalars(select(DirectorySource).order_by(DirectorySource.precedence.desc(),
                                                                    DirectorySource.name)))
    counts = dict((await db.execute(select(DirectoryIdentity.source_id, func.count()).where(
        DirectoryIdentity.active.is_(True)).group_by(DirectoryIdentity.source_id))).all())
    latest = select(DirectorySync.source_id, func.max(DirectorySync.id).label("id")).group_by(
        DirectorySync.source_id).subquery()
    last = await db.scalars(select(DirectorySync).join(latest, latest.c.id == DirectorySync.id))
    syncs = {s.source_id: s for s in last}
    return [SourceSummary(s, counts.get(s.id, 0), syncs.get(s.id)) for s in sources]


async def source_reports(db: AsyncSession, principal: Principal, source_id: int, limit: int = 20
                         ) -> tuple[DirectorySource, list[DirectorySync]]:
    require(principal, Permission.PEOPLE_ADMINISTER)
    source = await get_source(db, source_id)
    reports = list(await db.scalars(select(DirectorySync).where(DirectorySync.source_id == source.id)
                                    .order_by(DirectorySync.id.desc()).limit(limit)))
    return source, reports


async def open_reviews(db: AsyncSession, principal: Principal) -> list[DirectoryReview]:
    require(principal, Permission.PEOPLE_ADMINISTER)
    return list(await db.scalars(select(DirectoryReview).where(DirectoryReview.status == ReviewStatus.OPEN)
                                 .order_by(DirectoryReview.created_at).limit(500)))


async def resolve_review(
    db: AsyncSession, principal: Principal, review_id: int, decision: str, person_id: int | None = None
) -> DirectoryReview:
    """An administrator settles a conflict: link the entry to a person, make a new person, or dismiss it."""
    require(principal, Permission.PEOPLE_ADMINISTER)
    review = await db.get(DirectoryReview, review_id) if people._is_id(review_id) else None
    if review is None or review.status != ReviewStatus.OPEN:
        raise NotFound()
    if decision not in ("link", "create", "dismiss"):
        raise ValidationFailed.one("decision", N_("must be one of {values}"), values="link, create, dismiss")
    source = await get_source(db, review.source_id)
    values = dict(review.details.get("values", {}))
    record = Record(review.external_id, values)
    if decision == "link":
        if not people._is_id(person_id) or await db.get(Person, person_id) is None:
            raise ValidationFailed.one("person_id", N_("is not a known person"))
        await apply_record(db, source, record, link_to=person_id)
    elif decision == "create":
        name = values.get("display_name") or values.get("name_latin") or review.external_id
        person = await people.create_person(db, principal, display_name=str(name)[:200])
        await apply_record(db, source, record, link_to=person.id)
    review.status, review.resolution, review.resolved_by = ReviewStatus.RESOLVED, decision, principal.person_id
    await audit.record(db, principal, "directory.review", "directory_review", review.id,
                       new={"decision": decision, "person": person_id, "external_id": review.external_id})
    return review
