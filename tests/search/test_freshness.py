"""Freshness without loss, on a database whose transactions really commit: the indexer, crashes, rebuilds."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from sqlalchemy import text

from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service as people
from socius.people.models import Person, Role
from socius.search import indexer, registry, tantivy_backend
from socius.search.backend import Document, Filters, QuerySpec
from socius.search.query import parse
from socius.search.tantivy_backend import TantivyBackend

EVERYONE = frozenset({"members"})


def ids_for(backend: TantivyBackend, q: str) -> list[int]:
    parsed = parse(q)
    return [h.id for h in backend.search(QuerySpec(parsed.must, parsed.must_not, Filters(), EVERYONE)).hits]


async def eventually(check, seconds: float = 2.0) -> float:
    """Seconds until `check()` holds; fails after `seconds`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not true within {seconds} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture
async def database(scratch_database):
    db = Database(scratch_database, pool_size=3)
    yield db
    await db.dispose()


@pytest.fixture
def root(tmp_path):
    registry.kinds()
    return tmp_path / "search"


@contextlib.asynccontextmanager
async def running(database, url, backend, **options):
    worker = indexer.Indexer(database, url, backend, retry_seconds=0.2, **options)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.leading.wait(), 10)
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def add(database, name: str, **fields) -> int:
    async with database.transaction() as db:
        person = await people.create_person(db, None, display_name=name, **fields)
        return person.id


async def test_changes_are_searchable_within_two_seconds(database, scratch_database, root):
    backend = TantivyBackend(root)
    async with running(database, scratch_database, backend):
        person_id = await add(database, "Quentin Quick", title="Freshness tester")
        seconds = await eventually(lambda: ids_for(backend, "quentin") == [person_id])
        print(f"new person searchable {seconds * 1000:.0f} ms after commit")
        async with database.transaction() as db:
            await people.update_profile(db, Principal(None, Role.ADMINISTRATOR), person_id,
                                        {"display_name": "Rowena Rapid"})
        await eventually(lambda: ids_for(backend, "rowena") == [person_id] and not ids_for(backend, "quentin"))
        async with database.transaction() as db:
            await db.execute(text("DELETE FROM person WHERE id = :id"), {"id": person_id})
        seconds = await eventually(lambda: ids_for(backend, "rowena") == [])
        print(f"deleted person gone {seconds * 1000:.0f} ms after commit")
        # Readers in another process (a web process beside the worker) see the commits too.
        reader = TantivyBackend(root)
        assert ids_for(reader, "freshness") == []


async def test_nothing_is_lost_when_the_indexer_is_down_or_crashes(database, scratch_database, root):
    first = await add(database, "Ursula Unindexed")  # no indexer is running: the outbox keeps the change
    backend = TantivyBackend(root)

    # A crash after the index commit but before the outbox rows are retired: the transaction rolls back.
    second = await add(database, "Victor Vanished")
    with pytest.raises(RuntimeError):
        async with database.transaction() as db:
            await indexer.apply_pending(db, backend)
            raise RuntimeError("killed before the database commit")
    async with database.transaction() as db:
        pending = await db.scalar(text("SELECT count(*) FROM search_outbox WHERE NOT applied"))
    assert pending == 2
    backend.close()

    # A crash before the index commit: documents written but never committed are lost with the process.
    crashed = TantivyBackend(root)
    async with database.transaction() as db:
        rows = (await db.execute(indexer._PENDING, {"n": 10})).all()
        crashed.index(await registry.kinds()["person"].load(db, [r[2] for r in rows]))
    crashed.close()  # rolls back: what a killed process leaves

    async with running(database, scratch_database, TantivyBackend(root)) as worker:
        await eventually(lambda: ids_for(worker.backend, "ursula") == [first]
                         and ids_for(worker.backend, "victor") == [second])
        for _ in range(100):
            async with database.transaction() as db:
                if not await db.scalar(text("SELECT count(*) FROM search_outbox")):
                    break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the outbox was not emptied")


