"""LDAP sync benchmark: 100,000 entries in two real slapd directories, synced into one merged Socius directory.

    uv run python bench/ldap_sync.py                  # 60,000 + 40,000 entries, 10,000 people in both (~4 minutes)
    uv run python bench/ldap_sync.py --entries 20000  # quicker

Two slapd servers (Debian's `slapd`, as in the tests) on 127.0.0.1: "corp" (inetOrgPerson) with 60% of the entries
and "ad" (Microsoft's schema, objectGUID) with 40%; a tenth of the entries are the same humans in both, found by
e-mail. Socius runs on a private PostgreSQL in var/bench/ (database `socius_bench_ldap`, made afresh each run).

Measured, end to end through `socius.directory.ldap.sync_source` (search, merge, commit):
- the bare baseline: an ldap3 paged search of the same entries and attributes, nothing else;
- the initial full sync of both sources into an empty directory, as entries/s and as a ratio to the baseline;
- an unchanged full sync (the nightly case);
- an incremental sync after 1% of the entries changed.
Results are printed and written to var/bench/ldap-<time>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the slapd harness the tests use

from tests.directory import slapd  # noqa: E402

from socius.core.db import libpq_conninfo  # noqa: E402

DATABASE = "socius_bench_ldap"
RATE_TARGET = 1000.0  # entries/s, initial sync
INCREMENTAL_TARGET_S = 5.0
PAGE_SIZE = 1000
CORP, AD = "dc=corp,dc=bench", "dc=ad,dc=bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000, help="entries in both directories together")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)
    state = ROOT / "var" / "bench" / "ldap"
    subprocess.run(["rm", "-rf", str(state)], check=True)
    state.mkdir(parents=True)

    corp_n, ad_n = args.entries * 6 // 10, args.entries - args.entries * 6 // 10
    both = args.entries // 10
    console.print(f"[bold]LDAP sync benchmark[/bold]: {corp_n:,} corp + {ad_n:,} AD entries, "
                  f"{both:,} people in both")
    started = time.perf_counter()
    people = _people(corp_n + ad_n - both)
    corp = slapd.start(state / "corp", CORP, preload=_corp_ldif(CORP, people[:corp_n]))
    ad = slapd.start(state / "ad", AD, ad=True, preload=_ad_ldif(AD, people[corp_n - both: corp_n - both + ad_n]))
    console.print(f"loaded both directories in {time.perf_counter() - started:.0f} s (slapadd)")
    try:
        results = asyncio.run(_measure(console, state, corp, ad, people, corp_n, both))
    finally:
        ad.stop()
        corp.stop()

    table = Table(title=f"LDAP sync, {args.entries:,} entries in two directories")
    for column in ("measure", "seconds", "entries/s", "vs bare search", "target", "met"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for row in results["rows"]:
        table.add_row(row["measure"], f"{row['seconds']:.2f}", f"{row['rate']:,.0f}" if row["rate"] else "",
                      f"{row['ratio']:.2f}" if row["ratio"] else "", row["target"],
                      {True: "yes", False: "NO", None: ""}[row["met"]])
    console.print(table)
    out = ROOT / "var" / "bench" / f"ldap-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    console.print(f"Results written to {out.relative_to(ROOT)}")
    return 0 if all(r["met"] is not False for r in results["rows"]) else 1


# --- the directories --------------------------------------------------------------------------------------------

def _people(n: int) -> list[dict]:
    from socius.demo.names import make_name

    rng = random.Random(7)
    cultures = ("tw", "tw", "tw", "cn", "cn", "hk", "sg", "en", "fr")
    people = []
    for i in range(n):
        name = make_name(rng, rng.choice(cultures))
        people.append({"n": i, "native": name.name_native, "latin": name.name_latin or name.display_name,
                       "email": f"{name.email_local}.{i}@bench.example", "guid": uuid.UUID(int=rng.getrandbits(128)),
                       "title": rng.choice(("Engineer", "Senior Engineer", "Manager", "Analyst", "工程師", "經理")),
                       "department": rng.choice(("R&D", "Sales", "Finance", "研發部", "業務部")),
                       "number": f"E{i:07d}"})
    return people


def _manager_of(i: int) -> int | None:
    return (i - 1) // 8 if i else None  # eight reports each, as in the demo company


def _corp_ldif(suffix: str, people: list[dict]) -> str:
    ou = f"ou=people,{suffix}"
    parts = [f"dn: {ou}\nobjectClass: organizationalUnit\nou: people\n"]
    for k, p in enumerate(people):
        boss = _manager_of(k)
        parts.append("\n".join(filter(None, [
            f"dn: uid=u{p['n']},{ou}", "objectClass: inetOrgPerson", f"uid: u{p['n']}",
            f"cn:: {_b64(p['latin'])}", f"sn:: {_b64(p['latin'].split()[-1])}",
            f"displayName:: {_b64(p['native'] or p['latin'])}", f"mail: {p['email']}",
            f"title:: {_b64(p['title'])}", f"departmentNumber:: {_b64(p['department'])}",
            f"employeeNumber: {p['number']}",
            f"manager: uid=u{people[boss]['n']},{ou}" if boss is not None else "",
        ])) + "\n")
    return "\n".join(parts)


def _ad_ldif(suffix: str, people: list[dict]) -> str:
    ou = f"ou=staff,{suffix}"
    parts = [f"dn: {ou}\nobjectClass: organizationalUnit\nou: staff\n"]
    for k, p in enumerate(people):
        boss = _manager_of(k)
        parts.append("\n".join(filter(None, [
            f"dn: cn=a{p['n']},{ou}", "objectClass: user", "objectClass: extensibleObject", f"cn: a{p['n']}",
            f"sn:: {_b64(p['latin'].split()[-1])}", "instanceType: 4", "nTSecurityDescriptor:: AA==",
            f"objectCategory: cn=Person,{suffix}", f"sAMAccountName: a{p['n']}",
            f"objectGUID:: {base64.b64encode(p['guid'].bytes_le).decode()}",
            f"displayName:: {_b64(p['native'] or p['latin'])}", f"mail: {p['email']}",
            f"title:: {_b64(p['title'])}", f"department:: {_b64(p['department'])}",
            f"uSNChanged: {k + 1}",  # slapd does not keep USNs: the loader plays the domain controller
            f"manager: cn=a{people[boss]['n']},{ou}" if boss is not None else "",
        ])) + "\n")
    return "\n".join(parts)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


# --- measuring ------------------------------------------------------------------------------------------------

async def _measure(console, state, corp, ad, people, corp_n, both) -> dict:
    from socius.config import Settings
    from socius.core.db import Database
    from socius.core.embedded import start_embedded_postgres
    from socius.core.migrate import upgrade
    from socius.directory import ldap, service

    url = start_embedded_postgres(ROOT / "var" / "bench", database="postgres")
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = start_embedded_postgres(ROOT / "var" / "bench", database=DATABASE)
    upgrade(url)
    settings = Settings(data_dir=state / "data", secret_key="bench-secret-key-" + "x" * 32)
    database = Database(url, pool_size=2)
    async with database.transaction() as db:
        for name, server, base, extra in (
            ("corp", corp, f"ou=people,{corp.suffix}", {}),
            ("ad", ad, f"ou=staff,{ad.suffix}", {"flavor": "ad", "user_filter": "(objectClass=user)"}),
        ):
            source = await service.create_source(
                db, None, name=name, kind="ldap", precedence=200 if name == "corp" else 100, link_by=["email"],
                config={"servers": [server.url], "base_dn": base, "bind_dn": server.admin_dn,
                        "page_size": PAGE_SIZE, "incremental_overlap_seconds": 1, **extra})
            source.secret_encrypted = service.encrypt_secret(settings.resolved_secret_key, slapd.PASSWORD)
    total = len(people) + both
    rows = []

    async def sync_both(full: bool) -> tuple[float, list]:
        started = time.perf_counter()
        reports = [await ldap.sync_source(database, settings, name, full=full) for name in ("corp", "ad")]
        seconds = time.perf_counter() - started
        for report in reports:
            if report.status != "succeeded":
                raise SystemExit(f"sync failed: {report.note}")
        return seconds, reports

    async with database.transaction() as db:
        bare_settings = [ldap.read_settings(s, settings.resolved_secret_key)
                         for s in [await service.source_by_name(db, "corp"), await service.source_by_name(db, "ad")]]
    started = time.perf_counter()
    found = sum(len(ldap.search(s)) for s in bare_settings)
    bare = time.perf_counter() - started
    bare_rate = found / bare
    rows.append(_row("bare ldap3 paged search (baseline)", bare, found, None, "", None))

    seconds, reports = await sync_both(full=True)
    rate = total / seconds
    rows.append(_row("initial full sync, both sources", seconds, total, bare_rate, f"≥ {RATE_TARGET:,.0f}/s",
                     rate >= RATE_TARGET))
    counts = [r.counts for r in reports]
    console.print(f"initial sync reports: {counts}")
    with psycopg.connect(libpq_conninfo(url)) as conn:
        merged_people = conn.execute("SELECT count(*) FROM person").fetchone()[0]
    if merged_people != len(people):
        raise SystemExit(f"expected {len(people)} people after merging, found {merged_people}")

    seconds, _ = await sync_both(full=True)
    rows.append(_row("unchanged full sync, both sources", seconds, total, bare_rate, "", None))

    # 1% of the entries change: a new title, in both directories.
    time.sleep(1.1)  # modifyTimestamp has one-second resolution
    changed = total // 100
    corp_changed, ad_changed = changed * 6 // 10, changed - changed * 6 // 10
    corp.ldapmodify("\n".join(f"dn: uid=u{p['n']},ou=people,{corp.suffix}\nchangetype: modify\nreplace: title\n"
                              f"title: Principal {p['n']}\n" for p in people[:corp_changed]))
    ad_people = people[corp_n - both:]
    ad.ldapmodify("\n".join(f"dn: cn=a{p['n']},ou=staff,{ad.suffix}\nchangetype: modify\nreplace: title\n"
                            f"title: Principal {p['n']}\n-\nreplace: uSNChanged\nuSNChanged: {len(ad_people) + j + 1}\n"
                            for j, p in enumerate(ad_people[-ad_changed:])))
    seconds, reports = await sync_both(full=False)
    updated = sum(r.counts.get("updated", 0) for r in reports)
    rows.append(_row(f"incremental sync, {changed:,} entries changed", seconds, None, None,
                     f"< {INCREMENTAL_TARGET_S:.0f} s", seconds < INCREMENTAL_TARGET_S))
    console.print(f"incremental reports: {[r.counts for r in reports]}")
    if updated < changed * 0.9:
        raise SystemExit(f"the incremental sync updated {updated} people, expected about {changed}")
    await database.dispose()
    return {"entries": total, "people": len(people), "bare_rate": bare_rate, "rows": rows,
            "date": time.strftime("%Y-%m-%d %H:%M")}


def _row(measure: str, seconds: float, entries: int | None, bare_rate: float | None, target: str,
         met: bool | None) -> dict:
    rate = entries / seconds if entries else None
    return {"measure": measure, "seconds": round(seconds, 3), "rate": rate,
            "ratio": rate / bare_rate if rate and bare_rate else None, "target": target, "met": met}


if __name__ == "__main__":
    sys.exit(main())
