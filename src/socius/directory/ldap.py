"""LDAP and Active Directory pull sync with ldap3: read the entries, map them to records, hand them to the engine.

Only the protocol lives here (servers, binds, paged searches, attribute mapping, DNs); what a record does to a
person — merging, precedence, deactivation and the safety rules — is `service.run_batch`'s business.

`source.config` keys: `servers` (URLs, tried in order: failover), `base_dn`, `user_filter`, `bind_dn`,
`flavor` ("openldap" or "ad": picks the default mapping), `external_id_attribute`, `manager_attribute`,
`photo_attribute` (jpegPhoto / thumbnailPhoto by default; empty for none),
`use_tls`, `start_tls`, `ca_file`, `validate`, `page_size`, `connect_timeout`, `receive_timeout`,
`incremental_overlap_seconds`, `scheduled_full`. The bind password is `source.secret_encrypted`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert

from socius.config import Settings
from socius.core.db import Database, utcnow
from socius.core.errors import ValidationFailed
from socius.core.i18n import N_
from socius.directory import service
from socius.directory.models import DirectoryIdentity, DirectorySource, DirectorySync, SourceKind, SyncStatus
from socius.people import service as people
from socius.people.models import Person, PersonPhoto

# Source attribute → profile field. When several attributes name one field, the first one present wins.
OPENLDAP_MAPPING = {
    "displayName": "display_name", "cn": "display_name", "mail": "email", "employeeNumber": "employee_number",
    "title": "title", "departmentNumber": "department", "ou": "department", "telephoneNumber": "phone",
    "l": "location",
}
AD_MAPPING = {
    "displayName": "display_name", "cn": "display_name", "mail": "email", "employeeNumber": "employee_number",
    "title": "title", "department": "department", "telephoneNumber": "phone", "l": "location",
}
# Attributes whose values are bytes, not UTF-8 text; GUIDs are shown the way AD tools show them.
GUID_ATTRIBUTES = {"objectguid"}
DEFAULT_PAGE_SIZE = 500


@dataclass
class LdapSettings:
    """What one sync needs from the source, read in one short transaction (the search runs outside any)."""

    servers: list[str]
    base_dn: str
    user_filter: str
    bind_dn: str | None
    password: str | None
    mapping: dict[str, str]
    external_id_attribute: str
    manager_attribute: str | None
    photo_attribute: str | None
    page_size: int
    use_tls: bool = False
    start_tls: bool = False
    ca_file: str | None = None
    validate: bool = True
    connect_timeout: int = 5
    receive_timeout: int = 60
    extra: dict[str, Any] = field(default_factory=dict)


class IncompleteSearch(Exception):
    """The server stopped before returning every entry."""


@dataclass
class Entry:
    dn: str
    attributes: dict[str, list[bytes]]  # lower-cased attribute name → raw values


def read_settings(source: DirectorySource, secret_key: str) -> LdapSettings:
    """The source's LDAP settings, with defaults for its flavour; raises ValueError if they are unusable."""
    config = source.config or {}
    flavor = config.get("flavor", "openldap")
    servers = config.get("servers") or []
    if isinstance(servers, str):
        servers = [servers]
    if not servers or not all(isinstance(s, str) and s.startswith(("ldap://", "ldaps://")) for s in servers):
        raise ValueError("config.servers must list at least one ldap:// or ldaps:// URL")
    if not config.get("base_dn"):
        raise ValueError("config.base_dn is required")
    password = None
    if source.secret_encrypted:
        from cryptography.fernet import InvalidToken

        try:
            password = service.decrypt_secret(secret_key, source.secret_encrypted)
        except InvalidToken:
            raise ValueError("the bind password cannot be decrypted (was the secret key changed?)") from None
    return LdapSettings(
        servers=list(servers), base_dn=config["base_dn"],
        user_filter=config.get("user_filter") or ("(&(objectClass=user)(objectCategory=person))" if flavor == "ad"
                                                  else "(objectClass=inetOrgPerson)"),
        bind_dn=config.get("bind_dn"), password=password,
        mapping=dict(source.mapping) if source.mapping else dict(AD_MAPPING if flavor == "ad" else OPENLDAP_MAPPING),
        external_id_attribute=config.get("external_id_attribute") or ("objectGUID" if flavor == "ad" else "uid"),
        manager_attribute=config.get("manager_attribute", "manager"),
        photo_attribute=config.get("photo_attribute", "thumbnailPhoto" if flavor == "ad" else "jpegPhoto"),
        page_size=int(config.get("page_size") or DEFAULT_PAGE_SIZE),
        use_tls=bool(config.get("use_tls", False)), start_tls=bool(config.get("start_tls", False)),
        ca_file=config.get("ca_file"), validate=bool(config.get("validate", True)),
        connect_timeout=int(config.get("connect_timeout", 5)),
        receive_timeout=int(config.get("receive_timeout", 60)),
        extra=config,
    )


