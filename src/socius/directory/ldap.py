"""LDAP and Active Directory pull sync with ldap3: read the entries, map them to records, hand them to the engine.

Only the protocol lives here (servers, binds, paged searches, attribute mapping, DNs, groups); what a record does to
a person — merging, precedence, deactivation and the safety rules — is `service.run_batch`'s business.

`source.config` keys: `servers` (URLs, tried in order: failover), `base_dn`, `user_filter`, `bind_dn`,
`flavor` ("openldap" or "ad": picks the default mapping, and AD's incremental syncs use uSNChanged),
`external_id_attribute`, `manager_attribute`, `photo_attribute` (jpegPhoto / thumbnailPhoto by default; empty for
none), TLS: `use_tls` (LDAPS), `start_tls`, `ca_file`, `validate` (verify the certificate: true by default);
groups: `group_base_dn`, `group_filter`, `member_of_attribute`, `department_groups` (group DN or cn → department),
`department_groups_under` (groups directly under this DN: their cn is the department);
`page_size`, `connect_timeout`, `receive_timeout`, `incremental_overlap_seconds`, `scheduled_full`.
The sync keeps `usn_watermarks` (server URL → highest uSNChanged seen) there itself. The bind password is
`source.secret_encrypted`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import functools
import hashlib
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from socius.config import Settings
from socius.core.db import Database, recordset, utcnow
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
DEFAULT_GROUP_FILTER = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"


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
    flavor: str = "openldap"
    use_tls: bool = False
    start_tls: bool = False
    ca_file: str | None = None
    validate: bool = True
    connect_timeout: int = 5
    receive_timeout: int = 60
    # Groups → department: searched under group_base_dn (None: no group search), and/or read from each user's
    # member_of_attribute. department_groups: normalised group DN or lower-case cn → department, in priority order.
    group_base_dn: str | None = None
    group_filter: str = DEFAULT_GROUP_FILTER
    member_of_attribute: str | None = None
    department_groups: dict[str, str] = field(default_factory=dict)
    department_groups_under: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uses_groups(self) -> bool:
        return bool(self.department_groups or self.department_groups_under)

    @property
    def uses_usn(self) -> bool:
        return self.flavor == "ad"


class IncompleteSearch(Exception):
    """The server stopped before returning every entry."""


class NoServer(Exception):
    """No server of the source could be connected to and bound; says why for each."""


@dataclass
class Entry:
    dn: str
    attributes: dict[str, list[bytes]]  # lower-cased attribute name → raw values


@dataclass
class Reading:
    """What one sync read from the directory."""

    entries: list[Entry]
    server: str  # the URL that answered
    groups: dict[str, list[str]] = field(default_factory=dict)  # normalised member DN → group DNs (group search)
    complete: bool = True  # every entry the filter selects was read (not only the changed ones)
    highest_usn: int | None = None


def _flag(config: dict, key: str, default: bool) -> bool:
    value = config.get(key, default)
    if isinstance(value, str):  # "false" from a form or a hand-written JSON
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def read_settings(source: DirectorySource, secret_key: str) -> LdapSettings:
    """The source's LDAP settings, with defaults for its flavour; raises ValueError if they are unusable."""
    config = source.config or {}
    problems = config_problems(config)
    if problems:
        raise ValueError("; ".join(f"config.{key} {reason}" for key, reason in problems))
    flavor = config.get("flavor", "openldap")
    servers = config.get("servers") or []
    if isinstance(servers, str):
        servers = [servers]
    password = None
    if source.secret_encrypted:
        from cryptography.fernet import InvalidToken

        try:
            password = service.decrypt_secret(secret_key, source.secret_encrypted)
        except InvalidToken:
            raise ValueError("the bind password cannot be decrypted (was the secret key changed?)") from None
    groups_under = config.get("department_groups_under") or None
    member_of = config.get("member_of_attribute", "memberOf" if flavor == "ad" else None) or None
    return LdapSettings(
        servers=list(servers), base_dn=config["base_dn"],
        user_filter=config.get("user_filter") or ("(&(objectClass=user)(objectCategory=person))" if flavor == "ad"
                                                  else "(objectClass=inetOrgPerson)"),
        bind_dn=config.get("bind_dn"), password=password,
        mapping=dict(source.mapping) if source.mapping else dict(AD_MAPPING if flavor == "ad" else OPENLDAP_MAPPING),
        external_id_attribute=config.get("external_id_attribute") or ("objectGUID" if flavor == "ad" else "uid"),
        manager_attribute=config.get("manager_attribute", "manager"),
        photo_attribute=config.get("photo_attribute", "thumbnailPhoto" if flavor == "ad" else "jpegPhoto"),
        page_size=int(config.get("page_size") or DEFAULT_PAGE_SIZE), flavor=flavor,
        use_tls=_flag(config, "use_tls", False), start_tls=_flag(config, "start_tls", False),
        ca_file=config.get("ca_file") or None, validate=_flag(config, "validate", True),
        connect_timeout=int(config.get("connect_timeout", 5)),
        receive_timeout=int(config.get("receive_timeout", 60)),
        # Without memberOf, the groups under department_groups_under must be searched to know their members.
        group_base_dn=config.get("group_base_dn") or (None if member_of else groups_under),
        group_filter=config.get("group_filter") or DEFAULT_GROUP_FILTER,
        member_of_attribute=member_of,
        department_groups={(normalize_dn(k) if "=" in k else k.strip().lower()): v
                           for k, v in (config.get("department_groups") or {}).items()},
        department_groups_under=groups_under,
        extra=config,
    )


