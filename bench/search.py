"""Socius search benchmark: indexing rate, ranked search and name suggestions through the API, and PostgreSQL
full-text search (ts_rank_cd) on the same data and queries, in one run.

    uv run python bench/search.py                    # 1,000,000 items + 200,000 people (seeds once, ~25 min)
    uv run python bench/search.py --items 100000     # quick check (the item table is reseeded to this size)
    uv run python bench/search.py --skip-index       # queries only, on the index the last run built

Everything runs on this machine, in var/bench/ (the people benchmark's private PostgreSQL, database
socius_bench; never the normal data directory):
1. seed people (socius.demo.seed) and `bench_item` rows of synthetic mixed zh-Hant/zh-Hans/English text
   (bench/search_corpus.py), each with a tsvector of the *same* pipeline's terms for the PostgreSQL baseline;
2. index everything through the search module's rebuild (`socius search reindex`'s path: kinds' `load`, text
   analysis in a process pool, Tantivy writer, commit, swap) with `bench_item` registered as a content kind
   (bench/search_kind.py); the rate of the items' phase is the indexing rate;
3. serve the app (bench/search_app.py) and measure `/api/v1/search?q=` (top 20, facets, hydration with the
   authorisation re-check, snippets) and `/api/v1/search/suggest?q=` at one connection; the Tantivy backend's
   own time in this process for a breakdown;
4. run the same queries as `ts_rank_cd` top-20 in PostgreSQL over a GIN index, and report the ratio.
Results are printed and written to var/bench/search-<time>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import psycopg
import search_corpus
import search_kind
from client import run_load
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from run import (
    SEARCHES,
    _admin_token,
    _count_people,
    _free_port,
    _mark,
    _start,
    _stop,
    _wait_ready,
    prepare,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
INDEX_TARGET = 5000.0  # items per second
TARGETS = {"search API": 20.0, "suggest API": 15.0}  # p95 ms
MEMBER_OF = 20  # communities the benchmark's user belongs to (of search_corpus.COMMUNITIES)
SEED_CHUNK = 5000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000, help="content items (the table is reseeded)")
    parser.add_argument("--people", type=int, default=200_000, help="people the database must hold at least")
    parser.add_argument("--requests", type=int, default=1200, help="search API requests (queries in turn)")
    parser.add_argument("--suggestions", type=int, default=1000, help="suggest API requests")
    parser.add_argument("--pg-rounds", type=int, default=3, help="measured passes over the queries in PostgreSQL")
    parser.add_argument("--pg-seconds", type=float, default=300.0, help="time cap for the PostgreSQL passes")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time cap per API pass")
    parser.add_argument("--workers", type=int, default=None, help="analysis processes (default: one per CPU)")
    parser.add_argument("--skip-index", action="store_true", help="measure queries on the existing index")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench",
                        help="where the database and index live (another one keeps a quick run apart)")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 130)
    data_dir = args.data_dir.resolve()
    started = time.perf_counter()
    machine, url, conninfo, _ = prepare(console, "Socius search benchmark", data_dir, args.people)
    report: dict = {"machine": machine, "items": args.items, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "commit": _commit()}
    console.print(f"Code at {report['commit']}")

    report["people"] = _count_people(conninfo)
    report["seed"] = _ensure_items(console, conninfo, args.items)
    admin_id, token = asyncio.run(_admin_token(url))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO bench_member SELECT %s, generate_series(1, %s) ON CONFLICT DO NOTHING",
                     (admin_id, MEMBER_OF))

    search_kind.ensure_registered()
    root = data_dir / "search"
    if not args.skip_index:
        report["indexing"] = _index(console, url, root, args.workers)
        machine["load_average_after_indexing"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    queries = search_corpus.queries()
    report["tantivy"] = _backend_only(root, queries, admin_id, conninfo)
    report["service"] = asyncio.run(_service_only(url, root, queries, admin_id))

    rng = random.Random(7)
    search_paths = [f"/api/v1/search?q={quote(queries[i % len(queries)][1])}" for i in range(args.requests)]
    suggest_paths = [f"/api/v1/search/suggest?q={quote(SEARCHES[i % len(SEARCHES)])}"
                     for i in range(args.suggestions)]
    rng.shuffle(search_paths)
    rng.shuffle(suggest_paths)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    port = _free_port()
    env = dict(os.environ, SOCIUS_DATABASE_URL=url, SOCIUS_DATA_DIR=str(data_dir))
    server = _start(console, "search", [sys.executable, "-m", "uvicorn", "search_app:app", "--app-dir", str(BENCH),
                                        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
                                        "--log-level", "warning"], env, data_dir)
    try:
        asyncio.run(_wait_ready(port, "/healthz", server, data_dir))
        api = asyncio.run(_measure_api(console, port, headers, search_paths, suggest_paths, queries, args))
    finally:
        _stop(server)
    report["postgres"] = _postgres(console, conninfo, queries, admin_id, args)
    machine["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    met = _report(console, report, api, queries, args)
    report["all_targets_met"] = met
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = data_dir / f"search-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    console.print(f"Results written to {out} ({report['total_seconds']} s in all).")
    return 0 if met else 1


def _commit() -> str:
    """The commit measured, marked when the working tree differs from it."""
    import subprocess

    def git(*command: str) -> str:
        return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


# --- data -------------------------------------------------------------------------------------------------------

def _ensure_items(console: Console, conninfo: str, items: int) -> dict:
    """`items` rows in bench_item (reseeded when the count differs), with a GIN index on the tsvector."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in search_kind.DDL:
            conn.execute(statement)
        present = conn.execute("SELECT count(*) FROM bench_item").fetchone()[0]
        if present == items:
            console.print(f"{items:,} items present: not seeding.")
            return {"seeded": False}
        lo, hi = conn.execute("SELECT min(id), max(id) FROM person").fetchone()
        conn.execute("DROP INDEX IF EXISTS bench_item_tsv")
        conn.execute("TRUNCATE bench_item")
        console.print(f"Seeding {items:,} items (generation and analysis for the tsvector in "
                      f"{os.cpu_count()} processes)…")
        t0 = time.perf_counter()
        chunks = [(s, min(s + SEED_CHUNK, items + 1)) for s in range(1, items + 1, SEED_CHUNK)]
        with _progress(console) as progress, ProcessPoolExecutor(
                max_workers=os.cpu_count(), mp_context=multiprocessing.get_context("spawn")) as pool:
            task = progress.add_task("items", total=items)
            futures = [pool.submit(search_corpus.rows, s, e, (lo, hi)) for s, e in chunks]
            with conn.cursor() as cursor, cursor.copy(
                    "COPY bench_item (id, title, body, tags, community_id, restricted, author_id, created_at,"
                    " updated_at, tsv) FROM STDIN") as copy:
                for future in futures:
                    batch = future.result()
                    for row in batch:
                        copy.write_row(row)
                    progress.advance(task, len(batch))
        seeded = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX bench_item_tsv ON bench_item USING gin (tsv)")
        gin = time.perf_counter() - t1
        conn.execute("VACUUM ANALYZE bench_item")
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('bench_item'))").fetchone()[0]
    console.print(f"  seeded in {seeded:.0f} s; GIN index built in {gin:.0f} s; table with indexes {size}")
    return {"seeded": True, "seed_seconds": round(seeded, 1), "gin_seconds": round(gin, 1), "table_size": size}


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


