"""The demo company and the synthetic seeder: believable, idempotent, and searchable like real people."""

from __future__ import annotations

import httpx
import psycopg
from rich.console import Console
from sqlalchemy import func, select

from socius.app import create_app
from socius.config import Settings
from socius.core.auth import Principal
from socius.core.db import Database, libpq_conninfo
from socius.demo.generate import LOGINS, ensure_demo
from socius.demo.seed import seed_people
from socius.people import service as people
from socius.people.models import Person, Role
from tests.conftest import csrf_from


async def test_demo_company_is_created_once_and_its_logins_work(scratch_database, tmp_path):
    database = Database(scratch_database, pool_size=2)
    logins = await ensure_demo(database, Settings(data_dir=tmp_path, secret_key="k"))
    async with database.transaction() as db:
        count = await db.scalar(select(func.count()).select_from(Person))
        guests = list(await db.scalars(select(Person).where(Person.role == Role.GUEST)))
        hosts = {p.id: p for p in await db.scalars(select(Person).where(Person.id.in_([g.manager_id for g in guests])))}
        chinese = await db.scalar(select(func.count()).where(Person.name_native.is_not(None)))
        offices = await db.scalar(select(func.count(func.distinct(Person.location))))
    assert logins == LOGINS
    assert 200 <= count <= 500 and chinese > count / 2 and offices >= 8
    assert guests and all(g.manager_id and hosts[g.manager_id].role != Role.GUEST for g in guests)

    assert await ensure_demo(database) == LOGINS  # a second start adds nobody
    async with database.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(Person)) == count
    await database.dispose()

    app = create_app(Settings(data_dir=tmp_path, secret_key="k", default_locale="en"), scratch_database)
    for role, username, password in LOGINS:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as browser:
            token = await csrf_from(browser)
            signed_in = await browser.post("/login", data={"username": username, "password": password,
                                                           "csrf_token": token})
            assert signed_in.status_code == 303, role
            directory = await browser.get("/api/v1/people", params={"limit": 100},
                                          headers={"Accept": "application/json"})
            seen = directory.json()["items"]
            if role == "guest":
                # Themselves, their host, and the people of the one community they were invited to.
                assert 2 < len(seen) < 20
            else:
                assert len(seen) == 100
            if role == "employee":
                # Skills are found in Traditional, Simplified and English, each result with its evidence.
                answers = []
                for q in ("嵌入式韌體", "嵌入式韧体", "embedded firmware"):
                    found = (await browser.get("/api/v1/experts", params={"q": q})).json()["items"]
                    assert found and all(e["evidence"]["summary"] for e in found), q
                    answers.append([e["person"]["id"] for e in found])
                assert answers[0] == answers[1] == answers[2]
                team = await browser.post("/api/v1/experts/team", json={"skills": ["招募", "預算規劃", "API 設計"]},
                                          headers={"X-CSRF-Token": await csrf_from(browser, "/settings")})
                assert team.status_code == 200 and team.json()["gaps"] == [], team.text
    await app.state.db.dispose()
    await _check_demo_communities(scratch_database)


async def _check_demo_communities(url: str) -> None:
    """One community of each kind, an archived one, a restricted subcommunity, content in every app, and the
    partner guest inside the restricted project only."""
    from socius.accounts.models import Account
    from socius.communities import service as communities
    from socius.communities.models import Community
    from socius.content.models import Item
    from socius.demo.generate import EMPLOYEE_LOGIN, GUEST_LOGIN

    database = Database(url, pool_size=2)
    async with database.transaction() as db:
        rows = {c.name: c for c in await db.scalars(select(Community))}
        kinds = {c.access for c in rows.values()}
        assert kinds == {"public", "moderated", "restricted"}
        assert any(c.archived_at for c in rows.values()) and any(c.parent_id for c in rows.values())
        item_kinds = set(await db.scalars(select(Item.kind).distinct()))
        assert {"status", "topic", "reply", "entry", "comment", "bookmark", "page", "file"} <= item_kinds
        assert await db.scalar(select(func.count()).where(Item.accepted_id.is_not(None))) >= 1

        async def principal_of(login):
            account = await db.scalar(select(Account).where(Account.username == login[1]))
            person = await db.get(Person, account.person_id)
            return Principal(person_id=person.id, role=Role(person.role), via="session")

        guest = await principal_of(GUEST_LOGIN)
        employee = await principal_of(EMPLOYEE_LOGIN)
        seen_by_guest = await communities.catalog(db, guest, communities.CatalogQuery())
        assert [c.access for c in seen_by_guest] == ["restricted"]
        assert len(await communities.catalog(db, employee, communities.CatalogQuery())) >= 3
        await _check_demo_ideas(db, employee, guest)
    await database.dispose()


