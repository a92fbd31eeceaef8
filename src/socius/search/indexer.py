"""Keeping the index in step with PostgreSQL: the outbox indexer, rebuilds aside, and drift checks.

The indexer (one per deployment, elected with an advisory lock; it runs inside `socius serve` or `socius worker`)
waits for NOTIFY on `search_outbox`, applies pending rows in batches — load the items' current state, replace
or delete their documents, commit the index — and only then deletes the rows, in the same database
transaction. A crash anywhere before that leaves the rows for the next run, and replaying is harmless.

A rebuild (`socius search reindex`) writes a new index generation from one REPEATABLE READ snapshot while the
indexer keeps the current one fresh. Locks make the hand-over exact:
- REINDEX (held by the rebuild throughout): while it is held the indexer marks rows `applied` instead of
  deleting them, so every change after the snapshot is still in the outbox;
- SWAP (exclusive for the rebuild's last step, shared by each indexer batch): the rebuild replays every row
  whose transaction its snapshot did not see into the new generation and swaps it in, with no batch in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from socius.core.db import Database, libpq_conninfo
from socius.search import registry
from socius.search.tantivy_backend import (
    REBUILD_HEAP,
    TantivyBackend,
    new_generation,
    prepare_many,
    register_kind_code,
    shards_for,
    swap,
)

log = structlog.get_logger(__name__)

# Advisory lock keys ("srch" + a number), one namespace for the whole database.
INDEXER_LOCK = 0x73726368_0001
REINDEX_LOCK = 0x73726368_0002
SWAP_LOCK = 0x73726368_0003
BATCH = 2000
CHANNEL = "search_outbox"

_PENDING = text("SELECT id, kind, item_id FROM search_outbox WHERE NOT applied ORDER BY id LIMIT :n")
_SINCE_SNAPSHOT = text(
    "SELECT id, kind, item_id FROM search_outbox"
    " WHERE NOT txid_visible_in_snapshot(txid, CAST(:snapshot AS txid_snapshot)) ORDER BY id"
)


async def apply_rows(db: AsyncSession, backend: TantivyBackend, rows) -> None:
    """Bring the index in step with the database for these (id, kind, item_id) rows, and commit the index."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for _id, kind, item_id in rows:
        by_kind[kind].add(item_id)
    kinds = registry.kinds()
    for kind, ids in by_kind.items():
        if kind not in kinds:
            log.warning("search_unknown_kind", kind=kind, rows=len(ids))
            continue
        documents = await kinds[kind].load(db, sorted(ids))
        gone = ids - {d.id for d in documents}
        await asyncio.to_thread(_write, backend, kind, gone, documents)
    await asyncio.to_thread(backend.commit)


def _write(backend: TantivyBackend, kind: str, gone: set[int], documents) -> None:
    backend.delete(kind, gone)
    backend.index(documents)


async def apply_pending(db: AsyncSession, backend: TantivyBackend, *, batch: int = BATCH) -> int:
    """Apply up to `batch` pending outbox rows and retire them, in the caller's transaction. Returns the count.

    The index is committed before the rows are retired: if the database transaction then fails, the rows
    replay, which only rewrites the same documents.
    """
    await db.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": SWAP_LOCK})
    rows = (await db.execute(_PENDING, {"n": batch})).all()
    if not rows:
        return 0
    await apply_rows(db, backend, rows)
    ids = [r[0] for r in rows]
    rebuilding = not await db.scalar(text("SELECT pg_try_advisory_xact_lock_shared(:k)"), {"k": REINDEX_LOCK})
    if rebuilding:
        await db.execute(text("UPDATE search_outbox SET applied = true WHERE id = ANY(:ids)"), {"ids": ids})
    else:
        await db.execute(text("DELETE FROM search_outbox WHERE id = ANY(:ids) OR applied"), {"ids": ids})
    return len(rows)


async def drain(database: Database, backend: TantivyBackend, *, batch: int = BATCH) -> int:
    """Apply every pending row, one committed transaction per batch."""
    total = 0
    while True:
        async with database.transaction() as db:
            done = await apply_pending(db, backend, batch=batch)
        total += done
        if done < batch:
            return total


