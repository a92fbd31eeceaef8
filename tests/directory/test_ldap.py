"""LDAP pull sync against two real slapd servers: one OpenLDAP-style (inetOrgPerson), one AD-style (msuser)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import time
import uuid

import psycopg
import pytest
from sqlalchemy import func, select

from socius.core import runtime
from socius.core.db import Database, libpq_conninfo
from socius.directory import ldap, service
from socius.directory.models import DirectorySource, DirectorySync, SyncStatus
from socius.directory.tasks import directory_schedule, directory_sync, due_sources
from socius.people.models import Person, PersonPhoto
from tests.directory import slapd


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two directories, started once for the module; each test works in an OU of its own."""
    tmp = tmp_path_factory.mktemp("slapd")
    corp = slapd.start(tmp / "corp", "dc=corp,dc=test")
    try:
        ad = slapd.start(tmp / "ad", "dc=ad,dc=test", ad=True)
    except BaseException:
        corp.stop()
        raise
    yield corp, ad
    ad.stop()
    corp.stop()


class Directories:
    """One test's corner of both servers, and the two sources that read them."""

    def __init__(self, corp: slapd.Slapd, ad: slapd.Slapd) -> None:
        self.corp, self.ad = corp, ad
        self.ou = "t" + uuid.uuid4().hex[:10]
        self.corp_base = f"ou={self.ou},{corp.suffix}"
        self.ad_base = f"ou={self.ou},{ad.suffix}"
        for server, base in ((corp, self.corp_base), (ad, self.ad_base)):
            server.ldapadd(f"dn: {base}\nobjectClass: organizationalUnit\nou: {self.ou}\n")

    def corp_dn(self, uid: str) -> str:
        return f"uid={uid},{self.corp_base}"

    def ad_dn(self, name: str) -> str:
        return f"cn={name},{self.ad_base}"

    def add_corp(self, uid: str, name: str, *, mail: str | None = None, manager: str | None = None,
                 **attributes: str) -> None:
        lines = [f"dn: {self.corp_dn(uid)}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {name}",
                 f"sn: {name.split()[-1]}"]
        if mail:
            lines.append(f"mail: {mail}")
        if manager:
            lines.append(f"manager: {self.corp_dn(manager)}")
        lines += [f"{k}: {v}" for k, v in attributes.items()]
        self.corp.ldapadd("\n".join(lines) + "\n")

    def add_ad(self, name: str, *, guid: uuid.UUID | None, mail: str | None = None, manager: str | None = None,
               member_of: tuple[str, ...] = (), **attributes: str) -> None:
        lines = [f"dn: {self.ad_dn(name)}", "objectClass: user", "objectClass: extensibleObject", f"cn: {name}",
                 f"sn: {name.split()[-1]}", "instanceType: 4", "nTSecurityDescriptor:: AA==",
                 f"objectCategory: cn=Person,{self.ad.suffix}", f"sAMAccountName: {name.split()[0].lower()}"]
        if guid:
            lines.append(f"objectGUID:: {base64.b64encode(guid.bytes_le).decode()}")
        if mail:
            lines.append(f"mail: {mail}")
        if manager:
            lines.append(f"manager: {self.ad_dn(manager)}")
        lines += [f"memberOf: {group}" for group in member_of]
        lines += [f"{k}: {v}" for k, v in attributes.items()]
        self.ad.ldapadd("\n".join(lines) + "\n")

    def modify(self, server: slapd.Slapd, dn: str, attribute: str, value: str) -> None:
        server.ldapmodify(f"dn: {dn}\nchangetype: modify\nreplace: {attribute}\n{attribute}: {value}\n")


@pytest.fixture
def dirs(servers) -> Directories:
    return Directories(*servers)


@pytest.fixture
async def database(scratch_database):
    """Syncs commit: a database of this test's own."""
    db = Database(scratch_database, pool_size=2)
    yield db
    await db.dispose()


