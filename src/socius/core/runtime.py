"""The process's shared resources, set once at start (web app, worker or CLI) and used by jobs."""

from __future__ import annotations

from socius.core.db import Database

_database: Database | None = None


def set_database(db: Database | None) -> None:
    global _database
    _database = db


def database() -> Database:
    if _database is None:
        raise RuntimeError("the database is not configured in this process")
    return _database
