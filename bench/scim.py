"""Socius SCIM benchmark: create, get and filtered lists with 200,000 people stored, against a bare baseline.

    uv run python bench/scim.py                  # seed once into var/bench/ (shared with bench/run.py), measure
    uv run python bench/scim.py --requests 300   # quicker, noisier

The private PostgreSQL in var/bench/ holds 200,000 people (socius.demo.seed); here a SCIM source ("bench-entra")
gets an identity for each of them, as if Entra ID had provisioned them all, and a second one ("bench-okta") for
every tenth, so that lookups run against 220,000 identities of which the caller owns 200,000. Socius and the
baseline app (bench/baseline_app.py: the profile read in bare FastAPI + psycopg) run as uvicorn subprocesses; the
asyncio client of bench/client.py measures. The baseline is the cheapest honest comparison for one SCIM read: a
bearer-token check and one row by primary key, served as JSON over the same HTTP stack.

Then a few creates run in-process with every SQL statement counted, to show where a create's time goes (most
of it is the merge engine, socius.directory.service.apply_record). Results: printed, and written to
var/bench/scim-results-<time>.json; docs/performance.md records them with the method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

import psycopg
from client import Result, run_load
from rich.console import Console
from rich.table import Table
from run import _admin_token, _count_people, _free_port, _start, _stop, _wait_ready, prepare

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
TARGET_P95_MS = 20.0
SOURCES = {"bench-entra": 1, "bench-okta": 10}  # name → every n-th person gets an identity
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# The resource as Entra ID sends it; userName is the person's e-mail, externalId a directory object id.
IDENTITIES_SQL = """
INSERT INTO directory_identity (source_id, external_id, person_id, values, raw, active, version)
SELECT %(source)s::bigint, 'obj-' || p.id, p.id,
       jsonb_strip_nulls(jsonb_build_object('display_name', p.display_name, 'email', p.email, 'title', p.title,
                                            'department', p.department)),
       jsonb_build_object('scim', jsonb_strip_nulls(jsonb_build_object(
           'schemas', jsonb_build_array(%(user)s::text, %(enterprise)s::text),
           'userName', coalesce(p.email, 'person' || p.id || '@bench.example'),
           'externalId', 'obj-' || p.id,
           'active', true,
           'displayName', p.display_name,
           'title', p.title,
           'emails', jsonb_build_array(jsonb_build_object(
               'type', 'work', 'primary', true, 'value', coalesce(p.email, 'person' || p.id || '@bench.example'))),
           %(enterprise)s::text, jsonb_strip_nulls(jsonb_build_object('department', p.department))))),
       true, 1
