"""A bench-only content kind, registered through the search registry the way later modules will plug in.

There are no content modules yet, so the search benchmark keeps its items in its own table `bench_item` in the
benchmark database (never in a real one) and registers `bench_item` as a search kind: `load` for indexing,
`all_ids` for rebuilds, `hydrate` re-checking authorisation against the database, `keys` for the communities a
principal belongs to (`bench_member`). Items of a restricted community carry `c:<id>`, the others `members`.

Imported by bench/search.py (indexing) and bench/search_app.py (the server it measures).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

from sqlalchemy import String, text
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal
from socius.search import registry
from socius.search.backend import Document
from socius.search.registry import ContentKind, SearchItem

NAME = "bench_item"  # also the table: rebuilds count a kind's rows in the table of its name
CODE = 90  # far from the real kinds' codes

DDL = [
    """CREATE TABLE IF NOT EXISTS bench_item (
        id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL, tags text[] NOT NULL DEFAULT '{}',
        community_id integer NOT NULL, restricted boolean NOT NULL, author_id bigint NOT NULL,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
        -- The same pipeline's terms (words, bigrams; title weighted A), for the PostgreSQL full-text baseline.
        tsv tsvector NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bench_member (
        person_id bigint NOT NULL, community_id integer NOT NULL, PRIMARY KEY (person_id, community_id))""",
]

_LOAD = text("SELECT id, title, body, tags, community_id, restricted, author_id, created_at, updated_at"
             " FROM bench_item WHERE id = ANY(:ids)")
_IDS = text("SELECT id FROM bench_item WHERE id > :after ORDER BY id LIMIT :n")
_MINE = text("SELECT 'c:' || community_id FROM bench_member WHERE person_id = :person_id").columns(key=String)
_HYDRATE = text("SELECT id, title, body, updated_at FROM bench_item WHERE id = ANY(:ids)"
                " AND (NOT restricted OR community_id IN (SELECT community_id FROM bench_member"
                " WHERE person_id = :p))")


def visibility(community_id: int, restricted: bool, author_id: int) -> list[str]:
    return [f"c:{community_id}" if restricted else "members", f"p:{author_id}"]


async def load(db: AsyncSession, ids: list[int]) -> list[Document]:
    rows = (await db.execute(_LOAD, {"ids": ids})).all()
    return [Document(kind=NAME, id=r.id, title=r.title, body=r.body, tags=list(r.tags),
                     visibility=visibility(r.community_id, r.restricted, r.author_id),
                     community_id=r.community_id, author_id=r.author_id, created_at=r.created_at,
                     updated_at=r.updated_at) for r in rows]


async def all_ids(db: AsyncSession, batch: int) -> AsyncIterator[list[int]]:
    after = 0
    while True:
        ids = list((await db.scalars(_IDS, {"after": after, "n": batch})).all())
        if not ids:
            return
        yield ids
        after = ids[-1]


async def hydrate(db: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, SearchItem]:
    """Re-checked against the database: a restricted community's item only for its members."""
    rows = (await db.execute(_HYDRATE, {"ids": ids, "p": principal.person_id})).all()
    return {r.id: SearchItem(kind=NAME, id=r.id, title=r.title, url=f"/bench/{r.id}", text=r.body,
                             updated_at=r.updated_at) for r in rows}


def keys(principal: Principal) -> registry.HeldKeys:
    return registry.HeldKeys(fixed=frozenset() if principal.is_guest else frozenset({"members"}), query=_MINE)


def ensure_registered() -> ContentKind:
    """Register the kind once (after the built-in kinds, so their order is unchanged)."""
    kinds = registry.kinds()
    if NAME in kinds:
        return kinds[NAME]
    return registry.register(ContentKind(name=NAME, code=CODE, label="Bench items", load=load, all_ids=all_ids,
                                         hydrate=hydrate, keys=keys))


EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
