"""Socius idea portal benchmark: 20 campaigns (one of 24,000 ideas), 100,000 ideas and 2,000,000 votes; a campaign's
list by each ranking, voting by 50 people at once (then every idea's counts checked against its votes), merging two
ideas of 10,000 votes each, and a bare baseline.

    uv run python bench/ideas.py                       # seed once into var/bench-ideas/, then measure
    uv run python bench/ideas.py --ideas 10000 --votes 200000 --data-dir var/bench-ideas-small

Everything runs on this machine, in a private PostgreSQL in the data directory (bench/run.py `prepare`):
1. people through `demo.seed.seed_people`; campaigns, idea items, idea rows and votes with INSERT … SELECT over
   generate_series (set-based, in one transaction, triggers off), then the counts, `top` (ranking.wilson_sql) and
   `hot` (ranking.age_term + vote_term) computed from the votes in one UPDATE;
2. the campaign list (`service.list_ideas`, after `access.get_campaign`, in one transaction as a request would —
   there is no GET /api/v1/campaigns/{id}/ideas route in this branch yet), pages 1–5 of the big campaign, by top,
   hot, new, discussed (as a member) and review (as an administrator); EXPLAIN ANALYZE of each list statement;
3. baseline: the very statements one list call sent, captured from the engine and replayed bare through psycopg
   in one transaction;
4. voting: 50 asyncio tasks, each with its own session, calling `service.vote` on random ideas as random people who
   are not the authors; first at a brisk human pace (each voter pauses a random time, exponential with mean 1 s,
   before each vote, for 30 s: about 50 votes a second), then without any pause (3,000 votes: the throughput, where
   a vote's latency is mostly its wait behind the other 49); then for every idea, up_count/down_count against the
   idea_vote rows, and top against Wilson;
5. merging: two fresh ideas with 10,000 votes each (5,000 voters in common) merged through
   `socius.ideas.merging.merge` when it exists ("not built" otherwise).
Results are printed and written to <data-dir>/ideas-<time>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from run import _mark, prepare

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"list": 30.0, "vote": 20.0, "merge": 1000.0}
ORDER_NAMES = ("top", "hot", "new", "discussed", "review")


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _ranking_sql() -> tuple[str, str]:
    """`top` and the vote term of `hot` as SQL over v.up / v.down, from the expressions the votes use."""
    from sqlalchemy import literal_column
    from sqlalchemy.dialects import postgresql

    from socius.ideas import ranking

    up, down = literal_column("v.up"), literal_column("v.down")

    def render(expression) -> str:
        return str(expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))

    return render(ranking.wilson_sql(up, down)), render(ranking.vote_term_sql(up - down))


def _recount_sql(where: str) -> str:
    from socius.ideas import ranking

    top, term = _ranking_sql()
    epoch = ranking.EPOCH.isoformat()
    return (
        "UPDATE idea SET up_count = v.up, down_count = v.down, top = " + top + ","
        f" hot = extract(epoch FROM i.created_at - '{epoch}'::timestamptz) / {ranking.HOT_SECONDS} + " + term +
        " FROM (SELECT idea_id, count(*) FILTER (WHERE value = 1) AS up, count(*) FILTER (WHERE value = -1) AS down"
        f" FROM idea_vote WHERE {where} GROUP BY idea_id) v, item i"
        " WHERE idea.item_id = v.idea_id AND i.id = v.idea_id")


def _seed(console: Console, conninfo: str, campaigns: int, big: int, ideas: int, votes: int) -> dict:
    t0 = time.perf_counter()
    per_idea = votes / ideas
    with psycopg.connect(conninfo, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # no outbox triggers, no row FK checks
            conn.execute("SELECT setseed(0.8)")
            conn.execute("CREATE TEMP TABLE bp ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id) - 1)::int"
                         " AS n, id FROM person WHERE deactivated_at IS NULL AND role = 'member'")
            conn.execute("CREATE UNIQUE INDEX ON bp (n)")
            people = conn.execute("SELECT count(*) FROM bp").fetchone()[0]
            first_c = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM campaign").fetchone()[0]
            conn.execute(
                "INSERT INTO campaign (id, title, audience, opens_at, stages, allow_down_votes, idea_count)"
                " SELECT %s + g, '效能測試活動 Bench campaign ' || g, 'employees', now() - interval '400 days',"
                " '[\"submitted\", \"under_review\", \"selected\", \"in_development\", \"launched\"]'::jsonb,"
                " g %% 2 = 1, 0 FROM generate_series(0, %s - 1) g", (first_c, campaigns))
            conn.execute("SELECT setval(pg_get_serial_sequence('campaign', 'id'), %s)", (first_c + campaigns - 1,))
            first_i = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM item").fetchone()[0]
            # g < big: the big campaign; the rest shared out among the others.
            conn.execute(
                "CREATE TEMP TABLE bi ON COMMIT DROP AS SELECT g, %(first_i)s + g AS item_id,"
                " CASE WHEN g < %(big)s THEN %(c)s ELSE %(c)s + 1 + (g - %(big)s) %% (%(campaigns)s - 1) END"
                "   AS campaign_id,"
                " (g * 7919) %% %(people)s AS author_n,"
                " least(%(people)s - 2, greatest(1, round((%(per)s - 5) * 4 * power(random(), 3) + 5)))::int"
                "   AS nvotes,"
                " now() - (%(ideas)s - g) * interval '300 seconds' AS created_at"
                " FROM generate_series(0, %(ideas)s - 1) g",
                {"first_i": first_i, "big": big, "c": first_c, "campaigns": campaigns, "people": people,
                 "per": per_idea, "ideas": ideas})
            conn.execute(
                "INSERT INTO item (id, kind, campaign_id, author_id, title, body_md, body_html, tags, comment_count,"
                " created_at, updated_at, hidden_at, hidden_by)"
                " SELECT bi.item_id, 'idea', bi.campaign_id, bp.id, '點子 Idea ' || bi.g,"
                " '讓流程更簡單 make the process simpler ' || bi.g, '<p>讓流程更簡單 make the process simpler ' ||"
                " bi.g || '</p>', '{}', floor(30 * power(random(), 4))::int, bi.created_at, bi.created_at,"
                " CASE WHEN bi.g %% 100 = 7 THEN bi.created_at END, CASE WHEN bi.g %% 100 = 7 THEN bp.id END"
                " FROM bi JOIN bp ON bp.n = bi.author_n", {})
            conn.execute("SELECT setval(pg_get_serial_sequence('item', 'id'), %s)", (first_i + ideas - 1,))
            conn.execute(
                "INSERT INTO idea (item_id, campaign_id, stage, stage_changed_at, review_score, pending)"
                " SELECT item_id, campaign_id, (ARRAY['submitted', 'submitted', 'submitted', 'under_review',"
                " 'selected', 'in_development', 'launched', 'declined'])[1 + g %% 8], created_at,"
                " CASE WHEN g %% 3 = 0 THEN 1 + 4 * random() END, false FROM bi", {})
            console.print(f"  {campaigns} campaigns, {ideas:,} ideas ({time.perf_counter() - t0:.0f} s)")
            conn.execute(
                "INSERT INTO idea_vote (idea_id, person_id, value, created_at)"
                " SELECT bi.item_id, bp.id, CASE WHEN c.allow_down_votes AND random() < 0.15 THEN -1 ELSE 1 END,"
                " bi.created_at + interval '1 hour'"
                " FROM bi JOIN campaign c ON c.id = bi.campaign_id"
                " CROSS JOIN LATERAL generate_series(0, bi.nvotes - 1) k"
                " JOIN bp ON bp.n = (bi.author_n + 1 + k) %% %s", (people,))
            seeded = conn.execute("SELECT count(*) FROM idea_vote").fetchone()[0]
            console.print(f"  {seeded:,} votes ({time.perf_counter() - t0:.0f} s)")
            conn.execute(_recount_sql("true"))
            conn.execute("UPDATE campaign SET idea_count = n FROM (SELECT campaign_id, count(*) AS n FROM idea"
                         " GROUP BY campaign_id) x WHERE x.campaign_id = campaign.id")
        for table in ("campaign", "item", "idea", "idea_vote"):
            conn.execute(f"VACUUM ANALYZE {table}")
    seconds = time.perf_counter() - t0
    console.print(f"Seeded the idea portal in {seconds:.0f} s.")
    return {"seconds": round(seconds, 1)}


def _plan_summary(plan: dict) -> dict:
    indexes, nodes = set(), []

    def walk(node: dict) -> None:
        nodes.append(node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else ""))
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {"execution_ms": round(plan["Execution Time"], 2), "indexes": sorted(indexes),
            "seq_scans": sorted({n for n in nodes if n.startswith("Seq Scan")}),
            "sorts": sum(1 for n in nodes if n in ("Sort", "Incremental Sort"))}


async def _measure(url: str, conninfo: str, args, console: Console, report: dict) -> dict:
    from sqlalchemy import event

    from socius.core import runtime
    from socius.core.auth import Principal
    from socius.core.db import Database
    from socius.core.errors import Conflict
    from socius.ideas import access, merging, service
    from socius.ideas.service import IdeaQuery
    from socius.people.models import Role

    with psycopg.connect(conninfo) as conn:
        big = conn.execute("SELECT id FROM campaign WHERE title LIKE '%Bench campaign%'"
                           " ORDER BY idea_count DESC, id LIMIT 1").fetchone()[0]
        people = [r[0] for r in conn.execute("SELECT id FROM person WHERE deactivated_at IS NULL"
                                             " AND role = 'member' ORDER BY id")]
        live = conn.execute("SELECT i.item_id, it.author_id, c.allow_down_votes FROM idea i JOIN item it"
                            " ON it.id = i.item_id JOIN campaign c ON c.id = i.campaign_id WHERE c.title LIKE"
                            " '%Bench campaign%' AND i.merged_into_id IS NULL AND it.hidden_at IS NULL").fetchall()
    rng = random.Random(11)
    reader = Principal(person_id=rng.choice(people), role=Role.MEMBER)
    admin = Principal(person_id=people[0], role=Role.ADMINISTRATOR)
    db = Database(url, pool_size=args.voters)
    runtime.set_database(db)
    captured: list[tuple[str, object]] = []
    capturing = False

    def capture(conn, cursor, statement, parameters, context, executemany):
        if capturing:
            captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    out: dict = {"list": {}, "baseline": {}, "explain": {}}
    try:
        async def list_once(order: str, page: int) -> float:
            who = admin if order == "review" else reader
            t = time.perf_counter()
            async with db.transaction() as session:
                campaign = await access.get_campaign(session, who, big)
                views = await service.list_ideas(session, who, campaign, IdeaQuery(order=order, page=page))
            assert len(views) == 20, (order, page, len(views))
            return (time.perf_counter() - t) * 1000

        replays: dict[str, list[list[tuple[str, object]]]] = {}
        for order in ORDER_NAMES:
            for page in range(1, 6):
                await list_once(order, page)  # warm-up
            replays[order] = []
            for page in range(1, 6):
                captured.clear()
                capturing = True
                await list_once(order, page)
                capturing = False
                replays[order].append(list(captured))
            samples = [await list_once(order, rng.randint(1, 5)) for _ in range(args.requests)]
            out["list"][order] = samples
            console.print(f"  list by {order}: p50 {_pct(samples, 50):.1f} ms, p95 {_pct(samples, 95):.1f} ms")
        with psycopg.connect(conninfo) as conn:
            for order in ORDER_NAMES:
                main = next(s for s in replays[order][0] if "JOIN idea" in s[0] and "ORDER BY" in s[0])
                for _ in range(3):
                    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + main[0], main[1]).fetchone()
                out["explain"][order] = _plan_summary(plan[0][0])
                out["explain"][order]["sql"] = main[0]
                conn.rollback()
                samples = []
                for n in range(args.requests + 20):
                    statements = replays[order][n % 5]
                    t = time.perf_counter()
                    with conn.transaction():
                        for statement, parameters in statements:
                            conn.execute(statement, parameters).fetchall()
                    if n >= 20:
                        samples.append((time.perf_counter() - t) * 1000)
                out["baseline"][order] = samples
            out["statements_per_list"] = {o: len(replays[o][0]) for o in ORDER_NAMES}

        # Voting: 50 people at once, each in their own session; first at a (brisk) human pace, then without pause.
        report["load_average_before_votes"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

        async def voting(think: float, per_voter: int) -> dict:
            latencies: list[float] = []
            counts = {"done": 0, "conflicts": 0, "errors": 0}
            error_samples: list[str] = []

            async def voter(n: int) -> None:
                local = random.Random(int(time.time() * 1000) + n)  # fresh ballots on every run
                for _ in range(per_voter):
                    if think:
                        await asyncio.sleep(local.expovariate(1 / think))
                    idea_id, author, down = local.choice(live)
                    person = local.choice(people)
                    while person == author:
                        person = local.choice(people)
                    value = -1 if down and local.random() < 0.15 else 1
                    t = time.perf_counter()
                    try:
                        async with db.transaction() as session:
                            await service.vote(session, Principal(person_id=person, role=Role.MEMBER), idea_id,
                                               value)
                    except Conflict:
                        counts["conflicts"] += 1
                    except Exception as e:
                        counts["errors"] += 1
                        if len(error_samples) < 3:
                            error_samples.append(repr(e))
                        continue
                    else:
                        counts["done"] += 1
                    latencies.append((time.perf_counter() - t) * 1000)

            t0 = time.perf_counter()
            cpu0 = time.process_time()
            await asyncio.gather(*(voter(n) for n in range(args.voters)))
            elapsed = time.perf_counter() - t0
            cast = counts["done"] + counts["conflicts"]
            summary = {**counts, "seconds": round(elapsed, 1), "per_second": round(cast / elapsed, 1),
                       "process_cpu_ms_per_vote": round((time.process_time() - cpu0) * 1000 / max(cast, 1), 2),
                       "error_samples": error_samples}
            console.print(f"  votes (think {think} s): {summary}, p50 {_pct(latencies, 50):.1f} ms,"
                          f" p95 {_pct(latencies, 95):.1f} ms")
            return {"latencies": latencies, "counts": summary}

        out["vote"] = await voting(args.think, max(1, round(args.vote_seconds / args.think)))
        out["vote_flat_out"] = await voting(0.0, args.votes_measured // args.voters)
        with psycopg.connect(conninfo) as conn:
            top, _term = _ranking_sql()
            bad = conn.execute(
                "SELECT count(*) FILTER (WHERE i.up_count <> coalesce(v.up, 0) OR i.down_count <> coalesce(v.down, 0)),"
                f" count(*) FILTER (WHERE abs(i.top - coalesce({top}, 0)) > 1e-9), count(*)"
                " FROM idea i LEFT JOIN (SELECT idea_id, count(*) FILTER (WHERE value = 1) AS up,"
                " count(*) FILTER (WHERE value = -1) AS down FROM idea_vote GROUP BY idea_id) v"
                " ON v.idea_id = i.item_id WHERE i.merged_into_id IS NULL").fetchone()
        out["consistency"] = {"count_mismatches": bad[0], "top_mismatches": bad[1], "ideas_checked": bad[2]}
        console.print(f"  consistency: {out['consistency']}")

        # Merging two ideas with 10,000 votes each.
        if not hasattr(merging, "merge"):
            out["merge"] = "not built"
            console.print("  merge: not built (socius.ideas.merging.merge does not exist yet)")
        else:
            with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                first = conn.execute("SELECT nextval(pg_get_serial_sequence('item', 'id')),"
                                     " nextval(pg_get_serial_sequence('item', 'id'))").fetchone()
                ids = list(first)
                conn.execute("INSERT INTO item (id, kind, campaign_id, author_id, title, body_md, body_html)"
                             " SELECT x, 'idea', %s, %s, '合併測試 Merge test ' || x, 'duplicate', '<p>duplicate</p>'"
                             " FROM unnest(%s::bigint[]) x", (big, people[0], ids))
                conn.execute("INSERT INTO idea (item_id, campaign_id, stage) SELECT x, %s, 'submitted'"
                             " FROM unnest(%s::bigint[]) x", (big, ids))
                voters = people[1:15001]
                conn.execute("INSERT INTO idea_vote (idea_id, person_id, value) SELECT %s, p, 1"
                             " FROM unnest(%s::bigint[]) p", (ids[0], voters[:10000]))
                conn.execute("INSERT INTO idea_vote (idea_id, person_id, value) SELECT %s, p, 1"
                             " FROM unnest(%s::bigint[]) p", (ids[1], voters[5000:15000]))
                conn.execute(_recount_sql(f"idea_id IN ({ids[0]}, {ids[1]})"))
            t = time.perf_counter()
            async with db.transaction() as session:
                await merging.merge(session, admin, ids[0], ids[1])
            ms = (time.perf_counter() - t) * 1000
            with psycopg.connect(conninfo) as conn:
                after = conn.execute("SELECT up_count, (SELECT count(*) FROM idea_vote WHERE idea_id = %s)"
                                     " FROM idea WHERE item_id = %s", (ids[1], ids[1])).fetchone()
            out["merge"] = {"ms": round(ms, 1), "target_up_count": after[0], "target_votes": after[1],
                            "expected_votes": 15000}
            console.print(f"  merge: {out['merge']}")
    finally:
        await db.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--big", type=int, default=24_000, help="ideas in the big campaign")
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=200, help="list calls per ranking")
    parser.add_argument("--voters", type=int, default=50, help="concurrent voters")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause in seconds before each vote of a voter in the paced pass (exponential)")
    parser.add_argument("--vote-seconds", type=float, default=30.0, help="length of the paced voting pass")
    parser.add_argument("--votes-measured", type=int, default=3000, help="votes cast in the pass without pause")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-ideas")
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 130)
    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    machine, url, conninfo, people_seconds = prepare(console, "Socius idea portal benchmark", data_dir, args.people)
    report: dict = {"machine": machine, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "people_seed_seconds": people_seconds}
    with psycopg.connect(conninfo) as conn:
        present = conn.execute("SELECT count(*) FROM idea").fetchone()[0]
    if present < args.ideas * 0.95:
        console.print(f"Seeding {args.campaigns} campaigns, {args.ideas:,} ideas and {args.votes:,} votes…")
        report["seed"] = _seed(console, conninfo, args.campaigns, args.big, args.ideas, args.votes)
    with psycopg.connect(conninfo) as conn:
        report["counts"] = dict(zip(("people", "campaigns", "ideas", "votes", "big_campaign"), conn.execute(
            "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM campaign), (SELECT count(*) FROM idea),"
            " (SELECT count(*) FROM idea_vote), (SELECT max(idea_count) FROM campaign)").fetchone(), strict=True))
    console.print(report["counts"])
    if args.seed_only:
        return 0
    out = asyncio.run(_measure(url, conninfo, args, console, report))
    machine["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    table = Table(title=f"Idea portal ({report['counts']['ideas']:,} ideas, {report['counts']['votes']:,} votes;"
                        f" big campaign {report['counts']['big_campaign']:,})")
    for column in ("measure", "count", "p50 ms", "p95 ms", "p99 ms", "baseline p50", "ratio p50", "target p95",
                   "met"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    met = True
    report["latency"] = {}
    for order in ORDER_NAMES:
        samples, base = out["list"][order], out["baseline"][order]
        ok = _pct(samples, 95) <= TARGETS["list"]
        met &= ok
        ratio = _pct(samples, 50) / _pct(base, 50)
        report["latency"][f"list {order}"] = {"count": len(samples), "p50": round(_pct(samples, 50), 2),
                                              "p95": round(_pct(samples, 95), 2), "p99": round(_pct(samples, 99), 2),
                                              "baseline_p50": round(_pct(base, 50), 2),
                                              "baseline_p95": round(_pct(base, 95), 2), "ratio_p50": round(ratio, 2)}
        table.add_row(f"list by {order}", str(len(samples)), f"{_pct(samples, 50):.1f}", f"{_pct(samples, 95):.1f}",
                      f"{_pct(samples, 99):.1f}", f"{_pct(base, 50):.1f}", f"{ratio:.1f}",
                      f"≤ {TARGETS['list']:.0f}", _mark(ok))
    votes = out["vote"]["latencies"]
    consistent = out["consistency"]["count_mismatches"] == 0 and out["consistency"]["top_mismatches"] == 0
    ok = bool(votes) and _pct(votes, 95) <= TARGETS["vote"] and out["vote"]["counts"]["errors"] == 0
    met &= ok and consistent
    for key, label in (("vote", f"vote, {args.voters} voters, ~1 per {args.think:g} s each"),
                       ("vote_flat_out", f"vote, {args.voters} voters without pause")):
        samples, counts = out[key]["latencies"], out[key]["counts"]
        report["latency"][key] = {"count": len(samples), "p50": round(_pct(samples, 50), 2),
                                  "p95": round(_pct(samples, 95), 2), "p99": round(_pct(samples, 99), 2), **counts}
        table.add_row(label, str(len(samples)), f"{_pct(samples, 50):.1f}", f"{_pct(samples, 95):.1f}",
                      f"{_pct(samples, 99):.1f}", "—", "—",
                      f"≤ {TARGETS['vote']:.0f}" if key == "vote" else f"{counts['per_second']:.0f} votes/s",
                      _mark(ok) if key == "vote" else "—")
    table.add_row("counts = votes, every idea", str(out["consistency"]["ideas_checked"]), "—", "—", "—", "—", "—",
                  "0 off", _mark(consistent))
    if isinstance(out["merge"], dict):
        ok = out["merge"]["ms"] <= TARGETS["merge"] and out["merge"]["target_votes"] == 15000 \
            and out["merge"]["target_up_count"] == 15000
        met &= ok
        table.add_row("merge 10,000 + 10,000 votes", "1", f"{out['merge']['ms']:.0f}", "—", "—", "—", "—",
                      f"≤ {TARGETS['merge']:.0f}", _mark(ok))
    else:
        table.add_row("merge 10,000 + 10,000 votes", "—", "not built", "—", "—", "—", "—", "≤ 1000", "—")
    console.print(table)
    for order, plan in out["explain"].items():
        console.print(f"EXPLAIN ANALYZE list by {order}: {plan['execution_ms']} ms, indexes {plan['indexes']},"
                      f" seq scans {plan['seq_scans']}, sorts {plan['sorts']}")
    console.print(f"Load average: start {machine['load_average']}, before votes "
                  f"{report['load_average_before_votes']}, end {machine['load_average_end']} (shared machine).")
    report.update({k: out[k] for k in ("explain", "consistency", "merge", "statements_per_list")})
    report["all_targets_met"] = met
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    path = data_dir / f"ideas-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    console.print(f"Results written to {path}.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
