"""Baseline for the home feed: a bare FastAPI app running the SQL Socius runs for `GET /api/v1/feed`, straight
through psycopg — the token, the reader's sources, the feed statement (compiled once from Socius's own
`activity.service` statements, so it is the same text), and the hydration of items with their parents,
people and communities — then JSON. No ORM, no middleware, no Pydantic. Socius/baseline says what the layers
cost.

Run by bench/feed.py: `uvicorn feed_baseline_app:app --app-dir bench` with BENCH_CONNINFO set.
"""

from __future__ import annotations

import contextlib
import hashlib
import os

from baseline_app import TOKEN_SQL
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects import postgresql

from socius.activity.service import _candidates_statement, _check_statement
from socius.people.models import Role

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


@app.get("/feed")
async def feed(authorization: str = Header("")) -> JSONResponse:
    token = authorization.partition(" ")[2].strip()
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(TOKEN_SQL, (hashlib.sha256(token.encode()).hexdigest(),))
        caller = await cursor.fetchone()
        if caller is None or caller["deactivated_at"] is not None:
            raise HTTPException(401)
        me = caller["id"]
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
