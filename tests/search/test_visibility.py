"""Authorisation inside the query: a restricted community's content is never returned, counted, faceted,
suggested or offered as a spelling to someone without its key. Content kinds are stood in for through the
backend interface, as later modules will index them."""

from __future__ import annotations

import datetime as dt

import pytest

from socius.search import registry, tantivy_backend
from socius.search.backend import Document, Filters, QuerySpec
from socius.search.query import parse
from socius.search.tantivy_backend import KIND_CODES, register_kind_code

MEMBER = frozenset({"members", "p:1"})
INSIDER = MEMBER | {"c:5"}


@pytest.fixture(params=[1, 2], ids=["one shard", "two shards"])
def backend(request, tmp_path):
    """Every rule here holds for an index of one shard and for one of two (a large index's generation), whose
    hits, counts, facets and suggestions are merged from both."""
    registry.kinds()
    root = tmp_path / "search"
    tantivy_backend.swap(root, tantivy_backend.new_generation(root, request.param))
    index = tantivy_backend.TantivyBackend(root)
    assert len(tantivy_backend.shard_paths(index.path)) == request.param
    yield index
    index.close()


@pytest.fixture
def indexed(backend):
    if "post" not in KIND_CODES:
        register_kind_code("post", 90)
    backend.index([
        Document("post", 1, "Concrete roadmap", "Public plans for the concrete plant", visibility=["members"],
                 community_id=4, author_id=7, tags=["Plans"], created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)),
        Document("post", 2, "Confidential concrete merger", "Zirconium deal with Acme", visibility=["c:5"],
                 community_id=5, author_id=8, tags=["Secret"], created_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC)),
        Document("post", 3, "我的草稿", "只有作者本人看得到", visibility=["p:9"], author_id=9),
        Document("person", 8, "Zora Zirconi", names=["zora", "zirconi", "zorazirconi"], visibility=["c:5"]),
    ])
    backend.commit()
    return backend


def run(backend, q: str, keys=MEMBER, **filters):
    parsed = parse(q)
    return backend.search(QuerySpec(parsed.must, parsed.must_not, Filters(**filters), keys))


def test_restricted_content_is_not_returned_counted_or_faceted(indexed):
    outside = run(indexed, "concrete")
    assert [h.id for h in outside.hits] == [1] and outside.total == 1 and outside.facets == {"post": 1}
    inside = run(indexed, "concrete", INSIDER)
    assert {h.id for h in inside.hits} == {1, 2} and inside.total == 2


def test_restricted_words_are_not_suggested_or_spelled(indexed):
    assert indexed.similar_terms("zirconiun", MEMBER) == []
    assert dict(indexed.similar_terms("zirconiun", INSIDER))["zirconium"] == 1
    assert indexed.suggest_names("zor", MEMBER, [], 5) == []
    assert [h.id for h in indexed.suggest_names("zor", INSIDER, [], 5)] == [8]


def test_owner_only_documents(indexed):
    assert run(indexed, "草稿").total == 0
    assert [h.id for h in run(indexed, "草稿", frozenset({"p:9"})).hits] == [3]


def test_filters(indexed):
    assert [h.id for h in run(indexed, "concrete", INSIDER, community_id=5).hits] == [2]
    assert [h.id for h in run(indexed, "concrete", INSIDER, author_id=7).hits] == [1]
    assert [h.id for h in run(indexed, "concrete", INSIDER, tag="secret").hits] == [2]
    since = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    assert [h.id for h in run(indexed, "concrete", INSIDER, since=since).hits] == [2]
    assert [h.id for h in run(indexed, "concrete", INSIDER, until=since).hits] == [1]
    assert run(indexed, "concrete", INSIDER, kinds=["person"]).facets == {"post": 2}


def test_newest_first(indexed):
    parsed = parse("concrete")
    spec = QuerySpec(parsed.must, [], Filters(), INSIDER, order="newest")
    assert [h.id for h in indexed.search(spec).hits] == [2, 1]


def test_delete_by_id_really_deletes(indexed):
    # The key is an i64 term: deleting by a u64 term silently deletes nothing in the Python binding.
    indexed.delete("post", [1])
    indexed.commit()
    assert run(indexed, "concrete").total == 0
    assert sorted(indexed.ids("post")) == [2, 3]


def test_processes_starting_at_once_share_one_index(tmp_path):
    import threading

    from socius.search.tantivy_backend import ensure_current

    opened: list = []
    threads = [threading.Thread(target=lambda: opened.append(ensure_current(tmp_path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(opened)) == 1 and (tmp_path / "current").resolve() == opened[0]
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("v")]) == 1


def test_authors_of_hits_on_request(indexed):
    parsed = parse("concrete")
    spec = QuerySpec(parsed.must, [], Filters(), INSIDER)
    assert {h.author_id for h in indexed.search(spec).hits} == {None}
    spec.with_authors = True
    assert {h.id: h.author_id for h in indexed.search(spec).hits} == {1: 7, 2: 8}
    # Documents without an author (people) have none.
    people = QuerySpec(parse("zora").must, [], Filters(), INSIDER, with_authors=True)
    assert [(h.kind, h.author_id) for h in indexed.search(people).hits] == [("person", None)]


def test_large_counts_are_estimated_from_visible_documents_only(backend, monkeypatch):
    # A tiny sample rate stands in for a large index: 1 in 4 documents sampled, 5 sampled matches make "many".
    monkeypatch.setattr(tantivy_backend, "SAMPLE_RATE", 4)
    monkeypatch.setattr(tantivy_backend, "MIN_SAMPLED", 5)
    if "post" not in KIND_CODES:
        register_kind_code("post", 90)
    public = [Document("post", i, "Concrete plan", "mixing", visibility=["members"]) for i in range(1, 401)]
    secret = [Document("post", i, "Concrete zirconium deal", "", visibility=["c:5"]) for i in range(401, 801)]
    people = [Document("person", i, "Concrete expert", names=["expert"], visibility=["members"]) for i in (1, 2, 3)]
    backend.index(public + secret + people)
    backend.commit()

    outside = run(backend, "concrete")
    assert outside.total_is_estimate and outside.estimated == {"post"}
    assert 300 <= outside.facets["post"] <= 500  # about the 400 public posts; the 400 restricted are not counted
    assert outside.facets["person"] == 3  # few matches are counted exactly
    assert outside.total == outside.facets["post"] + 3
    assert 600 <= run(backend, "concrete", INSIDER).facets["post"] <= 1000
    # What only a member of community 5 may see is neither estimated nor counted for others.
    hidden = run(backend, "zirconium")
    assert hidden.total == 0 and hidden.facets == {} and not hidden.total_is_estimate
    exact = run(backend, "concrete", kinds=["person"])
    assert exact.total == 3 and not exact.total_is_estimate and exact.estimated == {"post"}