# --- reading the directory (blocking: runs in a worker thread) -----------------------------------------------

def connect(settings: LdapSettings):
    """A bound connection to the first server of the pool that answers."""
    import ssl

    import ldap3

    tls = None
    if settings.use_tls or settings.start_tls or any(s.startswith("ldaps://") for s in settings.servers):
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if settings.validate else ssl.CERT_NONE,
                        ca_certs_file=settings.ca_file)
    servers = [
        ldap3.Server(url, use_ssl=url.startswith("ldaps://") or settings.use_tls, tls=tls, get_info=ldap3.NONE,
                     connect_timeout=settings.connect_timeout)
        for url in settings.servers
    ]
    # One pass over the servers in order: a dead one is skipped, all dead raises LDAPServerPoolExhaustedError
    # (after ldap3's pause between passes, 10 s by default: one pass needs no long pause).
    ldap3.set_config_parameter("POOLING_LOOP_TIMEOUT", 1)
    pool = ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=True)
    conn = ldap3.Connection(pool, user=settings.bind_dn, password=settings.password, auto_bind=ldap3.AUTO_BIND_NONE,
                            receive_timeout=settings.receive_timeout, raise_exceptions=True, read_only=True)
    conn.open()
    if settings.start_tls:
        conn.start_tls()
    conn.bind()
    return conn


def search(settings: LdapSettings, since: dt.datetime | None = None) -> list[Entry]:
    """Every entry the filter selects (changed since `since`, if given), page by page."""
    import ldap3

    query = settings.user_filter
    if not query.startswith("("):
        query = f"({query})"
    if since is not None:
        query = f"(&{query}(modifyTimestamp>={since.astimezone(dt.UTC):%Y%m%d%H%M%SZ}))"
    attributes = {settings.external_id_attribute, *settings.mapping}
    attributes.update(a for a in (settings.manager_attribute, settings.photo_attribute) if a)
    conn = connect(settings)
    try:
        entries = []
        for item in conn.extend.standard.paged_search(
            settings.base_dn, query, search_scope=ldap3.SUBTREE, attributes=sorted(attributes),
            paged_size=settings.page_size, generator=True,
        ):
            if item.get("type") != "searchResEntry":
                continue  # referrals
            raw = {name.lower(): list(values) for name, values in item["raw_attributes"].items()}
            entries.append(Entry(item["dn"], raw))
        # ldap3 does not raise for sizeLimitExceeded or timeLimitExceeded: a cut-short list is not the directory,
        # and a full sync must not take it for one (those not listed would be deactivated).
        result = conn.result or {}
        if result.get("result", 0) != 0:
            raise IncompleteSearch(f"the server ended the search early: {result.get('description')} "
                                   f"{result.get('message') or ''}".strip())
        return entries
    finally:
        conn.unbind()


# --- entries → records -------------------------------------------------------------------------------------

def normalize_dn(dn: str) -> str:
    """DNs compare case-insensitively and ignore spaces around separators (enough for DNs a directory writes)."""
    return ",".join(part.strip().lower() for part in dn.split(","))


def _text(values: list[bytes], attribute: str) -> str | None:
    if not values:
        return None
    value = values[0]
    if attribute.lower() in GUID_ATTRIBUTES and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))
    return value.decode("utf-8").strip() or None