async def add_sources(database, settings, dirs: Directories, *, min_seen_ratio: float = 0.5, **corp_config):
    async with database.transaction() as db:
        corp = await service.create_source(
            db, None, name="corp", kind="ldap", precedence=200, link_by=["email"], min_seen_ratio=min_seen_ratio,
            config={"servers": [dirs.corp.url], "base_dn": dirs.corp_base, "bind_dn": dirs.corp.admin_dn,
                    "page_size": 2, "incremental_overlap_seconds": 0, **corp_config},
        )
        ad = await service.create_source(
            db, None, name="ad", kind="ldap", precedence=100, link_by=["email"], min_seen_ratio=min_seen_ratio,
            config={"servers": [dirs.ad.url], "base_dn": dirs.ad_base, "bind_dn": dirs.ad.admin_dn,
                    "flavor": "ad", "user_filter": "(objectClass=user)", "page_size": 2},
        )
        for source in (corp, ad):
            source.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key, slapd.PASSWORD)


async def person_by_email(database, email: str) -> Person:
    async with database.transaction() as db:
        return await db.scalar(select(Person).where(Person.email == email))


async def count_people(database) -> int:
    async with database.transaction() as db:
        return await db.scalar(select(func.count()).select_from(Person))


ALICE, BOB, DAVE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def load_people(dirs: Directories) -> None:
    """Alice and Bob are in both directories, Carol and Erin only in corp, Dave only in AD."""
    dirs.add_corp("bob", "Bob Wang", mail="bob@example.com", title="Director", employeeNumber="E2")
    dirs.add_corp("alice", "Alice Chen", mail="Alice@Example.com", manager="bob", title="Senior Engineer",
                  departmentNumber="Research", employeeNumber="E1")
    dirs.add_corp("carol", "Carol Lin", mail="carol@example.com", manager="alice", l="Taipei")
    dirs.add_corp("erin", "Erin Wu", mail="erin@example.com")
    dirs.add_ad("Alice Chen", guid=ALICE, mail="alice@example.com", title="Engineer", department="R&D",
                telephoneNumber="+886 2 1234 5678")
    dirs.add_ad("Bob Wang", guid=BOB, mail="bob@example.com")
    dirs.add_ad("Dave Ho", guid=DAVE, mail="dave@example.com", manager="Alice Chen", department="Sales")


async def test_two_directories_feed_one_person_per_human(database, settings, dirs):
    load_people(dirs)
    # Broken entries: no external id (AD, no objectGUID), an e-mail that is not one (corp).
    dirs.add_ad("Ghost Entry", guid=None, mail="ghost@example.com")
    dirs.add_corp("frank", "Frank Bad", mail="not-an-address")
    await add_sources(database, settings, dirs)

    ticks = []
    corp = await ldap.sync_source(database, settings, "corp", progress=lambda done, total=None: ticks.append(done))
    assert corp.status == SyncStatus.SUCCEEDED, corp.note
    assert corp.counts["added"] == 4 and corp.seen == 5
    assert [e["entry"] for e in corp.errors] == ["frank"] and corp.errors[0]["field"] == "email"
    assert ticks and ticks[-1] == 5
    ad = await ldap.sync_source(database, settings, "ad")
    assert ad.status == SyncStatus.SUCCEEDED, ad.note
    assert ad.counts["merged"] == 2 and ad.counts["added"] == 1
    assert len(ad.errors) == 1 and ad.errors[0]["entry"] == dirs.ad_dn("Ghost Entry")
    assert ad.errors[0]["field"] == "objectGUID"

    assert await count_people(database) == 5  # Alice, Bob, Carol, Erin, Dave: the broken entries made nobody
    alice = await person_by_email(database, "alice@example.com")
    bob = await person_by_email(database, "bob@example.com")
    carol = await person_by_email(database, "carol@example.com")
    dave = await person_by_email(database, "dave@example.com")
    # corp ranks higher: its title and department win; the phone only AD gives is taken from AD.
    assert (alice.title, alice.department, alice.phone) == ("Senior Engineer", "Research", "+886 2 1234 5678")
    assert alice.employee_number == "E1" and carol.location == "Taipei"
    # Managers by DN, in each directory: Carol → Alice → Bob (corp), Dave → Alice (AD).
    assert (carol.manager_id, alice.manager_id, dave.manager_id) == (alice.id, bob.id, alice.id)
    assert dave.department == "Sales"


