"""Baseline: a bare FastAPI app serving a profile with the same SQL Socius runs, straight through psycopg.

What Socius does for `GET /api/v1/people/{id}` with a bearer token, minus the framework around it: look up
the token and its person, read the person with their manager, return JSON. No ORM, no middleware, no
Pydantic response model. The ratio Socius/baseline says how much the layers cost.

Run by bench/run.py: `uvicorn baseline_app:app --app-dir bench` with BENCH_CONNINFO set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

COLUMNS = (
    "id", "display_name", "name_native", "name_latin", "email", "title", "department", "location", "time_zone",
    "phone", "languages", "manager_id", "about_md", "about_html", "links", "role", "deactivated_at", "locale",
    "guest_hidden", "has_photo", "sort_key", "version", "created_at", "updated_at",
)
# The statements Socius issues for this request (captured from its engine with an SQLAlchemy event), in order.
# Re-capture them when Socius's queries change, so both servers keep running the same SQL.
TOKEN_SQL = (
    "SELECT api_token.id AS token_id, api_token.last_used_at, person.id, person.role, person.display_name, "
    "person.locale, person.time_zone, person.deactivated_at FROM api_token JOIN person ON person.id = "
    "api_token.person_id WHERE api_token.token_hash = %s::VARCHAR AND api_token.revoked_at IS NULL"
)
PERSON_SQL = (
    "SELECT " + ", ".join(f"person.{c}" for c in COLUMNS) + ", "
    + ", ".join(f"manager.{c} AS {c}_1" for c in COLUMNS)
    + " FROM person LEFT OUTER JOIN person AS manager ON manager.id = person.manager_id WHERE person.id = %s::BIGINT"
)

pool = AsyncConnectionPool(os.environ.get("BENCH_CONNINFO", ""), min_size=4, max_size=10, open=False)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await pool.open(wait=True)
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


@app.get("/people/{person_id}")
async def profile(person_id: int, authorization: str = Header("")) -> JSONResponse:
    token = authorization.partition(" ")[2].strip()
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(TOKEN_SQL, (hashlib.sha256(token.encode()).hexdigest(),))
        caller = await cursor.fetchone()
        if caller is None or caller["deactivated_at"] is not None:
            raise HTTPException(401)
        await cursor.execute(PERSON_SQL, (person_id,))
        row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404)
    body = _jsonable({c: row[c] for c in COLUMNS})
    body["manager"] = {"id": row["id_1"], "display_name": row["display_name_1"],
                       "title": row["title_1"]} if row["id_1"] else None
    return JSONResponse(body)