class Indexer:
    """The outbox consumer of this process, if it wins the election; otherwise it waits to take over."""

    def __init__(self, database: Database, database_url: str, backend: TantivyBackend, *,
                 poll_seconds: float = 1.0, retry_seconds: float = 5.0) -> None:
        self.database = database
        self.conninfo = libpq_conninfo(database_url)
        self.backend = backend
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self.leading = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost connection or a bad row: log, wait, and start over
                log.error("search_indexer_failed", error=repr(error))
                self.leading.clear()
                await asyncio.sleep(self.retry_seconds)

    async def _lead(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            # The session lock lives as long as this connection: if the process dies, another one takes over.
            while not (await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (INDEXER_LOCK,))).fetchone())[0]:
                await asyncio.sleep(self.retry_seconds)
            await conn.execute(f"LISTEN {CHANNEL}")
            self.leading.set()
            log.info("search_indexer_leading")
            await self._fill_if_empty()
            while True:
                applied = await drain(self.database, self.backend)
                if applied:
                    log.info("search_indexed", rows=applied)
                # Wake on the first NOTIFY, or poll anyway (a notification lost with a connection).
                async for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                    pass

    async def _fill_if_empty(self) -> None:
        """An empty index beside a database with content (a new data directory, an index schema change):
        queue everything, and the ordinary loop indexes it while search answers from what is done."""
        if await asyncio.to_thread(self.backend.num_docs):
            return
        async with self.database.transaction() as db:
            pending = await db.scalar(text("SELECT count(*) FROM search_outbox WHERE NOT applied"))
            if pending >= sum([await kind_count(db, kind) for kind in registry.kinds().values()]):
                return  # a new installation: the outbox already holds everything
            queued = 0
            for kind in registry.kinds().values():
                async for ids in kind.all_ids(db, 10_000):
                    await db.execute(text("INSERT INTO search_outbox (kind, item_id) SELECT :kind, unnest(:ids)"),
                                     {"kind": kind.name, "ids": ids})
                    queued += len(ids)
        if queued:
            log.warning("search_index_empty", queued=queued)


# --- rebuild and check -----------------------------------------------------------------------------------------

@dataclass
class RebuildReport:
    documents: int = 0
    replayed: int = 0
    generation: Path | None = None


# A rebuild's worker process: its own event loop and database connection, reading the rebuild's snapshot.
_worker: dict = {}


def _start_worker(database_url: str, snapshot: str) -> None:
    _worker.update(loop=asyncio.new_event_loop(), database=Database(database_url, pool_size=1), snapshot=snapshot)


def _load_and_prepare(kind_name: str, code: int, load, ids: list[int]) -> list:
    """In a worker: load the items as the rebuild's snapshot sees them and analyse them. The worker loads as well
    as analyses so the parent only feeds the writer (loading there capped the rate: see docs/performance.md)."""
    register_kind_code(kind_name, code)
    return prepare_many(_worker["loop"].run_until_complete(_load_in_snapshot(load, ids)))


async def _load_in_snapshot(load, ids: list[int]) -> list:
    async with _worker["database"].engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with AsyncSession(bind=conn) as db, db.begin():
            await db.execute(text(f"SET TRANSACTION SNAPSHOT '{_worker['snapshot']}'"))
            return await load(db, ids)


@contextlib.contextmanager
def _preparers(workers: int, db: AsyncSession, database_url: str, snapshot: str):
    """`await prepare(kind, ids)` → a future of the items' prepared documents: loaded and analysed in `workers`
    processes (reading the exported `snapshot`), or loaded here and analysed in a thread if 1."""
    if workers <= 1:
        async def here(kind: registry.ContentKind, ids: list[int]) -> asyncio.Future:
            documents = await kind.load(db, ids)
            return asyncio.ensure_future(asyncio.to_thread(prepare_many, documents))

        yield here
        return
    # spawn, not fork: this process has threads (Tantivy's, the event loop's executor) that fork would copy.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(database_url, snapshot)) as pool:
        loop = asyncio.get_running_loop()

        async def elsewhere(kind: registry.ContentKind, ids: list[int]) -> asyncio.Future:
            return loop.run_in_executor(pool, _load_and_prepare, kind.name, kind.code, kind.load, ids)

        yield elsewhere