# --- indexing ---------------------------------------------------------------------------------------------------

def _index(console: Console, url: str, root: Path, workers: int | None) -> dict:
    """The whole index rebuilt through the search module (`socius search reindex`), timed per kind."""
    from socius.core.db import Database
    from socius.search.indexer import rebuild
    from socius.search.tantivy_backend import current_path

    marks: dict[str, list[float]] = {}

    async def go(progress: Progress) -> tuple:
        tasks: dict[str, int] = {}

        def on_progress(kind: str, done: int, total: int) -> None:
            now = time.perf_counter()
            marks.setdefault(kind, [now, now, 0])
            marks[kind][1:] = [now, done]
            if kind not in tasks:
                tasks[kind] = progress.add_task(f"index {kind}", total=total)
            progress.update(tasks[kind], completed=done)

        database = Database(url, pool_size=2)
        try:
            t0 = time.perf_counter()
            result = await rebuild(database, url, root, on_progress=on_progress, workers=workers)
            return result, t0, time.perf_counter()
        finally:
            await database.dispose()

    console.print("Indexing through the search module's rebuild…")
    with _progress(console) as progress:
        result, t0, t1 = asyncio.run(go(progress))
    # A kind's phase starts when the previous kind's last batch was written (or at the start); the items, the
    # last kind, end with the commit and swap. Their first batch's analysis overlaps the people's last batches.
    order = list(marks)
    phases = {}
    for n, kind in enumerate(order):
        begin = t0 if n == 0 else marks[order[n - 1]][1]
        end = t1 if n == len(order) - 1 else marks[kind][1]
        phases[kind] = {"documents": marks[kind][2], "seconds": round(end - begin, 1),
                        "per_second": round(marks[kind][2] / (end - begin), 0)}
    out_baseline = asyncio.run(_analysis_alone(url))
    size = sum(f.stat().st_size for f in current_path(root).resolve().rglob("*") if f.is_file())
    out = {"documents": result.documents, "seconds": round(t1 - t0, 1),
           "per_second": round(result.documents / (t1 - t0), 0), "phases": phases,
           "index_mib": round(size / 2**20), "workers": workers or os.cpu_count(),
           "analysis_one_process_per_second": out_baseline}
    console.print(f"  {result.documents:,} documents in {t1 - t0:.0f} s; "
                  + "; ".join(f"{k}: {v['documents']:,} at {v['per_second']:,.0f}/s" for k, v in phases.items())
                  + f"; index {out['index_mib']} MiB; analysis alone in one process: {out_baseline:,.0f} items/s")
    return out


