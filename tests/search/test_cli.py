"""`socius search reindex` and `socius search check`, as an operator runs them."""

from __future__ import annotations

import json

import psycopg

from socius.core.db import libpq_conninfo
from tests.core.test_cli import socius


def test_reindex_builds_the_index_and_check_finds_drift(scratch_database, tmp_path):
    env = {"SOCIUS_DATA_DIR": str(tmp_path)}
    with psycopg.connect(libpq_conninfo(scratch_database), autocommit=True) as conn:
        conn.execute("INSERT INTO person (display_name, guest_hidden, languages, links)"
                     " SELECT 'Person ' || n, '{}', '{}', '[]' FROM generate_series(1, 50) n")

    before = socius("search", "check", "--json", database_url=scratch_database, **env)
    assert before.returncode == 1
    report = json.loads(before.stdout)
    assert report["kinds"]["person"] == {"database": 50, "index": 0, "missing": 50, "extra": 0}
    assert report["pending"] == 50  # the COPY-free bulk insert still went through the outbox trigger
    assert report["shards"] == report["shards_advised"] == 1  # 50 documents: no reason to split

    rebuilt = socius("search", "reindex", database_url=scratch_database, **env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Indexed 50 documents" in rebuilt.stdout
    generation = (tmp_path / "search" / "current").resolve()

    after = socius("search", "check", database_url=scratch_database, **env)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "person: 50 in the database, 50 in the index, 0 missing, 0 extra" in after.stdout
    assert "Shards: 1." in after.stdout

    with psycopg.connect(libpq_conninfo(scratch_database), autocommit=True) as conn:
        conn.execute("DELETE FROM person WHERE display_name = 'Person 7'")
    drift = socius("search", "check", database_url=scratch_database, **env)
    assert drift.returncode == 1 and "1 extra" in drift.stdout

    again = socius("search", "reindex", database_url=scratch_database, **env)
    assert again.returncode == 0 and (tmp_path / "search" / "current").resolve() != generation
