"""The search interface every backend implements (Tantivy now, OpenSearch later), and what passes through it.

Callers hand a backend *documents* (already analysed text plus filter fields and visibility keys) and *query
specs* (already parsed and analysed clauses, filters, the principal's visibility keys). A backend never sees a
raw user query and never decides who may read what: it only has to honour `QuerySpec.visibility` — a document
is a candidate only if it carries at least one of those keys — in matching, counting, facets and suggestions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

# Weights: a match in a title adds twice a body match on top of it; a name key counts three times.
BOOSTS = {"title": 2.0, "names": 3.0}


@dataclass
class Document:
    """One searchable item as the index holds it. `id` is the item's id within its kind."""

    kind: str
    id: int
    title: str
    body: str = ""
    # Text only principals who are not guests may match (fields a person hides from guests).
    private: str = ""
    tags: list[str] = field(default_factory=list)
    # Keys a person is found by as one types, already folded: names, pinyin, initials (people).
    names: list[str] = field(default_factory=list)
    # Who may see it: "members", "c:<community>", "g:<campaign>", "p:<person>" (see docs/search.md).
    visibility: list[str] = field(default_factory=list)
    community_id: int | None = None
    author_id: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # Kept in the index but left out unless asked for (former employees).
    archived: bool = False


@dataclass(frozen=True)
class Unit:
    """One clause of a query. `word`: a Latin word (`term` stemmed, `raw` as typed, folded).
    `han`: a run of Han/kana/hangul (`words` from the segmenter, `bigrams`). `phrase`: words in order."""

    type: Literal["word", "han", "phrase"]
    term: str = ""
    raw: str = ""
    words: tuple[str, ...] = ()
    bigrams: tuple[str, ...] = ()


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    community_id: int | None = None
    author_id: int | None = None
    tag: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    include_archived: bool = False


@dataclass
class QuerySpec:
    must: list[Unit]
    must_not: list[Unit]
    filters: Filters
    visibility: frozenset[str]
    # Guests never match a document's private text.
    private_text: bool = True
    order: Literal["relevance", "newest"] = "relevance"
    offset: int = 0
    limit: int = 20
    facets: bool = True
    # Tolerate a typo in people's names (one edit on name keys) when nothing matches as typed.
    fuzzy_names: bool = True
    # Fill `Hit.author_id` (for aggregating the top hits per author: the expert finder).
    with_authors: bool = False
    # Count every match for `BackendResult.total` (without facets). Callers wanting only the top hits (the expert
    # finder) skip it: counting a common word's 200,000 matches costs about a third of the search.
    count: bool = True


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    score: float
    # Only when the query asked for it (`QuerySpec.with_authors`); None for documents without an author.
    author_id: int | None = None


@dataclass
class BackendResult:
    hits: list[Hit]
    total: int
    # Matches per kind for the same query without the kind filter.
    facets: dict[str, int] = field(default_factory=dict)
    # Kinds whose counts are estimates (large counts may be, rounded to two significant digits), and whether the
    # total is one: pages and the API say "about".
    estimated: frozenset[str] = frozenset()
    total_is_estimate: bool = False


class SearchBackend(Protocol):
    """What the rest of Socius needs from a search engine. Writes become visible after `commit()`."""

    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace documents (a document replaces the one of the same kind and id)."""

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        """Remove documents; ids not in the index are ignored."""

    def commit(self) -> None:
        """Make the writes since the last commit durable and visible to readers of this process."""

    def reload(self) -> None:
        """Pick up commits made by another process (or a swapped index) now rather than shortly."""

    def search(self, spec: QuerySpec) -> BackendResult:
        """Ranked hits for a query, restricted to documents visible under `spec.visibility`."""

    def suggest_names(self, prefix: str, visibility: frozenset[str], kinds: list[str], limit: int) -> list[Hit]:
        """Documents with a name key starting with `prefix` (as-you-type), best first."""

    def similar_terms(self, word: str, visibility: frozenset[str]) -> list[tuple[str, int]]:
        """Indexed words (as typed, unstemmed) close to `word`, with document counts: for "did you mean"."""

    def ids(self, kind: str) -> Iterator[int]:
        """Every id of a kind in the index (for `socius search check`)."""

    def close(self) -> None:
        """Release the writer and readers."""
