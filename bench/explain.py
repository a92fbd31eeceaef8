"""Where directory search spends its time: EXPLAIN ANALYZE of the exact SQL `search_directory` issues.

The statement is captured from the service itself (not rewritten by hand), so the plan shown is the plan the
app gets. Usable alone against any database: `uv run python bench/explain.py URL PERSON_ID [QUERY ...]`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

from sqlalchemy import event

from socius.core import runtime
from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service
from socius.people.models import Role


@dataclass
class Explained:
    query: str
    rows: int
    server_ms: float  # "Execution Time" reported by PostgreSQL
    plan: str


async def explain_directory(url: str, person_id: int, queries: list[str]) -> list[Explained]:
    db = Database(url, pool_size=1)
    runtime.set_database(db)
    principal = Principal(person_id=person_id, role=Role.ADMINISTRATOR, via="token")
    out: list[Explained] = []
    try:
        for q in queries:
            captured: list[tuple[str, object]] = []

            def capture(conn, cursor, statement, parameters, context, executemany, sink=captured):
                if "person_name_key" in statement or "FROM person" in statement:
                    sink.append((statement, parameters))

            async with db.sessionmaker() as session, session.begin():
                event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
                try:
                    page = await service.search_directory(session, principal, service.DirectoryQuery(q=q))
                finally:
                    event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
                statement, parameters = captured[-1]
                conn = await session.connection()
                result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                lines = [row[0] for row in result]
            ms = next((float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time")),
                      float("nan"))
            out.append(Explained(q, len(page.items), ms, "\n".join(lines)))
    finally:
        await db.dispose()
    return out


if __name__ == "__main__":
    url, person = sys.argv[1], int(sys.argv[2])
    started = time.perf_counter()
    for item in asyncio.run(explain_directory(url, person, sys.argv[3:] or ["陳", "chen", "meiling"])):
        print(f"--- q={item.query!r}: {item.rows} rows, {item.server_ms:.1f} ms\n{item.plan}\n")
