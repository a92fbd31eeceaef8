"""The embedded search backend: one Tantivy index on disk under the data directory.

Layout: `<data_dir>/search/current` is a symlink to a generation directory (`v<schema>-<stamp>`). A rebuild
writes a new generation aside and swaps the symlink; readers notice the new target on their next search. A
generation holds one Tantivy index per shard (`0/`, `1/`, …), each with part of the documents: a search runs on
all of them at once, one thread each, and merges their hits (see `_Shards`).

Known limits of the `tantivy` Python package, measured (docs/search.md):
- no Python tokenizers: text is analysed in Python (core/text.analyse) and indexed pre-tokenised, terms joined
  by spaces, with the built-in whitespace tokenizer; queries are built from terms, never parsed by Tantivy;
- `delete_documents_by_term` on a u64 field silently deletes nothing: the document key `uid` is an i64;
- custom analyzers must be registered at every open: we use only built-in tokenizers (whitespace, raw);
- a reader sees a commit only after `reload()` (or shortly, by the reload policy): we reload after our own
  commits so a person sees their own write;
- `Searcher.search` always collects through a MultiCollector, so Tantivy's block-max pruning never applies: every
  match of a query is scored (a common term in 725,000 documents: 10 ms for its top 20, 13 ms to count them).
  A search's time is its matches times its clauses; shards searched in parallel divide it by the cores.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
import tantivy
from tantivy import Occur, Query

from socius.core import text
from socius.search.backend import BOOSTS, BackendResult, Document, Hit, QuerySpec, Unit

log = structlog.get_logger(__name__)

SCHEMA_VERSION = 3  # 3: shards
# Kinds get a small number each; the document key is (code << 48) | id, so one i64 term deletes one document.
KIND_CODES: dict[str, int] = {}
_KINDS_BY_CODE: dict[int, str] = {}  # the reverse, for reading hits (hundreds a query for the expert finder)
_ID_BITS = 48
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# `text` holds title, tags and body, and is what a query must match (with `private` for non-guests); `title` is
# matched again only to rank title matches higher. One field to match rather than one per part halves the
# scorers of a query (measured: a Han query's cost went mostly to the extra fields).
TEXT_FIELDS = ("title", "text", "private")
WRITER_HEAP = 64_000_000
# A rebuild writes a whole index at once: a larger heap makes fewer, larger segments, so fewer merges.
REBUILD_HEAP = 512_000_000
# Indexes (shards) of a generation. The Python binding scores every match of a query on one thread (see above);
# each shard is searched on a thread of its own (Tantivy releases the GIL), so a large index's search uses up to
# MAX_SHARDS cores (the reference machine has two). A rebuild makes one shard per SHARD_DOCUMENTS documents: below
# that one index is faster (no thread handoff) and ranks with exact statistics, where each shard would rank with
# its own (on 60 documents that moved a hit). A generation keeps the count it was built with (its subdirectories);
# an index grown from empty stays one shard until `socius search reindex`.
MAX_SHARDS = 2
SHARD_DOCUMENTS = 150_000


# One document in SAMPLE_RATE carries `sample`: counting a common query's matches there and scaling up costs a
# fraction of counting them all.
SAMPLE_RATE = 128
# A kind's count is estimated when at least this many of its sampled documents match (about 5,000 in all).
MIN_SAMPLED = 40
MAX_PREFIX = 24  # longer prefixes match nobody's name, and their automata grow past Tantivy's limit
# Name keys are indexed with their beginnings up to this length, so "c" or "chen" as one types is one term, not
# a regex over every name (measured at 200,000 people: "c" 83 ms as a regex).
PREFIX_LENGTH = 12
# On every document that "members" may not see: members' queries exclude these few (but those of their other
# keys) instead of intersecting with the "members" list, which holds nearly every document (measured: the
# intersection doubled the cost of a common term).
RESTRICTED = "!members"


def shards_for(documents: int) -> int:
    """Shards a rebuild makes for this many documents."""
    return max(1, min(MAX_SHARDS, documents // SHARD_DOCUMENTS))


def register_kind_code(kind: str, code: int) -> None:
    if KIND_CODES.get(kind, code) != code or (code in KIND_CODES.values() and KIND_CODES.get(kind) != code):
        raise ValueError(f"search kind code {code} for {kind!r} clashes")
    KIND_CODES[kind] = code
    _KINDS_BY_CODE[code] = kind


def uid(kind: str, item_id: int) -> int:
    return (KIND_CODES[kind] << _ID_BITS) | item_id


def in_sample(key: int) -> bool:
    """A fixed one in SAMPLE_RATE of all documents, spread evenly over kinds and ids (a multiplicative hash)."""
    return ((key * 0x9E3779B97F4A7C15) & 0xFFFF_FFFF_FFFF_FFFF) >> 32 < (1 << 32) // SAMPLE_RATE


def _split_uid(value: int) -> tuple[str, int]:
    return _KINDS_BY_CODE.get(value >> _ID_BITS, ""), value & ((1 << _ID_BITS) - 1)


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_integer_field("uid", stored=True, indexed=True, fast=True)
    b.add_text_field("kind", tokenizer_name="raw", fast=True)
    for name in TEXT_FIELDS:
        b.add_text_field(f"{name}_w", tokenizer_name="whitespace")  # words
        b.add_text_field(f"{name}_b", tokenizer_name="whitespace")  # Han bigrams
    b.add_text_field("names", tokenizer_name="whitespace")
    b.add_text_field("prefixes", tokenizer_name="whitespace", index_option="freq")
    # Latin words as typed (unstemmed), without positions: candidates for "did you mean".
    b.add_text_field("spell", tokenizer_name="whitespace", index_option="basic")
    b.add_text_field("tag", tokenizer_name="raw", index_option="basic")
    b.add_text_field("vis", tokenizer_name="raw", index_option="basic")
    # 1 on a fixed sample of the documents (1 in SAMPLE_RATE), for estimating large counts (see `_count`).
    b.add_integer_field("sample", indexed=True)
    b.add_integer_field("community", indexed=True, fast=True)
    b.add_integer_field("author", indexed=True, fast=True)
    b.add_integer_field("archived", indexed=True, fast=True)
    b.add_date_field("created", indexed=True, fast=True)
    # Seconds since 1970: the Python binding reads fast fields of integers only (ordering, tie-breaks).
    b.add_integer_field("updated", fast=True)
    return b.build()


SCHEMA = build_schema()
_SAMPLED = Query.const_score_query(Query.term_query(SCHEMA, "sample", 1), 0.0)


# A document after analysis: its key and its fields as JSON for the writer's `add_json` (parsed in Rust: a third
# of the cost of building a tantivy.Document field by field in Python), so analysis can run in other processes.
Prepared = tuple[int, str]


def prepare(document: Document) -> Prepared:
    return prepare_many([document])[0]


def prepare_many(documents: list[Document]) -> list[Prepared]:
    """Analyse documents for the index: the slow, pure-Python part (all their texts in one batch)."""
    analysed = iter(text.analyse_many([part for d in documents for part in _texts(d)]))
    tags = iter(text.fold_many([tag for d in documents for tag in d.tags]))
    return [_prepared(d, next(analysed), next(analysed), next(analysed), [next(tags) for _ in d.tags])
            for d in documents]


def _texts(document: Document) -> tuple[str, str, str]:
    rest = "\n".join(filter(None, [" ".join(document.tags), document.body]))
    return document.title or "", rest, document.private or ""


def _joined(separator: str, first: str, second: str) -> str:
    return f"{first}{separator}{second}" if first and second else first or second


def _prepared(document: Document, title: text.Terms, rest: text.Terms, private: text.Terms,
              tags: list[str]) -> Prepared:
    key = uid(document.kind, document.id)
    fields: dict[str, object] = {"uid": key, "kind": document.kind}
    for name, words, bigrams in (("title", title.words, title.bigrams),
                                 ("text", _joined(" ", title.words, rest.words),
                                  _joined(f" {text.RUN_BREAK} ", title.bigrams, rest.bigrams)),
                                 ("private", private.words, private.bigrams)):
        if words:
            fields[f"{name}_w"] = words
        if bigrams:
            fields[f"{name}_b"] = bigrams
    spell = [s for s in (title.latin, rest.latin) if s]
    if document.names:
        fields["names"] = " ".join(document.names)
        prefixes = {name[:n] for name in document.names for n in range(1, min(len(name), PREFIX_LENGTH) + 1)}
        fields["prefixes"] = " ".join(sorted(prefixes))
        spell.extend(n for n in document.names if n.isascii() and n.isalpha())
    if spell:
        fields["spell"] = " ".join(spell)
    if document.tags:
        fields["tag"] = tags
    fields["vis"] = document.visibility if "members" in document.visibility else [*document.visibility, RESTRICTED]
    created = (document.created_at or document.updated_at or _EPOCH).astimezone(dt.UTC).replace(microsecond=0)
    fields["archived"] = 1 if document.archived else 0
    fields["updated"] = int((document.updated_at or created).timestamp())
    fields["created"] = created.isoformat()
    if document.community_id is not None:
        fields["community"] = document.community_id
    if document.author_id is not None:
        fields["author"] = document.author_id
    if in_sample(key):
        fields["sample"] = 1
    return key, json.dumps(fields, ensure_ascii=False)


# --- generations on disk ---------------------------------------------------------------------------------------

def current_path(root: Path) -> Path:
    return root / "current"


def new_generation(root: Path, shards: int = 1) -> Path:
    """An empty generation (its shards' indexes) beside the current one."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"v{SCHEMA_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    path.mkdir()
    for shard in range(shards):
        (path / str(shard)).mkdir()
        tantivy.Index(SCHEMA, path=str(path / str(shard)))
    return path


def shard_paths(generation: Path) -> list[Path]:
    return sorted((p for p in generation.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def swap(root: Path, generation: Path) -> None:
    """Point `current` at a generation atomically and remove generations older than the previous one."""
    link = current_path(root)
    previous = link.resolve() if link.is_symlink() else None
    temporary = root / f".current-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(generation.name)
    os.replace(temporary, link)
    keep = {generation.resolve(), previous}
    for path in root.glob("v*-*"):
        if path.is_dir() and path.resolve() not in keep:
            shutil.rmtree(path, ignore_errors=True)  # open readers keep their files (unlinked, still mapped)


def ensure_current(root: Path) -> Path:
    """The current generation; a new empty one when there is none or its schema is older than this code's."""
    link = current_path(root)
    existed = link.is_symlink()
    if existed and link.resolve().is_dir():
        target = link.resolve()
        if target.name.startswith(f"v{SCHEMA_VERSION}-"):
            return target
        log.warning("search_schema_changed", found=target.name, expected=SCHEMA_VERSION,
                    hint="run `socius search reindex`")
    generation = new_generation(root)
    if existed:
        swap(root, generation)
        return generation
    try:
        # Two processes starting at once: the first link wins, the other uses it (no writes lost to a loser).
        link.symlink_to(generation.name)
    except FileExistsError:
        shutil.rmtree(generation, ignore_errors=True)
        return link.resolve()
    return generation


# --- shards ----------------------------------------------------------------------------------------------------

# Threads that search shards other than the first (which the caller's thread searches itself).
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search-shard")


class _Shards:
    """The searchers of a generation's shards, answering the calls this module makes of a tantivy.Searcher:
    each call runs on every shard at once and the answers are merged (hits by score, counts summed).

    Each shard ranks with its own statistics (document frequencies, average lengths). Documents are spread evenly
    by id, so at scale the shards' statistics agree to a fraction of a percent."""

    def __init__(self, searchers: list[tantivy.Searcher]) -> None:
        self.searchers = searchers

    def _each(self, call: Callable[[tantivy.Searcher], object]) -> list:
        if len(self.searchers) == 1:
            return [call(self.searchers[0])]
        others = [_POOL.submit(call, searcher) for searcher in self.searchers[1:]]
        return [call(self.searchers[0])] + [future.result() for future in others]

    @property
    def num_docs(self) -> int:
        return sum(searcher.num_docs for searcher in self.searchers)

    def doc_freq(self, field: str, term: object) -> int:
        return sum(searcher.doc_freq(field, term) for searcher in self.searchers)

    def search(self, query: Query, limit: int, *, count: bool = True, order_by_field: str | None = None,
               offset: int = 0) -> _Top:
        wanted = offset + limit
        results = self._each(lambda searcher: searcher.search(query, wanted, count=count,
                                                              order_by_field=order_by_field))
        hits = [(key, (shard, address)) for shard, result in enumerate(results) for key, address in result.hits]
        hits.sort(key=lambda hit: (-hit[0], hit[1][0], hit[1][1].segment_ord, hit[1][1].doc))
        return _Top(hits[offset:wanted], sum(r.count for r in results) if count else None)

    def fast_field_values(self, field: str, addresses: list) -> list:
        by_shard: dict[int, list[int]] = {}
        for position, (shard, _address) in enumerate(addresses):
            by_shard.setdefault(shard, []).append(position)
        values: list = [None] * len(addresses)
        for shard, positions in by_shard.items():
            found = self.searchers[shard].fast_field_values(field, [addresses[i][1] for i in positions])
            for position, value in zip(positions, found, strict=True):
                values[position] = value
        return values

    def aggregate(self, query: Query, aggregation: dict) -> dict:
        """Terms aggregations only (the one kind this module asks for), bucket counts summed over the shards."""
        merged: dict[str, dict[object, int]] = {name: {} for name in aggregation}
        for result in self._each(lambda searcher: searcher.aggregate(query, aggregation)):
            for name, buckets in merged.items():
                for bucket in result[name]["buckets"]:
                    buckets[bucket["key"]] = buckets.get(bucket["key"], 0) + int(bucket["doc_count"])
        return {name: {"buckets": [{"key": key, "doc_count": n} for key, n in
                                   sorted(buckets.items(), key=lambda kv: -kv[1])]}
                for name, buckets in merged.items()}

    def terms_with_prefix(self, field: str, prefix: str, **options) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for terms in self._each(lambda searcher: searcher.terms_with_prefix(field, prefix, **options)):
            for term, n in terms:
                counts[term] = counts.get(term, 0) + n
        return sorted(counts.items())


# --- the backend -----------------------------------------------------------------------------------------------

class TantivyBackend:
    """SearchBackend on a Tantivy index. One writer per index (Tantivy locks it): only the indexer writes."""

    def __init__(self, root: Path, *, generation: Path | None = None, writer_heap: int = WRITER_HEAP) -> None:
        self.root = Path(root)
        self._writer_heap = writer_heap
        # A fixed generation (a rebuild writing aside) never follows the `current` symlink.
        self._fixed = generation
        self._lock = threading.Lock()
        self._writers: dict[int, tantivy.IndexWriter] = {}
        self._open()

    def _open(self) -> None:
        self.path = self._fixed or ensure_current(self.root)
        self._indexes = [tantivy.Index.open(str(p)) for p in shard_paths(self.path)]
        self._target = self.path.name

    def _follow_swap(self) -> None:
        if self._fixed is not None:
            return
        try:
            target = os.readlink(current_path(self.root))
        except OSError:
            return
        if target != self._target:
            with self._lock:
                if target != self._target:
                    for writer in self._writers.values():
                        writer.rollback()  # uncommitted work belongs to the old index; the outbox replays
                    self._writers = {}
                    self._open()

    def _writer_for(self, key: int) -> tantivy.IndexWriter:
        """The writer of the shard that holds the document `key` (ids alternate, so shards stay even)."""
        shard = key % len(self._indexes)
        writer = self._writers.get(shard)
        if writer is None:
            heap = max(self._writer_heap // len(self._indexes), 16_000_000)
            writer = self._writers[shard] = self._indexes[shard].writer(heap_size=heap, num_threads=1)
        return writer

    # writes

    def index(self, documents: Iterable[Document]) -> None:
        self.index_prepared(prepare(d) for d in documents)

    def index_prepared(self, prepared: Iterable[Prepared], *, replace: bool = True) -> None:
        """Add documents analysed beforehand (perhaps in other processes: see indexer.rebuild). `replace=False`
        skips deleting an older version first: for a new generation being built, which holds none (the delete
        costs more than the add)."""
        self._follow_swap()
        for key, fields in prepared:
            writer = self._writer_for(key)
            if replace:
                writer.delete_documents_by_term("uid", key)
            writer.add_json(fields)

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        self._follow_swap()
        for item_id in ids:
            key = uid(kind, item_id)
            self._writer_for(key).delete_documents_by_term("uid", key)

    def commit(self) -> None:
        """Commit every shard written to. Not atomic across shards: when one fails, the caller's outbox rows stay
        pending and replay, which rewrites the same documents."""
        for writer in self._writers.values():
            writer.commit()
        if self._writers:
            for index in self._indexes:
                index.reload()

    def reload(self) -> None:
        self._follow_swap()
        for index in self._indexes:
            index.reload()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.rollback()
            writer.wait_merging_threads()
        self._writers = {}

    # reads

    def _searcher(self) -> _Shards:
        self._follow_swap()
        return _Shards([index.searcher() for index in self._indexes])

    def num_docs(self) -> int:
        return self._searcher().num_docs

    @property
    def shards(self) -> int:
        self._follow_swap()
        return len(self._indexes)

    def search(self, spec: QuerySpec) -> BackendResult:
        result = self._search(spec, fuzzy=False)
        if not result.total and spec.fuzzy_names and any(u.type == "word" and len(u.raw) >= 4 for u in spec.must):
            # Typos in names only when nothing matched as typed: building the edit automaton costs more than the
            # rest of a common query (measured 5 ms a word).
            result = self._search(spec, fuzzy=True)
        return result

    def _search(self, spec: QuerySpec, *, fuzzy: bool) -> BackendResult:
        if not fuzzy and any(_by_words(u) for u in spec.must):
            # A long Han run whose dictionary words are all in a document matches it: try that first (a
            # conjunction of words costs a fraction of "60 % of the bigrams", a disjunction over very common
            # pairs), and only when no document has them all, the bigrams (北旅游 finds 北京旅游).
            result = self._search_units(spec, fuzzy=False, by_words=True)
            if result.hits or result.total:
                return result
        return self._search_units(spec, fuzzy=fuzzy, by_words=False)

    def _search_units(self, spec: QuerySpec, *, fuzzy: bool, by_words: bool) -> BackendResult:
        searcher = self._searcher()
        parts = [_unit_parts(u, spec, fuzzy=fuzzy, by_words=by_words) for u in spec.must]
        must_not = [_unit_query(u, spec, exact=True) for u in spec.must_not]
        if not parts or not spec.visibility:
            return BackendResult([], 0, {})
        # The kinds as a union of term queries, not a term set: a term set collects every document of its kinds
        # into a bitset on each search (all 1,000,000 items for an expert finder's content search), where the
        # union is only advanced to the documents the query matches. The same documents and scores; measured on
        # an 8-skill team's content searches: 63 -> 46 ms.
        kind_filter = [_any([Query.term_query(SCHEMA, "kind", k) for k in spec.filters.kinds])] \
            if spec.filters.kinds else []
        # One level: each unit's match is required and every unit's boosters are optional beside them (the same
        # matches and scores as a clause per unit, without a scorer nested in another for each).
        # Counting (below) needs no boosters: `base` is what must match.
        base = [(Occur.Must, matched) for matched, _b in parts] + [(Occur.MustNot, q) for q in must_not]
        base += _restrictions(spec)
        boosters = [(Occur.Should, q) for _m, unit_boosters in parts for q in unit_boosters]
        query = Query.boolean_query(base + boosters
                                    + [(Occur.Must, Query.const_score_query(q, 0.0)) for q in kind_filter])
        # The top hits without counting every match: counting is apart (below) and cheaper there.
        count = not spec.facets
        flat = _flat_union(searcher, spec, fuzzy=fuzzy) \
            if spec.order == "relevance" and not (count and spec.count) else None
        result = _top_unrestricted(searcher, flat, spec) if flat is not None else None
        if result is None and spec.order == "newest":
            result = searcher.search(query, spec.limit, count=count and spec.count, order_by_field="updated",
                                     offset=spec.offset)
        elif result is None:
            result = searcher.search(query, spec.limit, count=count and spec.count, offset=spec.offset)
        addresses = [address for _score, address in result.hits]
        uids = searcher.fast_field_values("uid", addresses) if addresses else []
        authors = searcher.fast_field_values("author", addresses) if spec.with_authors and addresses \
            else [None] * len(addresses)
        hits = [Hit(*_split_uid(u), float(score), author)
                for (score, _a), u, author in zip(result.hits, uids, authors, strict=True)]
        if spec.order == "relevance" and hits:
            # Recency breaks ties between equally relevant documents.
            updated = searcher.fast_field_values("updated", addresses)
            order = sorted(range(len(hits)), key=lambda i: (-round(hits[i].score, 5), -updated[i]))
            hits = [hits[i] for i in order]
        if count:
            # Uncounted: the hits are all the caller asked to know of.
            return BackendResult(hits, result.count if spec.count else len(hits), {})
        # Over the query without the kind filter: the tabs show other kinds' counts, even when this one has none.
        facets, estimated = _kind_counts(searcher, base)
        kinds = spec.filters.kinds or list(facets)
        total = sum(facets.get(k, 0) for k in kinds)
        return BackendResult(hits, total, facets, estimated, any(k in estimated for k in kinds))

    def suggest_names(self, prefix: str, visibility: frozenset[str], kinds: list[str], limit: int) -> list[Hit]:
        if not prefix or not visibility or len(prefix) > MAX_PREFIX:
            return []
        searcher = self._searcher()
        matches = Query.boolean_query([
            (Occur.Should, Query.boost_query(Query.term_query(SCHEMA, "names", prefix), 2.0)),
            (Occur.Should, _name_prefix(prefix)),
        ])
        clauses = [(Occur.Must, matches), *_visibility(visibility),
                   (Occur.MustNot, Query.term_query(SCHEMA, "archived", 1))]
        if kinds:
            clauses.append((Occur.Must, Query.term_set_query(SCHEMA, "kind", kinds)))
        result = searcher.search(Query.boolean_query(clauses), limit, count=False)
        addresses = [a for _s, a in result.hits]
        uids = searcher.fast_field_values("uid", addresses) if addresses else []
        return [Hit(*_split_uid(u), float(s)) for (s, _a), u in zip(result.hits, uids, strict=True)]

    def similar_terms(self, word: str, visibility: frozenset[str]) -> list[tuple[str, int]]:
        if len(word) < 3 or not visibility:
            return []
        searcher = self._searcher()
        prefix = word[:2] if len(word) >= 5 else word[:1]
        most = 1 if len(word) < 6 else 2
        # The term dictionary alone gives the words near enough; they are then counted among the documents the
        # principal may see, in one walk filtered to the documents holding one of them, so a word only hidden
        # documents hold is never offered. (Filtering the walk by visibility alone counted every term of the
        # prefix over nearly every document: 15-40 ms at 1,000,000 items.)
        distance = _Distance(word)
        near = {term for term, _count in searcher.terms_with_prefix("spell", prefix, limit=5000)
                if term != word and abs(len(term) - len(word)) <= most and distance(term) <= most}
        if not near:
            return []
        holding = Query.boolean_query([(Occur.Must, Query.term_set_query(SCHEMA, "spell", sorted(near))),
                                       *_visibility(visibility)])
        return [(term, count) for term, count in
                searcher.terms_with_prefix("spell", prefix, filter_query=holding, limit=5000)
                if term in near and count]

    def ids(self, kind: str) -> Iterator[int]:
        searcher = self._searcher()
        total = searcher.num_docs
        if not total:
            return
        result = searcher.search(Query.term_query(SCHEMA, "kind", kind), total, count=False)
        addresses = [a for _s, a in result.hits]
        for start in range(0, len(addresses), 10_000):
            for value in searcher.fast_field_values("uid", addresses[start:start + 10_000]):
                yield _split_uid(value)[1]


class _Top:
    """The page of hits of a search, shaped like tantivy's SearchResult: `hits` as (score or order, address),
    where an address is (shard, the shard's DocAddress); `count` when counted."""

    def __init__(self, hits: list, count: int | None = None) -> None:
        self.hits = hits
        self.count = count


def _flat_union(searcher: _Shards, spec: QuerySpec, *, fuzzy: bool) -> Query | None:
    """The query as one union of term queries, when it is one: a single word, or a Han run of one pair that is
    also its one dictionary word (团队), with no filter but visibility and archiving. Ranked without the
    exclusions and nesting, such a union costs a third of the ordinary query (measured at 1,000,000 items: 团队
    13 against 40 ms; every match is scored either way, see the module's notes). The boosters are implied by the
    options here (a title word is in `text`; the word is the pair), so the union matches the same documents with
    the same scores as `_unit_query`. Only for common terms: a rare one is ranked faster as it is than with the
    extra step of dropping candidates (see `_top_unrestricted`)."""
    f = spec.filters
    if (fuzzy or len(spec.must) != 1 or spec.must_not or f.kinds or f.community_id is not None
            or f.author_id is not None or f.tag or f.since or f.until):
        return None
    unit = spec.must[0]
    fields = _match_fields(spec)
    if unit.type == "word":
        common = searcher.doc_freq("text_w", unit.term)
    elif unit.type == "han" and len(unit.bigrams) == 1:
        common = searcher.doc_freq("text_b", unit.bigrams[0])
    else:
        return None
    if common < COMMON_TERM:
        return None
    if unit.type == "word" and len(unit.raw) <= PREFIX_LENGTH:
        terms = [Query.term_query(SCHEMA, f"{f}_w", unit.term) for f in fields]
        terms.append(_boosted(Query.term_query(SCHEMA, "names", unit.raw), BOOSTS["names"]))
        if len(unit.raw) >= 2:
            terms.append(Query.term_query(SCHEMA, "prefixes", unit.raw))
        terms.append(_title(Query.term_query(SCHEMA, "title_w", unit.term)))
    elif unit.type == "han" and len(unit.bigrams) == 1 and unit.words == unit.bigrams and len(unit.words[0]) == 2:
        pair = unit.bigrams[0]
        terms = [Query.term_query(SCHEMA, f"{f}_b", pair) for f in fields]
        terms.append(_boosted(Query.term_query(SCHEMA, "names", pair), BOOSTS["names"]))
        terms += [Query.term_query(SCHEMA, "prefixes", pair), Query.term_query(SCHEMA, "text_w", pair),
                  _title(Query.term_query(SCHEMA, "title_b", pair))]
    else:
        return None
    return Query.boolean_query([(Occur.Should, q) for q in terms])


# Terms in at least this many documents are ranked by `_top_unrestricted`.
COMMON_TERM = 20_000
# Candidates ranked without the visibility and archive exclusions, beyond the page: enough that the page is
# nearly always full once the documents the principal may not see are dropped (else the ordinary query runs).
_SPARE = 2


def _top_unrestricted(searcher: _Shards, union: Query, spec: QuerySpec) -> _Top | None:
    """The page of `union`'s best hits the principal may see, found by ranking without the exclusions (fast:
    see `_flat_union`) and then dropping the candidates the exclusions would (one small query over their keys);
    None when too few remain to fill the page."""
    if "members" not in spec.visibility:
        return None
    wanted = spec.offset + spec.limit
    candidates = searcher.search(union, wanted * _SPARE + 20, count=False).hits
    if not candidates:
        return _Top([])
    restrictions = _restrictions(spec)
    if any(occur != Occur.MustNot for occur, _q in restrictions):
        return None  # a principal without "members" (a guest): visibility is a filter, not an exclusion
    uids = searcher.fast_field_values("uid", [a for _s, a in candidates])
    excluded = [(Occur.Should, q) for _occur, q in restrictions]
    if excluded:
        dropped = Query.boolean_query([(Occur.Must, Query.term_set_query(SCHEMA, "uid", uids)),
                                       (Occur.Must, Query.boolean_query(excluded))])
        gone = searcher.search(dropped, len(uids), count=False).hits
        gone_uids = set(searcher.fast_field_values("uid", [a for _s, a in gone])) if gone else set()
    else:
        gone_uids = set()
    kept = [hit for hit, key in zip(candidates, uids, strict=True) if key not in gone_uids]
    if len(kept) < wanted and len(candidates) == wanted * _SPARE + 20:
        return None  # more matches exist than were ranked: the ordinary query decides
    return _Top(kept[spec.offset:wanted])


def _kind_counts(searcher: _Shards, base: list[tuple[Occur, Query]]) -> tuple[dict[str, int], frozenset[str]]:
    """Matches per kind: exact for kinds with few, estimated from the sample for kinds with many (counting every
    match of a common query cost more than ranking it; see docs/search.md)."""
    sampled = _per_kind(searcher, Query.boolean_query([*base, (Occur.Must, _SAMPLED)]))
    large = {kind for kind, n in sampled.items() if n >= MIN_SAMPLED}
    if not large:
        return _per_kind(searcher, Query.boolean_query(base)), frozenset()
    counts = {kind: _about(n * SAMPLE_RATE) for kind, n in sampled.items() if kind in large}
    # The other kinds exactly: few of their documents match (but a kind of few documents may have none sampled).
    others = [k for k in KIND_CODES if k not in large]
    if others:
        only = Query.const_score_query(Query.term_set_query(SCHEMA, "kind", others), 0.0)
        counts |= _per_kind(searcher, Query.boolean_query([*base, (Occur.Must, only)]))
    return counts, frozenset(large)


def _per_kind(searcher: _Shards, query: Query) -> dict[str, int]:
    buckets = searcher.aggregate(query, {"k": {"terms": {"field": "kind", "size": 50}}})
    return {b["key"]: int(b["doc_count"]) for b in buckets["k"]["buckets"]}


def _about(n: int) -> int:
    """An estimate rounded to two significant digits (61,952 → 62,000): no more precise than it is."""
    return round(n, 2 - len(str(n)))


def _prefix_pattern(prefix: str) -> str:
    return re.escape(prefix) + ".*"


def _name_prefix(prefix: str) -> Query:
    """Documents with a name key starting with `prefix`: one term for short prefixes, a regex for longer."""
    if len(prefix) <= PREFIX_LENGTH:
        return Query.term_query(SCHEMA, "prefixes", prefix)
    return Query.regex_query(SCHEMA, "names", _prefix_pattern(prefix))


class _Distance:
    """Levenshtein distance to one word, bit-parallel (Myers, in Hyyrö's form): one pass of a few integer
    operations per character of the other word. "Did you mean" compares a word with every indexed word of its
    first two letters (1,789 for xigrovex at 1,000,000 items): the table a pair took 60 ms in all."""

    def __init__(self, word: str) -> None:
        self.length = len(word)
        self.masks: dict[str, int] = {}
        for i, ch in enumerate(word):
            self.masks[ch] = self.masks.get(ch, 0) | (1 << i)

    def __call__(self, other: str) -> int:
        m = self.length
        if not m:
            return len(other)
        full, last = (1 << m) - 1, 1 << (m - 1)
        pv, mv, score = full, 0, m
        for ch in other:
            eq = self.masks.get(ch, 0)
            xv = eq | mv
            xh = (((eq & pv) + pv) ^ pv) | eq
            ph = mv | (~(xh | pv) & full)
            mh = pv & xh
            if ph & last:
                score += 1
            elif mh & last:
                score -= 1
            ph = ((ph << 1) | 1) & full
            mh = (mh << 1) & full
            pv = mh | (~(xv | ph) & full)
            mv = ph & xv
        return score


def _pairs_needed(pairs: int) -> int:
    return 1 if pairs <= 2 else -(-pairs * 3 // 5)  # ceil(60 %)


def _match_fields(spec: QuerySpec) -> list[str]:
    return ["text", "private"] if spec.private_text else ["text"]


def _boosted(query: Query, boost: float) -> Query:
    return query if boost == 1.0 else Query.boost_query(query, boost)


def _any(queries: list[Query], at_least: int | None = None) -> Query:
    if len(queries) == 1 and not at_least:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries], minimum_number_should_match=at_least)


def _all(queries: list[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Must, q) for q in queries])


def _ranked(matched: Query, boosters: list[Query]) -> Query:
    """`matched` decides; each booster that also matches adds to the score."""
    if not boosters:
        return matched
    return Query.boolean_query([(Occur.Must, matched)] + [(Occur.Should, q) for q in boosters])


def _title(query: Query) -> Query:
    return Query.boost_query(query, BOOSTS["title"])


def _by_words(unit: Unit) -> bool:
    """A Han run long enough for its bigrams to be a costly disjunction (three pairs or more), cut into dictionary
    words of two characters or more, two words at least (预拌/混凝土): a document holding all those words
    matches (see `_search`). Single characters are left to the bigrams: 北旅游 is 北/旅游, and the 北 of 北京 is
    no word of its own. So is a run that is one word: 视频会议 must still find 視訊設備…會議室 (the relevance
    corpus), which holds its pairs but not the word."""
    return (unit.type == "han" and len(unit.bigrams) >= 3 and text.RUN_BREAK not in unit.bigrams
            and len(unit.words) >= 2 and all(len(w) >= 2 for w in unit.words))


def _unit_query(unit: Unit, spec: QuerySpec, *, exact: bool = False, fuzzy: bool = False,
                by_words: bool = False) -> Query:
    """A clause of the query; `exact` (for exclusions) leaves out prefixes, typos and ranking boosters;
    `by_words` matches a long Han run by all its dictionary words rather than most of its bigrams."""
    return _ranked(*_unit_parts(unit, spec, exact=exact, fuzzy=fuzzy, by_words=by_words))


def _unit_parts(unit: Unit, spec: QuerySpec, *, exact: bool = False, fuzzy: bool = False,
                by_words: bool = False) -> tuple[Query, list[Query]]:
    """A clause as (what must match, boosters that add to the score when they match too)."""
    fields = _match_fields(spec)
    if unit.type == "word":
        options = [Query.term_query(SCHEMA, f"{f}_w", unit.term) for f in fields]
        options.append(_boosted(Query.term_query(SCHEMA, "names", unit.raw), BOOSTS["names"]))
        if exact:
            return _any(options), []
        if 2 <= len(unit.raw) <= MAX_PREFIX:
            # Names are found by their beginning ("meil" → meiling) and despite a typo ("zhnag" → zhang).
            options.append(_name_prefix(unit.raw))
            if fuzzy and len(unit.raw) >= 4:
                # One edit, a swap of two letters counting as one (zhnag → zhang); two edits cost ten times more
                # over 200,000 people's name keys and mostly find other names.
                options.append(Query.boost_query(Query.fuzzy_term_query(SCHEMA, "names", unit.raw, distance=1), 0.5))
        return _any(options), [_title(Query.term_query(SCHEMA, "title_w", unit.term))]
    if unit.type == "han":
        bigrams = list(unit.bigrams)
        options: list[Query] = []
        for f in fields:
            if len(bigrams) == 1:
                char = bigrams[0]
                # One character: the run of one character, or the first of a pair.
                single = [Query.term_query(SCHEMA, f"{f}_b", char)]
                if len(char) == 1 and not exact:
                    single.append(Query.regex_query(SCHEMA, f"{f}_b", _prefix_pattern(char)))
                options.append(_any(single))
            elif by_words and not exact and _by_words(unit):
                # The words count twice in `text` here, as the dictionary-word boosters below would add them
                # again (without a second scorer per word over every match).
                words = [Query.term_query(SCHEMA, f"{f}_w", w) for w in unit.words]
                options.append(_all([_boosted(q, 2.0) for q in words] if f == "text" else words))
            else:
                # Most of the pairs, not all: a query may hold what the document says with a character left
                # out (北旅游 finds 北京旅游); more pairs matched rank higher.
                need = len(bigrams) if exact else _pairs_needed(len(bigrams))
                options.append(_any([Query.term_query(SCHEMA, f"{f}_b", g) for g in bigrams], need))
        compact = "".join(unit.words)
        options.append(_boosted(Query.term_query(SCHEMA, "names", compact), BOOSTS["names"]))
        if exact:
            return _any(options), []
        if len(compact) <= MAX_PREFIX:
            options.append(_name_prefix(compact))
        # Whole dictionary words and pairs in the title score on top; a lone character scores where a title's
        # pair starts with it (the 北 of 北旅游 in 北京).
        boosters = [] if by_words and _by_words(unit) else [Query.term_query(SCHEMA, "text_w", w) for w in unit.words]
        boosters += [_title(Query.term_query(SCHEMA, "title_b", g)) for g in bigrams]
        if len(bigrams) > 1:
            boosters += [_title(Query.regex_query(SCHEMA, "title_b", _prefix_pattern(w)))
                         for w in unit.words if len(w) == 1 and text.has_han(w)]
        return _any(options), boosters
    # A phrase: consecutive bigrams for Han text (exact wherever the segmenter cut), else consecutive words.
    use_bigrams = bool(unit.bigrams) and text.RUN_BREAK not in unit.bigrams and all(
        text.has_han(w) or not w.isascii() for w in unit.words)
    terms, suffix = (list(unit.bigrams), "_b") if use_bigrams else (list(unit.words), "_w")

    def phrase(field: str) -> Query:
        if len(terms) == 1:
            return Query.term_query(SCHEMA, f"{field}{suffix}", terms[0])
        return Query.phrase_query(SCHEMA, f"{field}{suffix}", terms)

    matched = _any([phrase(f) for f in fields])
    return matched, [] if exact else [_title(phrase("title"))]


def _visibility(keys: frozenset[str]) -> list[tuple[Occur, Query]]:
    """Clauses limiting a query to documents visible under `keys` (they must not change the ranking)."""
    if "members" in keys:
        others = sorted(keys - {"members"})
        hidden = Query.term_query(SCHEMA, "vis", RESTRICTED)
        if others:
            hidden = Query.boolean_query([(Occur.Must, hidden),
                                          (Occur.MustNot, Query.term_set_query(SCHEMA, "vis", others))])
        return [(Occur.MustNot, hidden)]
    return [(Occur.Must, Query.const_score_query(Query.term_set_query(SCHEMA, "vis", sorted(keys)), 0.0))]


def _restrictions(spec: QuerySpec) -> list[tuple[Occur, Query]]:
    f = spec.filters
    out = _visibility(spec.visibility)
    if not f.include_archived:
        out.append((Occur.MustNot, Query.term_query(SCHEMA, "archived", 1)))  # few are archived: exclude them
    filters = []
    if f.community_id is not None:
        filters.append(Query.term_query(SCHEMA, "community", f.community_id))
    if f.author_id is not None:
        filters.append(Query.term_query(SCHEMA, "author", f.author_id))
    if f.tag:
        filters.append(Query.term_query(SCHEMA, "tag", text.fold(f.tag)))
    if f.since or f.until:
        filters.append(Query.range_query(SCHEMA, "created", tantivy.FieldType.Date, f.since or tantivy.MIN_DATETIME,
                                         f.until or tantivy.MAX_DATETIME))
    return out + [(Occur.Must, Query.const_score_query(q, 0.0)) for q in filters]
