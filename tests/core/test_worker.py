"""`socius worker` runs as a separate process and does the jobs deferred by the web app."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg

from socius.core.db import Database, libpq_conninfo
from socius.core.jobs import defer
from socius.people.models import Person


async def test_separate_worker_process_runs_deferred_jobs(scratch_database):
    database = Database(scratch_database, pool_size=1)
    async with database.transaction() as db:
        db.add(Person(display_name="Someone", guest_hidden=[], languages=[], links=[]))
        await defer(db, "prune_sessions", timestamp=42)
    await database.dispose()

    env = {**os.environ, "SOCIUS_DATABASE_URL": scratch_database, "SOCIUS_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "socius", "worker", "--concurrency", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        status = None
        with psycopg.connect(libpq_conninfo(scratch_database), autocommit=True) as conn:
            while time.monotonic() < deadline and status != "succeeded":
                row = conn.execute("SELECT status FROM procrastinate_jobs WHERE args->>'timestamp' = '42'").fetchone()
                status = row[0] if row else None
                time.sleep(0.2)
        assert status == "succeeded", worker.stderr and worker.poll()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert worker.returncode in (0, -15)  # stopped on SIGTERM, no crash
