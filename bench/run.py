"""Socius people benchmark: 200,000 people, profile API, directory search, profile page, and a bare baseline.

    uv run python bench/run.py                 # seed once into var/bench/, then measure (~3-4 minutes)
    uv run python bench/run.py --fresh         # drop the benchmark database first (measures seeding again)
    uv run python bench/run.py --requests 500  # quicker, noisier

Everything runs on this machine: a private PostgreSQL in var/bench/ (never the normal data directory), the
Socius app and the baseline app as uvicorn subprocesses on 127.0.0.1, and an asyncio client. Results are
printed and written to var/bench/results-<time>.json; docs/performance.md records them with the method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from client import Connection, Result, run_load
from explain import explain_directory
from rich.console import Console
from rich.table import Table

from socius.core.db import libpq_conninfo

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DATABASE = "socius_bench"
BENCH_USER = "bench-admin"

# What people type into the directory box: Han characters (Traditional and Simplified), pinyin, initials,
# Wade–Giles and Western names, e-mail prefixes. Single Latin letters are left out (see docs/performance.md).
SEARCHES = (
    "陳", "陈", "張家", "张", "王", "林志", "黃淑", "李", "歐陽", "司马", "曾", "美玲",
    "chen", "zhang", "wang", "li", "lin", "zhangw", "ouyang", "zeng", "meiling", "jiahao", "cml", "wxm",
    "Hsu", "Tsai", "Chang Chia", "Kelvin", "Jessica", "García", "Lefèvre", "Smith", "O'Brien", "Tan Wei",
    "meiling.chen", "tan.w", "jessica.wong", "elodie", "hannah.ng",
)
TARGETS = {"profile API": 10.0, "directory search": 30.0, "profile page": 30.0}
SEED_TARGET_S = 60.0
RATIO_TARGET = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000, help="people the database must hold")
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario and pass")
    parser.add_argument("--concurrency", type=int, default=4, help="connections in the throughput pass")
    parser.add_argument("--max-seconds", type=float, default=25.0, help="time cap per pass")
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database first")
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN ANALYZE of directory search")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)  # wide tables in logs and CI too
    data_dir = ROOT / "var" / "bench"
    started = time.perf_counter()
    machine, url, conninfo, seed_seconds = prepare(console, "Socius benchmark", data_dir, args.people,
                                                   fresh=args.fresh)
    if seed_seconds is None:
        console.print("Not seeding: the people are there (use --fresh to measure seeding).")

    admin_id, token = asyncio.run(_admin_token(url))
    ids = _sample_ids(conninfo, args.requests)
    rng = random.Random(7)
    searches = [SEARCHES[i % len(SEARCHES)] for i in range(args.requests)]
    rng.shuffle(searches)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    socius_port, baseline_port = _free_port(), _free_port()
    env = dict(os.environ, SOCIUS_DATABASE_URL=url, SOCIUS_DATA_DIR=str(data_dir), BENCH_CONNINFO=conninfo)
    servers = [
        _start(console, "socius", [sys.executable, "-m", "socius", "serve", "--host", "127.0.0.1",
                                   "--port", str(socius_port), "--no-worker"], env, data_dir),
        _start(console, "baseline", [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH),
                                     "--host", "127.0.0.1", "--port", str(baseline_port), "--no-access-log",
                                     "--log-level", "warning"], env, data_dir),
    ]
    try:
        asyncio.run(_wait_ready(socius_port, "/healthz", servers[0], data_dir))
        asyncio.run(_wait_ready(baseline_port, f"/people/{ids[0]}", servers[1], data_dir, headers))
        scenarios = [
            ("profile API", socius_port, [f"/api/v1/people/{i}" for i in ids]),
            ("directory search", socius_port, [f"/api/v1/people?q={quote(q)}" for q in searches]),
            ("profile page", socius_port, [f"/people/{i}" for i in ids]),
            ("baseline profile", baseline_port, [f"/people/{i}" for i in ids]),
        ]
        measured = asyncio.run(_measure(console, scenarios, headers, args))
    finally:
        for process in servers:
            _stop(process)

    explained = []
    if not args.no_explain:
        explained = asyncio.run(explain_directory(url, admin_id, ["陳", "chen", "zhang", "Tsai", "meiling", "c"]))

    report = _report(console, measured, seed_seconds, args, explained)
    report.update(machine=machine, people=_count_people(conninfo), seed_seconds=seed_seconds,
                  total_seconds=round(time.perf_counter() - started, 1))
    out = data_dir / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    console.print(f"Results written to {out.relative_to(ROOT)} ({report['total_seconds']} s in all).")
    return 0 if report["all_targets_met"] else 1


# --- setup ----------------------------------------------------------------------------------------------------

def prepare(console: Console, title: str, data_dir: Path, people: int, *, fresh: bool = False
            ) -> tuple[dict, str, str, float | None]:
    """What every benchmark starts with: the machine in a line, the private PostgreSQL in `data_dir` migrated, and
    at least `people` people in it. Returns (machine, url, conninfo, seconds spent seeding or None)."""
    from socius.core.embedded import start_embedded_postgres
    from socius.core.migrate import upgrade

    machine = _machine()
    console.print(f"[bold]{title}[/bold] — {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
                  f"load average {machine['load_average']}, Python {machine['python']}")
    url = start_embedded_postgres(data_dir, database=DATABASE)
    if fresh:
        _drop_database(url)
        url = start_embedded_postgres(data_dir, database=DATABASE)
    upgrade(url)
    conninfo = libpq_conninfo(url)
    present = _count_people(conninfo)
    if present >= people:
        return machine, url, conninfo, None
    from socius.demo.seed import seed_people

    console.print(f"Seeding {people - present:,} people ({present:,} present)…")
    t0 = time.perf_counter()
    seed_people(url, people - present, console)
    return machine, url, conninfo, time.perf_counter() - t0

def _machine() -> dict:
    memory = 0
    try:
        with open("/proc/meminfo") as f:
            memory = int(f.readline().split()[1]) // (1024 * 1024)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "memory_gib": memory, "python": platform.python_version(),
            "platform": platform.platform(), "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def _drop_database(url: str) -> None:
    info = libpq_conninfo(url).replace(f"dbname='{DATABASE}'", "dbname='postgres'")
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _count_people(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT count(*) FROM person").fetchone()[0]


def _sample_ids(conninfo: str, n: int) -> list[int]:
    """Random people, the same ones every run on the same data."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT setseed(0.42)")
        rows = conn.execute("SELECT id FROM person ORDER BY random() LIMIT %s", (n,)).fetchall()
    return [row[0] for row in rows]