def to_records(
    entries: list[Entry], settings: LdapSettings, known_dns: dict[str, str] | None = None
) -> tuple[list, dict[str, str]]:
    """Records for the engine (or `{"error": …}` for entries that cannot be read), and each record's DN.

    A manager's DN is looked up among this run's entries first, then in `known_dns` (DNs stored by earlier
    syncs: an incremental run does not see unchanged managers)."""
    external_ids: dict[str, str] = {}  # normalised DN → external id
    parsed: list[tuple[Entry, str]] = []
    out: list = []
    id_attribute = settings.external_id_attribute.lower()
    for entry in entries:
        try:
            external_id = _text(entry.attributes.get(id_attribute, []), id_attribute)
        except UnicodeDecodeError:
            external_id = None
        if not external_id:
            out.append({"error": {"entry": entry.dn, "field": settings.external_id_attribute,
                                  "reason": "missing or unreadable external id"}})
            continue
        external_ids[normalize_dn(entry.dn)] = external_id
        parsed.append((entry, external_id))
    known = known_dns or {}
    seen: set[str] = set()
    dns: dict[str, str] = {}
    for entry, external_id in parsed:
        if external_id in seen:
            out.append({"error": {"entry": entry.dn, "field": settings.external_id_attribute,
                                  "reason": f"duplicate external id {external_id}"}})
            continue
        seen.add(external_id)
        values: dict[str, Any] = {}
        bad = None
        for attribute, field_name in settings.mapping.items():
            if field_name in values:
                continue
            try:
                value = _text(entry.attributes.get(attribute.lower(), []), attribute)
            except UnicodeDecodeError:
                bad = attribute
                continue
            if value is not None:
                values[field_name] = value.lower() if field_name == "email" else value
        if bad:
            out.append({"error": {"entry": external_id, "field": bad, "reason": "not UTF-8 text"}})
            continue
        manager = None
        if settings.manager_attribute:
            try:
                manager_dn = _text(entry.attributes.get(settings.manager_attribute.lower(), []), "manager")
            except UnicodeDecodeError:
                manager_dn = None
            if manager_dn:
                key = normalize_dn(manager_dn)
                manager = external_ids.get(key) or known.get(key)
        out.append(service.Record(external_id=external_id, values=values, manager_external_id=manager))
        dns[external_id] = entry.dn
    return out, dns


def photos_of(entries: list[Entry], settings: LdapSettings, dns: dict[str, str]) -> dict[str, bytes]:
    """The photo of each record that has one, by external id."""
    if not settings.photo_attribute:
        return {}
    attribute = settings.photo_attribute.lower()
    by_dn = {entry.dn: entry for entry in entries}
    return {external_id: by_dn[dn].attributes[attribute][0] for external_id, dn in dns.items()
            if by_dn[dn].attributes.get(attribute)}


# --- a sync run ----------------------------------------------------------------------------------------------

async def _last_success(db, source: DirectorySource) -> dt.datetime | None:
    return await db.scalar(select(DirectorySync.started_at).where(
        DirectorySync.source_id == source.id, DirectorySync.status == SyncStatus.SUCCEEDED,
        DirectorySync.dry_run.is_(False)).order_by(DirectorySync.started_at.desc()).limit(1))


async def _known_dns(db, source: DirectorySource) -> dict[str, str]:
    rows = await db.execute(select(DirectoryIdentity.raw["dn"].astext, DirectoryIdentity.external_id).where(
        DirectoryIdentity.source_id == source.id, DirectoryIdentity.raw.has_key("dn")))
    return {normalize_dn(dn): external_id for dn, external_id in rows.all() if dn}


async def _store_dns(db, source: DirectorySource, dns: dict[str, str]) -> None:
    """Keep each entry's DN in its identity, to resolve managers in later incremental runs."""
    rows = [{"s": source.id, "e": external_id, "new_raw": {"dn": dn}} for external_id, dn in dns.items()]
    if not rows:
        return
    table = DirectoryIdentity.__table__
    await db.execute(
        update(table).where(table.c.source_id == bindparam("s"), table.c.external_id == bindparam("e"),
                            ~table.c.raw.contains(bindparam("new_raw")))
        .values(raw=table.c.raw.op("||")(bindparam("new_raw"))),
        rows, execution_options={"synchronize_session": False},
    )