def config_problems(config: dict[str, Any], *, partial: bool = False) -> list[tuple[str, str]]:
    """What is wrong with an LDAP source's config, as (key, reason) pairs: empty if it is usable.
    `partial`: only the keys present (a source may be added first and configured later)."""
    problems = []
    servers = config.get("servers") or []
    if isinstance(servers, str):
        servers = [servers]
    if (not partial or "servers" in config) and (not servers or not all(
            isinstance(s, str) and s.startswith(("ldap://", "ldaps://")) for s in servers)):
        problems.append(("servers", "must list at least one ldap:// or ldaps:// URL"))
    if (not partial or "base_dn" in config) and not config.get("base_dn"):
        problems.append(("base_dn", "is required"))
    if config.get("flavor", "openldap") not in {"openldap", "ad"}:
        problems.append(("flavor", "must be openldap or ad"))
    ca_file = config.get("ca_file")
    if ca_file and not (isinstance(ca_file, str) and os.path.isfile(ca_file) and os.access(ca_file, os.R_OK)):
        problems.append(("ca_file", f"is not a readable file: {ca_file}"))
    if _flag(config, "use_tls", False) and _flag(config, "start_tls", False):
        problems.append(("start_tls", "cannot be combined with use_tls (LDAPS is already encrypted)"))
    groups = config.get("department_groups")
    if groups is not None and not (isinstance(groups, dict) and all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in groups.items())):
        problems.append(("department_groups", "must map group DNs or names to department names"))
    for key in ("page_size", "connect_timeout", "receive_timeout"):
        if key in config:
            try:
                if int(config[key]) < 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append((key, "must be a whole number above 0"))
    return problems


# --- reading the directory (blocking: runs in a worker thread) -----------------------------------------------

def _tls(settings: LdapSettings):
    import ssl

    import ldap3

    return ldap3.Tls(validate=ssl.CERT_REQUIRED if settings.validate else ssl.CERT_NONE,
                     ca_certs_file=settings.ca_file)


def _why(error: Exception, settings: LdapSettings) -> str:
    """A failure to connect or search, in words an administrator can act on (ldap3's own bury the TLS reason)."""
    if isinstance(error, NoServer | IncompleteSearch):
        return str(error)
    text_ = str(error)
    verify = re.search(r"certificate verify failed: ([^(]+)", text_)
    if verify or "CERTIFICATE_VERIFY_FAILED" in text_:
        trusted = f"the CA in ca_file {settings.ca_file}" if settings.ca_file else "the system's CAs"
        detail = f" ({verify.group(1).strip()})" if verify else ""
        return f"TLS: the server's certificate is not trusted by {trusted}{detail}"
    if type(error).__name__ == "LDAPCertificateError" or "doesn't match any name in" in text_:
        return "TLS: the server's certificate does not name this host (use a name or address it lists)"
    return f"{type(error).__name__}: {text_}"