async def rebuild(database: Database, database_url: str, root: Path, *,
                  on_progress: Callable[[str, int, int], None] | None = None, batch: int = 1000,
                  workers: int | None = None) -> RebuildReport:
    """Build a new index generation from PostgreSQL and swap it in; search stays online meanwhile.

    `workers` processes analyse text (default: one per CPU)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    report = RebuildReport()
    conninfo = libpq_conninfo(database_url)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as lock_conn:
        # Waits for another rebuild, never for the indexer.
        await lock_conn.execute("SELECT pg_advisory_lock(%s)", (REINDEX_LOCK,))
        async with database.transaction() as db:
            documents = sum([await kind_count(db, kind) for kind in registry.kinds().values()])
        generation = new_generation(root, shards_for(documents))
        backend = TantivyBackend(root, generation=generation, writer_heap=REBUILD_HEAP)
        try:
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ")
                async with AsyncSession(bind=conn) as db, db.begin():
                    snapshot = await db.scalar(text("SELECT CAST(txid_current_snapshot() AS text)"))
                    exported = await db.scalar(text("SELECT pg_export_snapshot()"))
                    with _preparers(workers, db, database_url, exported) as prepare:
                        for kind in registry.kinds().values():
                            report.documents += await _index_kind(db, kind, backend, prepare, batch=batch,
                                                                  ahead=2 * max(1, workers), on_progress=on_progress)
                    await asyncio.to_thread(backend.commit)
            async with database.transaction() as db:
                await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWAP_LOCK})
                rows = (await db.execute(_SINCE_SNAPSHOT, {"snapshot": snapshot})).all()
                if rows:
                    await apply_rows(db, backend, rows)
                report.replayed = len(rows)
                backend.close()
                swap(root, generation)
        except BaseException:
            backend.close()
            raise
        finally:
            with contextlib.suppress(Exception):
                await lock_conn.execute("SELECT pg_advisory_unlock(%s)", (REINDEX_LOCK,))
    report.generation = generation
    return report


async def _index_kind(db: AsyncSession, kind: registry.ContentKind, backend: TantivyBackend, prepare, *,
                      batch: int, ahead: int, on_progress) -> int:
    """Every document of one kind into `backend`; `ahead` batches are prepared while earlier ones are written."""
    total = await kind_count(db, kind)
    done = indexed = 0
    inflight: deque[tuple[int, asyncio.Future]] = deque()

    async def flush(keep: int) -> None:
        nonlocal done, indexed
        while len(inflight) > keep:
            count, future = inflight.popleft()
            prepared = await future
            # Each id comes once and the generation is new: nothing to replace (changes since the snapshot are
            # replayed, with replacement, before the swap).
            await asyncio.to_thread(functools.partial(backend.index_prepared, prepared, replace=False))
            indexed += len(prepared)
            done += count
            if on_progress:
                on_progress(kind.name, done, total)

    async for ids in kind.all_ids(db, batch):
        inflight.append((len(ids), await prepare(kind, ids)))
        await flush(ahead)
    await flush(0)
    return indexed


async def kind_count(db: AsyncSession, kind: registry.ContentKind) -> int:
    """How many documents of a kind the database holds: its `count`, or by convention its table's rows."""
    if kind.count is not None:
        return int(await kind.count(db))
    return int(await db.scalar(text(f'SELECT count(*) FROM "{kind.name}"')) or 0)


@dataclass
class CheckReport:
    per_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)
    extra: dict[str, list[int]] = field(default_factory=dict)
    pending: int = 0
    # The index's shards, and how many a rebuild would make of the database's documents now (not drift: the
    # search is as right either way; only its speed at scale differs).
    shards: int = 1
    shards_advised: int = 1

    @property
    def in_step(self) -> bool:
        return not any(self.missing.values()) and not any(self.extra.values())


async def check(db: AsyncSession, backend: TantivyBackend, *, sample: int = 20) -> CheckReport:
    """Compare the ids in the index with the database, per kind; `pending` rows are not drift yet."""
    backend.reload()
    report = CheckReport()
    report.pending = int(await db.scalar(text("SELECT count(*) FROM search_outbox WHERE NOT applied")) or 0)
    for kind in registry.kinds().values():
        expected: set[int] = set()
        async for ids in kind.all_ids(db, 10_000):
            expected.update(ids)
        indexed = set(await asyncio.to_thread(lambda k=kind.name: set(backend.ids(k))))
        missing, extra = sorted(expected - indexed), sorted(indexed - expected)
        report.per_kind[kind.name] = {"database": len(expected), "index": len(indexed),
                                      "missing": len(missing), "extra": len(extra)}
        report.missing[kind.name] = missing[:sample]
        report.extra[kind.name] = extra[:sample]
    report.shards = backend.shards
    report.shards_advised = shards_for(sum(counts["database"] for counts in report.per_kind.values()))
    return report


def start_indexer(database: Database, database_url: str, settings) -> asyncio.Task:
    """Run the outbox indexer in this process (it waits its turn if another process leads)."""
    from socius.search.runtime import backend_for

    indexer = Indexer(database, database_url, backend_for(settings))
    task = asyncio.create_task(indexer.run(), name="search-indexer")
    log.info("search_indexer_started")
    return task