FROM person p
WHERE p.id %% %(every)s::int = 0 AND p.email IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM directory_identity d WHERE d.source_id = %(source)s::bigint AND d.person_id = p.id)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000, help="people the database must hold")
    parser.add_argument("--requests", type=int, default=1000, help="requests per scenario and pass")
    parser.add_argument("--concurrency", type=int, default=4, help="connections in the throughput pass")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time cap per pass")
    parser.add_argument("--profiled-creates", type=int, default=20, help="creates run with their SQL counted")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 130)
    data_dir = ROOT / "var" / "bench"
    started = time.perf_counter()
    machine, url, conninfo, _ = prepare(console, "Socius SCIM benchmark", data_dir, args.people)
    tokens = asyncio.run(_scim_sources(url))
    identities = _provision(console, conninfo, tokens)
    _admin_id, api_token = asyncio.run(_admin_token(url))
    samples = _samples(conninfo, tokens["bench-entra"][0], args.requests)
    run_id = time.strftime("%Y%m%d%H%M%S")

    scim_headers = {"Authorization": f"Bearer {tokens['bench-entra'][1]}", "Accept": "application/scim+json"}
    api_headers = {"Authorization": f"Bearer {api_token}", "Accept": "application/json"}
    socius_port, baseline_port = _free_port(), _free_port()
    env = dict(os.environ, SOCIUS_DATABASE_URL=url, SOCIUS_DATA_DIR=str(data_dir), BENCH_CONNINFO=conninfo)
    servers = [
        _start(console, "socius", [sys.executable, "-m", "socius", "serve", "--host", "127.0.0.1",
                                   "--port", str(socius_port), "--no-worker"], env, data_dir),
        _start(console, "baseline", [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH),
                                     "--host", "127.0.0.1", "--port", str(baseline_port), "--no-access-log",
                                     "--log-level", "warning"], env, data_dir),
    ]
    person_ids = [s["person_id"] for s in samples]
    scenarios = [
        ("SCIM get", socius_port, scim_headers, [f"/scim/v2/Users/{s['id']}" for s in samples], (200,)),
        ("SCIM filter userName eq", socius_port, scim_headers,
         [_filter(f'userName eq "{s["user_name"].upper()}"') for s in samples], (200,)),
        ("SCIM filter work e-mail eq", socius_port, scim_headers,
         [_filter(f'emails[type eq "work"].value eq "{s["user_name"]}"') for s in samples], (200,)),
        ("SCIM filter externalId eq", socius_port, scim_headers,
         [_filter(f'externalId eq "{s["external_id"]}"') for s in samples], (200,)),
        ("SCIM list page (count=100)", socius_port, scim_headers,
         [f"/scim/v2/Users?startIndex={1 + (i * 997) % 150_000}&count=100" for i in range(args.requests // 4)],
         (200,)),
        ("SCIM create", socius_port, scim_headers,
         [("POST", "/scim/v2/Users", _new_user(run_id, pass_, i)) for pass_ in ("w", "l", "t")
          for i in range(args.requests)], (201,)),
        ("profile API (Socius)", socius_port, api_headers, [f"/api/v1/people/{i}" for i in person_ids], (200,)),
        ("baseline profile (bare)", baseline_port, api_headers, [f"/people/{i}" for i in person_ids], (200,)),
    ]
    try:
        asyncio.run(_wait_ready(socius_port, "/healthz", servers[0], data_dir))
        asyncio.run(_wait_ready(baseline_port, f"/people/{person_ids[0]}", servers[1], data_dir, api_headers))
        measured = asyncio.run(_measure(console, scenarios, args))
    finally:
        for process in servers:
            _stop(process)

    profile = asyncio.run(_profile_creates(url, data_dir, tokens["bench-entra"][1], run_id, args.profiled_creates))
    report = _report(console, measured, profile, args, identities)
    report.update(machine=machine, people=_count_people(conninfo),
                  total_seconds=round(time.perf_counter() - started, 1))
    out = data_dir / f"scim-results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    console.print(f"Results written to {out.relative_to(ROOT)} ({report['total_seconds']} s in all).")
    return 0 if report["all_targets_met"] else 1


def _filter(expression: str) -> str:
    return "/scim/v2/Users?filter=" + quote(expression)


def _new_user(run_id: str, pass_: str, i: int) -> bytes:
    name = f"bench-{run_id}-{pass_}{i}@scim.bench.example"
    return json.dumps({
        "schemas": [USER, ENTERPRISE], "userName": name, "externalId": f"new-{run_id}-{pass_}{i}", "active": True,
        "displayName": f"Bench User {pass_}{i}", "name": {"givenName": "Bench", "familyName": f"User {i}"},
        "emails": [{"type": "work", "value": name, "primary": True}], "title": "Engineer",
        ENTERPRISE: {"employeeNumber": f"B{run_id}{pass_}{i}", "department": "Benchmarking"},
    }).encode()


# --- setup ----------------------------------------------------------------------------------------------------

async def _scim_sources(url: str) -> dict[str, tuple[int, str]]:
    """The benchmark's SCIM sources (created once) and a fresh bearer token for each."""
    from socius.core import runtime
    from socius.core.db import Database
    from socius.directory import service

    db = Database(url, pool_size=1)
    runtime.set_database(db)
    out = {}
    try:
        async with db.transaction() as session:
            for name in SOURCES:
                source = await service.source_by_name(session, name)
                if source is None:
                    source = await service.create_source(session, None, name=name, kind="scim", link_by=["email"])
                out[name] = (source.id, await service.issue_scim_token(session, source))
    finally:
        await db.dispose()
    return out


def _provision(console: Console, conninfo: str, tokens: dict[str, tuple[int, str]]) -> dict[str, int]:
    """An identity per person for bench-entra and per tenth person for bench-okta, by SQL (once)."""
    counts = {}
    with psycopg.connect(conninfo) as conn:
        for name, every in SOURCES.items():
            source_id = tokens[name][0]
            if conn.execute("SELECT 1 FROM directory_identity WHERE source_id = %s LIMIT 1", (source_id,)).fetchone():
                counts[name] = conn.execute("SELECT count(*) FROM directory_identity WHERE source_id = %s",
                                            (source_id,)).fetchone()[0]
                continue  # provisioned by an earlier run (later runs' creates add to it)
            t0 = time.perf_counter()
            added = conn.execute(IDENTITIES_SQL, {"source": source_id, "every": every, "user": USER,
                                                  "enterprise": ENTERPRISE}).rowcount
            conn.commit()
            console.print(f"Provisioned {added:,} identities for {name} in {time.perf_counter() - t0:.1f} s")
            counts[name] = conn.execute("SELECT count(*) FROM directory_identity WHERE source_id = %s",
                                        (source_id,)).fetchone()[0]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # As autovacuum would by the time a directory of this size is in use: statistics and the visibility map
        # (which lets counting and deep paging read the indexes alone).
        conn.execute("VACUUM ANALYZE directory_identity")
    console.print("Identities: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    return counts


def _samples(conninfo: str, source_id: int, n: int) -> list[dict]:
    """Random identities of bench-entra, the same ones every run on the same data."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT setseed(0.42)")
        rows = conn.execute(
            "SELECT id, person_id, raw #>> '{scim,userName}', external_id FROM directory_identity "
            "WHERE source_id = %s AND external_id LIKE 'obj-%%' ORDER BY random() LIMIT %s", (source_id, n)).fetchall()
    return [{"id": r[0], "person_id": r[1], "user_name": r[2], "external_id": r[3]} for r in rows]


# --- measuring ------------------------------------------------------------------------------------------------

async def _measure(console: Console, scenarios, args) -> dict[str, tuple[Result, Result]]:
    out = {}
    for name, port, headers, paths, expect in scenarios:
        if name == "SCIM create":  # each create is a new user: three disjoint thirds for warm-up and the passes
            third = len(paths) // 3
            warm, latency_paths, load_paths = paths[:50], paths[third:2 * third], paths[2 * third:]
        else:
            warm, latency_paths, load_paths = paths[:100], paths, paths
        await run_load(name, "127.0.0.1", port, warm, concurrency=args.concurrency, headers=headers,
                       expect=expect, max_seconds=10)
        latency = await run_load(name, "127.0.0.1", port, latency_paths, concurrency=1, headers=headers,
                                 expect=expect, max_seconds=args.max_seconds)
        load = await run_load(name, "127.0.0.1", port, load_paths, concurrency=args.concurrency, headers=headers,
                              expect=expect, max_seconds=args.max_seconds)
        out[name] = (latency, load)
        for result in (latency, load):
            for sample in result.error_samples:
                console.print(f"[red]{name}: {sample}[/red]")
        console.print(f"  {name}: p50 {latency.percentile(50):.1f} ms, p95 {latency.percentile(95):.1f} ms, "
                      f"{load.throughput:.0f} req/s at {args.concurrency} connections")
    return out


def _kind(statement: str) -> str:
    verb = statement.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb.lower()
    if verb == "SELECT":
        match = re.search(r"\bFROM\s+([a-z_]+)", statement, re.IGNORECASE)
        return f"SELECT {match.group(1) if match else '(expression)'}"
    match = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM)\s+([a-z_]+)", statement, re.IGNORECASE)
    return f"{match.group(1).upper()} {match.group(2)}" if match else verb


async def _profile_creates(url: str, data_dir: Path, token: str, run_id: str, n: int) -> dict:
    """Run `n` SCIM creates in-process, counting and timing every SQL statement by kind."""
    import httpx
    from sqlalchemy import event

    from socius.app import create_app
    from socius.config import Settings

    app = create_app(Settings(data_dir=data_dir), url)
    engine = app.state.db.engine.sync_engine
    counts: Counter = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        kind = _kind(statement)
        counts[kind] += 1
        seconds[kind] += time.perf_counter() - conn.info["bench_started"].pop()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    wall = 0.0
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/scim+json"}) as client:
            await client.post("/scim/v2/Users", content=_new_user(run_id, "p", 0))  # warm-up, not counted
            counts.clear()
            seconds.clear()
            t0 = time.perf_counter()
            for i in range(1, n + 1):
                response = await client.post("/scim/v2/Users", content=_new_user(run_id, "p", i))
                assert response.status_code == 201, response.text
            wall = time.perf_counter() - t0
    finally:
        await app.state.db.dispose()
    return {"creates": n, "wall_ms_per_create": round(wall / n * 1000, 2),
            "statements_per_create": round(sum(counts.values()) / n, 1),
            "sql_ms_per_create": round(sum(seconds.values()) / n * 1000, 2),
            "by_kind": {k: {"per_create": round(c / n, 2), "ms_per_create": round(seconds[k] / n * 1000, 3)}
                        for k, c in counts.most_common()}}


def _report(console: Console, measured, profile, args, identities) -> dict:
    table = Table(title=f"Socius SCIM benchmark ({args.people:,} people; identities: "
                        + ", ".join(f"{n} {c:,}" for n, c in identities.items()) + ")")
    for column in ("scenario", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s c=1",
                   f"req/s c={args.concurrency}", "target (p95)", "met"):
        table.add_column(column, justify="left" if column in ("scenario", "target (p95)") else "right")
    rows, met_all = {}, True
    for name, (latency, load) in measured.items():
        targeted = name.startswith("SCIM") and "list page" not in name
        p95 = latency.percentile(95)
        ok = (not targeted or p95 < TARGET_P95_MS) and latency.errors == 0 and load.errors == 0
        met_all &= ok
        rows[name] = {
            "requests": latency.count, "requests_loaded": load.count, "errors": latency.errors + load.errors,
            "p50_ms": round(latency.percentile(50), 2), "p95_ms": round(p95, 2),
            "p99_ms": round(latency.percentile(99), 2), "rps_c1": round(latency.throughput, 1),
            "rps_loaded": round(load.throughput, 1), "target_p95_ms": TARGET_P95_MS if targeted else None,
            "met": ok if targeted else None,
        }
        table.add_row(name, f"{latency.count}+{load.count}", str(latency.errors + load.errors),
                      f"{latency.percentile(50):.1f}", f"{p95:.1f}", f"{latency.percentile(99):.1f}",
                      f"{latency.throughput:.0f}", f"{load.throughput:.0f}",
                      f"< {TARGET_P95_MS:.0f} ms" if targeted else "—", _mark(ok) if targeted else "—")
    console.print(table)

    ratios = {}
    baseline = rows.get("baseline profile (bare)")
    if baseline:
        for name in ("SCIM get", "SCIM filter userName eq", "SCIM create", "profile API (Socius)"):
            if name in rows:
                ratios[name] = {"p50_vs_baseline": round(rows[name]["p50_ms"] / baseline["p50_ms"], 2),
                                "throughput_vs_baseline": round(rows[name]["rps_loaded"] / baseline["rps_loaded"], 2)}
        ratio_table = Table(title="against the bare baseline in the same run (p50 latency ×, throughput c="
                                  f"{args.concurrency} ×)")
        for column in ("scenario", "p50 / baseline p50", "req/s / baseline req/s"):
            ratio_table.add_column(column, justify="left" if column == "scenario" else "right")
        for name, r in ratios.items():
            ratio_table.add_row(name, f"{r['p50_vs_baseline']:.2f}", f"{r['throughput_vs_baseline']:.2f}")
        console.print(ratio_table)

    detail = Table(title=f"SQL per SCIM create (in-process, {profile['creates']} creates: "
                         f"{profile['statements_per_create']} statements, {profile['sql_ms_per_create']} ms in SQL "
                         f"of {profile['wall_ms_per_create']} ms)")
    for column in ("statement", "per create", "ms per create"):
        detail.add_column(column, justify="left" if column == "statement" else "right")
    for kind, v in profile["by_kind"].items():
        detail.add_row(kind, f"{v['per_create']:g}", f"{v['ms_per_create']:.2f}")
    console.print(detail)
    return {"scenarios": rows, "ratios": ratios, "create_profile": profile, "identities": identities,
            "concurrency": args.concurrency, "all_targets_met": met_all}


def _mark(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


if __name__ == "__main__":
    sys.exit(main())