def connect(settings: LdapSettings):
    """A bound connection to the first server that answers, tried in order (failover), and its URL.

    Raises NoServer with each server's reason: a pool would only say "exhausted", hiding a TLS or bind problem."""
    import ldap3
    from ldap3.core.exceptions import LDAPBindError, LDAPInvalidCredentialsResult

    encrypted = settings.use_tls or settings.start_tls or any(s.startswith("ldaps://") for s in settings.servers)
    tls = _tls(settings) if encrypted else None
    reasons = []
    for url in settings.servers:
        server = ldap3.Server(url, use_ssl=url.startswith("ldaps://") or settings.use_tls, tls=tls,
                              get_info=ldap3.NONE, connect_timeout=settings.connect_timeout)
        conn = ldap3.Connection(server, user=settings.bind_dn, password=settings.password,
                                auto_bind=ldap3.AUTO_BIND_NONE, receive_timeout=settings.receive_timeout,
                                raise_exceptions=True, read_only=True)
        try:
            conn.open()
            if settings.start_tls:
                conn.start_tls()
            conn.bind()
        except (LDAPBindError, LDAPInvalidCredentialsResult) as error:
            # The server answered and refused the credentials: the others would too, and each failed bind counts
            # towards the account's lockout.
            with contextlib.suppress(Exception):
                conn.unbind()
            raise NoServer("; ".join([*reasons, f"{url}: the bind was refused: {_why(error, settings)}"])) from None
        except Exception as error:  # any socket or TLS failure: try the next server
            reasons.append(f"{url}: {_why(error, settings)}")
            with contextlib.suppress(Exception):  # closing a connection that may never have opened
                conn.unbind()
            continue
        return conn, url
    raise NoServer("; ".join(reasons))


def _entries(conn, settings: LdapSettings, base: str, query: str, attributes, scope=None) -> Iterator[Entry]:
    """The entries a paged search finds, as the pages arrive."""
    import ldap3

    for item in conn.extend.standard.paged_search(
        base, query, search_scope=scope or ldap3.SUBTREE, attributes=sorted(attributes),
        paged_size=settings.page_size, generator=True,
    ):
        if item.get("type") != "searchResEntry":
            continue  # referrals
        yield Entry(item["dn"], {name.lower(): list(values) for name, values in item["raw_attributes"].items()})
    # ldap3 does not raise for sizeLimitExceeded or timeLimitExceeded: a cut-short list is not the directory,
    # and a full sync must not take it for one (those not listed would be deactivated).
    result = conn.result or {}
    if result.get("result", 0) != 0:
        raise IncompleteSearch(f"the server ended the search early: {result.get('description')} "
                               f"{result.get('message') or ''}".strip())


def _paged(conn, settings: LdapSettings, base: str, query: str, attributes, scope=None) -> list[Entry]:
    return list(_entries(conn, settings, base, query, attributes, scope))


def _user_attributes(settings: LdapSettings) -> set[str]:
    attributes = {settings.external_id_attribute, *settings.mapping}
    attributes.update(a for a in (settings.manager_attribute, settings.photo_attribute) if a)
    if settings.uses_groups and settings.member_of_attribute:  # a user may be in hundreds of groups: only if used
        attributes.add(settings.member_of_attribute)
    if settings.uses_usn:
        attributes.add("uSNChanged")
    return attributes


def _wrap(query: str) -> str:
    return query if query.startswith("(") else f"({query})"


def search(settings: LdapSettings, since: dt.datetime | None = None) -> list[Entry]:
    """Every entry the filter selects (changed since `since`, if given), page by page."""
    query = _wrap(settings.user_filter)
    if since is not None:
        query = f"(&{query}(modifyTimestamp>={since.astimezone(dt.UTC):%Y%m%d%H%M%SZ}))"
    conn, _ = connect(settings)
    try:
        return _paged(conn, settings, settings.base_dn, query, _user_attributes(settings))
    finally:
        conn.unbind()


def members(conn, group: Entry, attribute: str) -> list[bytes]:
    """Every value of a group's member attribute. AD returns those of a large group in ranges
    (`member;range=0-1499`, then asks to be asked for `member;range=1500-*`, …) and an empty `member`."""
    import ldap3

    name = attribute.lower()
    values = list(group.attributes.get(name, []))
    attributes = group.attributes
    while ranged := next((key for key in attributes if key.startswith(f"{name};range=")), None):
        values += attributes[ranged]
        end = ranged.rsplit("-", 1)[-1]
        if end == "*":
            break
        conn.search(group.dn, "(objectClass=*)", search_scope=ldap3.BASE,
                    attributes=[f"{attribute};range={int(end) + 1}-*"])
        found = [item for item in conn.response or [] if item.get("type") == "searchResEntry"]
        if not found:
            break
        attributes = {key.lower(): list(v) for key, v in found[0]["raw_attributes"].items()}
    return values