async def _check_demo_ideas(db, employee: Principal, guest: Principal) -> None:
    """Three campaigns: an open one with ideas at every stage, votes and comments; a private one the guest is
    invited to, with their idea waiting; an upcoming one. The guest sees only the private campaign."""
    from socius.content.models import Item
    from socius.ideas import service as ideas
    from socius.ideas.models import Idea

    seen = {c.audience: c for c in await ideas.campaigns(db, employee)}
    assert set(seen) == {"employees", "invited"} and len(await ideas.campaigns(db, employee)) == 3  # she is invited
    upcoming = await ideas.campaigns(db, employee, ideas.CampaignQuery(state="upcoming"))
    assert len(upcoming) == 1 and upcoming[0].idea_count == 0
    open_ = (await ideas.campaigns(db, employee, ideas.CampaignQuery(state="open")))
    everyone = next(c for c in open_ if c.audience == "employees")
    stages = set(await db.scalars(select(Idea.stage).where(Idea.campaign_id == everyone.id)))
    assert stages == {"submitted", "under_review", "selected", "in_development", "launched", "declined"}
    listed = await ideas.list_ideas(db, employee, everyone, ideas.IdeaQuery(order="top"))
    assert len(listed) == 7 and all(v.idea.up_count >= 2 for v in listed)
    assert any(v.item.comment_count for v in listed)
    assert [v.idea.top for v in listed] == sorted((v.idea.top for v in listed), reverse=True)

    visible = await ideas.campaigns(db, guest)
    assert [c.audience for c in visible] == ["invited"] and "employees" in seen
    private = visible[0]
    mine = await ideas.list_ideas(db, guest, private, ideas.IdeaQuery(order="new"))
    waiting = [v for v in mine if v.idea.pending]
    assert len(mine) == 2 and len(waiting) == 1 and waiting[0].item.author_id == guest.person_id
    assert await db.scalar(select(func.count()).select_from(Item).where(Item.campaign_id.is_not(None),
                                                                         Item.campaign_id != private.id,
                                                                         Item.kind == "idea")) == 7


async def test_seeded_people_are_found_like_created_ones(scratch_database):
    seed_people(scratch_database, 400, console=Console(quiet=True))
    seed_people(scratch_database, 100, console=Console(quiet=True))  # a second run adds more
    with psycopg.connect(libpq_conninfo(scratch_database)) as conn:
        assert conn.execute("SELECT count(*) FROM person").fetchone() == (500,)
        drift = conn.execute("SELECT count(*) FROM person_name_key k JOIN person p ON p.id = k.person_id"
                             " WHERE k.sort_key <> p.sort_key").fetchone()
        assert drift == (0,)
        some = conn.execute("SELECT id, name_native, email FROM person WHERE name_native IS NOT NULL"
                            " ORDER BY id LIMIT 1").fetchone()

    database = Database(scratch_database, pool_size=2)
    admin = Principal(person_id=some[0], role=Role.ADMINISTRATOR, via="session")
    async with database.transaction() as db:
        for q in (some[1], some[1][:1], some[2]):
            page = await people.search_directory(db, admin, people.DirectoryQuery(q=q, limit=100))
            assert some[0] in [p.id for p in page.items], q
        newcomer = await people.create_person(db, None, display_name="After Seeding")  # ids still free
        assert newcomer.id > some[0]
    await database.dispose()
