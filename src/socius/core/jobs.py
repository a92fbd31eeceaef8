"""The job queue (procrastinate, on PostgreSQL).

Side effects are deferred with `defer(db, ...)` inside the request's transaction: the job exists only if the
change commits, and a failed job is retried. `socius serve` runs a worker in-process on the embedded default;
`socius worker` runs separate workers.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Tasks register on this blueprint at import (see each module's tasks.py); `configure` binds it to a database.
tasks = procrastinate.Blueprint()
TASK_MODULES = ("socius.accounts.tasks",)

_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock,"
    " CAST(:args AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1])"
)


def build_app(conninfo: str) -> procrastinate.App:
    import importlib

    for module in TASK_MODULES:
        importlib.import_module(module)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    app.add_tasks_from(tasks, namespace="socius")
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
