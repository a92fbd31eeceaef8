"""Expertise fixtures: API clients per person, a search index of the test's own, tagging through the service."""

from __future__ import annotations

import pytest

from socius.expertise import service
from tests.search.conftest import api, backend, index_now, search_app  # noqa: F401 - fixtures shared with search

NO_LIMIT = 10**6


@pytest.fixture
def tag(db):
    """`await tag(tagger, person, "label")`: give a tag through the service, as that tagger."""

    async def give(tagger, person, label: str):
        given = await service.add_tag(db, tagger.principal, person.id, label, per_hour=NO_LIMIT)
        await db.flush()  # requests run in sessions of their own on this connection
        return given

    return give
