"""The job queue: jobs deferred in a transaction exist only if it commits, and a worker runs them."""

from __future__ import annotations

import datetime as dt

import psycopg
from sqlalchemy import text

from socius.accounts.models import WebSession
from socius.core import runtime
from socius.core.db import Database, libpq_conninfo
from socius.core.jobs import build_app, defer
from socius.people.models import Person


async def test_a_job_deferred_in_a_rolled_back_transaction_never_exists(db):
    savepoint = await db.begin_nested()
    await defer(db, "prune_sessions", timestamp=0)
    count = ("SELECT count(*) FROM procrastinate_jobs"
             " WHERE task_name = 'socius:prune_sessions' AND args->>'timestamp' = '0'")
    assert await db.scalar(text(count)) == 1
    await savepoint.rollback()
    assert await db.scalar(text(count)) == 0


async def test_worker_runs_a_committed_job(scratch_database):
    database = Database(scratch_database, pool_size=2)
    runtime.set_database(database)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    async with database.transaction() as db:
        person = Person(display_name="Temp", guest_hidden=[], languages=[], links=[])
        db.add(person)
        await db.flush()
        db.add(WebSession(token_hash="a" * 64, person_id=person.id, csrf_secret="x", expires_at=long_ago,
                          last_seen_at=long_ago))
        db.add(WebSession(token_hash="b" * 64, person_id=person.id, csrf_secret="x",
                          expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)))
        await defer(db, "prune_sessions", timestamp=1)

    jobs = build_app(libpq_conninfo(scratch_database))
    async with jobs.open_async():
        await jobs.run_worker_async(wait=False, install_signal_handlers=False)

    with psycopg.connect(libpq_conninfo(scratch_database)) as conn:
        status = conn.execute("SELECT status FROM procrastinate_jobs WHERE task_name = 'socius:prune_sessions'"
                              " AND args->>'timestamp' = '1'").fetchone()
        remaining = [row[0] for row in conn.execute("SELECT token_hash FROM web_session")]
    assert status == ("succeeded",)
    assert remaining == ["b" * 64]  # the expired session is gone, the live one stays
    await database.dispose()


def test_the_job_app_can_be_built_again_in_one_process():
    first, second = build_app("dbname=one"), build_app("dbname=two")
    for app in (first, second):
        assert {"socius:prune_sessions", "socius:directory_sync"} <= set(app.tasks)
        assert not any(name.startswith("socius:socius:") for name in app.tasks)
