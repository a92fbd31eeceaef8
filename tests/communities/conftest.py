"""Communities fixtures: communities made through the service, a search index of the test's own."""

from __future__ import annotations

import pytest

from socius.communities import service
from tests.notifications.conftest import mail_settings, sink, smtp_sink  # noqa: F401 - a real SMTP server
from tests.search.conftest import api, backend, index_now, search_app  # noqa: F401 - fixtures shared with search


@pytest.fixture
def community(db):
    """`await community(owner, "名稱", access="restricted", members=[…])`: a community made through the service."""

    async def make(owner, name: str, *, access: str = "public", members=(), **values):
        made = await service.create(db, owner.principal, {"name": name, "access": access, **values})
        for someone in members:
            await service.invite(db, owner.principal, made.id, [someone.id])
            await service.join(db, someone.principal, made.id)
        await db.flush()
        return made

    return make
