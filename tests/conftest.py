"""Fixtures: a real PostgreSQL, each test in a transaction rolled back at its end, the app on that transaction."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from socius.accounts import service as accounts
from socius.app import create_app
from socius.config import Settings
from socius.core.auth import Principal
from socius.core.db import Database
from socius.people import service as people
from socius.people.models import Person, Role
from tests import pg

PASSWORD = "correct-horse-battery"


@functools.cache
def _password_hash() -> str:
    return accounts._hasher.hash(PASSWORD)


@pytest.fixture(scope="session")
def database_url() -> str:
    name = pg.unique_name("socius_test")
    yield pg.fresh_database(name)
    pg.drop_database(name)


@pytest.fixture
def scratch_database():
    """A database of its own whose changes really commit (CLI subprocesses, job workers)."""
    name = pg.unique_name("socius_scratch")
    yield pg.fresh_database(name)
    pg.drop_database(name)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"), secret_key="test-secret-key", default_locale="en",
        log_json=True, login_max_failures=5,
    )


@pytest.fixture(scope="session")
async def database(database_url) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture
async def db(database: Database) -> AsyncIterator[AsyncSession]:
    """A session in a transaction that is rolled back after the test; requests join it through savepoints."""
    async with database.engine.connect() as conn:
        outer = await conn.begin()
        maker = async_sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        async with maker() as session:
            session.info["maker"] = maker
            yield session
        if outer.is_active:
            await outer.rollback()


@pytest.fixture
def in_test_transaction(db):
    """A transaction factory for code that runs its own transactions (`run_digest`, `sweep_store`), on the
    test's session: each "transaction" flushes, and everything is rolled back with the test."""

    @asynccontextmanager
    async def transaction():
        yield db
        await db.flush()

    return transaction


@pytest.fixture
async def app(settings, database_url, db):
    application = create_app(settings, database_url)
    # Every request (and every side transaction, like login failures) joins the test's transaction.
    await application.state.db.dispose()
    application.state.db.sessionmaker = db.info["maker"]
    return application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as c:
        yield c


@dataclass
class Someone:
    person: Person
    username: str
    password: str = PASSWORD

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def principal(self) -> Principal:
        return Principal(person_id=self.person.id, role=Role(self.person.role),
                         display_name=self.person.display_name, via="session")


@pytest.fixture
def make_person(db):
    """Create a person (and an account) through the real service functions."""
    counter = {"n": 0}

    async def make(display_name: str | None = None, *, role: Role = Role.MEMBER, username: str | None = None,
                   **fields) -> Someone:
        counter["n"] += 1
        n = counter["n"]
        username = username or f"user{n}"
        fields.setdefault("email", f"{username}@example.com")
        person = await people.create_person(db, None, display_name=display_name or f"Person {n}", role=role,
                                            **fields)
        account = await accounts.create_account(db, person, username, None)
        account.password_hash = _password_hash()  # argon2 is slow on purpose: hash the shared password once
        await db.flush()  # requests run in sessions of their own on this connection
        return Someone(person, username)

    return make


@pytest.fixture
async def admin(make_person) -> Someone:
    return await make_person("Ada Admin", role=Role.ADMINISTRATOR, username="ada")


@pytest.fixture
async def member(make_person) -> Someone:
    return await make_person("陳美玲", username="meiling", name_native="陳美玲", name_latin="Chen Mei-ling",
                             department="研發部", location="台北", title="資深工程師")


@pytest.fixture
async def guest(make_person, member) -> Someone:
    return await make_person("Gary Guest", role=Role.GUEST, username="gary", manager_id=member.id,
                             guest_hidden=["phone", "email"])


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, someone: Someone, password: str | None = None) -> httpx.Response:
    token = await csrf_from(client)
    return await client.post("/login", data={
        "username": someone.username, "password": password or someone.password, "csrf_token": token, "next": "/",
    })


@pytest.fixture
def login():
    """Sign a client in through the real login form; returns the CSRF token of the new session."""

    async def do(client: httpx.AsyncClient, someone: Someone) -> str:
        response = await sign_in(client, someone)
        assert response.status_code == 303, response.text
        return await csrf_from(client, "/settings")

    return do


@pytest.fixture
def bearer(db):
    """An API client for a person, authenticated with a personal API token."""

    async def make(app, someone: Someone) -> httpx.AsyncClient:
        _token, raw = await accounts.create_token(db, someone.id, "tests", someone.id)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver",
            headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"},
        )

    return make
