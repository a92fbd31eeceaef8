"""Stream fixtures: communities (through the service), posting helpers."""

from __future__ import annotations

import pytest

from socius.content import service as content
from tests.communities.conftest import community  # noqa: F401 - the communities fixture


@pytest.fixture
def post(db):
    """`await post(someone, "text", community=None, kind="status")`: an item made through the content service."""

    async def make(someone, body: str, *, kind: str = "status", title: str = "", **where):
        values = {"body": body, **({"title": title or body[:20]} if kind != "status" else {})}
        return await content.create_item(db, someone.principal, kind=kind, community=where.get("community"),
                                         values=values, title_required=kind != "status")

    return make
