"""LDAP over TLS against a real slapd with a certificate made for the test: LDAPS, StartTLS, and a CA that does
not vouch for the server."""

from __future__ import annotations

import pytest

from socius.core.db import Database
from socius.directory import ldap, service
from socius.directory.models import SyncStatus
from tests.directory import slapd
from tests.directory.test_ldap import count_people, person_by_email


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slapd-tls")
    certificates = slapd.make_certificates(tmp / "pki")
    server = slapd.start(tmp / "server", "dc=tls,dc=test", tls=certificates)
    base = f"ou=people,{server.suffix}"
    server.ldapadd(f"dn: {base}\nobjectClass: organizationalUnit\nou: people\n")
    for uid, name in (("alice", "Alice Chen"), ("bob", "Bob Wang"), ("carol", "Carol Lin")):
        server.ldapadd(f"dn: uid={uid},{base}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\n"
                       f"sn: {name.split()[1]}\nmail: {uid}@example.com\n")
    yield server, certificates, base
    server.stop()


@pytest.fixture
async def database(scratch_database):
    db = Database(scratch_database, pool_size=2)
    yield db
    await db.dispose()


async def configure(database, settings, **config) -> None:
    async with database.transaction() as db:
        source = await service.source_by_name(db, "tls")
        if source is None:
            source = await service.create_source(db, None, name="tls", kind="ldap", link_by=["email"],
                                                 min_seen_ratio=0.5, config={})
            source.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key, slapd.PASSWORD)
        source.config = config


async def test_ldaps_and_start_tls_sync_with_the_right_ca_and_fail_cleanly_without(database, settings, tls_server):
    server, certificates, base = tls_server
    common = {"base_dn": base, "bind_dn": server.admin_dn}

    await configure(database, settings, servers=[server.ldaps_url], ca_file=certificates.ca_file, **common)
    report = await ldap.sync_source(database, settings, "tls")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["added"] == 3, report.note

    await configure(database, settings, servers=[server.url], start_tls=True, ca_file=certificates.ca_file,
                    **common)
    report = await ldap.sync_source(database, settings, "tls")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["unchanged"] == 3, report.note

    # Carol leaves: a sync that could read the directory would deactivate her. One that cannot trust the server
    # must read nothing, change nothing and deactivate nobody, and say why.
    server.delete(f"uid=carol,{base}")
    for config in ({"servers": [server.ldaps_url], "ca_file": certificates.other_ca_file},
                   {"servers": [server.url], "start_tls": True, "ca_file": certificates.other_ca_file},
                   {"servers": [server.ldaps_url]}):  # verified by default, against the system's CAs
        await configure(database, settings, **config, **common)
        report = await ldap.sync_source(database, settings, "tls")
        assert report.status == SyncStatus.FAILED, config
        assert "certificate is not trusted" in report.note, report.note
        assert report.counts.get("deactivated", 0) == 0 and report.seen == 0
    carol = await person_by_email(database, "carol@example.com")
    assert carol.deactivated_at is None and await count_people(database) == 3

    # The right CA, but the server reached by a name its certificate does not carry (127.1 is 127.0.0.1).
    await configure(database, settings, servers=[server.ldaps_url.replace("127.0.0.1", "127.1")],
                    ca_file=certificates.ca_file, **common)
    report = await ldap.sync_source(database, settings, "tls")
    assert report.status == SyncStatus.FAILED and "certificate does not name this host" in report.note, report.note

    # A CA file that is not there is a setting problem, named as such.
    await configure(database, settings, servers=[server.ldaps_url], ca_file=str(certificates.ca_file) + ".gone",
                    **common)
    report = await ldap.sync_source(database, settings, "tls")
    assert report.status == SyncStatus.FAILED and "config.ca_file is not a readable file" in report.note

    # Verification off (an administrator's explicit choice): the untrusted server is read, and Carol goes.
    await configure(database, settings, servers=[server.ldaps_url], ca_file=certificates.other_ca_file,
                    validate=False, **common)
    report = await ldap.sync_source(database, settings, "tls")
    assert report.status == SyncStatus.SUCCEEDED and report.counts["deactivated"] == 1, report.note
