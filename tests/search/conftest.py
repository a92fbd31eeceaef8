"""Search fixtures: an index of its own per test, filled from the test's transaction through the real outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from socius.search import registry
from socius.search.indexer import apply_pending
from socius.search.tantivy_backend import TantivyBackend


@pytest.fixture
def backend(tmp_path) -> TantivyBackend:
    registry.kinds()
    index = TantivyBackend(tmp_path / "search")
    yield index
    index.close()


@pytest.fixture
async def search_app(app, backend):
    app.state.search = backend
    return app


@pytest.fixture
def index_now(db, backend):
    """Apply the outbox rows the test's own writes produced (the triggers fire inside its transaction)."""

    async def run() -> int:
        await db.flush()
        total = 0
        while done := await apply_pending(db, backend):
            total += done
        return total

    return run


@pytest.fixture
async def api(search_app, bearer) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def make(someone) -> httpx.AsyncClient:
        client = await bearer(search_app, someone)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
