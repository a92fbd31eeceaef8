"""The command line: createadmin and token create, as scripts use them."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from socius.app import create_app
from socius.config import Settings


def socius(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SOCIUS_DATABASE_URL": database_url, "SOCIUS_LOG_LEVEL": "WARNING", **env}
    return subprocess.run([sys.executable, "-m", "socius", *args], capture_output=True, text=True, env=environment,
                          stdin=subprocess.DEVNULL, timeout=120)


async def test_createadmin_and_token_create_give_a_working_api_token(scratch_database, tmp_path):
    created = socius("createadmin", "boss", "--email", "boss@example.com", database_url=scratch_database,
                     SOCIUS_ADMIN_PASSWORD="a-long-enough-password")
    assert created.returncode == 0, created.stderr
    assert "a-long-enough-password" not in created.stdout + created.stderr

    issued = socius("token", "create", "boss", database_url=scratch_database)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("sct_")

    app = create_app(Settings(data_dir=tmp_path, secret_key="k", default_locale="en"), scratch_database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        me = (await api.get("/api/v1/me")).json()
    await app.state.db.dispose()
    assert me["role"] == "administrator" and me["display_name"] == "boss"


def test_createadmin_refuses_a_short_password_and_a_taken_username(scratch_database):
    short = socius("createadmin", "shorty", database_url=scratch_database, SOCIUS_ADMIN_PASSWORD="short")
    assert short.returncode == 2 and "password: must be at least 10 characters" in short.stdout
    first = socius("createadmin", "dup", database_url=scratch_database, SOCIUS_ADMIN_PASSWORD="a-long-enough-password")
    again = socius("createadmin", "dup", database_url=scratch_database, SOCIUS_ADMIN_PASSWORD="a-long-enough-password")
    assert first.returncode == 0 and again.returncode == 2 and "username: is already taken" in again.stdout


def test_createadmin_without_a_terminal_or_password_says_what_to_do(scratch_database):
    result = socius("createadmin", "nopass", database_url=scratch_database)
    assert result.returncode == 2 and "SOCIUS_ADMIN_PASSWORD" in result.stdout


def test_token_for_an_unknown_user_fails(scratch_database):
    result = socius("token", "create", "nobody", database_url=scratch_database)
    assert result.returncode == 1 and "No account named nobody" in result.stdout


def test_directory_set_password_stores_it_encrypted(scratch_database, tmp_path):
    import psycopg

    from socius.core.db import libpq_conninfo
    from socius.directory.service import decrypt_secret

    env = {"SOCIUS_DATA_DIR": str(tmp_path), "SOCIUS_SECRET_KEY": "cli-secret"}
    added = socius("directory", "add-source", "AD", "--kind", "ldap", database_url=scratch_database, **env)
    assert added.returncode == 0, added.stdout + added.stderr
    stored = socius("directory", "set-password", "AD", "--bind-password-env", "NEW_PW",
                    database_url=scratch_database, NEW_PW="s3cret-bind", **env)
    assert stored.returncode == 0 and "s3cret-bind" not in stored.stdout + stored.stderr
    with psycopg.connect(libpq_conninfo(scratch_database)) as conn:
        (secret,) = conn.execute("SELECT secret_encrypted FROM directory_source WHERE name = 'AD'").fetchone()
    assert "s3cret-bind" not in secret and decrypt_secret("cli-secret", secret) == "s3cret-bind"
    missing = socius("directory", "set-password", "nope", "--bind-password-env", "NEW_PW",
                     database_url=scratch_database, NEW_PW="x", **env)
    assert missing.returncode == 2 and "No source named nope" in missing.stdout
