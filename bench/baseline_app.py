"""Baseline: a bare FastAPI app running the SQL Socius runs, straight through psycopg, minus the framework around
it (no ORM, no middleware, no Pydantic). The ratio Socius/baseline says how much the layers cost.

- `GET /people/{id}`, what Socius does for `GET /api/v1/people/{id}`: look up the bearer token and its person,
  read the person with their manager, return JSON (bench/run.py, bench/scim.py).
- `GET /feed`, what Socius does for `GET /api/v1/feed`: the token, the reader's sources, the feed statements
  (compiled once from Socius's own `activity.service` statements, so they are the same text), and the hydration
  of items with their parents, people and communities, then JSON (bench/feed.py).

Run as `uvicorn baseline_app:app --app-dir bench` with BENCH_CONNINFO set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from typing import Any

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from psycopg import AsyncCursor
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects import postgresql

from socius.activity.service import _candidates_statement, _check_statement
from socius.people.models import Role

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
# The home feed's: the reader's sources, the candidates and the check (Socius's own statements), the hydration.
SOURCES_SQL = ("SELECT follow.target_kind, follow.target FROM follow WHERE follow.person_id = %(me)s UNION ALL"
               " SELECT 'member', CAST(membership.community_id AS VARCHAR) FROM membership"
               " WHERE membership.person_id = %(me)s AND membership.state = 'active'")
_dialect = postgresql.psycopg.dialect()
_candidates = _candidates_statement().compile(dialect=_dialect, compile_kwargs={"render_postcompile": True})
_check = _check_statement(Role.MEMBER).compile(dialect=_dialect, compile_kwargs={"render_postcompile": True})
CANDIDATES_SQL, CANDIDATES_CONSTANTS = _candidates.string, dict(_candidates.params)
CHECK_SQL, CHECK_CONSTANTS = _check.string, dict(_check.params)
ITEMS_SQL = ("SELECT item.id, item.kind, item.community_id, item.parent_id, item.author_id, item.title,"
             " item.body_md, item.body_html, item.tags, item.like_count, item.comment_count, item.created_at,"
             " parent.id AS parent_id_, parent.title AS parent_title FROM item LEFT OUTER JOIN item AS parent"
             " ON parent.id = item.parent_id WHERE item.id = ANY(%s)")
PEOPLE_SQL = "SELECT person.id, person.display_name, person.has_photo FROM person WHERE person.id = ANY(%s)"
COMMUNITIES_SQL = "SELECT community.id, community.name FROM community WHERE community.id = ANY(%s)"

pool = AsyncConnectionPool(os.environ.get("BENCH_CONNINFO", ""), min_size=4, max_size=10, open=False)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    await pool.open(wait=True)
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


async def _caller(cursor: AsyncCursor, authorization: str) -> dict[str, Any]:
    """The bearer token's person, or 401."""
    token = authorization.partition(" ")[2].strip()
    await cursor.execute(TOKEN_SQL, (hashlib.sha256(token.encode()).hexdigest(),))
    caller = await cursor.fetchone()
    if caller is None or caller["deactivated_at"] is not None:
        raise HTTPException(401)
    return caller


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


@app.get("/people/{person_id}")
async def profile(person_id: int, authorization: str = Header("")) -> JSONResponse:
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await _caller(cursor, authorization)
        await cursor.execute(PERSON_SQL, (person_id,))
        row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404)
    body = _jsonable({c: row[c] for c in COLUMNS})
    body["manager"] = {"id": row["id_1"], "display_name": row["display_name_1"],
                       "title": row["title_1"]} if row["id_1"] else None
    return JSONResponse(body)


@app.get("/feed")
async def feed(authorization: str = Header("")) -> JSONResponse:
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        me = (await _caller(cursor, authorization))["id"]
        await cursor.execute(SOURCES_SQL, {"me": me})
        actors, places, tags = [me], set(), []
        for row in await cursor.fetchall():
            if row["target_kind"] == "person":
                actors.append(int(row["target"]))
            elif row["target_kind"] == "tag":
                tags.append(row["target"])
            else:
                places.add(int(row["target"]))
        # The feed's first round (Socius reads on below the floor only when the page is not full; it was here).
        await cursor.execute(CANDIDATES_SQL, {**CANDIDATES_CONSTANTS, "me": me, "actors": actors,
                                              "communities": sorted(places), "tags": tags, "before": 2**63 - 1,
                                              "per_source": 21})
        candidates = await cursor.fetchone()
        ids = sorted(set(candidates["ids"] or []), reverse=True)[:100]  # the first slice
        await cursor.execute(CHECK_SQL, {**CHECK_CONSTANTS, "me": me, "ids": ids, "limit": 21})
        rows = (await cursor.fetchall())[:20]
        await cursor.execute(ITEMS_SQL, ([r["item_id"] for r in rows if r["item_id"]],))
        items = {r["id"]: r for r in await cursor.fetchall()}
        await cursor.execute(PEOPLE_SQL, ([r["actor_id"] for r in rows if r["actor_id"]],))
        people = {r["id"]: r for r in await cursor.fetchall()}
        await cursor.execute(COMMUNITIES_SQL, ([r["community_id"] for r in rows if r["community_id"]],))
        communities = {r["id"]: r for r in await cursor.fetchall()}
    out = []
    for row in rows:
        item = items.get(row["item_id"])
        actor = people.get(row["actor_id"])
        community = communities.get(row["community_id"])
        out.append({
            "id": row["id"], "verb": row["verb"], "published": row["created_at"].isoformat(),
            "url": f"/items/{row['item_id']}",
            "actor": {"id": actor["id"], "name": actor["display_name"]} if actor else None,
            "item": {"id": item["id"], "kind": item["kind"], "title": item["title"], "excerpt": item["body_md"][:200],
                     "html": item["body_html"], "url": f"/items/{item['id']}", "tags": item["tags"],
                     "like_count": item["like_count"], "comment_count": item["comment_count"],
                     "parent": {"id": item["parent_id_"], "title": item["parent_title"]}
                     if item["parent_id_"] else None} if item else None,
            "community": {"id": community["id"], "name": community["name"]} if community else None,
        })
    return JSONResponse({"items": out, "next_cursor": None if len(out) < 20 else str(out[-1]["id"])})
