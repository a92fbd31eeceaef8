"""Fixtures for the community apps (forum, blog, bookmarks): communities through the service, signed-in page
clients per person, API clients, a search index of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.communities.conftest import community  # noqa: F401 - shared fixture
from tests.conftest import csrf_from, sign_in
from tests.search.conftest import api, backend, index_now, search_app  # noqa: F401 - fixtures shared with search


class Browser:
    """A signed-in client that sends its CSRF token with every form."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, data: dict | None = None) -> httpx.Response:
        return await self.client.post(path, data={**(data or {}), "csrf_token": self.token})


@pytest.fixture
async def browser(search_app) -> AsyncIterator:  # noqa: F811 - the fixture imported above
    """`await browser(someone)`: a page client signed in as them through the login form."""
    clients: list[httpx.AsyncClient] = []

    async def make(someone) -> Browser:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=search_app), base_url="http://testserver",
                                   headers={"Accept-Language": "en"})
        clients.append(client)
        response = await sign_in(client, someone)
        assert response.status_code == 303, response.text
        return Browser(client, await csrf_from(client, "/settings"))

    yield make
    for client in clients:
        await client.aclose()