async def _admin_token(url: str) -> tuple[int, str]:
    """An administrator (created once) and a fresh API token for this run."""
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
            account = await session.scalar(select(Account).where(Account.username == BENCH_USER))
            if account is None:
                person = await people.create_person(
                    session, None, display_name="Benchmark Administrator", email="bench-admin@bench.example",
                    role=Role.ADMINISTRATOR,
                )
                account = await accounts.create_account(session, person, BENCH_USER, None)  # token only
            _token, raw = await accounts.create_token(session, account.person_id, "benchmark", None)
            return account.person_id, raw
    finally:
        await db.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(console: Console, name: str, command: list[str], env: dict, data_dir: Path) -> subprocess.Popen:
    log = open(data_dir / f"{name}-server.log", "wb")  # noqa: SIM115 - closed with the process
    console.print(f"Starting {name}: {' '.join(command[1:])}")
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_ready(port: int, path: str, process: subprocess.Popen, data_dir: Path,
                      headers: dict | None = None) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited ({process.returncode}); see {data_dir}/*-server.log")
        connection = Connection("127.0.0.1", port, headers or {})
        try:
            status, _ = await connection.get(path)
            if status == 200:
                return
        except OSError:
            pass
        finally:
            await connection.close()
        await asyncio.sleep(0.3)
    raise SystemExit(f"server on port {port} not ready after 90 s")


# --- measuring ------------------------------------------------------------------------------------------------

async def _measure(console: Console, scenarios, headers, args) -> dict[str, tuple[Result, Result]]:
    out = {}
    for name, port, paths in scenarios:
        # Warm-up: connection pools, prepared statements, template and import caches.
        await run_load(name, "127.0.0.1", port, paths[:200], concurrency=args.concurrency, headers=headers,
                       max_seconds=10)
        latency = await run_load(name, "127.0.0.1", port, paths, concurrency=1, headers=headers,
                                 max_seconds=args.max_seconds)
        load = await run_load(name, "127.0.0.1", port, paths, concurrency=args.concurrency, headers=headers,
                              max_seconds=args.max_seconds)
        out[name] = (latency, load)
        for result in (latency, load):
            for sample in result.error_samples:
                console.print(f"[red]{name}: {sample}[/red]")
        console.print(f"  {name}: p50 {latency.percentile(50):.1f} ms, p95 {latency.percentile(95):.1f} ms, "
                      f"{load.throughput:.0f} req/s at {args.concurrency} connections")
    return out


def _report(console: Console, measured, seed_seconds, args, explained) -> dict:
    table = Table(title=f"Socius people benchmark ({args.people:,} people)")
    for column in ("scenario", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s c=1",
                   f"req/s c={args.concurrency}", "target (p95)", "met"):
        table.add_column(column, justify="left" if column in ("scenario", "target (p95)") else "right")
    rows, met_all = {}, True
    for name, (latency, load) in measured.items():
        target = TARGETS.get(name)
        p95 = latency.percentile(95)
        ok = (target is None or p95 < target) and latency.errors == 0 and load.errors == 0
        if target is not None:
            met_all &= ok
        rows[name] = {
            "requests": latency.count, "requests_loaded": load.count, "errors": latency.errors + load.errors,
            "p50_ms": round(latency.percentile(50), 2), "p95_ms": round(p95, 2),
            "p99_ms": round(latency.percentile(99), 2), "rps_c1": round(latency.throughput, 1),
            "rps_loaded": round(load.throughput, 1), "target_p95_ms": target, "met": ok if target else None,
        }
        table.add_row(name, f"{latency.count}+{load.count}", str(latency.errors + load.errors),
                      f"{latency.percentile(50):.1f}", f"{p95:.1f}", f"{latency.percentile(99):.1f}",
                      f"{latency.throughput:.0f}", f"{load.throughput:.0f}",
                      f"< {target:.0f} ms" if target else "—", _mark(ok) if target else "—")
    console.print(table)

    ratio = None
    if "profile API" in measured and "baseline profile" in measured:
        ratio = measured["profile API"][1].throughput / max(measured["baseline profile"][1].throughput, 1e-9)
        met_all &= ratio >= RATIO_TARGET
        console.print(f"Throughput Socius/baseline (profile, c={args.concurrency}): [bold]{ratio:.2f}[/bold] "
                      f"(goal ≥ {RATIO_TARGET}) {_mark(ratio >= RATIO_TARGET)}")
    if seed_seconds is not None:
        met_all &= seed_seconds < SEED_TARGET_S
        console.print(f"Seeding: [bold]{seed_seconds:.1f} s[/bold] (goal < {SEED_TARGET_S:.0f} s) "
                      f"{_mark(seed_seconds < SEED_TARGET_S)}")

    by_query = _per_query(measured.get("directory search", (None,))[0])
    if by_query:
        detail = Table(title="directory search by query (c=1)")
        for column in ("q", "n", "p50 ms", "max ms"):
            detail.add_column(column, justify="left" if column == "q" else "right")
        for q, (n, p50, worst) in sorted(by_query.items(), key=lambda kv: -kv[1][1]):
            detail.add_row(q, str(n), f"{p50:.1f}", f"{worst:.1f}")
        console.print(detail)
    for item in explained:
        console.print(f"EXPLAIN ANALYZE directory q={item.query!r}: {item.server_ms:.1f} ms in PostgreSQL")
    return {
        "scenarios": rows, "ratio_socius_baseline": round(ratio, 3) if ratio is not None else None,
        "directory_by_query": by_query, "concurrency": args.concurrency, "all_targets_met": met_all,
        "explain": [{"q": e.query, "server_ms": e.server_ms, "plan": e.plan} for e in explained],
    }


def _per_query(result: Result | None) -> dict[str, tuple[int, float, float]]:
    if result is None:
        return {}
    from urllib.parse import parse_qs, urlsplit

    groups: dict[str, list[float]] = {}
    for path, seconds in result.samples:
        q = parse_qs(urlsplit(path).query).get("q", [""])[0]
        groups.setdefault(q, []).append(seconds * 1000)
    return {q: (len(v), round(sorted(v)[len(v) // 2], 2), round(max(v), 2)) for q, v in groups.items()}


def _mark(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


if __name__ == "__main__":
    sys.exit(main())
