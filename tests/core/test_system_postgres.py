"""Socius on Debian's PostgreSQL 15 (the fallback when no pgserver wheel fits, and a typical external server)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from socius.accounts import service as accounts
from socius.app import create_app
from socius.config import Settings
from socius.core.db import Database
from socius.core.embedded import _ensure_database, _start_with_system_binaries, stop_system_postgres
from socius.core.migrate import upgrade
from socius.people import service as people
from socius.people.models import Role


def debian_postgres() -> Path | None:
    for version in ("15", "16", "17"):
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").exists():
            return path
    return None


@pytest.fixture
def system_postgres(tmp_path):
    bin_dir = debian_postgres()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's PostgreSQL is not installed: .ci/run should install it")
        pytest.skip("Debian's PostgreSQL is not installed here (apt-get install postgresql)")
    pgdata = tmp_path / "pg15"
    socket_dir = _start_with_system_binaries(pgdata, bin_dir)
    _ensure_database(socket_dir, "socius")
    yield f"postgresql://postgres@/socius?host={socket_dir}", bin_dir
    stop_system_postgres(pgdata, bin_dir)


async def test_migrations_and_a_request_cycle_run_on_debian_postgresql(system_postgres, tmp_path):
    url, _bin_dir = system_postgres
    from socius.core.embedded import normalise_url

    url = normalise_url(url)
    upgrade(url)
    upgrade(url)  # a second start finds nothing to do

    database = Database(url, pool_size=2)
    async with database.transaction() as db:
        person = await people.create_person(db, None, display_name="林志玲", role=Role.ADMINISTRATOR,
                                            name_native="林志玲", email="lin@example.com")
        await accounts.create_account(db, person, "lin", "correct-horse-battery")
        _token, raw = await accounts.create_token(db, person.id, "t", person.id)
    await database.dispose()

    app = create_app(Settings(data_dir=tmp_path, secret_key="k", default_locale="en"), url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"Authorization": f"Bearer {raw}"}) as api:
        health = await api.get("/healthz")
        assert health.json() == {"status": "ok", "database": "ok", "version": health.json()["version"]}
        found = (await api.get("/api/v1/people", params={"q": "linzhi"})).json()["items"]
        assert [p["display_name"] for p in found] == ["林志玲"]
        version = (await api.get(f"/api/v1/people/{person.id}")).json()["version"]
        changed = await api.patch(f"/api/v1/people/{person.id}", json={"title": "董事長"})
        assert changed.status_code == 200 and changed.json()["version"] == version + 1
    await app.state.db.dispose()
