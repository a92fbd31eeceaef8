"""Content kinds: each module that has searchable content registers how to index it and how to show it.

A kind tells search four things, all in the caller's session:
- `load(db, ids)`: the documents for these ids as they are now (ids that no longer exist or must not be in the
  index are simply absent: the indexer deletes them);
- `all_ids(db)`: every id that belongs in the index, in batches (rebuilds and `socius search check`);
- `hydrate(db, principal, ids)`: the items this principal may read *now*, re-checked against the database, as
  `SearchItem`s ready to show (a hit the database refuses is dropped, never shown);
- `keys(principal)`: the visibility keys this principal holds from this module (a membership, a host), as
  `HeldKeys`: fixed ones, and a SELECT of more, which `principal_keys` runs with every other module's in one
  statement (one query per module had cost 4.6 ms of every search). The SELECT names the principal by the bound
  parameter `PERSON_ID` and is built once (a module constant): the union of them is then built and compiled
  once too (building it per search cost 2 of its 2.6 ms).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, BigInteger, bindparam, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.auth import Principal
from socius.search.backend import Document
from socius.search.tantivy_backend import register_kind_code


@dataclass
class SearchItem:
    """A hit as the page and the API show it. `text` is what the snippet is cut from (already readable)."""

    kind: str
    id: int
    title: str
    url: str
    text: str = ""
    subtitle: str = ""
    updated_at: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


# The principal's person id in the SELECTs of `HeldKeys`.
PERSON_ID = bindparam("person_id", type_=BigInteger)
# The people being indexed, in the SELECTs of PERSON_KEYS.
PERSON_IDS = bindparam("person_ids", type_=ARRAY(BigInteger))
# SELECTs of (person id, key) for the people of PERSON_IDS: the keys under which a person's own document is
# visible beyond "members", so that search finds whom a guest's directory shows (people.readable_clause): the
# members of a guest's communities, the people they meet in their campaigns. Registered by those modules.
PERSON_KEYS: list[Any] = []


@dataclass(frozen=True)
class HeldKeys:
    """Visibility keys a principal holds from one module: `fixed` ones, and `query`, a SELECT of one text column
    using PERSON_ID, built once."""

    fixed: frozenset[str] = frozenset()
    query: Any = None


NO_KEYS = HeldKeys()


@dataclass(frozen=True)
class ContentKind:
    name: str
    code: int  # fixed forever: part of every document key in the index
    label: str  # msgid, for tabs
    load: Callable[[AsyncSession, list[int]], Awaitable[list[Document]]]
    all_ids: Callable[[AsyncSession, int], AsyncIterator[list[int]]]
    hydrate: Callable[[AsyncSession, Principal, list[int]], Awaitable[dict[int, SearchItem]]]
    keys: Callable[[Principal], HeldKeys]
    # How many documents a rebuild will index (progress bars); by default the rows of the table named `name`.
    count: Callable[[AsyncSession], Awaitable[int]] | None = None


def id_batches(column: Any, *where: Any) -> Callable[[AsyncSession, int], AsyncIterator[list[int]]]:
    """An `all_ids` for a kind whose ids are `column` (rows matching `where`), read in id order."""

    async def all_ids(db: AsyncSession, batch: int) -> AsyncIterator[list[int]]:
        after = 0
        while True:
            ids = list(await db.scalars(select(column).where(column > after, *where).order_by(column).limit(batch)))
            if not ids:
                return
            yield ids
            after = ids[-1]

    return all_ids


KINDS: dict[str, ContentKind] = {}
# Modules whose kinds search loads; later modules (communities, ideas) add theirs here.
KIND_MODULES = ("socius.search.people", "socius.communities.search", "socius.content.search",
                "socius.ideas.search")


def register(kind: ContentKind) -> ContentKind:
    register_kind_code(kind.name, kind.code)
    KINDS[kind.name] = kind
    return kind


def kinds() -> dict[str, ContentKind]:
    import importlib

    from socius.modules import load_all

    for module in KIND_MODULES:
        importlib.import_module(module)
    load_all()  # apps' item URLs, for hits
    return KINDS


async def principal_keys(db: AsyncSession, principal: Principal) -> frozenset[str]:
    """Every visibility key this principal holds; nobody signed in holds none. One statement for all modules."""
    if not principal.is_authenticated:
        return frozenset()
    held: set[str] = {f"p:{principal.person_id}"}
    queries = []
    for keys in dict.fromkeys(kind.keys for kind in kinds().values()):  # several kinds share one module's
        found = keys(principal)
        held |= found.fixed
        if found.query is not None:
            queries.append(found.query)
    if queries:
        held |= set(await db.scalars(_union(tuple(queries)), {"person_id": principal.person_id}))
    return frozenset(held)


@functools.lru_cache(maxsize=64)
def _union(queries: tuple) -> Any:
    return queries[0] if len(queries) == 1 else union_all(*queries)


async def person_keys(db: AsyncSession, person_ids: list[int]) -> dict[int, list[str]]:
    """The keys of PERSON_KEYS for these people, from every module in one statement."""
    found: dict[int, list[str]] = {}
    if PERSON_KEYS and person_ids:
        for person_id, key in await db.execute(_union(tuple(PERSON_KEYS)), {"person_ids": person_ids}):
            found.setdefault(person_id, []).append(key)
    return found