async def test_one_indexer_leads_and_another_takes_over(database, scratch_database, root):
    backend = TantivyBackend(root)
    async with running(database, scratch_database, backend):
        other = indexer.Indexer(database, scratch_database, backend, retry_seconds=0.2)
        task = asyncio.create_task(other.run())
        await asyncio.sleep(0.5)
        assert not other.leading.is_set()
    # The leader stopped (its connection and lock went with it): the other one takes over.
    try:
        await asyncio.wait_for(other.leading.wait(), 5)
        person_id = await add(database, "Wanda Waiting")
        await eventually(lambda: ids_for(backend, "wanda") == [person_id])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_rebuild_swaps_in_a_complete_index_while_changes_keep_coming(database, scratch_database, root,
                                                                           monkeypatch):
    # 300 documents stand in for a large index: the rebuild makes two shards of it (the index grew as one).
    monkeypatch.setattr(tantivy_backend, "SHARD_DOCUMENTS", 150)
    for n in range(300):
        await add(database, f"Bulk Person {n:03d}", title="Rebuilt")
    backend = TantivyBackend(root)
    async with running(database, scratch_database, backend):
        await eventually(lambda: len(ids_for(backend, "rebuilt")) == 20, seconds=20)
        old = backend.path
        async with database.transaction() as db:
            grown = await indexer.check(db, backend)
        assert (grown.shards, grown.shards_advised) == (1, 2)  # `search check` advises the reindex

        async def keep_writing():
            made = []
            for n in range(30):
                made.append(await add(database, f"During Rebuild {n}", title="Concurrent"))
                await asyncio.sleep(0.01)
            return made

        progress: list[tuple[str, int, int]] = []
        writer = asyncio.create_task(keep_writing())
        report = await indexer.rebuild(database, scratch_database, root, batch=50,
                                       on_progress=lambda *p: progress.append(p))
        made = await writer
        late = await add(database, "After Swap", title="Concurrent")
        assert report.documents >= 300 and progress[-1][1] == progress[-1][2]
        # Every change made during the rebuild is in the new index, and the indexer writes to it now.
        await eventually(lambda: backend.path != old and ids_for(backend, "after swap") == [late], seconds=5)
        assert len(tantivy_backend.shard_paths(old)) == 1 and len(tantivy_backend.shard_paths(backend.path)) == 2
        async with database.transaction() as db:
            drift = await indexer.check(db, backend)
        assert drift.in_step, drift.per_kind
        assert drift.shards == drift.shards_advised == 2
        assert drift.per_kind["person"]["index"] == 331
        spec = QuerySpec(parse("concurrent").must, [], Filters(), EVERYONE, limit=100)
        assert {h.id for h in backend.search(spec).hits} == {*made, late}


async def test_check_reports_drift(database, scratch_database, root):
    backend = TantivyBackend(root)
    kept = await add(database, "Kept Person")
    async with database.transaction() as db:
        await indexer.apply_pending(db, backend)
    backend.index([Document(kind="person", id=999_999, title="Ghost", visibility=["members"])])
    backend.commit()
    async with database.transaction() as db:
        db.add(Person(display_name="Unseen", guest_hidden=[], languages=[], links=[]))
        await db.flush()
        await db.execute(text("DELETE FROM search_outbox"))  # as if the outbox had been lost
    async with database.transaction() as db:
        report = await indexer.check(db, backend)
    assert not report.in_step
    assert report.per_kind["person"]["missing"] == 1 and report.per_kind["person"]["extra"] == 1
    assert report.extra["person"] == [999_999] and kept not in report.missing["person"]


async def test_an_empty_index_fills_itself(database, scratch_database, root):
    first = await add(database, "Xavier Existing")
    async with database.transaction() as db:
        await db.execute(text("DELETE FROM search_outbox"))  # as if the data directory were new
    backend = TantivyBackend(root)
    async with running(database, scratch_database, backend):
        await eventually(lambda: ids_for(backend, "xavier") == [first], seconds=5)
