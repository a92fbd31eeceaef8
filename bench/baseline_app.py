"""Baseline: a bare FastAPI app serving a profile with the same SQL Socius runs, straight through psycopg.

What Socius does for `GET /api/v1/people/{id}` with a bearer token, minus the framework around it: look up
the token and its person, read the person, read their manager, return JSON. No ORM, no middleware, no
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

PERSON_COLUMNS = (
    "person.id, person.display_name, person.name_native, person.name_latin, person.email, person.title, "
    "person.department, person.location, person.time_zone, person.phone, person.languages, person.manager_id, "
    "person.about_md, person.about_html, person.links, person.role, person.deactivated_at, person.locale, "
    "person.guest_hidden, person.has_photo, person.sort_key, person.version, person.created_at, person.updated_at"
)
# The statements Socius issues for this request (captured from its engine), in the same order.
TOKEN_SQL = (
    "SELECT api_token.id, api_token.person_id, api_token.name, api_token.token_hash, api_token.prefix, "
    "api_token.created_at, api_token.last_used_at, api_token.revoked_at, "
    + PERSON_COLUMNS.replace("person.id,", "person.id AS id_1,").replace(
        "person.created_at,", "person.created_at AS created_at_1,")
    + " FROM api_token JOIN person ON person.id = api_token.person_id "
    "WHERE api_token.token_hash = %s AND api_token.revoked_at IS NULL"
)
PERSON_SQL = f"SELECT {PERSON_COLUMNS} FROM person WHERE person.id = %s"

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
        person = await cursor.fetchone()
        if person is None:
            raise HTTPException(404)
        manager = None
        if person["manager_id"]:
            await cursor.execute(PERSON_SQL, (person["manager_id"],))
            manager = await cursor.fetchone()
    body = _jsonable(person)
    body["manager"] = {"id": manager["id"], "display_name": manager["display_name"],
                       "title": manager["title"]} if manager else None
    return JSONResponse(body)