def read_directory(
    settings: LdapSettings, *, since: dt.datetime | None = None, usn_watermarks: dict[str, int] | None = None,
    stale_groups: dict[str, tuple[str, str | None]] | None = None,
    on_page: Callable[[Reading, list[Entry]], None] | None = None,
) -> Reading:
    """One sync's reading: the group memberships (once, paged), then the users — all of them, or for an
    incremental run those changed since `since` (OpenLDAP: modifyTimestamp) or above the answering server's
    uSNChanged watermark (AD: USNs are per domain controller, so a server without one is read in full).

    `stale_groups` (incremental runs with a group search: normalised DN → (DN, the department the groups gave it
    last time)) finds users whose entry did not change but whose membership did: they are re-read (one base
    search each) so their department follows.

    With `on_page`, the users are handed over a page at a time as they arrive, with the reading so far (server and
    groups), instead of being kept in the reading: a sync applies one page while the next is read."""
    import ldap3
    from ldap3.core.exceptions import LDAPNoSuchObjectResult

    conn, url = connect(settings)
    try:
        groups: dict[str, list[str]] = {}
        if settings.group_base_dn:
            member_attributes = ("member", "uniqueMember")
            for group in _entries(conn, settings, settings.group_base_dn, _wrap(settings.group_filter),
                                  member_attributes):
                for attribute in member_attributes:
                    for value in members(conn, group, attribute):
                        # uniqueMember may carry an optional UID after '#': the DN is before it.
                        member = value.decode("utf-8", "replace").split("#")[0]
                        groups.setdefault(normalize_dn(member), []).append(group.dn)
        query = _wrap(settings.user_filter)
        complete = True
        if settings.uses_usn and usn_watermarks is not None:
            if url in usn_watermarks:
                query = f"(&{query}(uSNChanged>={int(usn_watermarks[url]) + 1}))"
                complete = False
        elif since is not None:
            query = f"(&{query}(modifyTimestamp>={since.astimezone(dt.UTC):%Y%m%d%H%M%SZ}))"
            complete = False
        reading = Reading([], url, groups, complete)
        read: set[str] = set()
        page: list[Entry] = []

        def take(entry: Entry) -> None:
            read.add(normalize_dn(entry.dn))
            if settings.uses_usn and (usn := entry.attributes.get("usnchanged")) and usn[0].isdigit():
                reading.highest_usn = max(int(usn[0]), reading.highest_usn or 0)
            (page if on_page else reading.entries).append(entry)
            if on_page and len(page) >= settings.page_size:
                on_page(reading, page[:])
                page.clear()

        attributes = _user_attributes(settings)
        for entry in _entries(conn, settings, settings.base_dn, query, attributes):
            take(entry)
        if stale_groups and not complete:
            for key, (dn, before) in stale_groups.items():
                if key in read or department_of(groups.get(key, []), settings) == before:
                    continue
                # Its membership changed but the entry did not (a group's member list is not the user's entry).
                try:
                    for entry in _entries(conn, settings, dn, _wrap(settings.user_filter), attributes,
                                          scope=ldap3.BASE):
                        take(entry)
                except LDAPNoSuchObjectResult:
                    continue  # gone: only a full sync deactivates
        if on_page and page:
            on_page(reading, page)
        return reading
    finally:
        conn.unbind()


class ReadFailed(Exception):
    """The directory could not be read (the cause says why)."""


class _Stopped(Exception):
    """The sync stopped taking pages."""


