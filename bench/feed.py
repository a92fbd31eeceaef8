"""Socius activity stream benchmark: 5,000 communities, 200,000 people, 1,000,000 activities; the home feed of a
person following 200 people, communities and tags, posting a status update, and a bare baseline.

    uv run python bench/feed.py                                   # seed once into var/bench-feed/, then measure
    uv run python bench/feed.py --people 20000 --communities 500 --activities 100000 --data-dir var/bench-feed-small

Everything runs on this machine: a private PostgreSQL in the data directory, `socius serve --no-worker` and the
baseline app (bench/baseline_app.py: bare FastAPI + psycopg running the same SQL as Socius's home feed —
token, sources, the feed statement, the three hydration queries) as uvicorn subprocesses, and the asyncio client.
1. people through `demo.seed.seed_people` (as bench/run.py); communities, memberships, items with their
   activities and tags, and follows with COPY (triggers and row checks off for the load, then checked in SQL);
2. a reader (role member) following 120 people, 50 communities and 30 tags and belonging to 20 communities
   (some restricted), with an API token;
3. measured over HTTP with one connection: `GET /api/v1/feed` (first pages and older pages through cursors, JSON and
   ActivityStreams), `GET /feed` (the page), `POST /api/v1/status` (profile and community); then throughput at
   `--concurrency` connections, Socius and baseline, on the same first-page requests.
Results are printed and written to <data-dir>/feed-<time>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

import psycopg
from client import run_load
from rich.console import Console
from rich.table import Table
from run import _free_port, _mark, _start, _stop, _wait_ready, prepare

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
READER = "bench-feed-reader"
TARGETS = {"home feed API": 30.0, "post status API": 30.0}
WORDS = ("部署", "測試", "會議", "季度", "客戶", "設計", "發布", "數據", "平台", "流程", "review", "release",
         "deploy", "design", "customer", "roadmap", "bug", "metrics", "team", "launch", "週報", "文件")
KINDS = [("status", 50), ("topic", 15), ("entry", 8), ("bookmark", 7), ("file", 5), ("page", 5), ("comment", 10)]
TAGS = 3000


def _cumulative(weights):
    return list(itertools.accumulate(weights))


def _seed_stream(console: Console, conninfo: str, communities: int, activities: int) -> dict:
    """Communities, memberships, items + activities + tags, and follows, with COPY in one transaction."""
    rng = random.Random(5)
    t0 = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        people = [r[0] for r in conn.execute("SELECT id FROM person WHERE deactivated_at IS NULL ORDER BY id")]
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # no outbox triggers, no row FK checks
            first_c = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM community").fetchone()[0]
            community_ids = list(range(first_c, first_c + communities))
            access = rng.choices(["public", "moderated", "restricted"], weights=[70, 15, 15], k=communities)
            popularity = _cumulative([1 / (r + 3) ** 0.8 for r in range(communities)])
            members: dict[int, set[int]] = {c: set() for c in community_ids}
            person_communities: dict[int, list[int]] = {}
            for person in people:
                k = rng.choices((0, 1, 2, 3, 4, 6), weights=(15, 25, 25, 15, 12, 8))[0]
                mine = set(rng.choices(community_ids, cum_weights=popularity, k=k))
                person_communities[person] = sorted(mine)
                for c in mine:
                    members[c].add(person)
            with conn.cursor().copy("COPY community (id, name, name_key, access, member_count, created_at,"
                                    " updated_at) FROM STDIN") as copy:
                now = dt.datetime.now(dt.UTC)
                for n, c in enumerate(community_ids):
                    name = f"{WORDS[n % len(WORDS)]} 社群 {n}"
                    copy.write_row((c, name, name.lower(), access[n], len(members[c]), now, now))
            conn.execute("SELECT setval(pg_get_serial_sequence('community', 'id'), %s)", (community_ids[-1],))
            with conn.cursor().copy("COPY membership (community_id, person_id, role, state) FROM STDIN") as copy:
                for c, who in members.items():
                    for i, person in enumerate(sorted(who)):
                        copy.write_row((c, person, "owner" if i == 0 else "member", "active"))
            console.print(f"  {communities:,} communities, {sum(map(len, members.values())):,} memberships "
                          f"({time.perf_counter() - t0:.0f} s)")

            first_i = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM item").fetchone()[0]
            first_a = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM activity").fetchone()[0]
            kinds, kind_weights = zip(*KINDS, strict=True)
            kind_cum = _cumulative(kind_weights)
            tag_cum = _cumulative([1 / (r + 2) for r in range(TAGS)])
            author_cum = _cumulative([1 / (r + 10) ** 0.6 for r in range(len(people))])
            authors = people[:]
            rng.shuffle(authors)
            start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
            step = dt.timedelta(days=365) / activities
            recent: dict[int | None, list[int]] = {}
            items_rows, activity_rows, tag_rows = [], [], []
            for n in range(activities):
                item_id, activity_id = first_i + n, first_a + n
                author = rng.choices(authors, cum_weights=author_cum)[0]
                places = person_communities[author]
                community = rng.choice(places) if places and rng.random() < 0.7 else None
                kind = rng.choices(kinds, cum_weights=kind_cum)[0] if community else \
                    ("comment" if rng.random() < 0.1 else "status")
                earlier = recent.get(community)
                parent = rng.choice(earlier) if kind == "comment" and earlier else None
                if kind == "comment" and parent is None:
                    kind = "status"
                tags = [f"tag{t}" for t in set(rng.choices(range(TAGS), cum_weights=tag_cum,
                                                           k=rng.choice((1, 2))))] if rng.random() < 0.2 else []
                words = " ".join(rng.choices(WORDS, k=rng.randint(4, 16)))
                body = words + "".join(f" #{t}" for t in tags)
                title = "" if kind in ("status", "comment") else words[:40]
                when = start + step * n
                items_rows.append((item_id, kind, community, parent, author, title, body, f"<p>{body}</p>",
                                   "{" + ",".join(tags) + "}", when, when))
                activity_rows.append((activity_id, author, "comment" if parent else "post", item_id, community,
                                      when))
                tag_rows += [(t, activity_id) for t in tags]
                if kind != "comment":
                    bucket = recent.setdefault(community, [])
                    bucket.append(item_id)
                    if len(bucket) > 50:
                        del bucket[:25]
            with conn.cursor().copy("COPY item (id, kind, community_id, parent_id, author_id, title, body_md,"
                                    " body_html, tags, created_at, updated_at) FROM STDIN") as copy:
                for row in items_rows:
                    copy.write_row(row)
            with conn.cursor().copy("COPY activity (id, actor_id, verb, item_id, community_id, created_at)"
                                    " FROM STDIN") as copy:
                for row in activity_rows:
                    copy.write_row(row)
            with conn.cursor().copy("COPY activity_tag (tag_key, activity_id) FROM STDIN") as copy:
                for row in tag_rows:
                    copy.write_row(row)
            conn.execute("SELECT setval(pg_get_serial_sequence('item', 'id'), %s)", (first_i + activities - 1,))
            conn.execute("SELECT setval(pg_get_serial_sequence('activity', 'id'), %s)",
                         (first_a + activities - 1,))
            console.print(f"  {activities:,} items and activities, {len(tag_rows):,} activity tags "
                          f"({time.perf_counter() - t0:.0f} s)")
            # Everyone else follows someone too: the follow table has a realistic size.
            with conn.cursor().copy("COPY follow (person_id, target_kind, target) FROM STDIN") as copy:
                seen = set()
                for _ in range(len(people) * 2):
                    row = (rng.choice(people), "person", str(rng.choice(authors[:20000])))
                    if row not in seen and row[2] != str(row[0]):
                        seen.add(row)
                        copy.write_row(row)
            # The load skipped row checks: check the references in SQL before committing.
            dangling = conn.execute(
                "SELECT (SELECT count(*) FROM item i LEFT JOIN person p ON p.id = i.author_id WHERE p.id IS NULL)"
                " + (SELECT count(*) FROM membership m LEFT JOIN community c ON c.id = m.community_id"
                " WHERE c.id IS NULL)").fetchone()[0]
            if dangling:
                raise SystemExit(f"{dangling} dangling references after the load")
        for table in ("community", "membership", "item", "activity", "activity_tag", "follow"):
            conn.execute(f"VACUUM ANALYZE {table}")
    seconds = time.perf_counter() - t0
    console.print(f"Seeded the stream in {seconds:.0f} s.")
    return {"seconds": round(seconds, 1)}


async def _reader(url: str, conninfo: str) -> tuple[int, str, list[int]]:
    """The benchmark's reader: a member following 120 people, 50 communities and 30 tags, in 20 communities.
    Returns (person id, a fresh API token, communities they may post in)."""
    from sqlalchemy import select

    from socius.accounts import service as accounts
    from socius.accounts.models import Account
    from socius.core import runtime
    from socius.core.db import Database
    from socius.people import service as people
    from socius.people.models import Role

    db = Database(url, pool_size=1)
    runtime.set_database(db)
    try:
        async with db.transaction() as session:
            account = await session.scalar(select(Account).where(Account.username == READER))
            if account is None:
                person = await people.create_person(session, None, display_name="Feed Reader",
                                                    email="feed-reader@bench.example", role=Role.MEMBER)
                account = await accounts.create_account(session, person, READER, None)
            _token, raw = await accounts.create_token(session, account.person_id, "benchmark", None)
            me = account.person_id
    finally:
        await db.dispose()
    rng = random.Random(9)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # What earlier runs posted as the reader goes: every run starts from the same feed.
        conn.execute("DELETE FROM item WHERE author_id = %s", (me,))
        if conn.execute("SELECT count(*) FROM follow WHERE person_id = %s", (me,)).fetchone()[0] < 200:
            busy = [r[0] for r in conn.execute(
                "SELECT actor_id FROM activity WHERE actor_id <> %s GROUP BY actor_id ORDER BY count(*) DESC"
                " LIMIT 2000", (me,))]
            open_places = [r[0] for r in conn.execute(
                "SELECT id FROM community WHERE access <> 'restricted' ORDER BY member_count DESC LIMIT 500")]
            closed = [r[0] for r in conn.execute(
                "SELECT id FROM community WHERE access = 'restricted' ORDER BY member_count DESC LIMIT 100")]
            tags = [r[0] for r in conn.execute(
                "SELECT tag_key FROM activity_tag GROUP BY tag_key ORDER BY count(*) DESC LIMIT 3000")]
            followed = ([("person", str(p)) for p in rng.sample(busy, 120)]
                        + [("community", str(c)) for c in rng.sample(open_places, 50)]
                        + [("tag", t) for t in tags[:10] + rng.sample(tags[10:], 20)])
            joined = rng.sample(open_places, 14) + rng.sample(closed, 6)
            with conn.transaction():
                conn.execute("DELETE FROM follow WHERE person_id = %s", (me,))
                conn.cursor().executemany("INSERT INTO follow (person_id, target_kind, target) VALUES (%s, %s, %s)",
                                          [(me, k, t) for k, t in followed])
                conn.cursor().executemany("INSERT INTO membership (community_id, person_id) VALUES (%s, %s)"
                                          " ON CONFLICT DO NOTHING", [(c, me) for c in joined])
        places = [r[0] for r in conn.execute("SELECT community_id FROM membership WHERE person_id = %s"
                                             " AND state = 'active'", (me,))]
    return me, raw, places


def _explain(conninfo: str, me: int) -> dict:
    """EXPLAIN ANALYZE of the home feed statements for the reader (first page), as Socius builds them."""
    from sqlalchemy.dialects import postgresql

    from socius.activity import service
    from socius.people.models import Role

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT target_kind, target FROM follow WHERE person_id = %s UNION ALL"
                            " SELECT 'member', community_id::text FROM membership WHERE person_id = %s"
                            " AND state = 'active'", (me, me)).fetchall()
        params = {"me": me, "actors": [me] + [int(t) for k, t in rows if k == "person"],
                  "communities": sorted({int(t) for k, t in rows if k in ("community", "member")}),
                  "tags": [t for k, t in rows if k == "tag"], "before": 2**63 - 1, "per_source": 21, "limit": 21}
        dialect = postgresql.psycopg.dialect()
        out = {}
        candidates = service._candidates_statement().compile(dialect=dialect,
                                                             compile_kwargs={"render_postcompile": True})
        check = service._check_statement(Role.MEMBER).compile(dialect=dialect,
                                                              compile_kwargs={"render_postcompile": True})
        filtered = service._filtered_statement(Role.MEMBER, "status").compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True})
        ids = conn.execute(candidates.string, {**candidates.params, **params}).fetchone()[1] or []
        for name, compiled, values in (("candidates", candidates, params),
                                       ("check", check, {"me": me, "ids": ids, "limit": 21}),
                                       ("filtered, kind=status", filtered, params)):
            for _ in range(3):
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + compiled.string,
                                    {**compiled.params, **values}).fetchone()[0][0]
            out[name] = {"execution_ms": round(plan["Execution Time"], 2),
                         "planning_ms": round(plan["Planning Time"], 2),
                         "shared_hit": plan["Plan"].get("Shared Hit Blocks"),
                         "shared_read": plan["Plan"].get("Shared Read Blocks")}
    out["candidate_ids"] = len(ids)
    return out


def _cursors(port: int, headers: dict, paths: list[str]) -> list[str]:
    """Older pages: follow next_cursor from the first page a few times."""
    import urllib.request

    out = []
    for path in paths:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        with urllib.request.urlopen(request) as response:
            cursor = json.loads(response.read()).get("next_cursor")
        if cursor:
            out.append(f"/api/v1/feed?before={cursor}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--communities", type=int, default=5_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=600, help="requests per latency pass")
    parser.add_argument("--posts", type=int, default=300, help="status updates posted")
    parser.add_argument("--concurrency", type=int, default=4, help="connections in the throughput pass")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time cap per pass")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-feed")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop (measure in a later run)")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 130)
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    machine, url, conninfo, people_seconds = prepare(console, "Socius activity stream benchmark", data_dir,
                                                     args.people)
    report: dict = {"machine": machine, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "people_seed_seconds": people_seconds}
    with psycopg.connect(conninfo) as conn:
        present = conn.execute("SELECT count(*) FROM activity").fetchone()[0]
    if present < args.activities * 0.95:
        console.print(f"Seeding {args.communities:,} communities and {args.activities:,} activities…")
        report["stream_seed"] = _seed_stream(console, conninfo, args.communities, args.activities)
    with psycopg.connect(conninfo) as conn:
        report["counts"] = dict(zip(("people", "communities", "memberships", "activities", "activity_tags",
                                     "follows"), conn.execute(
            "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM community), (SELECT count(*) FROM"
            " membership), (SELECT count(*) FROM activity), (SELECT count(*) FROM activity_tag),"
            " (SELECT count(*) FROM follow)").fetchone(), strict=True))
    console.print(report["counts"])
    if args.seed_only:
        return 0
    me, token, places = asyncio.run(_reader(url, conninfo))
    report["explain_home"] = _explain(conninfo, me)
    console.print(f"EXPLAIN ANALYZE home feed statement: {report['explain_home']}")

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    socius_port, baseline_port = _free_port(), _free_port()
    env = dict(os.environ, SOCIUS_DATABASE_URL=url, SOCIUS_DATA_DIR=str(data_dir), BENCH_CONNINFO=conninfo)
    servers = [
        _start(console, "socius", [sys.executable, "-m", "socius", "serve", "--host", "127.0.0.1",
                                   "--port", str(socius_port), "--no-worker"], env, data_dir),
        _start(console, "baseline", [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir",
                                     str(BENCH), "--host", "127.0.0.1", "--port", str(baseline_port),
                                     "--no-access-log", "--log-level", "warning"], env, data_dir),
    ]
    results = {}
    try:
        asyncio.run(_wait_ready(socius_port, "/healthz", servers[0], data_dir))
        asyncio.run(_wait_ready(baseline_port, "/feed", servers[1], data_dir, headers))
        first = ["/api/v1/feed"] * args.requests
        kinds = [f"/api/v1/feed?kind={k}" for k in ("status", "topic", "comment")] * (args.requests // 6)
        older = _cursors(socius_port, headers, ["/api/v1/feed", "/api/v1/feed?kind=status"])
        rng = random.Random(3)
        posts = [("POST", "/api/v1/status", json.dumps(
            {"body": f"基準測試 {n} #tag{rng.randrange(50)} " + " ".join(rng.choices(WORDS, k=8)),
             **({"community_id": rng.choice(places)} if n % 2 and places else {})}).encode())
            for n in range(args.posts)]
        scenarios = [
            ("home feed API", socius_port, first, (200,)),
            ("home feed API, by kind", socius_port, kinds, (200,)),
            ("home feed API, older pages", socius_port, older * (args.requests // 4 // max(len(older), 1)),
             (200,)),
            ("home feed API, ActivityStreams", socius_port, ["/api/v1/feed?format=as2"] * (args.requests // 2),
             (200,)),
            ("home feed page (HTML)", socius_port, ["/feed"] * (args.requests // 3), (200,)),
            ("post status API", socius_port, posts, (201,)),
            ("baseline: same SQL, bare FastAPI", baseline_port, ["/feed"] * args.requests, (200,)),
        ]
        for name, port, paths, expect in scenarios:
            if name != "post status API":
                asyncio.run(run_load(name, "127.0.0.1", port, paths[:50], concurrency=1, headers=headers,
                                     expect=expect, max_seconds=10))  # warm-up
            result = asyncio.run(run_load(name, "127.0.0.1", port, paths, concurrency=1, headers=headers,
                                          expect=expect, max_seconds=args.max_seconds))
            for sample in result.error_samples:
                console.print(f"[red]{name}: {sample}[/red]")
            results[name] = result
            console.print(f"  {name}: p50 {result.percentile(50):.1f} ms, p95 {result.percentile(95):.1f} ms")
        throughput = {}
        for name, port in (("Socius", socius_port), ("baseline", baseline_port)):
            path = "/api/v1/feed" if name == "Socius" else "/feed"
            throughput[name] = asyncio.run(run_load(name, "127.0.0.1", port, [path] * 100_000,
                                                    concurrency=args.concurrency, headers=headers,
                                                    max_seconds=args.max_seconds))
    finally:
        for process in servers:
            _stop(process)
    machine["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    table = Table(title=f"Activity stream ({report['counts']['activities']:,} activities)")
    for column in ("measure", "count", "p50 ms", "p95 ms", "p99 ms", "errors", "target p95", "met"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    met = True
    report["latency"] = {}
    for name, result in results.items():
        target = TARGETS.get(name)
        ok = result.errors == 0 and result.count > 0 and (target is None or result.percentile(95) <= target)
        if target is not None:
            met &= ok
        report["latency"][name] = {"count": result.count, "p50": round(result.percentile(50), 2),
                                   "p95": round(result.percentile(95), 2), "p99": round(result.percentile(99), 2),
                                   "errors": result.errors}
        table.add_row(name, f"{result.count:,}", f"{result.percentile(50):.1f}", f"{result.percentile(95):.1f}",
                      f"{result.percentile(99):.1f}", str(result.errors), f"≤ {target:.0f}" if target else "—",
                      _mark(ok) if target else "—")
    console.print(table)
    ratio = throughput["Socius"].throughput / max(throughput["baseline"].throughput, 1e-9)
    report["throughput"] = {name: {"rps": round(r.throughput, 1), "count": r.count, "errors": r.errors,
                                   "p95": round(r.percentile(95), 2)} for name, r in throughput.items()}
    report["throughput"]["ratio"] = round(ratio, 3)
    console.print(f"Home feed throughput at {args.concurrency} connections: Socius "
                  f"{throughput['Socius'].throughput:.0f} req/s, baseline {throughput['baseline'].throughput:.0f}"
                  f" req/s, ratio [bold]{ratio:.2f}[/bold]. Load average at the end: {machine['load_average_end']}")
    report["all_targets_met"] = met
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = data_dir / f"feed-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    console.print(f"Results written to {out}.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