async def test_a_manager_read_after_their_reports_is_resolved(database, settings, dirs):
    # Pages are applied as they are read (two entries a page here): Ann and Bo name Kim, whose entry comes later.
    dirs.add_corp("ann", "Ann Lee", mail="ann@example.com", manager="kim")
    dirs.add_corp("bo", "Bo Chan", mail="bo@example.com", manager="kim")
    dirs.add_corp("cy", "Cy Yu", mail="cy@example.com", manager="ann")
    dirs.add_corp("kim", "Kim Ng", mail="kim@example.com")
    await add_sources(database, settings, dirs)
    first = await ldap.sync_source(database, settings, "corp")
    assert first.status == SyncStatus.SUCCEEDED, first.note
    assert first.counts == {"added": 4, "managers": 3}
    kim, ann = await person_by_email(database, "kim@example.com"), await person_by_email(database, "ann@example.com")
    assert (ann.manager_id, (await person_by_email(database, "bo@example.com")).manager_id) == (kim.id, kim.id)
    assert (await person_by_email(database, "cy@example.com")).manager_id == ann.id
    again = await ldap.sync_source(database, settings, "corp")
    assert again.counts == {"unchanged": 4, "managers": 0}


async def test_a_person_stays_while_any_directory_lists_them(database, settings, dirs):
    load_people(dirs)
    await add_sources(database, settings, dirs)
    await ldap.sync_source(database, settings, "corp")
    await ldap.sync_source(database, settings, "ad")

    dirs.corp.delete(dirs.corp_dn("bob"))
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.SUCCEEDED and report.counts.get("deactivated", 0) == 0
    assert (await person_by_email(database, "bob@example.com")).deactivated_at is None  # AD still lists Bob

    dirs.ad.delete(dirs.ad_dn("Bob Wang"))
    report = await ldap.sync_source(database, settings, "ad")
    assert report.counts["deactivated"] == 1
    bob = await person_by_email(database, "bob@example.com")
    assert bob is not None and bob.deactivated_at is not None  # former, profile kept
    assert bob.display_name == "Bob Wang" and bob.title == "Director"
    assert await count_people(database) == 5


async def test_a_sync_that_sees_far_fewer_people_deactivates_nobody(database, settings, dirs):
    load_people(dirs)
    await add_sources(database, settings, dirs, min_seen_ratio=0.9)
    await ldap.sync_source(database, settings, "corp")
    dirs.corp.delete(dirs.corp_dn("carol"), dirs.corp_dn("erin"))  # half of corp gone at once

    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.SUCCEEDED
    assert report.counts.get("deactivated", 0) == 0
    assert "seen 2 of 4" in report.note and "nobody deactivated" in report.note
    assert (await person_by_email(database, "carol@example.com")).deactivated_at is None


async def test_an_unreachable_server_fails_the_sync_and_deactivates_nobody(database, settings, dirs):
    load_people(dirs)
    dead = f"ldap://127.0.0.1:{slapd.free_port()}"
    await add_sources(database, settings, dirs, connect_timeout=2)
    await ldap.sync_source(database, settings, "corp")

    async with database.transaction() as db:
        source = await service.source_by_name(db, "corp")
        source.config = {**source.config, "servers": [dead]}
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.FAILED and report.seen == 0
    assert "LDAP search failed" in report.note
    assert report.counts.get("deactivated", 0) == 0
    assert (await person_by_email(database, "alice@example.com")).deactivated_at is None

    # Failover: the dead server first, the live one second.
    async with database.transaction() as db:
        source = await service.source_by_name(db, "corp")
        source.config = {**source.config, "servers": [dead, dirs.corp.url]}
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["unchanged"] == 4, report.counts