async def read_in_background(settings: LdapSettings, **options: Any) -> AsyncIterator[tuple[Reading, list[Entry]]]:
    """`read_directory` in a worker thread, yielding (reading so far, entries) a page at a time as they arrive —
    the caller applies a page while the next is read — and last (the whole reading, []). A failure to read
    raises ReadFailed."""
    loop = asyncio.get_running_loop()
    pages: asyncio.Queue = asyncio.Queue(maxsize=2)  # what is read ahead waits here, two pages at most
    stop = threading.Event()

    def put(item: Any) -> None:
        handed = asyncio.run_coroutine_threadsafe(pages.put(item), loop)
        while True:
            try:
                return handed.result(timeout=0.5)
            except concurrent.futures.TimeoutError:
                if stop.is_set():  # the sync gave up (it failed, or was cancelled): stop reading
                    handed.cancel()
                    raise _Stopped from None

    def read() -> None:
        try:
            put((read_directory(settings, on_page=lambda reading, entries: put((reading, entries)), **options), []))
        except _Stopped:
            pass
        except Exception as error:  # any LDAP or network failure: the sync reports it
            with contextlib.suppress(_Stopped):
                put(ReadFailed(error))

    threading.Thread(target=read, name="ldap-read", daemon=True).start()
    try:
        while True:
            item = await pages.get()
            if isinstance(item, ReadFailed):
                raise item
            yield item
            if not item[1]:
                return
    finally:
        stop.set()


# --- entries → records -------------------------------------------------------------------------------------

def normalize_dn(dn: str) -> str:
    """DNs compare case-insensitively and ignore spaces around separators (enough for DNs a directory writes)."""
    return ",".join(part.strip().lower() for part in dn.split(","))


def _unescape(value: str) -> str:
    """An RDN value without RFC 4514 escapes (`\\,` and `\\E7` style hex pairs of UTF-8)."""
    out = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if re.fullmatch(r"[0-9a-fA-F]{2}", pair):
                out.append(int(pair, 16))
                i += 3
                continue
            i += 1
        out += value[i].encode()
        i += 1
    return out.decode("utf-8", "replace")


@functools.lru_cache(maxsize=4096)
def _rdns(dn: str) -> tuple[tuple[str, str], ...] | None:
    """(attribute, value) of each RDN, lower-cased and unescaped; None for a DN that does not parse."""
    from ldap3.utils.dn import parse_dn

    try:
        return tuple((a.strip().lower(), _unescape(v).strip().lower()) for a, v, _ in parse_dn(dn))
    except Exception:  # a malformed DN names no group we know
        return None


@functools.lru_cache(maxsize=4096)
def _group_name(dn: str) -> str | None:
    """A group's name as an administrator would write it: its first RDN's value, unescaped, case kept."""
    from ldap3.utils.dn import parse_dn

    try:
        return _unescape(parse_dn(dn)[0][1]).strip() or None
    except Exception:
        return None


def department_of(group_dns: list[str], settings: LdapSettings) -> str | None:
    """The department a member of these groups belongs to: the first `department_groups` entry (in the order the
    administrator wrote them) naming one of the groups by DN or cn; else the first by name of the groups directly
    under `department_groups_under`; else None."""
    if not group_dns:
        return None
    if settings.department_groups:
        keys = {normalize_dn(g) for g in group_dns} | {(_group_name(g) or "").lower() for g in group_dns}
        for key, department in settings.department_groups.items():
            if key in keys:
                return department.strip()
    if settings.department_groups_under:
        parent = _rdns(settings.department_groups_under)
        names = sorted(_group_name(g) or "" for g in group_dns
                       if (rdns := _rdns(g)) and parent is not None and rdns[1:] == parent)
        if names and names[0]:
            return names[0]
    return None


def departments_by_dn(
    entries: list[Entry], groups: dict[str, list[str]], settings: LdapSettings
) -> dict[str, str | None]:
    """Each entry's department by its groups (normalised DN → department, None if no department group):
    members listed by the groups searched, and the entry's own memberOf (AD)."""
    out: dict[str, str | None] = {}
    attribute = (settings.member_of_attribute or "").lower()
    for entry in entries:
        key = normalize_dn(entry.dn)
        member_of = [v.decode("utf-8", "replace") for v in entry.attributes.get(attribute, [])] if attribute else []
        out[key] = department_of([*groups.get(key, []), *member_of], settings)
    return out


def _text(values: list[bytes], attribute: str) -> str | None:
    if not values:
        return None
    value = values[0]
    if attribute.lower() in GUID_ATTRIBUTES and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))
    return value.decode("utf-8").strip() or None


