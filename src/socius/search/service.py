"""Search for pages and the API: parse, authorise inside the query, rank, hydrate and re-check, highlight."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core import text
from socius.core.auth import Principal
from socius.core.errors import FieldError, NotAuthenticated, ValidationFailed
from socius.core.i18n import N_
from socius.search import registry
from socius.search.backend import Filters, QuerySpec, SearchBackend
from socius.search.highlight import snippets
from socius.search.query import ParsedQuery, parse
from socius.search.registry import SearchItem

MAX_PAGE = 50  # deeper than 50 pages nobody reads; it only costs
MAX_PER_PAGE = 50
ORDERS = ("relevance", "newest")
SUGGEST_LIMIT = 8


@dataclass
class SearchRequest:
    q: str = ""
    kinds: list[str] = field(default_factory=list)
    community: int | None = None
    author: int | None = None
    tag: str | None = None
    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None
    order: str = "relevance"
    page: int = 1
    per_page: int = 20
    include_former: bool = False


@dataclass
class Result:
    item: SearchItem
    snippet: Markup
    score: float


@dataclass
class SearchPage:
    request: SearchRequest
    results: list[Result]
    total: int
    facets: dict[str, int]
    did_you_mean: str | None = None
    # Large counts are estimates (see SearchBackend.search): the total, and the tabs of these kinds.
    total_is_estimate: bool = False
    estimated: frozenset[str] = frozenset()

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, -(-self.total // self.request.per_page)) if self.total else 0

    @property
    def has_next(self) -> bool:
        return self.request.page < self.pages


def _as_datetime(value: dt.date | dt.datetime | None, *, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max if end else dt.time.min)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def validate(request: SearchRequest) -> None:
    """Bad filters are the client's mistake: a 422 naming each field. The query text itself never is."""
    errors: list[FieldError] = []
    known = registry.kinds()
    for kind in request.kinds:
        if kind not in known:
            errors.append(FieldError("kind", N_("must be one of {values}"), {"values": ", ".join(known)}))
            break
    if request.order not in ORDERS:
        errors.append(FieldError("order", N_("must be one of {values}"), {"values": ", ".join(ORDERS)}))
    if not 1 <= request.page <= MAX_PAGE:
        errors.append(FieldError("page", N_("must be between 1 and {n}"), {"n": MAX_PAGE}))
    if not 1 <= request.per_page <= MAX_PER_PAGE:
        errors.append(FieldError("per_page", N_("must be between 1 and {n}"), {"n": MAX_PER_PAGE}))
    for name in ("community", "author"):
        value = getattr(request, name)
        if value is not None and not 0 < value < 2**48:
            errors.append(FieldError(name, N_("is not a valid id")))
    if request.tag is not None and (len(request.tag) > 100 or text.has_control_chars(request.tag)):
        errors.append(FieldError("tag", N_("must be at most {n} characters, without control characters"),
                                 {"n": 100}))
    since, until = _as_datetime(request.since, end=False), _as_datetime(request.until, end=True)
    if since and until and since > until:
        errors.append(FieldError("until", N_("must not be before the start date")))
    if errors:
        raise ValidationFailed(errors)


async def search(db: AsyncSession, principal: Principal, backend: SearchBackend,
                 request: SearchRequest) -> SearchPage:
    """One page of results this principal may read, best first, with facets by kind."""
    if not principal.is_authenticated:
        raise NotAuthenticated()
    validate(request)
    parsed = parse(request.q)
    if parsed.empty:
        return SearchPage(request, [], 0, {})
    keys = await registry.principal_keys(db, principal)
    spec = QuerySpec(
        must=parsed.must, must_not=parsed.must_not, visibility=keys, private_text=not principal.is_guest,
        filters=Filters(kinds=request.kinds, community_id=request.community, author_id=request.author,
                        tag=request.tag or None, since=_as_datetime(request.since, end=False),
                        until=_as_datetime(request.until, end=True), include_archived=request.include_former),
        order=request.order,  # type: ignore[arg-type]
        offset=(request.page - 1) * request.per_page, limit=request.per_page,
    )
    # Off the event loop: a common query scores for tens of milliseconds, with the GIL released, while the
    # process's other requests go on.
    found = await asyncio.to_thread(backend.search, spec)
    results = await _hydrate(db, principal, found.hits, parsed)
    page = SearchPage(request, results, found.total, found.facets, total_is_estimate=found.total_is_estimate,
                      estimated=found.estimated)
    if not found.total and parsed.words:
        page.did_you_mean = await asyncio.to_thread(_did_you_mean, backend, request.q, parsed, keys)
    return page


async def _hydrate(db: AsyncSession, principal: Principal, hits, parsed: ParsedQuery) -> list[Result]:
    """Items for the hits, re-checked against the database; a hit it refuses is dropped, not shown."""
    by_kind: dict[str, list[int]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit.id)
    kinds = registry.kinds()
    items: dict[tuple[str, int], SearchItem] = {}
    for kind, ids in by_kind.items():
        if kind in kinds:
            for item_id, item in (await kinds[kind].hydrate(db, principal, ids)).items():
                items[(kind, item_id)] = item
    shown = [(hit, items[(hit.kind, hit.id)]) for hit in hits if (hit.kind, hit.id) in items]
    # Suggestions (no query words) show no snippet: none is made.
    marked = snippets([item.text for _hit, item in shown], parsed) if not parsed.empty else [Markup("")] * len(shown)
    return [Result(item, mark, hit.score) for (hit, item), mark in zip(shown, marked, strict=True)]


def _did_you_mean(backend: SearchBackend, q: str, parsed: ParsedQuery, keys: frozenset[str]) -> str | None:
    """The query with each unknown word replaced by the most common indexed word one or two edits away."""
    normal = text.normalise(q)
    changed = False
    for word in dict.fromkeys(parsed.words):
        candidates = backend.similar_terms(word, keys)
        if candidates:
            best = max(candidates, key=lambda c: c[1])[0]
            normal = normal.replace(word, best)
            changed = True
    return normal if changed else None


async def suggest(db: AsyncSession, principal: Principal, backend: SearchBackend, q: str,
                  limit: int = SUGGEST_LIMIT) -> list[SearchItem]:
    """As-you-type: people (and later other named things) whose names start with what was typed."""
    if not principal.is_authenticated:
        raise NotAuthenticated()
    prefix = text.compact(q[:100])
    if not prefix:
        return []
    keys = await registry.principal_keys(db, principal)
    hits = await asyncio.to_thread(backend.suggest_names, prefix, keys, [], limit)
    results = await _hydrate(db, principal, hits, ParsedQuery())
    return [r.item for r in results]


def kind_labels() -> dict[str, str]:
    return {name: kind.label for name, kind in registry.kinds().items()}


def as_json(result: Result) -> dict[str, Any]:
    item = result.item
    return {"kind": item.kind, "id": item.id, "title": item.title, "url": item.url, "subtitle": item.subtitle,
            "snippet": str(result.snippet), "score": round(result.score, 4), "updated_at": item.updated_at,
            **item.extra}


