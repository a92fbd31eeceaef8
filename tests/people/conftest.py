"""Helpers for the people tests: API clients per person, extra browsers, images, error-body checks."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image


@pytest.fixture
async def api(app, bearer) -> AsyncIterator:
    """`await api(someone)`: a JSON API client authenticated with that person's token, closed after the test."""
    clients: list[httpx.AsyncClient] = []

    async def make(someone) -> httpx.AsyncClient:
        client = await bearer(app, someone)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def browser(app) -> AsyncIterator:
    """`browser()`: another browser (its own cookies) on the same app, for a second person signed in at once."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                   headers={"Accept-Language": "en"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def field_errors(response: httpx.Response, status: int = 422) -> dict[str, str]:
    """The `{"error": {"fields": [...]}}` body of a refused request, as {field: reason}; checks its shape."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert error["fields"], error
    return {f["field"]: f["reason"] for f in error["fields"]}


def png_bytes(width: int = 800, height: int = 600) -> bytes:
    """A real PNG: a colour gradient, so a re-encoded copy cannot be byte-identical by accident."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
