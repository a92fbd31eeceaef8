"""Ideas fixtures: campaigns made through the service, and the communities and search fixtures they build on."""

from __future__ import annotations

import pytest

from socius.ideas import service
from tests.communities.conftest import community  # noqa: F401 - communities made through the service
from tests.files.conftest import files_app  # noqa: F401 - the app storing files in the test's directory
from tests.notifications.conftest import mail_settings, sink, smtp_sink  # noqa: F401 - a real SMTP server
from tests.search.conftest import api, backend, index_now, search_app  # noqa: F401 - fixtures shared with search


@pytest.fixture
def campaign(db):
    """`await campaign(owner, "標題", audience="invited", participants=[…], managers=[…])`."""

    async def make(owner, title: str = "綠色機房挑戰", *, participants=(), managers=(), **values):
        values.setdefault("brief", "如何降低機房能耗？")
        made = await service.create_campaign(db, owner.principal, {"title": title, **values})
        if managers:
            await service.add_members(db, owner.principal, made.id, [m.id for m in managers], "manager")
        if participants:
            await service.add_members(db, owner.principal, made.id, [p.id for p in participants])
        await db.flush()
        return made

    return make


@pytest.fixture
def idea(db):
    """`await idea(author, campaign, "標題", body=…)`: an idea submitted through the service."""

    async def make(author, campaign, title: str = "液冷伺服器", **values):
        values.setdefault("body", "用液冷取代風冷，節省三成電力。")
        return await service.submit_idea(db, author.principal, campaign.id, {"title": title, **values})

    return make