async def test_a_wrong_bind_password_fails_the_sync(database, settings, dirs):
    load_people(dirs)
    await add_sources(database, settings, dirs)
    async with database.transaction() as db:
        source = await service.source_by_name(db, "corp")
        source.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key, "wrong")
        # A second server: a refused bind is not retried elsewhere (each failure counts towards a lockout).
        second = f"ldap://127.0.0.1:{slapd.free_port()}"
        source.config = {**source.config, "servers": [dirs.corp.url, second]}
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.FAILED and "wrong" not in report.note
    assert f"{dirs.corp.url}: the bind was refused" in report.note and second not in report.note, report.note
    assert await count_people(database) == 0
    assert await ldap.sync_source(database, settings, "no such source") is None


async def test_an_incremental_sync_picks_up_changes_and_deactivates_nobody(database, settings, dirs):
    load_people(dirs)
    await add_sources(database, settings, dirs)
    time.sleep(1.1)  # modifyTimestamp has one-second resolution: keep loading, syncing and changing apart
    await ldap.sync_source(database, settings, "corp")
    time.sleep(1.1)
    dirs.modify(dirs.corp, dirs.corp_dn("alice"), "title", "Principal Engineer")
    # Carol now reports to Bob, who did not change: his DN is known from the full sync.
    dirs.modify(dirs.corp, dirs.corp_dn("carol"), "manager", dirs.corp_dn("bob"))

    report = await ldap.sync_source(database, settings, "corp", full=False)
    assert report.status == SyncStatus.SUCCEEDED
    assert report.seen == 2 and report.counts["updated"] == 1 and report.counts["managers"] == 1
    assert report.counts.get("deactivated", 0) == 0  # the unchanged people were not seen, and that is fine
    alice = await person_by_email(database, "alice@example.com")
    bob = await person_by_email(database, "bob@example.com")
    carol = await person_by_email(database, "carol@example.com")
    assert alice.title == "Principal Engineer" and carol.manager_id == bob.id
    assert (await person_by_email(database, "erin@example.com")).deactivated_at is None


def test_entries_map_to_records_with_row_level_errors():
    settings = ldap.read_settings(
        DirectorySource(name="x", kind="ldap", mapping={}, config={"servers": ["ldap://h"], "base_dn": "dc=x"}),
        "key")
    entries = [
        ldap.Entry("uid=a,dc=x", {"uid": [b"a"], "cn": [b"A"], "manager": [b"UID=b, DC=x"]}),
        ldap.Entry("uid=b,dc=x", {"uid": [b"b"], "cn": [b"B"], "mail": [b"b@example.com"]}),
        ldap.Entry("uid=c,dc=x", {"cn": [b"No uid"]}),
        ldap.Entry("uid=d,dc=x", {"uid": [b"d"], "cn": [b"\xff\xfe"]}),
        ldap.Entry("uid=a2,dc=x", {"uid": [b"a"], "cn": [b"Again"]}),
    ]
    converter = ldap.Converter(settings)
    records, dns = converter.convert(entries), converter.dns
    good = [r for r in records if isinstance(r, service.Record)]
    errors = [r["error"] for r in records if isinstance(r, dict)]
    assert [(r.external_id, r.manager_external_id) for r in good] == [("a", "b"), ("b", None)]
    assert good[1].values == {"display_name": "B", "email": "b@example.com"}
    assert {(e["entry"], e["field"]) for e in errors} == {("uid=c,dc=x", "uid"), ("d", "cn"), ("uid=a2,dc=x", "uid")}
    assert dns == {"a": "uid=a,dc=x", "b": "uid=b,dc=x"}


async def test_only_due_sources_are_scheduled(db):
    now = dt.datetime.now(dt.UTC)
    hourly = await service.create_source(db, None, name="hourly", kind="ldap", interval_minutes=60)
    await service.create_source(db, None, name="by hand", kind="ldap", interval_minutes=0)
    fresh = await service.create_source(db, None, name="fresh", kind="ldap", interval_minutes=60)
    await service.create_source(db, None, name="csv", kind="csv", interval_minutes=5)
    sync = await service.start_sync(db, fresh)
    sync.started_at = now - dt.timedelta(minutes=5)
    await db.flush()
    due = await due_sources(db, now)
    assert hourly in due and fresh not in due
    assert all(s.kind == "ldap" and s.interval_minutes for s in due)


