"""The notification jobs in a real worker: notify_later's fan-out, then the immediate e-mail jobs it deferred,
delivered to the SMTP sink; a job run twice sends once; the digest job."""

from __future__ import annotations

import psycopg
from sqlalchemy import select

from socius.core import runtime
from socius.core.db import Database, libpq_conninfo
from socius.core.jobs import build_app, defer
from socius.notifications import service
from socius.notifications.models import Notification
from socius.people.models import Person
from tests.notifications.conftest import body


async def run_worker(url: str) -> None:
    jobs = build_app(libpq_conninfo(url))
    async with jobs.open_async():
        await jobs.run_worker_async(wait=False, install_signal_handlers=False)


def job_states(url: str) -> dict[str, list[str]]:
    with psycopg.connect(libpq_conninfo(url)) as conn:
        rows = conn.execute("SELECT task_name, status FROM procrastinate_jobs WHERE task_name LIKE 'socius:notify%'"
                            " ORDER BY id").fetchall()
    states: dict[str, list[str]] = {}
    for task, status in rows:
        states.setdefault(task, []).append(status)
    return states


async def test_a_worker_fans_out_and_mails_through_smtp(scratch_database, smtp_sink, monkeypatch):
    sink, port = smtp_sink
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false",
                        "BASE_URL": "https://socius.example.com", "DEFAULT_LOCALE": "en"}.items():
        monkeypatch.setenv(f"SOCIUS_{name}", value)
    database = Database(scratch_database, pool_size=2)
    runtime.set_database(database)
    try:
        async with database.transaction() as db:
            people = [Person(display_name=f"P{n}", email=f"p{n}@example.com", locale="en", guest_hidden=[],
                             languages=[], links=[]) for n in range(4)]
            db.add_all(people)
            await db.flush()
            actor, *audience = people
            await service.notify_later(db, "people", "invited", params={"ids": [p.id for p in people]},
                                       actor_id=actor.id, url="/c/5", community="Design")
        await run_worker(scratch_database)

        assert job_states(scratch_database) == {"socius:notify_fanout": ["succeeded"],
                                                "socius:notify_email": ["succeeded"]}
        assert sorted(r for rcpts in sink.recipients for r in rcpts) == ["p1@example.com", "p2@example.com",
                                                                          "p3@example.com"]
        assert {m["Subject"] for m in sink.messages} == {"P0 invited you to Design"}
        assert "https://socius.example.com/c/5" in body(sink.messages[0])

        # The same e-mail job again (a retry after a lost acknowledgement) sends nothing.
        async with database.transaction() as db:
            ids = list((await db.scalars(select(Notification.id))).all())
            await defer(db, "notify_email", ids=ids)
        await run_worker(scratch_database)
        assert job_states(scratch_database)["socius:notify_email"] == ["succeeded", "succeeded"]
        assert len(sink.messages) == 3

        # The daily digest job, for a kind mailed daily.
        async with database.transaction() as db:
            await service.notify(db, audience[0].id, "replied", actor_id=actor.id, url="/p/1", title="Hi")
            await defer(db, "notify_digest_daily", timestamp=0)
        await run_worker(scratch_database)
        assert job_states(scratch_database)["socius:notify_digest_daily"] == ["succeeded"]
        [digest] = sink.messages[3:]
        assert digest["Subject"] == "Your daily summary: 1 new notification"
        assert "P0 replied to “Hi”" in body(digest)
    finally:
        runtime.set_database(None)
        await database.dispose()