async def _store_photos(
    db, source: DirectorySource, photos: dict[str, bytes], max_bytes: int, attribute: str, errors: list[dict]
) -> int:
    """Re-encode and store directory photos. A photo the person (or another source) put there stays: a source
    replaces only a photo it stored itself, which it knows by the etag kept in its identity."""
    if not photos:
        return 0
    identities = list(await db.scalars(select(DirectoryIdentity).where(
        DirectoryIdentity.source_id == source.id, DirectoryIdentity.external_id.in_(photos))))
    current = dict((await db.execute(select(PersonPhoto.person_id, PersonPhoto.etag).where(
        PersonPhoto.person_id.in_([i.person_id for i in identities])))).all())
    stored = 0
    for identity in identities:
        data = photos[identity.external_id]
        raw = dict(identity.raw or {})
        digest = hashlib.sha256(data).hexdigest()
        if raw.get("photo_sha256") == digest:
            continue  # unchanged since the last run
        etag_now = current.get(identity.person_id)
        if etag_now is not None and etag_now != raw.get("photo_etag"):
            continue
        try:
            images = people.reencode_photo(data, max_bytes)
        except ValidationFailed:
            errors.append({"entry": identity.external_id, "field": attribute, "reason": "not a usable image"})
            continue
        etag = hashlib.sha256(images["large"]).hexdigest()[:32]
        stmt = insert(PersonPhoto).values(person_id=identity.person_id, large=images["large"],
                                          small=images["small"], etag=etag, updated_at=utcnow())
        await db.execute(stmt.on_conflict_do_update(
            index_elements=[PersonPhoto.person_id],
            set_={"large": stmt.excluded.large, "small": stmt.excluded.small, "etag": etag, "updated_at": utcnow()},
        ))
        await db.execute(update(Person).where(Person.id == identity.person_id).values(has_photo=True))
        identity.raw = {**raw, "photo_sha256": digest, "photo_etag": etag}
        stored += 1
    await db.flush()
    return stored


async def sync_source(
    database: Database, settings: Settings, source_name: str, *, full: bool = True, progress=None
) -> DirectorySync | None:
    """Sync one LDAP/AD source now: full (who is missing gets deactivated, within the safety rules) or
    incremental (entries changed since the last successful sync; deactivates nobody). None if no such source."""
    async with database.transaction() as db:
        source = await service.source_by_name(db, source_name)
        if source is None:
            return None
        if source.kind != SourceKind.LDAP:
            raise ValidationFailed.one("source", N_("must be one of {values}"), values="LDAP")
        source_id = source.id
        failure = None
        try:
            ldap_settings = read_settings(source, settings.resolved_secret_key)
        except (ValueError, TypeError) as error:  # a bad setting or an undecryptable password
            failure = f"the source's settings are not usable: {error}"
        since = None
        if not full:
            last = await _last_success(db, source)
            if last is None:
                full = True  # nothing to be incremental from
            else:
                overlap = float((source.config or {}).get("incremental_overlap_seconds", 60))
                since = last - dt.timedelta(seconds=overlap)

    entries: list[Entry] = []
    if failure is None:
        try:
            entries = await asyncio.to_thread(search, ldap_settings, since)
        except Exception as error:  # any LDAP or network failure: report it, change nothing
            failure = f"LDAP search failed: {type(error).__name__}: {error}"

    async with database.transaction() as db:
        # One run per source at a time: a scheduled sync and a manual one must not interleave.
        await db.execute(text("SELECT pg_advisory_xact_lock(7411, :id)"), {"id": source_id})
        source = await db.get(DirectorySource, source_id)
        if failure is not None:
            return await service.run_batch(db, source, [], full=full, failure=failure)
        records, dns = to_records(entries, ldap_settings, await _known_dns(db, source))
        total = len(records)
        sync = await service.run_batch(
            db, source, records, full=full,
            progress=(lambda done: progress(done, total)) if progress else None,
        )
        errors = list(sync.errors)
        stored = await _store_photos(db, source, photos_of(entries, ldap_settings, dns), settings.photo_max_bytes,
                                     ldap_settings.photo_attribute or "", errors)
        await _store_dns(db, source, dns)
        if stored or len(errors) != len(sync.errors):
            sync.counts = {**sync.counts, "photos": stored}
            sync.errors = errors[:1000]
        return sync
