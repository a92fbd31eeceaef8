"""The job queue (procrastinate, on PostgreSQL).

Side effects are deferred with `defer(db, ...)` inside the request's transaction: the job exists only if the
change commits, and a failed job is retried. `socius serve` runs a worker in-process on the embedded default;
`socius worker` runs separate workers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TASK_MODULES = ("socius.accounts.tasks", "socius.directory.tasks", "socius.notifications.tasks",
                "socius.communities.tasks", "socius.files.tasks")

_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock,"
    " CAST(:args AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1])"
)


@dataclass(frozen=True)
class JobSpec:
    func: Callable[..., Awaitable[None]]
    name: str
    cron: str | None
    options: dict[str, Any]


# Our own registry: procrastinate renames the tasks of a blueprint when an app adopts them, so a second app in
# one process (tests, the CLI) would find none. Each `build_app` registers these afresh instead.
_JOBS: dict[str, JobSpec] = {}


def job(name: str, *, cron: str | None = None, **options: Any):
    """Declare a job (`socius:<name>`); with `cron`, the worker also defers it periodically."""

    def register(func):
        _JOBS[name] = JobSpec(func, name, cron, options)
        return func

    return register


def build_app(conninfo: str) -> procrastinate.App:
    """A procrastinate app on one database with every module's jobs."""
    import importlib

    from socius.modules import load_all

    for module in TASK_MODULES:
        importlib.import_module(module)
    load_all()  # notification kinds and item URLs the jobs render
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    for spec in _JOBS.values():
        task = app.task(name=f"socius:{spec.name}", **spec.options)(spec.func)
        if spec.cron:
            app.periodic(cron=spec.cron, periodic_id=spec.name)(task)
    return app


async def defer(
    db: AsyncSession,
    task_name: str,
    *,
    queue: str = "default",
    priority: int = 0,
    lock: str | None = None,
    queueing_lock: str | None = None,
    scheduled_at: dt.datetime | None = None,
    **args: Any,
) -> None:
    """Enqueue `socius:<task_name>` in the caller's transaction."""
    await db.execute(
        _DEFER_SQL,
        {
            "queue": queue,
            "task": f"socius:{task_name}",
            "priority": priority,
            "lock": lock,
            "queueing_lock": queueing_lock,
            "args": json.dumps(args),
            "scheduled_at": scheduled_at,
        },
    )