async def _analysis_alone(url: str, n: int = 4000) -> float:
    """Items per second that one process analyses (the pipeline alone, no database or Tantivy): the baseline
    the rebuild's rate is compared with in the same run."""
    from socius.core.db import Database
    from socius.search.tantivy_backend import prepare_many

    database = Database(url, pool_size=1)
    try:
        async with database.transaction() as db:
            documents = await search_kind.load(db, list(range(1, n + 1)))
    finally:
        await database.dispose()
    prepare_many(documents[:200])  # dictionaries and caches loaded
    t0 = time.perf_counter()
    prepare_many(documents)
    return round(len(documents) / (time.perf_counter() - t0), 0)


# --- queries ----------------------------------------------------------------------------------------------------

def _principal_keys(conninfo: str, admin_id: int) -> frozenset[str]:
    with psycopg.connect(conninfo) as conn:
        mine = [r[0] for r in conn.execute("SELECT community_id FROM bench_member WHERE person_id = %s",
                                           (admin_id,))]
    return frozenset({"members", f"p:{admin_id}", *(f"c:{c}" for c in mine)})


def _backend_only(root: Path, queries, admin_id: int, conninfo: str, rounds: int = 5) -> dict:
    """The Tantivy backend's own time for each query (parse, search with count and facets), in this process."""
    from socius.search.backend import Filters, QuerySpec
    from socius.search.query import parse
    from socius.search.tantivy_backend import TantivyBackend

    backend = TantivyBackend(root)
    keys = _principal_keys(conninfo, admin_id)
    per_query: dict[str, dict] = {}
    samples: dict[str, list[float]] = {}
    for _category, q in queries:  # warm-up
        parsed = parse(q)
        backend.search(QuerySpec(must=parsed.must, must_not=parsed.must_not, filters=Filters(), visibility=keys))
    for _category, q in queries:
        times, total = [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            parsed = parse(q)
            found = backend.search(QuerySpec(must=parsed.must, must_not=parsed.must_not, filters=Filters(),
                                             visibility=keys))
            times.append((time.perf_counter() - t0) * 1000)
            samples.setdefault(q, []).append(times[-1])
            total, items = found.total, found.facets.get(search_kind.NAME, 0)
        per_query[q] = {"matches": total, "item_matches": items, "p50_ms": round(statistics.median(times), 2)}
    backend.close()
    every = [t for v in samples.values() for t in v]
    return {"per_query": per_query, "p50_ms": round(_percentile(every, 50), 2),
            "p95_ms": round(_percentile(every, 95), 2)}


async def _service_only(url: str, root: Path, queries, admin_id: int, rounds: int = 5) -> dict:
    """`service.search` in this process (keys, backend, hydration and re-check, snippets; no HTTP)."""
    from socius.core.auth import Principal
    from socius.core.db import Database
    from socius.people.models import Role
    from socius.search import service
    from socius.search.tantivy_backend import TantivyBackend

    backend = TantivyBackend(root)
    principal = Principal(person_id=admin_id, role=Role.ADMINISTRATOR)
    database = Database(url, pool_size=2)
    per_query: dict[str, float] = {}
    try:
        for round_ in range(rounds + 1):
            for _category, q in queries:
                t0 = time.perf_counter()
                async with database.transaction() as db:
                    await service.search(db, principal, backend, service.SearchRequest(q=q))
                if round_:
                    per_query.setdefault(q, []).append((time.perf_counter() - t0) * 1000)
    finally:
        await database.dispose()
        backend.close()
    medians = {q: round(statistics.median(v), 2) for q, v in per_query.items()}
    every = [t for v in per_query.values() for t in v]
    return {"per_query": medians, "p50_ms": round(_percentile(every, 50), 2),
            "p95_ms": round(_percentile(every, 95), 2)}


async def _measure_api(console: Console, port: int, headers, search_paths, suggest_paths, queries, args) -> dict:
    out = {}
    for name, paths in (("search API", search_paths), ("suggest API", suggest_paths)):
        # Warm-up: every distinct query once, pools and caches.
        await run_load(name, "127.0.0.1", port, list(dict.fromkeys(paths))[:200], concurrency=1, headers=headers,
                       max_seconds=30)
        result = await run_load(name, "127.0.0.1", port, paths, concurrency=1, headers=headers,
                                max_seconds=args.max_seconds)
        for sample in result.error_samples:
            console.print(f"[red]{name}: {sample}[/red]")
        console.print(f"  {name}: {result.count} requests, p50 {result.percentile(50):.1f} ms, "
                      f"p95 {result.percentile(95):.1f} ms")
        out[name] = result
    return out


def tsquery(q: str) -> str | None:
    """The query as PostgreSQL tsquery input over the same terms the index holds: words ANDed; a Han run as its
    bigrams (any of one or two, all of three or more: the index asks for 60 %); phrases as `<->` chains."""
    from socius.search.query import parse

    parsed = parse(q)

    def unit(u) -> str:
        lex = search_corpus._lexeme
        if u.type == "word":
            return lex(u.term)
        if u.type == "han":
            grams = [g for g in u.bigrams if g != "_"]
            return "(" + (" | " if len(grams) <= 2 else " & ").join(lex(g) for g in grams) + ")"
        use_bigrams = u.bigrams and "_" not in u.bigrams and all(not w.isascii() for w in u.words)
        return "(" + " <-> ".join(lex(t) for t in (u.bigrams if use_bigrams else u.words)) + ")"

    if not parsed.must:
        return None
    return " & ".join([unit(u) for u in parsed.must] + [f"!{unit(u)}" for u in parsed.must_not])


PG_TOP20 = """
SELECT id, ts_rank_cd(tsv, query) AS rank
FROM bench_item, CAST(%(q)s AS tsquery) AS query
WHERE tsv @@ query AND (NOT restricted OR community_id = ANY(%(mine)s))
ORDER BY rank DESC, updated_at DESC LIMIT 20
"""


def _postgres(console: Console, conninfo: str, queries, admin_id: int, args) -> dict:
    """The same queries as ts_rank_cd top-20 over the GIN index, timed at the client (no HTTP, no count)."""
    console.print(f"PostgreSQL ts_rank_cd: 1 warm-up and up to {args.pg_rounds} measured passes "
                  f"(cap {args.pg_seconds:.0f} s)…")
    per_query: dict[str, list[float]] = {}
    deadline = time.perf_counter() + args.pg_seconds
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET jit = off")  # JIT compiles for seconds on these plans; off favours PostgreSQL
        mine = [r[0] for r in conn.execute("SELECT community_id FROM bench_member WHERE person_id = %s",
                                           (admin_id,))]
        for round_ in range(args.pg_rounds + 1):
            for _category, q in queries:
                query = tsquery(q)
                if query is None or time.perf_counter() > deadline:
                    continue
                t0 = time.perf_counter()
                conn.execute(PG_TOP20, {"q": query, "mine": mine}).fetchall()
                if round_:
                    per_query.setdefault(q, []).append((time.perf_counter() - t0) * 1000)
    every = [t for times in per_query.values() for t in times]
    out = {"per_query": {q: round(statistics.median(t), 2) for q, t in per_query.items()},
           "samples": len(every), "rounds": args.pg_rounds}
    if every:
        out |= {"p50_ms": round(_percentile(every, 50), 2), "p95_ms": round(_percentile(every, 95), 2),
                "p99_ms": round(_percentile(every, 99), 2)}
        console.print(f"  PostgreSQL: {len(every)} queries, p50 {out['p50_ms']:.1f} ms, p95 {out['p95_ms']:.1f} ms")
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else float("nan")


def _by_query(result) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for path, seconds in result.samples:
        groups.setdefault(parse_qs(urlsplit(path).query).get("q", [""])[0], []).append(seconds * 1000)
    return {q: statistics.median(v) for q, v in groups.items()}


# --- report -----------------------------------------------------------------------------------------------------

def _report(console: Console, report: dict, api: dict, queries, args) -> bool:
    met = True
    table = Table(title=f"Socius search benchmark ({report['items']:,} items, {report['people']:,} people)")
    for column in ("measure", "n", "p50 ms", "p95 ms", "p99 ms", "rate", "target", "met"):
        table.add_column(column, justify="left" if column in ("measure", "target") else "right")
    indexing = report.get("indexing")
    if indexing:
        items = indexing["phases"].get(search_kind.NAME, {})
        rate = items.get("per_second", 0.0)
        ok = rate >= INDEX_TARGET
        met &= ok
        table.add_row("index items (rebuild)", f"{items.get('documents', 0):,}", "", "", "", f"{rate:,.0f}/s",
                      f"≥ {INDEX_TARGET:,.0f}/s", _mark(ok))
        for kind, phase in indexing["phases"].items():
            if kind != search_kind.NAME:
                table.add_row(f"index {kind} (rebuild)", f"{phase['documents']:,}", "", "", "",
                              f"{phase['per_second']:,.0f}/s", "—", "—")
    rows = {}
    for name, result in api.items():
        target = TARGETS[name]
        p95 = result.percentile(95)
        ok = p95 <= target and result.errors == 0
        met &= ok
        rows[name] = {"requests": result.count, "errors": result.errors, "p50_ms": round(result.percentile(50), 2),
                      "p95_ms": round(p95, 2), "p99_ms": round(result.percentile(99), 2),
                      "rps_c1": round(result.throughput, 1), "target_p95_ms": target, "met": ok}
        table.add_row(name, f"{result.count}" + (f" ({result.errors} errors)" if result.errors else ""),
                      f"{result.percentile(50):.1f}", f"{p95:.1f}", f"{result.percentile(99):.1f}",
                      f"{result.throughput:.0f} req/s", f"p95 ≤ {target:.0f} ms", _mark(ok))
    report["api"] = rows
    tantivy, pg = report["tantivy"], report["postgres"]
    svc = report["service"]
    table.add_row("search service in-process (no HTTP)", str(len(svc["per_query"]) * 5), f"{svc['p50_ms']:.1f}",
                  f"{svc['p95_ms']:.1f}", "", "", "—", "—")
    table.add_row("Tantivy backend alone (parse, search, count, facets)", str(len(tantivy["per_query"]) * 5),
                  f"{tantivy['p50_ms']:.1f}", f"{tantivy['p95_ms']:.1f}", "", "", "—", "—")
    if pg.get("samples"):
        table.add_row("PostgreSQL ts_rank_cd top 20", str(pg["samples"]), f"{pg['p50_ms']:.1f}",
                      f"{pg['p95_ms']:.1f}", f"{pg['p99_ms']:.1f}", "", "—", "—")
    console.print(table)
    if pg.get("samples") and "search API" in rows:
        report["ratio_postgres_to_api_p95"] = round(pg["p95_ms"] / rows["search API"]["p95_ms"], 1)
        report["ratio_postgres_to_api_p50"] = round(pg["p50_ms"] / rows["search API"]["p50_ms"], 1)
        console.print(f"PostgreSQL ts_rank_cd / Socius search API: p50 [bold]{report['ratio_postgres_to_api_p50']}×"
                      f"[/bold], p95 [bold]{report['ratio_postgres_to_api_p95']}×[/bold] (PostgreSQL timed without "
                      f"HTTP, count, facets, hydration or snippets)")

    api_by_query = _by_query(api["search API"]) if "search API" in api else {}
    detail = Table(title="by query (medians, ms)")
    for column in ("kind", "q", "matches", "items", "API", "service", "Tantivy", "PostgreSQL", "PG/API"):
        detail.add_column(column, justify="left" if column in ("kind", "q") else "right")
    by_query = {}
    for category, q in queries:
        a, t = api_by_query.get(q), tantivy["per_query"].get(q, {})
        p = pg.get("per_query", {}).get(q)
        s = svc["per_query"].get(q)
        by_query[q] = {"category": category, "matches": t.get("matches"), "item_matches": t.get("item_matches"),
                       "api_p50_ms": a and round(a, 2), "service_p50_ms": s, "tantivy_p50_ms": t.get("p50_ms"),
                       "postgres_p50_ms": p}
        detail.add_row(category, q, f"{t.get('matches', 0):,}", f"{t.get('item_matches', 0):,}",
                       f"{a:.1f}" if a else "—", f"{s:.1f}" if s else "—",
                       f"{t.get('p50_ms', 0):.1f}", f"{p:.1f}" if p else "—",
                       f"{p / a:.1f}×" if a and p else "—")
    console.print(detail)
    report["by_query"] = by_query
    if "suggest API" in api:
        report["suggest_by_query"] = {q: round(v, 2) for q, v in _by_query(api["suggest API"]).items()}
    return met


if __name__ == "__main__":
    sys.exit(main())