class Converter:
    """Entries → records for the engine, a page at a time, remembering what earlier pages gave: each DN's external
    id (to find managers), the external ids seen (duplicates), each record's DN, department and photo, and the
    managers named by a DN no entry read so far has."""

    def __init__(self, settings: LdapSettings, known_dns: dict[str, str] | None = None,
                 groups: dict[str, list[str]] | None = None) -> None:
        self.settings = settings
        self.known = known_dns or {}  # DNs stored by earlier syncs: an incremental run does not see unchanged managers
        self.groups = groups if settings.uses_groups else None
        self.external_ids: dict[str, str] = {}  # normalised DN → external id, of this run's entries
        self.seen: set[str] = set()
        self.dns: dict[str, str] = {}  # external id → DN
        self.departments: dict[str, str | None] | None = {} if self.groups is not None else None
        self.photos: dict[str, bytes] = {}
        self.unresolved: dict[str, str] = {}  # external id → its manager's normalised DN, not read yet

    def convert(self, entries: list[Entry]) -> list:
        """Records (or `{"error": …}` for entries that cannot be read). A manager's DN is looked up among this
        run's entries, then among the known DNs; one not found yet is kept for `late_managers`. A department
        given by the entry's groups wins over the one its attributes give."""
        settings = self.settings
        departments = departments_by_dn(entries, self.groups, settings) if self.groups is not None else None
        if departments is not None:
            self.departments.update(departments)
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
            self.external_ids.setdefault(normalize_dn(entry.dn), external_id)
            parsed.append((entry, external_id))
        for entry, external_id in parsed:
            if external_id in self.seen:
                out.append({"error": {"entry": entry.dn, "field": settings.external_id_attribute,
                                      "reason": f"duplicate external id {external_id}"}})
                continue
            self.seen.add(external_id)
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
            if departments and departments.get(normalize_dn(entry.dn)):
                values["department"] = departments[normalize_dn(entry.dn)]
            manager = None
            if settings.manager_attribute:
                try:
                    manager_dn = _text(entry.attributes.get(settings.manager_attribute.lower(), []), "manager")
                except UnicodeDecodeError:
                    manager_dn = None
                if manager_dn:
                    key = normalize_dn(manager_dn)
                    manager = self.external_ids.get(key) or self.known.get(key)
                    if manager is None:
                        self.unresolved[external_id] = key
            out.append(service.Record(external_id=external_id, values=values, manager_external_id=manager,
                                      raw=identity_raw(entry.dn, departments)))
            self.dns[external_id] = entry.dn
            photo = entry.attributes.get((settings.photo_attribute or "").lower())
            if settings.photo_attribute and photo:
                self.photos[external_id] = photo[0]
        return out

    def late_managers(self) -> dict[str, str]:
        """Managers whose entry was read after the entries naming them: external id → manager's external id."""
        return {e: self.external_ids[key] for e, key in self.unresolved.items() if key in self.external_ids}


# --- a sync run ----------------------------------------------------------------------------------------------

async def _last_success(db, source: DirectorySource) -> dt.datetime | None:
    return await db.scalar(select(DirectorySync.started_at).where(
        DirectorySync.source_id == source.id, DirectorySync.status == SyncStatus.SUCCEEDED,
        DirectorySync.dry_run.is_(False)).order_by(DirectorySync.started_at.desc()).limit(1))


async def _known_dns(db, source: DirectorySource) -> dict[str, str]:
    rows = await db.execute(select(DirectoryIdentity.raw["dn"].astext, DirectoryIdentity.external_id).where(
        DirectoryIdentity.source_id == source.id, DirectoryIdentity.raw.has_key("dn")))
    return {normalize_dn(dn): external_id for dn, external_id in rows.all() if dn}


async def _stale_groups(db, source: DirectorySource) -> dict[str, tuple[str, str | None]]:
    """Each active entry's DN and the department its groups gave it last time (see read_directory)."""
    raw = DirectoryIdentity.raw
    rows = await db.execute(select(raw["dn"].astext, raw["group_department"].astext).where(
        DirectoryIdentity.source_id == source.id, DirectoryIdentity.active.is_(True), raw.has_key("dn")))
    return {normalize_dn(dn): (dn, department) for dn, department in rows.all() if dn}


def identity_raw(dn: str, departments: dict[str, str | None] | None) -> dict[str, Any]:
    """What an identity keeps of its entry: the DN, and (with groups) the department its groups gave it."""
    if departments is None:
        return {"dn": dn}
    return {"dn": dn, "group_department": departments.get(normalize_dn(dn))}


