"""Socius expertise benchmark: the expert finder, tag autocomplete and the team builder through the API, with
200,000 people, 2,000,000 tag assignments and 1,000,000 content items, and a naive SQL ranking as the baseline.

    uv run python bench/expertise.py                  # on var/bench (run bench/search.py first: people, items, index)
    uv run python bench/expertise.py --data-dir var/bench-small --assignments 200000   # quick

Everything runs on this machine, in the search benchmark's private PostgreSQL and index:
1. the people and the `bench_item` content (its authors are the seeded people) must be there, indexed
   (bench/search.py builds them); the items are registered as expert evidence ("wrote N items on it");
2. tag assignments are seeded once through `expertise.service.import_tags` (the same keys, labels and evidence as
   tagging one by one, set-based): a vocabulary of skills from the search corpus in zh-Hant, zh-Hans and English
   plus a long tail of rare made-up skills, drawn Zipf-like; each person tags themselves and is tagged by colleagues;
3. the app serves (bench/expertise_app.py) and one connection measures `/api/v1/experts?q=` (common, mid and rare
   skills, both scripts, English, several skills at once, with location and department filters),
   `/api/v1/tags?prefix=` (one to three characters, Han and Latin) and `POST /api/v1/experts/team` with 8 skills;
4. the baseline, in the same run: the obvious SQL — count the tag assignments per person for the query's tag
   (folded the same way), top 20 — timed at the client; it has no content, filters or evidence.
Results are printed and written to <data-dir>/expertise-<time>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import search_corpus
import search_kind
from client import run_load
from rich.console import Console
from rich.table import Table
from run import _admin_token, _count_people, _free_port, _mark, _start, _stop, _wait_ready, prepare

from search import _percentile

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
TARGETS = {"expert finder API": 100.0, "tag autocomplete API": 15.0, "team builder API (8 skills)": 300.0}
TAIL = 30_000  # rare made-up skills
CHUNK = 100_000  # assignments per import transaction


def skills(rng: random.Random) -> tuple[list[str], list[float]]:
    """Skill labels, most common first, with Zipf-like weights: the corpus vocabulary (zh-Hant, English), then
    made-up rare ones."""
    labels = [w for w in search_corpus.HANT if len(w) >= 2][:150] + [w for w in search_corpus.ENGLISH
                                                                       if len(w) >= 4][:100]
    rng.shuffle(labels)
    labels += [search_corpus.tail_word("hant" if n % 2 else "en", n // 2) + ("技術" if n % 2 else " methods")
               for n in range(TAIL)]
    weights = [1 / (rank + 5) for rank in range(len(labels))]
    return labels, weights


def _ensure_tags(console: Console, url: str, conninfo: str, target: int) -> dict:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        present = conn.execute("SELECT count(*) FROM tag_assignment").fetchone()[0]
        if present >= target * 0.95:
            console.print(f"{present:,} tag assignments present: not seeding.")
            return {"seeded": False, "assignments": present}
        ids = [r[0] for r in conn.execute("SELECT id FROM person WHERE deactivated_at IS NULL ORDER BY id")]
    rng = random.Random(11)
    labels, weights = skills(rng)
    cumulative = list(itertools.accumulate(weights))
    tw2sp = search_corpus._tw2sp()
    console.print(f"Seeding {target - present:,} tag assignments through import_tags…")
    t0 = time.perf_counter()
    done = present
    while done < target:
        rows = []
        n = min(CHUNK, target - done)
        for label in rng.choices(labels, cum_weights=cumulative, k=n):
            person = rng.choice(ids)
            tagger = person if rng.random() < 0.35 else rng.choice(ids)
            if rng.random() < 0.3 and any("\u4e00" <= ch <= "\u9fff" for ch in label):
                label = tw2sp.convert(label)  # a mainland colleague's spelling
            rows.append((tagger, person, label))
        added = asyncio.run(_import(url, rows))
        done += added if added else len(rows)
        console.print(f"  {done:,} assignments ({time.perf_counter() - t0:.0f} s)")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tag_assignment")
        conn.execute("VACUUM ANALYZE person_tag")
        conn.execute("VACUUM ANALYZE tag")
        conn.execute("VACUUM ANALYZE tag_term")
        counts = conn.execute("SELECT (SELECT count(*) FROM tag_assignment), (SELECT count(*) FROM person_tag),"
                              " (SELECT count(*) FROM tag WHERE merged_into_id IS NULL)").fetchone()
    seconds = time.perf_counter() - t0
    console.print(f"  {counts[0]:,} assignments, {counts[1]:,} person-tags, {counts[2]:,} tags in {seconds:.0f} s")
    return {"seeded": True, "seconds": round(seconds, 1), "assignments": counts[0], "person_tags": counts[1],
            "tags": counts[2], "per_second": round((counts[0] - present) / seconds)}


async def _import(url: str, rows: list[tuple[int, int, str]]) -> int:
    from socius.core.db import Database
    from socius.expertise.service import import_tags

    database = Database(url, pool_size=1)
    try:
        async with database.transaction() as db:
            return await import_tags(db, rows)
    finally:
        await database.dispose()


def _queries(conninfo: str) -> tuple[list[str], list[str], list[list[str]]]:
    """Expert queries, autocomplete prefixes and 8-skill teams, from the tags as seeded (by how many hold them)."""
    with psycopg.connect(conninfo) as conn:
        tags = conn.execute("SELECT label, people_count FROM tag WHERE merged_into_id IS NULL"
                            " ORDER BY people_count DESC").fetchall()
        places = [r[0] for r in conn.execute("SELECT location FROM person WHERE location IS NOT NULL"
                                             " GROUP BY location ORDER BY count(*) DESC LIMIT 3")]
        departments = [r[0] for r in conn.execute("SELECT department FROM person WHERE department IS NOT NULL"
                                                  " GROUP BY department ORDER BY count(*) DESC LIMIT 3")]
    tw2sp = search_corpus._tw2sp()
    common = [t for t, _ in tags[:10]]
    mid = [t for t, _ in tags[200:210]]
    rare = [t for t, _ in tags[-10:]]
    experts = common + mid + rare + [tw2sp.convert(t) for t in common[:5]] + [
        f"{common[0]}, {mid[0]}", f"{common[1]}, {common[2]}, {rare[0]}"]
    experts += [f"{t}&location={quote(places[n % len(places)])}" for n, t in enumerate(common[:5])]
    experts += [f"{t}&department={quote(departments[n % len(departments)])}" for n, t in enumerate(mid[:5])]
    prefixes = [t[:n] for t in common + mid + rare for n in (1, 2, 3) if len(t) > n]
    teams = [[t for t, _ in tags[start:start + 8]] for start in (0, 50, 300, 2000)]
    return experts, prefixes, teams


def _baseline(conninfo: str, queries: list[str], rounds: int = 3) -> dict:
    """The obvious SQL: count assignments of the query's tag per person, top 20, timed at the client."""
    from socius.expertise.service import tag_key

    times = []
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET jit = off")
        for _ in range(rounds):
            for q in queries:
                skill = q.split("&")[0].split(",")[0]
                t0 = time.perf_counter()
                conn.execute("SELECT a.person_id, count(*) FROM tag_assignment a JOIN tag t ON t.id = a.tag_id"
                             " JOIN person p ON p.id = a.person_id WHERE t.key = %s AND p.deactivated_at IS NULL"
                             " GROUP BY a.person_id ORDER BY count(*) DESC LIMIT 20", (tag_key(skill),)).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
    return {"count": len(times), "p50": statistics.median(times), "p95": _percentile(times, 95)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000, help="people the database must hold at least")
    parser.add_argument("--assignments", type=int, default=2_000_000, help="tag assignments to seed (once)")
    parser.add_argument("--rounds", type=int, default=10, help="passes over the expert queries")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time cap per API pass")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench",
                        help="the search benchmark's data directory (database and index)")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 130)
    data_dir = args.data_dir.resolve()
    started = time.perf_counter()
    machine, url, conninfo, _ = prepare(console, "Socius expertise benchmark", data_dir, args.people)
    report: dict = {"machine": machine, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    report["people"] = _count_people(conninfo)
    with psycopg.connect(conninfo) as conn:
        report["items"] = conn.execute("SELECT count(*) FROM bench_item").fetchone()[0]
    if not (data_dir / "search" / "current").exists():
        raise SystemExit(f"no search index in {data_dir}: run bench/search.py --data-dir {data_dir} first")
    report["tags"] = _ensure_tags(console, url, conninfo, args.assignments)
    search_kind.ensure_registered()
    _admin_id, token = asyncio.run(_admin_token(url))

    experts, prefixes, teams = _queries(conninfo)
    expert_paths = [f"/api/v1/experts?q={quote(q.split('&')[0])}{'&' + q.split('&', 1)[1] if '&' in q else ''}"
                    for q in experts] * args.rounds
    prefix_paths = [f"/api/v1/tags?prefix={quote(p)}" for p in prefixes] * 5
    team_requests = [("POST", "/api/v1/experts/team", json.dumps({"skills": t}).encode()) for t in teams] * 5
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    port = _free_port()
    env = dict(os.environ, SOCIUS_DATABASE_URL=url, SOCIUS_DATA_DIR=str(data_dir))
    server = _start(console, "expertise", [sys.executable, "-m", "uvicorn", "expertise_app:app", "--app-dir",
                                           str(BENCH), "--host", "127.0.0.1", "--port", str(port),
                                           "--no-access-log", "--log-level", "warning"], env, data_dir)
    api = {}
    try:
        asyncio.run(_wait_ready(port, "/healthz", server, data_dir))
        for name, paths in (("expert finder API", expert_paths), ("tag autocomplete API", prefix_paths),
                            ("team builder API (8 skills)", team_requests)):
            asyncio.run(run_load(name, "127.0.0.1", port, list(dict.fromkeys(paths))[:100], concurrency=1,
                                 headers=headers, max_seconds=30))  # warm-up
            result = asyncio.run(run_load(name, "127.0.0.1", port, paths, concurrency=1, headers=headers,
                                          max_seconds=args.max_seconds))
            for sample in result.error_samples:
                console.print(f"[red]{name}: {sample}[/red]")
            api[name] = result
    finally:
        _stop(server)
    report["baseline"] = _baseline(conninfo, experts[:25])
    machine["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    table = Table(title="Expertise")
    for column in ("measure", "count", "p50 ms", "p95 ms", "p99 ms", "errors", "target p95", "met"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    met = True
    report["api"] = {}
    for name, result in api.items():
        ok = result.errors == 0 and result.count > 0 and result.percentile(95) <= TARGETS[name]
        met &= ok
        report["api"][name] = {"count": result.count, "p50": result.percentile(50), "p95": result.percentile(95),
                               "p99": result.percentile(99), "errors": result.errors}
        table.add_row(name, f"{result.count:,}", f"{result.percentile(50):.1f}", f"{result.percentile(95):.1f}",
                      f"{result.percentile(99):.1f}", str(result.errors), f"≤ {TARGETS[name]:.0f}", _mark(ok))
    base = report["baseline"]
    table.add_row("baseline: SQL count per person (no content, filters, evidence)", f"{base['count']:,}",
                  f"{base['p50']:.1f}", f"{base['p95']:.1f}", "", "", "", "")
    console.print(table)
    finder = report["api"]["expert finder API"]
    console.print(f"Expert finder ÷ baseline: p50 {finder['p50'] / base['p50']:.1f}×, "
                  f"p95 {finder['p95'] / base['p95']:.1f}×. Load average at the end: {machine['load_average_end']}")
    report["all_targets_met"] = met
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = data_dir / f"expertise-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    console.print(f"Results written to {out}.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