def jpeg(color: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_directory_photos_are_reencoded_and_never_replace_a_persons_own(database, settings, dirs):
    dirs.add_corp("alice", "Alice Chen", mail="alice@example.com",
                  **{"jpegPhoto:": base64.b64encode(jpeg("red")).decode()})
    dirs.add_corp("bob", "Bob Wang", mail="bob@example.com", **{"jpegPhoto:": base64.b64encode(b"<svg/>").decode()})
    await add_sources(database, settings, dirs)
    report = await ldap.sync_source(database, settings, "corp")
    assert report.counts["photos"] == 1
    assert [(e["entry"], e["field"]) for e in report.errors] == [("bob", "jpegPhoto")]
    alice = await person_by_email(database, "alice@example.com")
    async with database.transaction() as db:
        photo = await db.get(PersonPhoto, alice.id)
        first_etag = photo.etag
        assert alice.has_photo and photo.large[:2] == b"\xff\xd8"
    again = await ldap.sync_source(database, settings, "corp")
    assert again.counts.get("photos", 0) == 0  # unchanged photo: not re-encoded

    # Alice uploads her own photo: the directory's new one does not replace it.
    async with database.transaction() as db:
        photo = await db.get(PersonPhoto, alice.id)
        photo.etag = "her-own"
    dirs.corp.ldapmodify(f"dn: {dirs.corp_dn('alice')}\nchangetype: modify\nreplace: jpegPhoto\n"
                         f"jpegPhoto:: {base64.b64encode(jpeg('blue')).decode()}\n")
    report = await ldap.sync_source(database, settings, "corp")
    assert report.counts.get("photos", 0) == 0
    async with database.transaction() as db:
        assert (await db.get(PersonPhoto, alice.id)).etag == "her-own" != first_etag


async def test_the_schedule_queues_due_sources_once_and_the_job_syncs_them(database, scratch_database, dirs):
    load_people(dirs)
    async with database.transaction() as db:
        # Anonymous reads are allowed by slapd's default ACL: no password, so no dependency on the secret key.
        await service.create_source(db, None, name="corp", kind="ldap", link_by=["email"], interval_minutes=30,
                                    config={"servers": [dirs.corp.url], "base_dn": dirs.corp_base})
    previous = runtime._database
    runtime.set_database(database)
    try:
        await directory_schedule(timestamp=1)
        await directory_schedule(timestamp=2)  # still queued: not twice
        with psycopg.connect(libpq_conninfo(scratch_database)) as conn:
            queued = conn.execute("SELECT args FROM procrastinate_jobs WHERE task_name = 'socius:directory_sync'"
                                  ).fetchall()
        assert queued == [({"source_name": "corp", "full": True},)]

        # What a worker would run (a second procrastinate App in one process would re-prefix the task names).
        await directory_sync(**queued[0][0])
    finally:
        runtime.set_database(previous)
    async with database.transaction() as db:
        report = await db.scalar(select(DirectorySync).order_by(DirectorySync.id.desc()).limit(1))
        assert report.status == SyncStatus.SUCCEEDED and report.counts["added"] == 4
        assert await due_sources(db, dt.datetime.now(dt.UTC)) == []  # synced a moment ago


async def test_a_search_the_server_cuts_short_fails_and_deactivates_nobody(database, settings, dirs):
    load_people(dirs)
    await add_sources(database, settings, dirs)
    await ldap.sync_source(database, settings, "corp")
    for n in range(12):
        dirs.add_corp(f"extra{n}", f"Extra {n}", mail=f"extra{n}@example.com")
    async with database.transaction() as db:
        source = await service.source_by_name(db, "corp")
        source.config = {**source.config, "bind_dn": None}  # anonymous: slapd returns 10 entries, then stops
        source.secret_encrypted = None
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.FAILED and "ended the search early" in report.note, report.note
    assert report.counts == {"managers": 0} and await count_people(database) == 4


def test_the_command_line_adds_a_source_and_syncs_it(scratch_database, dirs, tmp_path):
    from tests.core.test_cli import socius

    load_people(dirs)
    groups = add_groups(dirs)
    env = {"SOCIUS_SECRET_KEY": "cli-secret", "SOCIUS_DATA_DIR": str(tmp_path), "BIND_PW": slapd.PASSWORD}
    config = json.dumps({"servers": [dirs.corp.url], "base_dn": dirs.corp_base, "bind_dn": dirs.corp.admin_dn})
    refused = socius("directory", "add-source", "corp", "--kind", "ldap", "--config", config,
                     "--start-tls", "--ca-file", str(tmp_path / "missing.pem"), database_url=scratch_database, **env)
    assert refused.returncode == 2 and "config.ca_file is not a readable file" in refused.stdout, refused.stdout
    added = socius("directory", "add-source", "corp", "--kind", "ldap", "--link-by", "email", "--config", config,
                   "--bind-password-env", "BIND_PW", "--group-base-dn", groups,
                   "--department-groups", json.dumps({"Research": "研究部"}), database_url=scratch_database, **env)
    assert added.returncode == 0, added.stderr
    synced = socius("directory", "sync", "corp", database_url=scratch_database, **env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "succeeded" in synced.stdout and "added" in synced.stdout
    assert slapd.PASSWORD not in synced.stdout + synced.stderr + added.stdout + added.stderr
    with psycopg.connect(libpq_conninfo(scratch_database)) as conn:
        assert conn.execute("SELECT config->>'validate', config->'department_groups' FROM directory_source"
                            ).fetchone() == (None, {"Research": "研究部"})  # verification stays on by default
        assert conn.execute("SELECT department FROM person WHERE email = 'carol@example.com'").fetchone() == (
            "研究部",)


def add_groups(dirs: Directories) -> str:
    """Groups in corp: two department groups (one groupOfUniqueNames, with the optional UID) and one that is not."""
    base = f"ou=groups,{dirs.corp_base}"
    dirs.corp.ldapadd(f"dn: {base}\nobjectClass: organizationalUnit\nou: groups\n")
    dirs.corp.ldapadd(f"dn: cn=Research,{base}\nobjectClass: groupOfNames\ncn: Research\n"
                      f"member: {dirs.corp_dn('alice')}\nmember: {dirs.corp_dn('carol')}\n")
    dirs.corp.ldapadd(f"dn: cn=Sales Team,{base}\nobjectClass: groupOfUniqueNames\ncn: Sales Team\n"
                      f"uniqueMember: {dirs.corp_dn('erin')}#'0101'B\n")
    dirs.corp.ldapadd(f"dn: cn=all-staff,{base}\nobjectClass: groupOfNames\ncn: all-staff\n"
                      + "".join(f"member: {dirs.corp_dn(u)}\n" for u in ("alice", "bob", "carol", "erin")))
    return base


async def test_groups_give_departments_and_an_incremental_sync_follows_membership(database, settings, dirs):
    load_people(dirs)
    groups = add_groups(dirs)
    # By cn and by DN; all-staff names no department.
    await add_sources(database, settings, dirs, group_base_dn=groups,
                      department_groups={"research": "研究部", f"CN=Sales Team,{groups}": "Sales"})
    time.sleep(1.1)  # modifyTimestamp has one-second resolution
    report = await ldap.sync_source(database, settings, "corp")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["added"] == 4, report.note
    alice = await person_by_email(database, "alice@example.com")
    assert alice.department == "研究部"  # the group wins over her departmentNumber (Research)
    assert (await person_by_email(database, "carol@example.com")).department == "研究部"
    assert (await person_by_email(database, "erin@example.com")).department == "Sales"
    assert (await person_by_email(database, "bob@example.com")).department is None

    time.sleep(1.1)
    # Only the groups change: Carol moves to Sales, Alice leaves Research (her departmentNumber applies again).
    dirs.corp.ldapmodify(f"dn: cn=Research,{groups}\nchangetype: modify\ndelete: member\n"
                         f"member: {dirs.corp_dn('alice')}\nmember: {dirs.corp_dn('carol')}\n-\n"
                         f"add: member\nmember: {dirs.corp_dn('bob')}\n")
    dirs.corp.ldapmodify(f"dn: cn=Sales Team,{groups}\nchangetype: modify\nadd: uniqueMember\n"
                         f"uniqueMember: {dirs.corp_dn('carol')}\n")
    dirs.corp.delete(dirs.corp_dn("erin"))  # gone, but an incremental sync deactivates nobody
    report = await ldap.sync_source(database, settings, "corp", full=False)
    assert report.status == SyncStatus.SUCCEEDED, report.note
    assert report.seen == 3 and report.counts["updated"] == 3, report.counts  # Alice, Bob, Carol re-read
    assert report.counts.get("deactivated", 0) == 0
    assert (await person_by_email(database, "alice@example.com")).department == "Research"
    assert (await person_by_email(database, "bob@example.com")).department == "研究部"
    assert (await person_by_email(database, "carol@example.com")).department == "Sales"
    erin = await person_by_email(database, "erin@example.com")
    assert erin.deactivated_at is None and erin.department == "Sales"

    # Nothing changed since: an incremental run reads nobody.
    time.sleep(1.1)
    again = await ldap.sync_source(database, settings, "corp", full=False)
    assert again.status == SyncStatus.SUCCEEDED and again.seen == 0, again.counts


async def test_ad_member_of_under_a_departments_ou_gives_the_department(database, settings, dirs):
    departments = f"OU=Departments,{dirs.ad_base}"
    dirs.add_ad("Alice Chen", guid=ALICE, mail="alice@example.com", department="R&D",
                member_of=(rf"CN=R\, D Taipei,{departments}",))
    # Two department groups: the first by name wins; a group elsewhere is no department.
    dirs.add_ad("Bob Wang", guid=BOB, mail="bob@example.com", department="Old",
                member_of=(f"CN=VPN Users,OU=Groups,{dirs.ad_base}", f"CN=Sales,{departments}",
                           f"CN=Marketing,{departments}"))
    dirs.add_ad("Dave Ho", guid=DAVE, mail="dave@example.com", department="Support",
                member_of=(f"CN=VPN Users,OU=Groups,{dirs.ad_base}",))
    await add_sources(database, settings, dirs)
    async with database.transaction() as db:
        source = await service.source_by_name(db, "ad")
        source.config = {**source.config, "department_groups_under": departments.lower()}
    report = await ldap.sync_source(database, settings, "ad")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["added"] == 3, report.note
    assert (await person_by_email(database, "alice@example.com")).department == "R, D Taipei"
    assert (await person_by_email(database, "bob@example.com")).department == "Marketing"
    assert (await person_by_email(database, "dave@example.com")).department == "Support"  # no department group


async def ad_config(database) -> dict:
    async with database.transaction() as db:
        return dict((await service.source_by_name(db, "ad")).config)


async def test_ad_incremental_sync_reads_only_entries_above_the_servers_usn(database, settings, dirs):
    # slapd does not keep uSNChanged: the loader plays the domain controller.
    dirs.add_ad("Alice Chen", guid=ALICE, mail="alice@example.com", title="Engineer", uSNChanged="100")
    dirs.add_ad("Bob Wang", guid=BOB, mail="bob@example.com", title="Director", uSNChanged="101")
    dirs.add_ad("Dave Ho", guid=DAVE, mail="dave@example.com", uSNChanged="102")
    await add_sources(database, settings, dirs)
    report = await ldap.sync_source(database, settings, "ad")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["added"] == 3
    assert (await ad_config(database))["usn_watermarks"] == {dirs.ad.url: 102}

    dirs.modify(dirs.ad, dirs.ad_dn("Alice Chen"), "title", "Principal Engineer")
    dirs.modify(dirs.ad, dirs.ad_dn("Alice Chen"), "uSNChanged", "103")
    # Bob's new title carries no newer USN: an incremental run must not read it (the filter is the USN, not time).
    dirs.modify(dirs.ad, dirs.ad_dn("Bob Wang"), "title", "Chief")
    dirs.ad.delete(dirs.ad_dn("Dave Ho"))
    report = await ldap.sync_source(database, settings, "ad", full=False)
    assert report.status == SyncStatus.SUCCEEDED, report.note
    assert report.seen == 1 and report.counts["updated"] == 1, report.counts
    assert report.counts.get("deactivated", 0) == 0
    assert (await person_by_email(database, "alice@example.com")).title == "Principal Engineer"
    assert (await person_by_email(database, "bob@example.com")).title == "Director"
    assert (await person_by_email(database, "dave@example.com")).deactivated_at is None
    assert (await ad_config(database))["usn_watermarks"] == {dirs.ad.url: 103}

    # Another domain controller has USNs of its own: with no watermark for it, an incremental run reads everyone
    # (and still deactivates nobody).
    other = dirs.ad.url.replace("127.0.0.1", "localhost")
    async with database.transaction() as db:
        source = await service.source_by_name(db, "ad")
        source.config = {**source.config, "servers": [other]}
    report = await ldap.sync_source(database, settings, "ad", full=False)
    assert report.status == SyncStatus.SUCCEEDED and report.seen == 2, report.note
    assert f"No uSNChanged watermark for {other}" in report.note
    assert report.counts.get("deactivated", 0) == 0
    assert (await person_by_email(database, "bob@example.com")).title == "Chief"
    assert (await ad_config(database))["usn_watermarks"] == {dirs.ad.url: 103, other: 103}


def test_a_large_ad_groups_members_are_read_range_by_range():
    """slapd never splits an attribute into ranges, as AD does above 1,500 values: this server plays AD."""

    class RangingServer:
        response: list = []
        asked: list = []

        def search(self, base, query, search_scope, attributes):
            self.asked.append(attributes)
            rest = {"member;range=2-3": [b"cn=c", b"cn=d"], "member;range=4-*": [b"cn=e"]}
            key = {"member;range=2-*": "member;range=2-3", "member;range=4-*": "member;range=4-*"}[attributes[0]]
            self.response = [{"type": "searchResEntry", "raw_attributes": {key.replace("member", "Member"): rest[key]}}]

    group = ldap.Entry("cn=big,dc=x", {"member": [], "member;range=0-1": [b"cn=a", b"cn=b"]})
    server = RangingServer()
    assert ldap.members(server, group, "member") == [b"cn=a", b"cn=b", b"cn=c", b"cn=d", b"cn=e"]
    assert server.asked == [["member;range=2-*"], ["member;range=4-*"]]
    assert ldap.members(server, ldap.Entry("cn=small,dc=x", {"member": [b"cn=a"]}), "member") == [b"cn=a"]


def test_the_first_department_group_the_administrator_listed_wins():
    source = DirectorySource(name="x", kind="ldap", mapping={}, config={
        "servers": ["ldap://h"], "base_dn": "dc=x",
        "department_groups": {"CN=Sales, OU=Groups, DC=x": "業務部", "engineering": "研發部"}})
    settings = ldap.read_settings(source, "key")
    sales, engineering = "cn=sales,ou=groups,dc=x", "cn=Engineering,ou=teams,dc=x"
    assert ldap.department_of([engineering, sales], settings) == "業務部"  # listed first, by DN
    assert ldap.department_of([engineering], settings) == "研發部"  # by cn, any case, anywhere
    assert ldap.department_of(["cn=sales,ou=elsewhere,dc=x"], settings) is None  # a DN key means that DN only
    assert ldap.department_of([], settings) is None