async def _store_dns(
    db, source: DirectorySource, dns: dict[str, str], departments: dict[str, str | None] | None = None
) -> None:
    """Keep each entry's DN in its identity, to resolve managers in later incremental runs, and (with groups) the
    department its groups gave it, to notice membership changes then."""
    if not dns:
        return
    table = DirectoryIdentity.__table__
    new = recordset(table, ("external_id", "raw"))
    await db.execute(update(table).where(table.c.source_id == source.id, table.c.external_id == new.c.external_id,
                                         ~table.c.raw.contains(new.c.raw))
                     .values(raw=table.c.raw.op("||")(new.c.raw)),
                     {"rows": [{"external_id": e, "raw": identity_raw(dn, departments)} for e, dn in dns.items()]})


async def _store_managers(db, source: DirectorySource, managers: dict[str, str]) -> None:
    """Set the manager's external id of these entries (external id → manager's), in one statement."""
    if not managers:
        return
    table = DirectoryIdentity.__table__
    new = recordset(table, ("external_id", "manager_external_id"))
    await db.execute(update(table).where(table.c.source_id == source.id, table.c.external_id == new.c.external_id)
                     .values(manager_external_id=new.c.manager_external_id),
                     {"rows": [{"external_id": e, "manager_external_id": m} for e, m in managers.items()]})


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
        since, watermarks, stale = None, None, None
        if not full:
            last = await _last_success(db, source)
            if last is None:
                full = True  # nothing to be incremental from
            else:
                overlap = float((source.config or {}).get("incremental_overlap_seconds", 60))
                since = last - dt.timedelta(seconds=overlap)
                watermarks = dict((source.config or {}).get("usn_watermarks") or {})
                if failure is None and ldap_settings.uses_groups and ldap_settings.group_base_dn:
                    stale = await _stale_groups(db, source)

    if failure is None:
        try:
            return await _sync(database, settings, source_id, ldap_settings, full, progress,
                               since=since, usn_watermarks=watermarks, stale_groups=stale)
        except ReadFailed as error:  # any LDAP or network failure: what was applied is rolled back, and reported
            failure = f"LDAP search failed: {_why(error.args[0], ldap_settings)}"
    async with database.transaction() as db:
        await db.execute(text("SELECT pg_advisory_xact_lock(7411, :id)"), {"id": source_id})
        return await service.run_batch(db, await db.get(DirectorySource, source_id), [], full=full, failure=failure)


async def _sync(
    database: Database, settings: Settings, source_id: int, ldap_settings: LdapSettings, full: bool, progress,
    **reading_options: Any,
) -> DirectorySync:
    """Read the directory and apply it in one transaction, a page applied while the next is read."""
    async with database.transaction() as db:
        # One run per source at a time: a scheduled sync and a manual one must not interleave.
        await db.execute(text("SELECT pg_advisory_xact_lock(7411, :id)"), {"id": source_id})
        source = await db.get(DirectorySource, source_id)
        known = await _known_dns(db, source)
        converter: Converter | None = None
        reading: Reading | None = None

        async def records():
            nonlocal converter, reading
            async for reading, entries in read_in_background(ldap_settings, **reading_options):
                converter = converter or Converter(ldap_settings, known, reading.groups)
                for record in converter.convert(entries):
                    yield record

        async def late_managers() -> None:
            # A manager named before their entry was read: the identities learn it before managers are resolved.
            await _store_managers(db, source, converter.late_managers())

        sync = await service.run_batch(db, source, records(), full=full, before_managers=late_managers,
                                       progress=progress)
        errors = list(sync.errors)
        stored = await _store_photos(db, source, converter.photos, settings.photo_max_bytes,
                                     ldap_settings.photo_attribute or "", errors)
        await _store_dns(db, source, converter.dns, converter.departments)
        if stored or len(errors) != len(sync.errors):
            sync.counts = {**sync.counts, "photos": stored}
            sync.errors = errors[:1000]
        if not full and reading.complete:
            sync.note = " ".join(filter(None, [sync.note, f"No uSNChanged watermark for {reading.server} yet: "
                                               "every entry was read (and nobody deactivated)."]))
        if ldap_settings.uses_usn and reading.highest_usn is not None and sync.status == SyncStatus.SUCCEEDED:
            # USNs are per domain controller: the next incremental run asks the same server for what came after.
            marks = dict((source.config or {}).get("usn_watermarks") or {})
            marks[reading.server] = max(reading.highest_usn, int(marks.get(reading.server, 0)))
            source.config = {**(source.config or {}), "usn_watermarks": marks}
        return sync
