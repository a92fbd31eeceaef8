"""Socius notifications benchmark: fan-out to a 20,000-person audience through the job worker, and the daily digest
for 20,000 people, both delivered to a local SMTP server.

    uv run python bench/notifications.py                      # 20,000 people in var/bench-notify
    uv run python bench/notifications.py --audience 2000      # quick

Everything runs on this machine: a private PostgreSQL in <data-dir> (never the normal data directory), seeded with
synthetic people (`demo.seed`); an SMTP server in a subprocess, started afresh for each measure, that checks and
counts every message and reports each one's recipient (bench/smtp_sink.py); the procrastinate worker in this
process (`--concurrency` jobs at a time, as `socius worker` would run them), with the SMTP settings pointing at the
sink. A measure passes only if the sink received exactly one well-formed message for each person who should get
one.

1. fan-out, rows only: `notify_later(audience, "community_post")` (mailed in the daily digest by default) is
   committed; measured until the fan-out job has written every row;
2. fan-out with immediate e-mail: the same with "mentioned" (mailed immediately by default), measured until the
   rows are written and until every immediate e-mail job is done (each e-mail accepted by the sink);
3. daily digest: every audience member has 3 unread "replied" notifications; `run_digest` (what the daily job runs)
   is timed until each person's one message is accepted;
4. baseline: the same number of messages, composed beforehand, sent to the sink over `--concurrency` connections
   by `mailing.Sender` alone — no database, no jobs, no rendering — to compare (2) with on the machine as loaded
   during this run.
Times are from the commit of the request's transaction (1, 2) or the job's start (3); each person has a locale
(zh_Hant, zh_Hans, en in turn). Results are printed and written to <data-dir>/notifications-<time>.json;
docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from run import _free_port, _mark, prepare

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
TARGETS = {"fan-out": 10.0, "digest": 120.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audience", type=int, default=20_000, help="people notified, and digests sent")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-notify")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs the worker runs at once")
    parser.add_argument("--connections", type=int, default=2, help="SMTP connections a digest sends over")
    parser.add_argument("--sink", choices=("asyncio", "aiosmtpd"), default="asyncio",
                        help="the SMTP server receiving: bench/smtp_sink.py on asyncio's protocols, or on aiosmtpd")
    args = parser.parse_args()
    return asyncio.run(run(args))


async def run(args) -> int:
    console = Console()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    # Demo people include former employees (about 2 %): seed enough active ones for the audience.
    machine, url, conninfo, seeded = prepare(console, "Socius notifications benchmark", args.data_dir,
                                             int(args.audience * 1.05) + 100)
    port = _free_port()
    os.environ.update({"SOCIUS_SMTP_HOST": "127.0.0.1", "SOCIUS_SMTP_PORT": str(port),
                       "SOCIUS_SMTP_STARTTLS": "false", "SOCIUS_SMTP_CONNECTIONS": str(args.connections),
                       "SOCIUS_BASE_URL": "https://socius.example.com", "SOCIUS_LOG_LEVEL": "WARNING"})
    from sqlalchemy import select

    from socius.config import get_settings
    from socius.core import runtime
    from socius.core.db import Database
    from socius.core.jobs import build_app
    from socius.core.observability import configure_logging
    from socius.notifications import mailing, service
    from socius.notifications.models import EmailMode
    from socius.people.models import Person

    configure_logging("WARNING")
    limit = args.audience
    service.register_audience("bench", lambda n: select(Person.id).where(Person.deactivated_at.is_(None))
                              .order_by(Person.id).limit(n))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE person SET locale = (ARRAY['zh_Hant', 'zh_Hans', 'en'])[1 + id % 3]"
                     " WHERE locale IS NULL")
        actor_id = conn.execute("SELECT max(id) FROM person WHERE deactivated_at IS NULL").fetchone()[0]
    database = Database(url, pool_size=args.concurrency + 2)
    runtime.set_database(database)
    jobs = build_app(conninfo)
    results: dict[str, dict] = {}

    def reset() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("TRUNCATE notification, notification_preference")
            conn.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'socius:notify%'")

    def expected(per: str = "notification") -> Counter:
        """Who should have received a message: the address of each notification's person, or of each person with
        notifications (`per="person"`)."""
        distinct = "DISTINCT ON (n.person_id)" if per == "person" else ""
        with psycopg.connect(conninfo, autocommit=True) as conn:
            return Counter(row[0] for row in conn.execute(
                f"SELECT {distinct} p.email FROM notification n JOIN person p ON p.id = n.person_id"
                " WHERE p.email IS NOT NULL"))

    async def fan_out(kind: str, mailed: bool) -> dict:
        reset()
        sink = Sink(port, args.sink)
        async with database.transaction() as db:
            await service.notify_later(db, "bench", kind, params={"n": limit}, actor_id=actor_id,
                                       url="/communities/1/posts/1", community="Benchmark", title="Hello")
        started, cpu = time.perf_counter(), time.process_time()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            committed = conn.execute("SELECT clock_timestamp()").fetchone()[0]
            while True:
                pending = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE"
                                       " 'socius:notify%' AND status IN ('todo', 'doing')").fetchone()[0]
                if not pending or time.perf_counter() - started > 600:
                    break
                await asyncio.sleep(0.05)
            rows, emailed = conn.execute("SELECT count(*), count(emailed_at) FROM notification").fetchone()
            times = dict(conn.execute(
                "SELECT j.task_name, EXTRACT(EPOCH FROM max(e.at) - %s) FROM procrastinate_events e"
                " JOIN procrastinate_jobs j ON j.id = e.job_id WHERE e.type = 'succeeded'"
                " AND j.task_name LIKE 'socius:notify%%' GROUP BY j.task_name", (committed,)).fetchall())
            failed = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE 'socius:notify%'"
                                  " AND status <> 'succeeded'").fetchone()[0]
        return {"rows": rows, "emailed": emailed, "failed_jobs": failed, "cpu_seconds": time.process_time() - cpu,
                "rows_seconds": float(times.get("socius:notify_fanout", "nan")),
                "email_seconds": float(times["socius:notify_email"]) if "socius:notify_email" in times else None,
                "sink": sink.stop(expected() if mailed else Counter())}

    worker = asyncio.create_task(_worker(jobs, args.concurrency))
    try:
        console.print(f"Fan-out to {limit:,} people, rows only (community_post)…")
        results["fan-out, rows only"] = await fan_out("community_post", mailed=False)
        console.print(f"Fan-out to {limit:,} people with immediate e-mail (mentioned)…")
        results["fan-out with immediate e-mail"] = await fan_out("mentioned", mailed=True)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker

    console.print(f"Daily digest for {limit:,} people (3 notifications each)…")
    reset()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO notification (person_id, kind, actor_id, data, url, created_at)"
                     " SELECT p.id, 'replied', %s, jsonb_build_object('title', 'Post ' || n), '/posts/' || n,"
                     " now() - make_interval(hours => n)"
                     " FROM (SELECT id FROM person WHERE deactivated_at IS NULL ORDER BY id LIMIT %s) p,"
                     " generate_series(1, 3) n", (actor_id, limit))
        conn.execute("ANALYZE notification")
    sink = Sink(port, args.sink)
    started, cpu = time.perf_counter(), time.process_time()
    sent = await mailing.run_digest(database.transaction, get_settings(), EmailMode.DAILY)
    digest_seconds = time.perf_counter() - started
    with psycopg.connect(conninfo, autocommit=True) as conn:
        emailed = conn.execute("SELECT count(emailed_at) FROM notification").fetchone()[0]
    results["daily digest"] = {"emails": sent, "emailed": emailed, "seconds": digest_seconds,
                               "cpu_seconds": time.process_time() - cpu, "sink": sink.stop(expected("person"))}

    console.print(f"Baseline: {limit:,} messages composed beforehand, sent over {args.concurrency} connections…")
    results["baseline"] = await _baseline(port, args.sink, limit, args.concurrency, expected("person"))
    await database.dispose()
    results["load average at the end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    ok = _report(console, machine, limit, args, results)
    out = args.data_dir / f"notifications-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": machine, "audience": limit, "concurrency": args.concurrency,
                               "sink": args.sink,
                               "connections": args.connections, "seeded_seconds": seeded, "results": results},
                              indent=2, default=str))
    console.print(f"Written to {out}")
    return 0 if ok else 1


class Sink:
    """bench/smtp_sink.py in its own process (so it does not share this event loop or its core's time)."""

    def __init__(self, port: int, kind: str) -> None:
        self.recipients = Path(tempfile.mkstemp(prefix="socius-sink-", suffix=".txt")[1])
        self.process = subprocess.Popen([sys.executable, str(BENCH / "smtp_sink.py"), str(port),
                                         str(self.recipients), *(["--aiosmtpd"] if kind == "aiosmtpd" else [])],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("the SMTP sink did not start")

    def stop(self, expected: Counter) -> dict:
        """Stop the sink; what it received, and whether that was one message for each expected recipient."""
        self.process.terminate()
        report = json.loads(self.process.communicate(timeout=60)[0].splitlines()[-1])
        received = Counter(self.recipients.read_text().split())
        self.recipients.unlink()
        report["as_expected"] = received == expected and report["invalid"] == 0
        report["missing"] = sum((expected - received).values())
        report["unexpected"] = sum((received - expected).values())
        return report


async def _baseline(port: int, sink_kind: str, count: int, connections: int, expected: Counter) -> dict:
    """`count` messages, composed before the clock starts, sent by `mailing.Sender` alone."""
    from socius.config import get_settings
    from socius.core.i18n import using_locale
    from socius.notifications import mailing

    settings = get_settings()
    addresses = list(expected.elements())[:count]
    subject = "王大明 在「Hello」中提及您"
    with using_locale("zh_Hant"):
        items = [(i, mailing.compose(settings, ("陳美玲", address), subject, [mailing.Line(subject, "/c/1")]))
                 for i, address in enumerate(addresses)]
    sink = Sink(port, sink_kind)
    sender = mailing.Sender(settings, connections)
    started, cpu = time.perf_counter(), time.process_time()
    sent, error = await sender.send(items)
    await sender.close()
    seconds = time.perf_counter() - started
    return {"sent": len(sent), "error": repr(error) if error else None, "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu, "sink": sink.stop(Counter(addresses))}


async def _worker(jobs, concurrency: int) -> None:
    async with jobs.open_async():
        await jobs.run_worker_async(concurrency=concurrency, install_signal_handlers=False,
                                    fetch_job_polling_interval=0.5)


def _report(console: Console, machine: dict, limit: int, args, results: dict) -> bool:
    table = Table(title=f"Notifications, {limit:,} people — worker concurrency {args.concurrency}, "
                        f"{args.connections} SMTP connections per digest, {args.sink} sink; "
                        f"load average {machine['load_average']}")
    for name in ("measure", "count", "seconds", "per second", "target", "met"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    rows_only = results["fan-out, rows only"]
    immediate = results["fan-out with immediate e-mail"]
    digest = results["daily digest"]
    baseline = results["baseline"]
    delivered = all(r["sink"]["as_expected"] for r in (rows_only, immediate, digest, baseline))
    lines = [
        ("fan-out, rows written (community_post)", rows_only["rows"], rows_only["rows_seconds"], TARGETS["fan-out"]),
        ("fan-out, rows written (mentioned)", immediate["rows"], immediate["rows_seconds"], TARGETS["fan-out"]),
        ("fan-out, immediate e-mails received", immediate["sink"]["messages"], immediate["email_seconds"],
         TARGETS["fan-out"]),
        ("daily digest, one e-mail a person", digest["sink"]["messages"], digest["seconds"], TARGETS["digest"]),
        ("baseline: the same e-mails, only sent", baseline["sink"]["messages"], baseline["seconds"], None),
    ]
    all_ok = delivered
    for name, count, seconds, target in lines:
        ok = seconds is not None and (target is None or seconds <= target) and count >= limit
        all_ok = all_ok and ok
        table.add_row(name, f"{count:,}", f"{seconds:.2f}" if seconds is not None else "—",
                      f"{count / seconds:,.0f}" if seconds else "—",
                      f"≤ {target:.0f} s" if target else "", _mark(ok) if target else "")
    console.print(table)
    if immediate["email_seconds"]:
        console.print(f"Immediate e-mail throughput, Socius ÷ baseline: "
                      f"{baseline['seconds'] / immediate['email_seconds']:.2f}")
    console.print(
        f"Each sink received exactly the expected messages: {_mark(delivered)} "
        + ", ".join(f"{name}: {r['sink']['messages']:,} ({r['sink']['missing']} missing, "
                    f"{r['sink']['unexpected']} unexpected, {r['sink']['invalid']} invalid)"
                    for name, r in (("immediate", immediate), ("digest", digest), ("baseline", baseline))))
    console.print(f"CPU seconds — this process: immediate fan-out {immediate['cpu_seconds']:.1f}, digest "
                  f"{digest['cpu_seconds']:.1f}, baseline {baseline['cpu_seconds']:.1f}; the sink: "
                  f"{immediate['sink']['cpu_seconds']:.1f}, {digest['sink']['cpu_seconds']:.1f}, "
                  f"{baseline['sink']['cpu_seconds']:.1f}; failed jobs: "
                  f"{rows_only['failed_jobs'] + immediate['failed_jobs']}; load average at the end "
                  f"{results['load average at the end']}")
    return all_ok


if __name__ == "__main__":
    sys.exit(main())
