"""The PostgreSQL the tests run on: SOCIUS_TEST_DATABASE_URL, or the embedded server under var/test-pg.

Migrations run once into a template database; each xdist worker clones it (CREATE DATABASE … TEMPLATE), which
takes a fraction of a second.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from socius.core.db import libpq_conninfo
from socius.core.embedded import normalise_url, start_embedded_postgres
from socius.core.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "var" / "test-pg"
TEMPLATE = "socius_test_template"


@contextmanager
def _file_lock(name: str):
    STATE.mkdir(parents=True, exist_ok=True)
    with open(STATE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server_url() -> str:
    """A URL for the maintenance database of the test server."""
    external = os.environ.get("SOCIUS_TEST_DATABASE_URL")
    if external:
        return normalise_url(external)
    with _file_lock("server"):
        return start_embedded_postgres(STATE, database="postgres")


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(libpq_conninfo(url), autocommit=True)


def fresh_database(name: str) -> str:
    """A new database `name` with the current schema, cloned from the migrated template."""
    base = server_url()
    with _file_lock("template"):
        template_url = with_database(base, TEMPLATE)
        with _admin(base) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        # Always upgrade: a new migration since the last run is applied to the template too.
        upgrade(template_url)
        with _admin(base) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (TEMPLATE,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    return with_database(base, name)


def unique_name(prefix: str) -> str:
    """A database name no other test run on this server uses (runs may overlap on a developer's machine)."""
    return f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def drop_database(name: str) -> None:
    with _admin(server_url()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
